"""Labels for the pages: each text once, Vietnamese first, English second.

A label is ``"<group>.<name>" -> (vi, en)``. Templates use the Jinja global
``label("display.call")``; a page's ES modules read the same labels from the JSON block
``labels_script("display")`` renders into the page (``server/static/js/lib/labels.js``),
so no text is written once in Python or a template and again in JavaScript.
Placeholders are ``{name}``, filled in by the caller on either side.

Each group is a module of this package with a ``LABELS`` dict; add a group by writing its
module and listing it in ``GROUPS`` below.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from server.labels import common, counter, display, kiosk, staff, ticket

#: Every group, by name. ``common`` goes to every page.
GROUPS: dict[str, Mapping[str, tuple[str, str]]] = {
    "common": common.LABELS,
    "counter": counter.LABELS,
    "display": display.LABELS,
    "kiosk": kiosk.LABELS,
    "staff": staff.LABELS,
    "ticket": ticket.LABELS,
}

#: The element id of the page's JSON block (read by labels.js).
SCRIPT_ID = "tthcc-labels"


def _check(groups: Mapping[str, Mapping[str, tuple[str, str]]]) -> None:
    for group, labels in groups.items():
        for name, pair in labels.items():
            if "." in name or not isinstance(pair, tuple) or len(pair) != 2:
                raise ValueError(f"label {group}.{name}: expected a dotless name and (vi, en)")
            if unicodedata.normalize("NFC", pair[0]) != pair[0]:
                raise ValueError(f"label {group}.{name}: Vietnamese text is not NFC")


_check(GROUPS)


def label(key: str, lang: str = "vi", **values: object) -> str:
    """The text of ``"group.name"`` in ``lang`` (vi or en), placeholders filled in."""
    group, _, name = key.partition(".")
    try:
        vi, en = GROUPS[group][name]
    except KeyError:
        raise KeyError(f"no label {key!r}") from None
    text = en if lang == "en" else vi
    return text.format(**values) if values else text


def labels_for(*groups: str) -> dict[str, dict[str, str]]:
    """``{"group.name": {"vi": …, "en": …}}`` for ``common`` and the groups named."""
    out: dict[str, dict[str, str]] = {}
    for group in dict.fromkeys(("common", *groups)):
        if group not in GROUPS:
            raise KeyError(f"no label group {group!r}")
        for name, (vi, en) in GROUPS[group].items():
            out[f"{group}.{name}"] = {"vi": vi, "en": en}
    return out


def labels_script(*groups: str) -> Markup:
    """The page's labels as a JSON data block (not executed, so allowed by the CSP)."""
    data = htmlsafe_json_dumps(labels_for(*groups), ensure_ascii=False)
    return Markup(f'<script id="{SCRIPT_ID}" type="application/json">{data}</script>')
