"""Accessibility checks for pages in headless Chromium: axe-core and text contrast.

- ``axe_check(page, name)``: runs axe-core (the ``axe.min.js`` shipped in the PyPI package
  ``axe-playwright-python``; nothing is downloaded) on the page as it is now, writes the
  violations to ``test-artifacts/axe-<name>.json`` and returns them.
- ``assert_axe_clean(page, name)``: the same, failing on any serious or critical violation
  (moderate and minor ones are kept in the artifact).
- ``text_contrasts(page)``: the WCAG contrast ratio of every piece of visible text, computed
  from the computed styles (text colour over the element's backgrounds and its ancestors',
  opacity included), lowest first. ``assert_text_contrast(page, 7.0)`` fails below the
  bound and names the text. Pause or seek animations first to measure one phase of them
  (``seek_animations``).

    from tests.e2e.a11y import assert_axe_clean, assert_text_contrast
    assert_axe_clean(page, "kiosk-fields")
    assert_text_contrast(page, 7.0)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BLOCKING_IMPACTS = ("serious", "critical")
_AXE = Axe()


def axe_check(page: Any, name: str, *, context: Any = None) -> list[dict]:
    """Run axe-core on ``page``; the violations (also written to test-artifacts/)."""
    results = _AXE.run(page, context=context, options={"resultTypes": ["violations"]})
    violations = [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v.get("help"),
            "nodes": [
                {"target": n.get("target"), "summary": n.get("failureSummary")}
                for n in v.get("nodes", [])
            ],
        }
        for v in results.response.get("violations", [])
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    report = {
        "page": page.url,
        "axe": results.response.get("testEngine", {}).get("version"),
        "violations": violations,
    }
    (ARTIFACTS / f"axe-{name}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return violations


def blocking(violations: list[dict]) -> list[dict]:
    """The serious and critical ones."""
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def assert_axe_clean(page: Any, name: str, *, context: Any = None) -> list[dict]:
    """No serious or critical axe violation; returns all violations (for the report)."""
    violations = axe_check(page, name, context=context)
    bad = blocking(violations)
    assert not bad, f"axe ({name}): " + json.dumps(bad, ensure_ascii=False, indent=1)
    return violations


def contrast_ratio(foreground: tuple[float, ...], background: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two opaque sRGB colours (0-255 channels)."""

    def luminance(rgb: tuple[float, ...]) -> float:
        def channel(c: float) -> float:
            c = c / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Runs in the page: every element with its own visible text; its text colour and background
# composited over its ancestors' backgrounds (from the white canvas), each opacity group
# blended with what lies behind it. Background images are reported, not guessed.
_TEXT_COLOURS_JS = """
(selector) => {
  const parse = (text) => {
    const m = /^rgba?\\(([^)]+)\\)$/.exec(text.trim());
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const mix = (inner, outer, o) => [0, 1, 2].map((i) => inner[i] * o + outer[i] * (1 - o)).concat([1]);
  const describe = (node) => {
    let s = node.tagName.toLowerCase();
    if (node.id) s += "#" + node.id;
    if (node.classList.length) s += "." + [...node.classList].join(".");
    return s;
  };
  const out = [];
  for (const node of document.querySelectorAll(selector)) {
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    if (style.visibility !== "visible" || !node.getClientRects().length) continue;
    if (box.width < 1 || box.height < 1) continue;
    const chain = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) chain.unshift(n);
    let bg = [255, 255, 255, 1];
    const groups = [];
    let image = null;
    for (const n of chain) {
      const s = getComputedStyle(n);
      const opacity = Number(s.opacity);
      if (opacity < 1) groups.push([opacity, bg]);
      if (s.backgroundImage && s.backgroundImage !== "none") image = describe(n);
      const colour = parse(s.backgroundColor);
      if (colour) bg = over(colour, bg);
    }
    const fgRaw = parse(style.color);
    if (!fgRaw) { out.push({element: describe(node), error: "colour " + style.color}); continue; }
    let fg = over(fgRaw, bg);
    for (const [opacity, behind] of groups.reverse()) {
      fg = mix(fg, behind, opacity);
      bg = mix(bg, behind, opacity);
    }
    out.push({
      element: describe(node),
      text: node.textContent.trim().slice(0, 60),
      fg: fg.slice(0, 3).map(Math.round),
      bg: bg.slice(0, 3).map(Math.round),
      fontPx: parseFloat(style.fontSize),
      bold: Number(style.fontWeight) >= 700,
      backgroundImage: image,
    });
  }
  return out;
}
"""


def text_contrasts(page: Any, selector: str = "body *") -> list[dict]:
    """Every visible text's colours and contrast ratio (``ratio``), lowest first."""
    rows = page.evaluate(_TEXT_COLOURS_JS, selector)
    for row in rows:
        if "error" in row:
            raise AssertionError(f"cannot read the colour of {row['element']}: {row['error']}")
        row["ratio"] = round(contrast_ratio(tuple(row["fg"]), tuple(row["bg"])), 2)
    return sorted(rows, key=lambda r: r["ratio"])


def assert_text_contrast(page: Any, minimum: float = 7.0, selector: str = "body *") -> list[dict]:
    """All visible text at least ``minimum``:1 (no background image under it); the rows."""
    rows = text_contrasts(page, selector)
    assert rows, "no visible text found"
    images = [r for r in rows if r["backgroundImage"]]
    assert not images, f"text over a background image, contrast unknown: {images[:3]}"
    low = [r for r in rows if r["ratio"] < minimum]
    assert not low, f"text below {minimum}:1: " + json.dumps(low[:8], ensure_ascii=False)
    return rows


def seek_animations(page: Any, ms: float) -> None:
    """Pause every CSS animation at ``ms`` into its own run, delay included (one phase)."""
    page.evaluate(
        """ms => { for (const a of document.getAnimations()) {
             a.pause(); a.currentTime = ms + a.effect.getTiming().delay; } }""",
        ms,
    )
