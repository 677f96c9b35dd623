// The lobby TV: the call being shown (large, flashing), every open counter with its number,
// the last calls, waiting counts per field, date and clock, the scrolling notice.
//
// Calls in a burst each get their own `hold` seconds in the big panel (a queue), while the
// counter tiles and the recent-call list change at once. Voice: see announcer.js. While
// the hall is quiet the big panel shows slides of procedures (slides.js); a rating thanks
// the citizen on the counter's tile.

import { Announcer } from "./announcer.js";
import { HallState, RATING_EVENT, Watchdog, connectHall, epochNow, pageConfig } from "./hall.js";
import { Slides } from "./slides.js";

const config = pageConfig();
const state = new HallState(config.zone);
const holdMs = Math.max(1, config.hold) * 1000;
const FLASH_MS = Math.min(holdMs, 5000);
const BUSY_HOLD_MS = 3000;
const TICKER_VH_PER_S = 10; // scroll speed, in screen heights / 100 per second
const WEEKDAYS = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
const THANKS_MS = 6000; // the thank-you on a counter's tile after a rating
const THANK_YOU = "Cảm ơn quý khách đã đánh giá!";

// Slides between calls: ?slides=0 turns them off; ?slide_idle= (seconds without a call
// before they start, default 20) and ?slide_seconds= (per slide, default 12).
const params = new URLSearchParams(location.search);
const paramSeconds = (name, fallback) => {
  const value = Number.parseFloat(params.get(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const slidesEnabled = !["0", "false", "no"].includes((params.get("slides") || "").toLowerCase());
const slideIdleMs = Math.max(1, paramSeconds("slide_idle", 20)) * 1000;
const slideMs = Math.max(1, paramSeconds("slide_seconds", 12)) * 1000;

const $ = (id) => document.getElementById(id);
const esc = (text) =>
  String(text ?? "").replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch],
  );
const pad = (n) => String(n).padStart(2, "0");
const isPlainName = (name, number) => !name || name.trim() === `Quầy ${number}`;

const highlight = { current: null, shownAt: 0, queue: [] };
const renderLog = []; // {number, counter, receivedAt, paintedAt}: call → screen latency
const highlightLog = []; // {number, counter, shownAt}
let lastCallAt = performance.now(); // the hall is "quiet" this long after the last call
const thanks = new Map(); // counter id -> {text, until}: the tiles saying thank you
const thanksLog = []; // {counter, level, ratingId, at}
const seenRatings = new Set(); // rating ids (the event may come to two rooms)
let connection = "connecting";
const statusLog = []; // connection changes, for the tests and the curious

const announcer = new Announcer({
  centreId: config.centre_id,
  muted: config.muted,
  onChange: renderAudioStatus,
});

const slides = new Slides({
  centreId: config.centre_id,
  box: $("slides"),
  slideMs,
  // In a zone, the procedures of the fields its counters serve.
  fieldIds: () => (config.zone ? new Set(state.visibleFields().map((f) => f.id)) : null),
});

window.tthccDisplay = {
  state,
  announcer,
  get watchdog() {
    return watchdog;
  },
  get socket() {
    return socket;
  },
  highlight,
  renderLog,
  highlightLog,
  get announcementLog() {
    return announcer.log;
  },
  get connection() {
    return connection;
  },
  statusLog,
  setMuted,
  slides,
  thanksLog,
};

// --- the big panel ------------------------------------------------------------------------

function showCall(call, { flash }) {
  highlight.current = call;
  // A call shown from a snapshot is old news: the next live call replaces it at once.
  highlight.shownAt = flash ? performance.now() : 0;
  const panel = $("now");
  $("now-number").textContent = call ? call.number : "—";
  $("now-counter").textContent = call ? call.counter_number : "";
  $("now-name").textContent =
    call && !isPlainName(call.counter_name, call.counter_number) ? call.counter_name : "";
  $("now-label").textContent = call && call.recall ? "MỜI LẠI CÔNG DÂN CÓ SỐ" : "MỜI CÔNG DÂN CÓ SỐ";
  panel.classList.toggle("idle", !call);
  panel.classList.remove("flash");
  if (flash) {
    void panel.offsetWidth; // restart the animation for back-to-back calls
    panel.classList.add("flash");
    panel.style.setProperty("--flashes", String(Math.max(1, Math.round(FLASH_MS / 600))));
    highlightLog.push({ number: call.number, counter: call.counter_number, shownAt: epochNow() });
  }
  renderPending();
}

function queueHighlight(call) {
  // A counter that called again before its previous call had its turn has moved on: the
  // earlier citizen is no longer expected there, so only its latest call waits…
  highlight.queue = highlight.queue.filter((queued) => queued.counter_id !== call.counter_id);
  const current = highlight.current;
  if (current && highlight.shownAt && current.counter_id === call.counter_id) {
    // …and if its previous call is the one on screen, the new one takes its place now,
    // within the same time slot when others are waiting (a busy counter cannot hog it).
    const slotStart = highlight.shownAt;
    showCall(call, { flash: true });
    if (highlight.queue.length) highlight.shownAt = slotStart;
    return;
  }
  highlight.queue.push(call);
  advanceHighlight();
}

function advanceHighlight() {
  if (!highlight.queue.length) return;
  // In a long burst each call still gets a readable few seconds, but no more.
  const hold = highlight.queue.length > 2 ? Math.min(holdMs, BUSY_HOLD_MS) : holdMs;
  const shownFor = performance.now() - highlight.shownAt;
  if (highlight.current && highlight.shownAt && shownFor < hold) {
    renderPending();
    return;
  }
  showCall(highlight.queue.shift(), { flash: true });
}

function renderPending() {
  const numbers = highlight.queue.map((c) => c.number);
  const shown = numbers.slice(0, 4).join(", ") + (numbers.length > 4 ? ", …" : "");
  $("now-next").textContent = numbers.length ? `Tiếp theo: ${shown}` : "";
}

/** Tiles per row: rows of 3 or 4 up to 8 counters, then wider rows. */
function columnsFor(count) {
  if (count <= 3 || count === 5 || count === 6) return 3;
  if (count <= 8) return 4;
  return count <= 10 ? 5 : 6;
}

/** Shrink a box's content (CSS --fit, 1 → 0.55) until it no longer overflows. */
function fit(box) {
  let scale = 1;
  box.style.setProperty("--fit", "1");
  while (box.scrollHeight > box.clientHeight + 1 && scale > 0.55) {
    scale -= 0.05;
    box.style.setProperty("--fit", scale.toFixed(2));
  }
}

// --- the rest of the screen ----------------------------------------------------------------

function renderCounters() {
  const flashing = highlight.current && performance.now() - highlight.shownAt < FLASH_MS;
  const counters = state.visibleCounters();
  $("counter-grid").style.setProperty("--columns", String(columnsFor(counters.length)));
  $("counter-grid").innerHTML = counters.length
    ? counters
        .map((c) => {
          const ticket = c.current_ticket;
          const hot = flashing && ticket && highlight.current.counter_id === c.id;
          const paused = c.status === "paused";
          // A call's flash wins over a thank-you; the thank-you outlasts it if time is left.
          const thank = !hot && !paused && thanks.get(c.id);
          const name = isPlainName(c.name, c.number) ? "" : `<div class="tile-name">${esc(c.name)}</div>`;
          let body = `<div class="tile-number">${ticket ? esc(ticket.number) : "—"}</div>`;
          if (paused) body = `<div class="tile-paused">Tạm dừng</div>`;
          else if (thank) body = `<div class="tile-thanks" role="status">${esc(thank.text)}</div>`;
          const classes = `tile${hot ? " hot" : ""}${paused ? " paused" : ""}${thank ? " thanks" : ""}`;
          return `<div class="${classes}" data-counter="${c.number}">
            <div class="tile-head">QUẦY ${esc(c.number)}</div>${name}${body}</div>`;
        })
        .join("")
    : `<div class="empty">Chưa có quầy nào mở</div>`;
  fit($("counters"));
}

function renderRecent() {
  $("recent").innerHTML = state.recentCalls
    .slice(0, 5)
    .map(
      (c) => `<li data-number="${esc(c.number)}"><span class="r-number">${esc(c.number)}</span>
        <span class="r-arrow">→</span><span class="r-counter">Quầy ${esc(c.counter_number)}</span>
        ${c.recall ? '<span class="r-recall">gọi lại</span>' : ""}</li>`,
    )
    .join("");
}

function renderWaiting() {
  $("waiting").innerHTML = state
    .visibleFields()
    .map(
      (f) => `<li><span class="w-name">${esc(f.name)}</span>
        <span class="w-count">${esc(f.waiting)}</span></li>`,
    )
    .join("");
  fit($("waiting-box"));
}

function renderCentre() {
  const centre = state.centre;
  if (!centre) return;
  $("centre-name").textContent = centre.name;
  $("centre-sub").textContent = centre.subtitle;
  const notice = centre.notice || "";
  if ($("notice").textContent !== notice) {
    $("notice").textContent = notice;
    $("ticker").hidden = !notice;
    // The same reading speed whatever the length (about 5 characters a second at 1080p).
    const seconds = $("notice").scrollWidth / (TICKER_VH_PER_S * (window.innerHeight / 100));
    $("notice").style.setProperty("--ticker-s", `${Math.max(12, seconds).toFixed(1)}s`);
  }
}

function renderClock() {
  const now = state.centreNow();
  $("clock-time").textContent = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}`;
  $("clock-date").textContent =
    `${WEEKDAYS[now.getUTCDay()]}, ngày ${pad(now.getUTCDate())}/${pad(now.getUTCMonth() + 1)}/${now.getUTCFullYear()}`;
}

function renderConnection() {
  $("conn").hidden = connection === "connected";
  $("conn").textContent = connection === "error" ? "● lỗi kết nối" : "● mất kết nối";
}

function renderAudioStatus() {
  const muted = announcer.muted;
  $("mute").textContent = muted ? "ĐANG TẮT TIẾNG" : "Âm thanh: bật";
  $("mute").classList.toggle("muted", muted);
  $("mute").setAttribute("aria-pressed", String(muted));
  $("unlock").hidden = !announcer.blocked || muted;
}

function renderAll() {
  renderCentre();
  renderCounters();
  renderRecent();
  renderWaiting();
  renderClock();
}

function setMuted(muted) {
  announcer.setMuted(muted);
}

// --- slides and thank-yous -------------------------------------------------------------------

/** Quiet: no call for a while, the last one had its hold, none waiting, none being said. */
function hallIsQuiet(now) {
  return (
    now - lastCallAt >= slideIdleMs &&
    now - highlight.shownAt >= holdMs &&
    !highlight.queue.length &&
    !announcer.queue.length &&
    !announcer.active
  );
}

function updateSlides(now) {
  if (!slidesEnabled) return;
  if (hallIsQuiet(now)) {
    if (!slides.active && slides.ready) {
      slides.show();
      $("now").hidden = slides.active;
    }
    slides.tick(now);
  } else {
    hideSlides();
  }
}

function hideSlides() {
  if (!slides.active) return;
  slides.hide();
  $("now").hidden = false;
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
  const text = (payload.thank_you && String(payload.thank_you)) || THANK_YOU;
  thanks.set(rating.counter_id, { text, until: performance.now() + THANKS_MS });
  thanksLog.push({
    counter: rating.counter_number,
    level: rating.level,
    ratingId: rating.id,
    at: epochNow(),
  });
  renderCounters();
}

/** Drop thank-yous whose time is up; true if any was dropped. */
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
  queueHighlight(call);
  announcer.enqueue(call);
  renderCounters();
  renderRecent();
  requestAnimationFrame(() =>
    renderLog.push({ number: call.number, counter: call.counter_number, receivedAt, paintedAt: epochNow() }),
  );
}

const watchdog = new Watchdog({
  silenceMs: config.watchdog * 1000,
  graceMs: Math.min(10000, config.watchdog * 500),
  nudge: () => {
    socket.disconnect();
    socket.connect();
  },
});
const socket = connectHall(config.centre_id, {
  onContact: () => watchdog.contact(),
  onStatus: (status, detail) => {
    connection = status;
    statusLog.push({ status, detail: detail || null, at: epochNow() });
    renderConnection();
  },
  onSnapshot: (snapshot, { first }) => {
    const missed = state.applySnapshot(snapshot, { first });
    if (!highlight.current && state.latestCall && !highlight.queue.length) {
      showCall(state.latestCall, { flash: false });
    }
    renderAll();
    for (const call of missed) onCall(call);
  },
  onEvent: (name, payload) => {
    if (name === RATING_EVENT) {
      onRating(payload);
      return;
    }
    const call = state.applyEvent(name, payload);
    if (call) onCall(call);
    else if (name === "queue.updated") renderWaiting();
    else renderCounters();
  },
});

// The main loop: clock, the highlight queue, tile flashing. The watchdog reloads the page
// if it stops beating (an exception on every tick, a frozen page).
let lastFlashing = false;
function tick() {
  renderClock();
  advanceHighlight();
  const now = performance.now();
  const flashing = highlight.current && now - highlight.shownAt < FLASH_MS;
  const thanksEnded = expireThanks(now);
  if (flashing !== lastFlashing || thanksEnded) renderCounters();
  lastFlashing = flashing;
  updateSlides(now);
  watchdog.beat();
}
function loop() {
  try {
    tick();
  } catch (err) {
    console.error(err);
  }
  setTimeout(loop, 250);
}

$("mute").addEventListener("click", () => setMuted(!announcer.muted));
$("unlock").addEventListener("click", () => announcer.unlock());
document.addEventListener("keydown", (e) => {
  if (e.key === "m" || e.key === "M") setMuted(!announcer.muted);
});
renderAudioStatus();
renderConnection();
if (slidesEnabled) slides.start();
loop();
if (!announcer.muted) announcer.context(); // shows "bật âm thanh" at once if audio is blocked
