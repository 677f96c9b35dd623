"""Labels: one home for the pages' texts (server/labels), in templates and as a JSON block."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from server import labels


def test_label_fills_placeholders_in_either_language():
    assert labels.label("display.next", numbers="1023") == "Tiếp theo: 1023"
    assert labels.label("display.next", "en", numbers="1023") == "Next: 1023"
    assert labels.label("common.connected") == "đã kết nối"


def test_unknown_label_or_group_is_an_error():
    with pytest.raises(KeyError, match=r"display\.nope"):
        labels.label("display.nope")
    with pytest.raises(KeyError, match="nogroup"):
        labels.labels_for("nogroup")


def test_every_label_is_nfc_vietnamese_and_english_with_the_same_placeholders():
    for group, table in labels.GROUPS.items():
        for name, (vi, en) in table.items():
            assert vi and en, f"{group}.{name}"
            assert unicodedata.normalize("NFC", vi) == vi
            assert set(re.findall(r"\{(\w+)\}", vi)) == set(re.findall(r"\{(\w+)\}", en)), name


def test_a_label_that_is_not_nfc_is_refused():
    with pytest.raises(ValueError, match="NFC"):
        labels._check({"x": {"bad": (unicodedata.normalize("NFD", "Quầy"), "Counter")}})


def test_labels_script_is_a_json_block_that_cannot_close_the_script(monkeypatch):
    monkeypatch.setitem(labels.GROUPS, "evil", {"x": ("</script><b>", "&")})
    html = str(labels.labels_script("evil"))
    assert html.startswith('<script id="tthcc-labels" type="application/json">')
    assert html.count("</script>") == 1
    body = html.removeprefix('<script id="tthcc-labels" type="application/json">')
    data = json.loads(body.removesuffix("</script>"))
    assert data["evil.x"] == {"vi": "</script><b>", "en": "&"}
    assert "common.network_error" in data  # common goes to every page


def test_pages_render_their_labels(app, client):
    from flask import render_template

    html = client.get("/").get_data(as_text=True)
    assert '<script id="tthcc-labels" type="application/json">' in html
    assert "common.network_error" in html and "display.call" not in html
    with app.test_request_context("/display/audio"):
        page = render_template("display/audio.html", page_config={"centre_id": 1}, zone="")
    assert "display.call" in page


_JS_LABEL = re.compile(r"""\b(?:t|en|both|has|say)\(\s*["'`]([a-z]+\.[a-z_]+)["'`]""")


def test_every_label_a_script_names_exists():
    """A key a script asks for in full (t("counter.expired")) is on the server: a typo
    would otherwise show the key itself on a screen."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    scripts = [
        p for d in ("server", "kiosk", "display") for p in (root / d).glob("static/js/**/*.js")
    ]
    assert any("counter" in p.parts for p in scripts)
    known = labels.labels_for(*labels.GROUPS)
    missing = {
        f"{p.relative_to(root)}: {key}"
        for p in scripts
        for key in _JS_LABEL.findall(p.read_text(encoding="utf-8"))
        if key not in known
    }
    assert not missing, sorted(missing)


def test_the_counter_pages_label_families_cover_every_state():
    """Keys the counter page builds from a state (`counter.ticket_${status}`)."""
    from server.domain.lifecycle import Outcome, TicketStatus

    known = labels.labels_for("counter")
    families = {
        "ticket_": [s.value for s in TicketStatus],
        "outcome_": [o.value for o in Outcome],
        "counter_": ["open", "paused", "closed"],
        "conn_": ["connecting", "connected", "disconnected", "error", "unavailable"],
    }
    for prefix, values in families.items():
        for value in values:
            assert f"counter.{prefix}{value}" in known, f"counter.{prefix}{value}"


def test_the_staff_pages_label_families_cover_every_value():
    """Keys the staff pages build from a server value (`staff.action_${action}`)."""
    from server.domain.dossiers import DossierAction
    from server.domain.feedback import FeedbackAbout
    from server.domain.lifecycle import CounterStatus

    known = labels.labels_for("staff")
    families = {
        "action_": [a.value for a in DossierAction],
        "about_": [a.value for a in FeedbackAbout],
        "source_": ["kiosk", "web", "rating", "staff"],
        "counter_": [c.value for c in CounterStatus],
        "conn_": ["connecting", "connected", "disconnected", "error", "unavailable"],
        "slip_": ["none", "pending", "late", "printed", "failed"],
        "slip_tag_": ["pending", "printed", "failed"],
        "device_": ["ready", "error", "disconnected"],
    }
    for prefix, values in families.items():
        for value in values:
            assert f"staff.{prefix}{value}" in known, f"staff.{prefix}{value}"
