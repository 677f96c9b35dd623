"""The web by audience, declared once (server/access_policy.py, issue 11, item 1): every
blueprint the app registers comes from its lists, and docs/security.md's route → who table
is what `tthcc access-table` writes from those declarations today."""

from __future__ import annotations

from pathlib import Path

from server.access_policy import BLUEPRINTS, Audience, access_table, with_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


ROOT = Path(__file__).resolve().parents[2]


def test_every_blueprint_is_registered_from_the_one_list_and_lives_in_its_audience(app):
    import importlib

    declared = {getattr(importlib.import_module(m.module), m.attr).name for m in BLUEPRINTS}
    registered = set(app.blueprints) - {"api-docs"}  # flask-smorest's own OpenAPI document
    assert registered == declared
    # Every module under server/web/ and server/api/ holding a blueprint is in the list, in
    # the package of the audience the list gives it (a page is found from its audience).
    holding = {}
    for kind in ("web", "api"):
        for path in sorted((ROOT / "server" / kind).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            source = path.read_text(encoding="utf-8")
            if "Blueprint(" in source:
                holding[module] = path.relative_to(ROOT / "server" / kind).parts[0]
    listed = {m.module: m.audience for m in BLUEPRINTS if m.module.startswith("server.")}
    assert set(holding) == set(listed)
    assert all(Audience(holding[module]) == audience for module, audience in listed.items())
    # One registration, no imports by name and no blueprint registering another's.
    for path in [*(ROOT / "server").rglob("*.py"), *(ROOT / "kiosk").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        if path == ROOT / "server" / "api" / "__init__.py":
            source = _without_the_api_objects_own_register_blueprint(source)
        if path.name != "app.py" or path.parent.name != "server":
            assert "register_blueprint(" not in source, path
        if {"web", "api"} & set(path.relative_to(ROOT).parts[:2]):
            assert "__import__(" not in source, path


def _without_the_api_objects_own_register_blueprint(source: str) -> str:
    """server/api/__init__.py less TthccApi.register_blueprint: the method app.py's
    registrations of API blueprints go through (flask-smorest's, its OpenAPI part
    deferred), which registers no blueprint of its own."""
    import ast

    tree = ast.parse(source)
    (api,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TthccApi"]
    (method,) = [
        n for n in api.body if isinstance(n, ast.FunctionDef) and n.name == "register_blueprint"
    ]
    lines = source.splitlines(keepends=True)
    first = min([method.lineno, *(d.lineno for d in method.decorator_list)]) - 1
    return "".join(lines[:first] + lines[method.end_lineno :])


def test_the_route_table_in_docs_security_is_up_to_date(app):
    document = DOC.read_text(encoding="utf-8")
    assert with_table(document, access_table(app)) == document, (
        "docs/security.md's route → who table is out of date: run `tthcc access-table`"
    )
    assert "UNDECLARED" not in document
