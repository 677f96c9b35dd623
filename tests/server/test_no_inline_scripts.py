"""No inline script in a page template, and every script an ES module (docs/frontend.md):
the CSP allows our own files only.

Script code lives in ES modules under static/; a template may carry data in a JSON block
(<script type="application/json">) or data- attributes. The templates listed in
NOT_YET_CONVERTED are the ones that still had inline code when this test was written: the
list may only shrink (a template converted is taken off it; a new offender fails).
Every file under the static js/ folders is a module a page loads (a template's
<script type="module"> or an import of one), in one dialect, and only lib/hall.js opens a
Socket.IO connection.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = ("server/templates", "kiosk/templates", "display/templates")
#: Where each blueprint's static files are, by the name url_for() gives them.
STATIC_DIRS = {"web": "server/static", "kiosk": "kiosk/static", "display": "display/static"}
#: The URL prefixes of those folders, as modules import them.
STATIC_URLS = {"/assets/": "server/static/", "/kiosk/static/": "kiosk/static/"}
STATIC_URLS["/display/static/"] = "display/static/"

NOT_YET_CONVERTED: set[str] = set()

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)


def inline_code(text: str) -> list[str]:
    """What in a template would run as inline script."""
    found = []
    for attrs, body in _SCRIPT.findall(text):
        if "src=" in attrs or "application/json" in attrs:
            continue
        if body.strip():
            found.append(f"<script{attrs}>{body.strip()[:60]}")
    found += [m.group(0)[:80] for m in _HANDLER.finditer(text)]
    if "javascript:" in text:
        found.append("javascript: URL")
    return found


def templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in (ROOT / d).glob("**/*.html"))


def test_the_detector_finds_inline_code_and_allows_modules_and_data():
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<button onclick="go()">x</button>')
    assert inline_code('<a href="javascript:go()">x</a>')
    assert not inline_code('<script type="module" src="/assets/js/x.js"></script>')
    assert not inline_code('<script id="c" type="application/json">{"a": 1}</script>')
    assert not inline_code('<p class="online">on=line</p>')


def test_no_new_template_has_inline_script():
    offenders = {
        str(p.relative_to(ROOT)): code for p in templates() if (code := inline_code(p.read_text()))
    }
    new = {name: code for name, code in offenders.items() if name not in NOT_YET_CONVERTED}
    assert not new, f"inline script (move it to an ES module, docs/frontend.md): {new}"


def test_the_kiosk_and_citizen_pages_have_none():
    for name in (
        "kiosk/templates/kiosk/kiosk.html",
        "kiosk/templates/kiosk/procedures.html",
        "kiosk/templates/kiosk/dossier_lookup.html",
        "kiosk/templates/kiosk/feedback.html",
        "server/templates/ticket_status.html",
        "server/templates/public/feedback.html",
    ):
        text = (ROOT / name).read_text()
        assert inline_code(text) == [], name
        assert 'type="module"' in text, name


def test_the_display_pages_have_none():
    for name in ("display.html", "audio.html"):
        text = (ROOT / "display/templates/display" / name).read_text()
        assert inline_code(text) == []
        assert 'type="module"' in text


def test_the_staff_and_admin_pages_have_none():
    """The supervisor, admin, devices, dossier and feedback pages (issue 12, item 7)."""
    names = [
        "server/templates/supervisor_devices.html",
        "server/templates/public/supervisor_dossiers.html",
        "server/templates/public/supervisor_feedback.html",
        "server/templates/public/_login.html",
        "server/templates/counter.html",
        "server/templates/home.html",
        "server/templates/printed.html",
    ]
    names += [
        str(p.relative_to(ROOT))
        for d in ("supervisor", "admin")
        for p in (ROOT / "server/templates" / d).glob("*.html")
    ]
    assert len(names) > 20
    for name in names:
        assert inline_code((ROOT / name).read_text()) == [], name
    for name in (
        "server/templates/supervisor_devices.html",
        "server/templates/public/supervisor_dossiers.html",
        "server/templates/public/supervisor_feedback.html",
        "server/templates/supervisor/_layout.html",
        "server/templates/supervisor/live.html",
    ):
        assert 'type="module"' in (ROOT / name).read_text(), name


_SRC = re.compile(r"<script\b([^>]*)\bsrc=([^>]*)>", re.I)
_URL_FOR = re.compile(r"url_for\(\s*'(\w+)\.static'\s*,\s*filename='([^']+)'")
_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+\.js)["']""")


