// The lobby TV: the call being said (large, flashing), every open counter with its number,
// the last calls, waiting counts per field, date and clock, the scrolling notice.
//
// The big panel shows exactly the call the announcer is saying (announcer.js: its policy
// decides which call is said when); muted, the announcer keeps the same timeline in
// silence. Tiles and "Vừa gọi" change the moment a call arrives; the calling counter's
// tile flashes with the panel and shows the panel's number. While the hall is quiet the
// big panel shows slides of procedures (slides.js); a rating thanks the citizen on the tile.

import { HallConnection, EVENTS } from "/assets/js/lib/hall.js";
import { byId, epochNow, jsonBlock, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { Announcer, POLICY } from "./announcer.js";
import { HallState } from "./hallstate.js";
import { fit, isPlainName, renderCentre, renderClock, renderCounters, renderRecent, renderWaiting } from "./screen.js";
import { Slides } from "./slides.js";

const config = jsonBlock("display-config");
const state = new HallState(config.zone);
const FLASH_MS = 5000; // a new call flashes this long (or until the next one is said)
const THANKS_MS = 6000; // the thank-you on a counter's tile after a rating
const LOG_SIZE = 500;

const slidesEnabled = config.slides;
const slideIdleMs = config.slide_idle * 1000;

const highlight = { current: null, key: null, shownAt: 0, flashing: false };
const renderLog = []; // {number, counter, receivedAt, paintedAt}: call → tiles painted
const highlightLog = []; // {key, number, counter, shownAt}: the big panel changed
let lastCallAt = performance.now(); // the hall is "quiet" this long after the last call
const thanks = new Map(); // counter id -> {text, until}
const thanksLog = [];
const seenRatings = new Set(); // rating ids (the event may come to two rooms)

const push = (log, entry) => {
  log.push(entry);
  if (log.length > LOG_SIZE) log.shift();
};

const announcer = new Announcer({
  centreId: config.centre_id,
  muted: config.muted,
  deadlineMs: config.deadline * 1000,
  skewMs: () => state.clock.skewMs,
  onSpeak: (segment) => {
    if (segment.kind !== "call") return;
    // Already on the panel (it came to an idle line): keep its flash going.
    if (highlight.key === segment.key && highlight.flashing) {
      push(highlightLog, { key: segment.key, number: segment.number, counter: segment.counter, shownAt: epochNow() });
      return;
    }
    showCall(segment.item.call, { flash: true, key: segment.key });
  },
  onChange: () => {
    renderAudioStatus();
    renderPending();
  },
});

const slides = new Slides({
  centreId: config.centre_id,
  box: byId("slides"),
  slideMs: config.slide_seconds * 1000,
  // In a zone, the procedures of the fields its counters serve.
  fieldIds: () => (config.zone ? new Set(state.visibleFields().map((f) => f.id)) : null),
});

// --- the big panel ------------------------------------------------------------------------

function showCall(call, { flash, key = null, log = true }) {
  highlight.current = call;
  highlight.key = key;
  highlight.shownAt = flash ? performance.now() : 0;
  highlight.flashing = flash;
  const panel = byId("now");
  setText(byId("now-number"), call ? call.number : "—");
  setText(byId("now-counter"), call ? call.counter_number : "");
  setText(byId("now-name"), call && !isPlainName(call.counter_name, call.counter_number) ? call.counter_name : "");
  setText(byId("now-label"), t(call && call.recall ? "display.recall" : "display.call"));
  panel.classList.toggle("idle", !call);
  panel.classList.remove("flash");
  if (flash) {
    hideSlides(); // the call being said always has the panel
    void panel.offsetWidth; // restart the animation for back-to-back calls
    panel.classList.add("flash");
    if (log) push(highlightLog, { key, number: call.number, counter: call.counter_number, shownAt: epochNow() });
  }
  fit(byId("now-call"), 0.6, { widthOnly: true });
  renderPending();
  renderTiles();
}

function endFlash() {
  highlight.flashing = false;
  byId("now").classList.remove("flash");
  renderTiles();
}

function renderPending() {
  const numbers = announcer.queue.map((item) => item.number);
  const shown = numbers.slice(0, 4).join(", ") + (numbers.length > 4 ? ", …" : "");
  setText(byId("now-next"), numbers.length ? t("display.next", { numbers: shown }) : "");
}

function flashingCall() {
  return highlight.flashing ? highlight.current : null;
}

function renderTiles() {
  renderCounters(state, { hot: flashingCall(), hotSinceMs: performance.now() - highlight.shownAt, thanks });
}

function renderConnection(status) {
  byId("conn").hidden = status === "connected";
  setText(byId("conn"), t(status === "error" ? "display.lost_error" : "display.lost"));
}

function renderAudioStatus() {
  const muted = announcer.muted;
  const button = byId("mute");
  setText(button, t(muted ? "display.muted" : "display.sound_on"));
  button.classList.toggle("muted", muted);
  button.setAttribute("aria-pressed", String(muted));
  byId("unlock").hidden = !announcer.blocked || muted;
}

function renderAll() {
  renderCentre(state);
  renderTiles();
  renderRecent(state);
  renderWaiting(state);
  renderClock(state);
}

// --- slides and thank-yous -------------------------------------------------------------------

/** Quiet: no call for a while, nothing being said or waiting to be said. */
function hallIsQuiet(now) {
  return now - lastCallAt >= slideIdleMs && !announcer.queue.length && !announcer.current && !highlight.flashing;
}

function updateSlides(now) {
  if (!slidesEnabled) return;
  if (hallIsQuiet(now)) {
    if (!slides.active && slides.ready) {
      slides.show();
      byId("now").hidden = slides.active;
    }
    slides.tick(now);
  } else {
    hideSlides();
  }
}

function hideSlides() {
  if (!slides.active) return;
  slides.hide();
  byId("now").hidden = false;
}

/** `rating.recorded`: thank the citizen on the counter's tile for a few seconds (silently). */
function onRating(payload) {
  const rating = payload && payload.rating;
  if (!rating || rating.counter_id === null || rating.counter_id === undefined) return;
  if (rating.id !== undefined && rating.id !== null) {
    if (seenRatings.has(rating.id)) return;
    seenRatings.add(rating.id);
    if (seenRatings.size > 200) seenRatings.delete(seenRatings.values().next().value);
  }
  if (!state.inZone(rating.counter_id)) return;
  const text = (payload.thank_you && String(payload.thank_you)) || t("display.thank_you");
  thanks.set(rating.counter_id, { text, until: performance.now() + THANKS_MS });
  push(thanksLog, { counter: rating.counter_number, level: rating.level, ratingId: rating.id, at: epochNow() });
  renderTiles();
}

function expireThanks(now) {
  let dropped = false;
  for (const [counterId, thank] of thanks) {
    if (thank.until <= now) {
      thanks.delete(counterId);
      dropped = true;
    }
  }
  return dropped;
}

// --- wiring ------------------------------------------------------------------------------

function onCall(call) {
  const receivedAt = epochNow();
  lastCallAt = performance.now();
  hideSlides(); // a call takes the panel back at once
  thanks.delete(call.counter_id); // the counter has moved on to its next citizen
  const idle = !announcer.current && !announcer.queue.length && !announcer.running;
  const item = announcer.enqueue(call);
  // On an idle line this call is the next said: show it now, not once its clips are ready
  // (the panel still never shows one call while another is being said).
  if (item && idle) showCall(call, { flash: true, key: item.key, log: false });
  renderTiles();
  renderRecent(state);
  requestAnimationFrame(() =>
    push(renderLog, { number: call.number, counter: call.counter_number, receivedAt, paintedAt: epochNow() }),
  );
}

const hall = new HallConnection({
  centreId: config.centre_id,
  watchdog: { silenceMs: config.watchdog * 1000, graceMs: Math.min(10000, config.watchdog * 500) },
  onStatus: renderConnection,
  onSnapshot: (snapshot, { first }) => {
    const missed = state.applySnapshot(snapshot, { first });
    if (!highlight.current && state.latestCall && !announcer.current) showCall(state.latestCall, { flash: false });
    renderAll();
    for (const call of missed) onCall(call);
  },
  onEvent: (name, payload) => {
    if (name === EVENTS.RATING_RECORDED) return onRating(payload);
    const call = state.applyEvent(name, payload);
    if (call) onCall(call);
    else if (name === EVENTS.QUEUE_UPDATED) renderWaiting(state);
    else renderTiles();
    if (name === EVENTS.TICKET_UPDATED && payload.ticket.status !== "called") {
      announcer.retract(payload.ticket.id); // the citizen came, or the counter moved on
      if (highlight.current && highlight.current.ticket_id === payload.ticket.id) endFlash();
    }
  },
});

window.tthccDisplay = {
  state,
  announcer,
  hall,
  highlight,
  renderLog,
  highlightLog,
  thanksLog,
  slides,
  policy: POLICY,
  get watchdog() {
    return hall.watchdog;
  },
  get socket() {
    return hall.socket;
  },
  get announcementLog() {
    return announcer.log;
  },
  get connection() {
    return hall.status;
  },
  get statusLog() {
    return hall.statusLog;
  },
  setMuted: (muted) => announcer.setMuted(muted),
  /** What the panel shows and what is being said, read in one go (the tests sample it). */
  agreement: () => {
    const said = announcer.current;
    return {
      at: epochNow(),
      panel: highlight.current ? [highlight.current.number, highlight.current.counter_number] : null,
      panelText: [byId("now-number").textContent, byId("now-counter").textContent],
      hotTiles: [...document.querySelectorAll(".tile.hot")].map((n) => [n.querySelector(".tile-number").textContent, n.dataset.counter]),
      said: said ? [said.number, said.counter, said.kind] : null,
    };
  },
};

// The main loop: clock, end of the flash, thank-yous, slides. The watchdog reloads the
// page if it stops beating (an exception on every tick, a frozen page).
function tick() {
  renderClock(state);
  const now = performance.now();
  if (highlight.flashing && now - highlight.shownAt >= FLASH_MS && !announcer.current) endFlash();
  if (expireThanks(now)) renderTiles();
  updateSlides(now);
  hall.beat();
}

function loop() {
  try {
    tick();
  } catch (err) {
    console.error(err);
  }
  setTimeout(loop, 250);
}

byId("mute").addEventListener("click", () => announcer.setMuted(!announcer.muted));
byId("unlock").addEventListener("click", () => announcer.unlock());
document.addEventListener("keydown", (e) => {
  if (e.key === "m" || e.key === "M") announcer.setMuted(!announcer.muted);
});
renderAudioStatus();
renderConnection("connecting");
if (slidesEnabled) slides.start();
hall.start();
loop();
if (!announcer.muted) announcer.unlock(); // shows "bật âm thanh" at once if audio is blocked
