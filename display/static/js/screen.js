// The parts of the TV around the big panel: counter tiles, recent calls, waiting counts,
// centre name, clock and the scrolling notice. Pure rendering from the hall state; the
// page (display.js) decides when.

import { byId, el, pad2, setChildren, setText } from "/assets/js/lib/dom.js";
import { list, t } from "/assets/js/lib/labels.js";

const TICKER_VH_PER_S = 10; // scroll speed, in screen heights / 100 per second

/** "Quầy 3" is just the number again: only a real name is worth showing. */
export const isPlainName = (name, number) => !name || name.trim() === t("display.counter_short", { number });

/** Tiles per row: rows of 3 or 4 up to 8 counters, then wider rows. */
function columnsFor(count) {
  if (count <= 3 || count === 5 || count === 6) return 3;
  if (count <= 8) return 4;
  return count <= 10 ? 5 : 6;
}

/** Shrink a box's content (CSS --fit, 1 → min) until it no longer overflows (`widthOnly`: sideways). */
export function fit(box, min = 0.55, { widthOnly = false } = {}) {
  let scale = 1;
  box.style.setProperty("--fit", "1");
  const overflows = () =>
    box.scrollWidth > box.clientWidth + 1 || (!widthOnly && box.scrollHeight > box.clientHeight + 1);
  while (overflows() && scale > min) {
    scale -= 0.05;
    box.style.setProperty("--fit", scale.toFixed(2));
  }
}

/**
 * Every open or paused counter. `hot`: the call flashing in the big panel (its counter's
 * tile flashes with it while that call is the counter's ticket, so tile and panel agree);
 * `thanks`: counter id -> thank-you text.
 */
export function renderCounters(state, { hot, hotSinceMs = 0, thanks }) {
  const counters = state.visibleCounters();
  const grid = byId("counter-grid");
  grid.style.setProperty("--columns", String(columnsFor(counters.length)));
  if (!counters.length) {
    setChildren(grid, el("div", { class: "empty", text: t("display.no_counter_open") }));
    fit(byId("counters"));
    return;
  }
  setChildren(
    grid,
    counters.map((c) => {
      const ticket = c.current_ticket;
      // Hot: the counter of the call being shown, while that call is still its ticket.
      const isHot = Boolean(hot && hot.counter_id === c.id && ticket && ticket.id === hot.ticket_id);
      const paused = c.status === "paused" && !isHot;
      const thank = !isHot && !paused && thanks.get(c.id);
      let body = el("div", { class: "tile-number", text: ticket ? ticket.number : "—" });
      if (paused) body = el("div", { class: "tile-paused", text: t("display.paused") });
      else if (thank) body = el("div", { class: "tile-thanks", role: "status", text: thank.text });
      const classes = ["tile", isHot && "hot", paused && "paused", thank && "thanks"].filter(Boolean);
      // A rebuilt tile picks its flash up where the panel's is, not from the start.
      const style = isHot ? { "animation-delay": `${-Math.round(hotSinceMs)}ms` } : null;
      return el(
        "div",
        { class: classes.join(" "), "data-counter": c.number, style },
        el("div", { class: "tile-head", text: t("display.counter_tile", { number: c.number }) }),
        isPlainName(c.name, c.number) ? null : el("div", { class: "tile-name", text: c.name }),
        body,
      );
    }),
  );
  fit(byId("counters"));
}

export function renderRecent(state) {
  setChildren(
    byId("recent"),
    state.recentCalls.slice(0, 5).map((c) =>
      el(
        "li",
        { "data-number": c.number },
        el("span", { class: "r-number", text: c.number }),
        el("span", { class: "r-arrow", "aria-hidden": "true", text: "→" }),
        el("span", { class: "r-counter", text: t("display.counter_short", { number: c.counter_number }) }),
        c.recall ? el("span", { class: "r-recall", text: t("display.recalled") }) : null,
      ),
    ),
  );
}

export function renderWaiting(state) {
  setChildren(
    byId("waiting"),
    state.visibleFields().map((f) =>
      el("li", null, el("span", { class: "w-name", text: f.name }), el("span", { class: "w-count", text: f.waiting })),
    ),
  );
  fit(byId("waiting-box"));
}

export function renderCentre(state) {
  const centre = state.centre;
  if (!centre) return;
  setText(byId("centre-name"), centre.name);
  setText(byId("centre-sub"), centre.subtitle);
  const notice = centre.notice || "";
  const box = byId("notice");
  if (box.textContent !== notice) {
    box.textContent = notice;
    byId("ticker").hidden = !notice;
    // The same reading speed whatever the length (about 5 characters a second at 1080p).
    const seconds = box.scrollWidth / (TICKER_VH_PER_S * (window.innerHeight / 100));
    box.style.setProperty("--ticker-s", `${Math.max(12, seconds).toFixed(1)}s`);
  }
}

export function renderClock(state) {
  const clock = state.clock;
  const p = clock.parts();
  setText(byId("clock-time"), `${pad2(p.hours)}:${pad2(p.minutes)}`);
  setText(byId("clock-date"), t("display.date", { weekday: list("display.weekdays")[p.weekday], date: clock.date() }));
}
