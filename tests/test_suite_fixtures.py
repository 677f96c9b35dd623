"""The test suite's own rules: a fixture that starts something once per test process is
defined once, in one conftest, and never imported into another module (pytest would take the
import for a second fixture and start the thing twice in one worker: for the browser, every
later browser test of that worker then fails "inside the asyncio loop")."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ONCE_PER_PROCESS = {"browser"}


def test_process_wide_fixtures_are_defined_once_and_never_imported():
    definitions: dict[str, list[str]] = {name: [] for name in ONCE_PER_PROCESS}
    imports: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(TESTS.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ONCE_PER_PROCESS:
                if any("fixture" in ast.unparse(d) for d in node.decorator_list):
                    definitions[node.name].append(where)
            elif isinstance(node, ast.ImportFrom):
                imports += [f"{where}: {a.name}" for a in node.names if a.name in ONCE_PER_PROCESS]
    assert imports == []
    assert definitions == {name: ["tests/conftest.py"] for name in ONCE_PER_PROCESS}


def test_the_app_fixture_database_is_at_the_migrations_head(database):
    """The app fixture runs no migration: its database is a copy of a template made by
    them (tests/conftest.py), which must be at the one head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from server.migrate import MIGRATIONS

    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(ScriptDirectory(str(MIGRATIONS)).get_heads())
