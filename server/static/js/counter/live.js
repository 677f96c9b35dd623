// The page's one connection to the hall (lib/hall.js): the snapshot on every (re)connect
// replaces whatever the page believed, then the changes keep it true.

import { byId, setText } from "/assets/js/lib/dom.js";
import { EVENTS, HallConnection } from "/assets/js/lib/hall.js";
import { t } from "/assets/js/lib/labels.js";
import { applyTicketEvent, syncCurrent } from "./current.js";
import { applyCounter, applyQueue } from "./lines.js";
import { applyNoShow, loadNoShows } from "./noshows.js";
import { say, showRating } from "./notices.js";
import { changed, clock, counterTitle, state } from "./state.js";

const TICKET_EVENTS = new Set([EVENTS.TICKET_ISSUED, EVENTS.TICKET_CALLED, EVENTS.TICKET_RECALLED, EVENTS.TICKET_UPDATED]);

/** Connect for the session's centre (once; disconnect() before another centre). */
export function connect() {
  if (state.hall) return;
  state.hall = new HallConnection({
    centreId: state.centreId,
    onSnapshot,
    onEvent,
    onStatus: showStatus,
    watchdog: { silenceMs: 60000, reload: false }, // restart the socket; never reload staff work
  }).start();
  showStatus(state.hall.status);
}

export function disconnect() {
  if (state.hall) state.hall.close();
  state.hall = null;
}

function showStatus(status) {
  const badge = byId("conn-status");
  const online = status === "connected";
  badge.className = `conn ${online ? "conn-on" : "conn-off"}`;
  setText(badge, t(`counter.conn_${status}`));
}

function onSnapshot(snapshot) {
  if (!snapshot || !snapshot.centre || snapshot.centre.id !== state.centreId) return;
  if (snapshot.server_time) clock.sync(snapshot.server_time);
  state.centre = snapshot.centre;
  setText(byId("centre-name"), [snapshot.centre.name, snapshot.centre.subtitle].filter(Boolean).join(" – "));
  state.waiting.clear();
  state.stamps.reset(snapshot.waiting_day, snapshot.waiting_stamps);
  for (const s of snapshot.services || []) {
    state.services.set(s.id, s);
    state.waiting.set(s.id, s.waiting || 0);
  }
  for (const c of snapshot.counters || []) state.counters.set(c.id, c);
  changed("counters", "counter", "waiting");
  const mine = state.counterId && state.counters.get(state.counterId);
  if (mine && state.view === "counter") {
    syncCurrent(mine.current_ticket, true);
    loadNoShows(); // no-shows marked while this page was away
  }
}

function onEvent(name, payload) {
  if (name === EVENTS.COUNTER_UPDATED) onCounter(payload && payload.counter);
  else if (name === EVENTS.QUEUE_UPDATED) applyQueue(payload);
  else if (name === EVENTS.RATING_RECORDED) showRating(payload);
  else if (TICKET_EVENTS.has(name) && payload && payload.ticket && state.view === "counter") {
    applyNoShow(payload.ticket);
    applyTicketEvent(payload.ticket);
  }
}

function onCounter(counter) {
  if (!counter || counter.centre_id !== state.centreId) return;
  const before = state.counters.get(counter.id);
  applyCounter(counter);
  changed("counters");
  if (counter.id !== state.counterId || state.view !== "counter") return;
  const me = state.session && state.session.user;
  const takenNow = me && counter.staff_id && counter.staff_id !== me.id && (!before || before.staff_id !== counter.staff_id);
  if (takenNow) {
    const name = counter.staff_name || t("counter.someone");
    say("counter.taken_by", { counter: counterTitle(counter), name }, "warn");
  }
  changed("counter");
  syncCurrent(counter.current_ticket, false);
}