def module_entries() -> set[Path]:
    """The files templates load with <script type="module" src=…>; fails on a classic one."""
    entries: set[Path] = set()
    for template in templates():
        for attrs, rest in _SRC.findall(template.read_text()):
            tag = attrs + rest
            assert 'type="module"' in tag, f"{template.name}: a classic script: {tag[:100]}"
            found = _URL_FOR.search(tag)
            assert found, f"{template.name}: a script not from our static folders: {tag[:100]}"
            entries.add(ROOT / STATIC_DIRS[found.group(1)] / found.group(2))
    return entries


def imports(path: Path) -> set[Path]:
    out = set()
    for name in _IMPORT.findall(path.read_text(encoding="utf-8")):
        if name.startswith("."):
            out.add((path.parent / name).resolve())
            continue
        prefix = next((p for p in STATIC_URLS if name.startswith(p)), None)
        assert prefix, f"{path.name} imports {name} from outside our static folders"
        out.add(ROOT / STATIC_URLS[prefix] / name.removeprefix(prefix))
    return out


def scripts() -> list[Path]:
    return sorted(p for d in STATIC_DIRS.values() for p in (ROOT / d / "js").glob("**/*.js"))


def test_every_script_is_an_es_module_a_page_loads():
    """No classic script is left: every js/ file is reached from a page's module."""
    seen: set[Path] = set()
    todo = list(module_entries())
    while todo:
        path = todo.pop().resolve()
        if path in seen or "vendor" in path.parts:
            continue
        assert path.exists(), f"a page or module loads {path.relative_to(ROOT)}, which is missing"
        seen.add(path)
        todo += imports(path)
    orphans = [str(p.relative_to(ROOT)) for p in scripts() if p.resolve() not in seen]
    assert not orphans, f"not loaded as an ES module by any page: {orphans}"


_OLD_DIALECT = {
    "an IIFE": re.compile(r"^\s*[;!]?\(\s*(?:async\s+)?function\b", re.M),
    '"use strict" (modules are strict)': re.compile(r"""^\s*["']use strict["']""", re.M),
    "var": re.compile(r"^\s*var\s", re.M),
    "a global (window.x = …, other than window.tthcc…)": re.compile(
        r"\b(?:window|global)\.(?!tthcc)\w+\s*=[^=]"
    ),
}


def test_one_dialect_and_one_socket_client():
    assert len(scripts()) > 30
    found = {}
    for path in scripts():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        bad = [what for what, pattern in _OLD_DIALECT.items() if pattern.search(text)]
        if name != "server/static/js/lib/hall.js" and re.search(r"socket\.io|\bio\(", text):
            bad.append("its own Socket.IO client (use lib/hall.js)")
        if bad:
            found[name] = bad
    assert not found, found
    for template in templates():
        assert "socket.io" not in template.read_text(), template.name


def test_the_module_checks_catch_old_scripts():
    assert _OLD_DIALECT["an IIFE"].search('(function () {\n  "use strict";')
    assert _OLD_DIALECT["var"].search("  var S = window.Staff;")
    assert _OLD_DIALECT["a global (window.x = …, other than window.tthcc…)"].search(
        "  window.Staff = { api: api };"
    )
    assert not _OLD_DIALECT["a global (window.x = …, other than window.tthcc…)"].search(
        "window.tthccCounter = { state };"
    )
    assert _IMPORT.findall('import { t } from "/assets/js/lib/labels.js";\nimport("./x.js")') == [
        "/assets/js/lib/labels.js",
        "./x.js",
    ]
