// The lobby TV: the call being shown (large, flashing), every open counter with its number,
// the last calls, waiting counts per field, date and clock, the scrolling notice.
//
// Calls in a burst each get their own `hold` seconds in the big panel (a queue), while the
// counter tiles and the recent-call list change at once. Voice: see announcer.js.

import { Announcer } from "./announcer.js";
import { HallState, Watchdog, connectHall, epochNow, pageConfig } from "./hall.js";

const config = pageConfig();
const state = new HallState(config.zone);
const holdMs = Math.max(1, config.hold) * 1000;
const FLASH_MS = Math.min(holdMs, 5000);
const BUSY_HOLD_MS = 3000;
const TICKER_VH_PER_S = 10; // scroll speed, in screen heights / 100 per second
const WEEKDAYS = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];

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
let connection = "connecting";
const statusLog = []; // connection changes, for the tests and the curious

const announcer = new Announcer({
  centreId: config.centre_id,
  muted: config.muted,
  onChange: renderAudioStatus,
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
          const name = isPlainName(c.name, c.number) ? "" : `<div class="tile-name">${esc(c.name)}</div>`;
          const body = paused
            ? `<div class="tile-paused">Tạm dừng</div>`
            : `<div class="tile-number">${ticket ? esc(ticket.number) : "—"}</div>`;
          return `<div class="tile${hot ? " hot" : ""}${paused ? " paused" : ""}" data-counter="${c.number}">
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

// --- wiring ------------------------------------------------------------------------------

function onCall(call) {
  const receivedAt = epochNow();
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
  const flashing = highlight.current && performance.now() - highlight.shownAt < FLASH_MS;
  if (flashing !== lastFlashing) renderCounters();
  lastFlashing = flashing;
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
loop();
if (!announcer.muted) announcer.context(); // shows "bật âm thanh" at once if audio is blocked
