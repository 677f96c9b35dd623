"""The accessibility helpers (tests/e2e/a11y.py) find what they claim to find."""

from __future__ import annotations

import json

import pytest

from tests.e2e.a11y import (
    ARTIFACTS,
    assert_axe_clean,
    assert_text_contrast,
    axe_check,
    blocking,
    contrast_ratio,
    seek_animations,
    text_contrasts,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    yield context.new_page()
    context.close()


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    assert contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    # Order does not matter.
    assert contrast_ratio((255, 212, 0), (6, 28, 61)) == contrast_ratio((6, 28, 61), (255, 212, 0))


def test_text_contrast_composites_backgrounds_and_opacity(page):
    page.set_content(
        """<html lang="en"><body style="background:#000;margin:0">
        <p id="a" style="color:#fff">white on black</p>
        <div style="background:rgba(255,255,255,0.5)"><p id="b" style="color:#000">on grey</p></div>
        <div style="opacity:0.5"><p id="c" style="color:#fff">faded</p></div>
        <p id="d" style="color:#fff" hidden>hidden</p></body></html>"""
    )
    rows = {r["element"]: r for r in text_contrasts(page)}
    assert set(rows) == {"p#a", "p#b", "p#c"}
    assert rows["p#a"]["ratio"] == 21.0
    assert rows["p#b"]["bg"] == [128, 128, 128]
    assert rows["p#b"]["ratio"] == pytest.approx(5.32, abs=0.02)
    assert rows["p#c"]["fg"] == [128, 128, 128] and rows["p#c"]["bg"] == [0, 0, 0]
    with pytest.raises(AssertionError, match="on grey"):
        assert_text_contrast(page, 7.0)
    assert len(assert_text_contrast(page, 3.9)) == 3


def test_seek_animations_measures_one_phase(page):
    page.set_content(
        """<html lang="en"><head><style>
        @keyframes f { 0% { background: #fff; } 50% { background: #000; } }
        p { color: #fff; animation: f 1s steps(1, end) infinite; }
        </style></head><body><p>blink</p></body></html>"""
    )
    seek_animations(page, 100)
    assert text_contrasts(page)[0]["ratio"] == 1.0
    seek_animations(page, 600)
    assert text_contrasts(page)[0]["ratio"] == 21.0


def test_axe_reports_serious_violations_and_writes_the_artifact(page):
    page.set_content('<html><body><img src="x.png"><button></button></body></html>')
    violations = axe_check(page, "helper-selftest")
    ids = {v["id"] for v in blocking(violations)}
    assert {"image-alt", "button-name"} <= ids
    report = json.loads((ARTIFACTS / "axe-helper-selftest.json").read_text())
    assert report["axe"].startswith("4.") and report["violations"]
    with pytest.raises(AssertionError, match="image-alt"):
        assert_axe_clean(page, "helper-selftest")


def test_axe_passes_a_clean_page(page):
    page.set_content(
        '<html lang="vi"><head><title>Trang</title></head><body><main><h1>Xin chào</h1>'
        '<img src="x.png" alt="Biểu trưng"><button>Lấy số</button></main></body></html>'
    )
    assert blocking(assert_axe_clean(page, "helper-clean")) == []
