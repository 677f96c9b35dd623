// Slides of the centre's published procedures (name, field, processing time, fee, papers)
// for the big panel while the hall is quiet.
//
// This module fetches the catalogue (GET /api/v1/procedures), keeps it fresh and turns the
// pages; display.js decides when the hall is quiet and hides the slides the moment a call
// arrives. A failed refresh keeps the catalogue we have: a TV shows stale fees for a few
// minutes rather than nothing.

import { get } from "/assets/js/lib/api.js";
import { el, epochNow, setChildren } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";

const REFRESH_MS = 10 * 60 * 1000;
const RETRY_MS = 60 * 1000; // after a failed fetch, and until the first one succeeds
const LOG_SIZE = 50;
// Shrink a long slide down to this (the facts then 2.7vh, still readable from 8 m); text
// longer still is cut after a few lines rather than made smaller.
const MIN_FIT = 0.75;

/** Shrink the slide's text (CSS --fit) until it fits, down to MIN_FIT; then clamp it. */
function fitSlide(box) {
  let scale = 1;
  box.classList.remove("clamped");
  box.style.setProperty("--fit", "1");
  while (box.scrollHeight > box.clientHeight + 1 && scale > MIN_FIT + 0.001) {
    scale -= 0.05;
    box.style.setProperty("--fit", scale.toFixed(2));
  }
  if (box.scrollHeight > box.clientHeight + 1) box.classList.add("clamped");
}

/** "3 loại giấy tờ" (empty when the procedure lists none). */
function papersText(papers) {
  const count = Array.isArray(papers) ? papers.length : 0;
  return count ? t("display.slide_papers_count", { count }) : "";
}

export class Slides {
  /**
   * box: the element the slides are painted in (hidden while not shown).
   * slideMs: how long each slide stays. fieldIds(): the fields to show (a zone's), or null
   * for all.
   */
  constructor({ centreId, box, slideMs, fieldIds = () => null }) {
    this.centreId = centreId;
    this.box = box;
    this.slideMs = slideMs;
    this.fieldIds = fieldIds;
    this.procedures = []; // the catalogue as last fetched
    this.loadedAt = null; // epoch ms of the last successful fetch
    this.loadError = null;
    this.active = false;
    this.index = -1; // position in the catalogue of the slide on screen (kept across hides)
    this.current = null; // the procedure on screen
    this.shownAt = 0; // performance.now() of the current slide
    this.log = []; // {code, name, shownAt}: slides painted, newest last
    this.hiddenAt = null; // epoch ms of the last hide (a call took the panel)
    this.timer = null;
  }

  /** Fetch the catalogue now and every ten minutes. */
  start() {
    this.load();
  }

  async load() {
    clearTimeout(this.timer);
    let next = REFRESH_MS;
    try {
      const query = this.centreId ? `?centre_id=${encodeURIComponent(this.centreId)}` : "";
      const list = await get(`procedures${query}`, { headers: { "Cache-Control": "no-cache" } });
      if (!Array.isArray(list)) throw new Error("not a list");
      this.procedures = list.filter((p) => p && p.name && p.active !== false);
      this.loadedAt = epochNow();
      this.loadError = null;
    } catch (err) {
      if (this.loadError === null) console.warn(`slides: procedures not loaded: ${err}`);
      this.loadError = String(err);
      next = RETRY_MS;
    }
    this.timer = setTimeout(() => this.load(), next);
  }

  /** The procedures to rotate: the zone's fields when that leaves any, else all. */
  deck() {
    const ids = this.fieldIds();
    if (!ids) return this.procedures;
    const mine = this.procedures.filter((p) => ids.has(p.field_id));
    return mine.length ? mine : this.procedures;
  }

  /** Whether there is anything to show. */
  get ready() {
    return this.procedures.length > 0;
  }

  /** Show the slides (from the one after the last shown), if there is anything to show. */
  show() {
    if (this.active || !this.ready) return;
    this.active = true;
    this.box.hidden = false;
    this.next();
  }

  /** Hide at once (a call needs the panel). */
  hide() {
    if (!this.active) return;
    this.active = false;
    this.box.hidden = true;
    this.hiddenAt = epochNow();
  }

  /** Called from the page's main loop: turn the page when the slide's time is up. */
  tick(now) {
    if (this.active && now - this.shownAt >= this.slideMs) this.next();
  }

  next() {
    const deck = this.deck();
    if (!deck.length) {
      this.hide();
      return;
    }
    // Continue after the procedure last shown, even if the catalogue changed meanwhile.
    const at = this.current ? deck.findIndex((p) => p.id === this.current.id) : -1;
    this.index = (at + 1) % deck.length;
    this.current = deck[this.index];
    this.shownAt = performance.now();
    this.render(deck.length);
    this.log.push({ code: this.current.code, name: this.current.name, shownAt: epochNow() });
    if (this.log.length > LOG_SIZE) this.log.shift();
  }

  render(total) {
    const p = this.current;
    const facts = [
      [t("display.slide_time"), p.processing_text, "time"],
      [t("display.slide_fee"), p.fee_text, "fee"],
      [t("display.slide_papers"), papersText(p.papers), "papers"],
    ].filter(([, value]) => value);
    setChildren(
      this.box,
      el(
        "div",
        { class: "slide", "data-code": p.code },
        el(
          "div",
          { class: "slide-head" },
          el("span", { class: "slide-kicker", text: t("display.slide_kicker") }),
          p.field_name ? el("span", { class: "slide-field", text: p.field_name }) : null,
          el("span", { class: "slide-count", text: `${this.index + 1}/${total}` }),
        ),
        el("div", { class: "slide-name", text: p.name }),
        el(
          "dl",
          { class: "slide-facts" },
          facts.map(([label, value, kind]) => [el("dt", { text: label }), el("dd", { class: `slide-${kind}`, text: value })]),
        ),
      ),
    );
    fitSlide(this.box);
  }
}
