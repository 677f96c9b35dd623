// The citizen's ticket page /t/<code>: follows this one ticket over Socket.IO (the server
// joins it to the ticket's and its line's rooms only, server/realtime_follow.py): people
// ahead and the wait estimate as the line moves, and "Mời đến Quầy 6" with a chime and a
// vibration the moment it is called. Without the socket it reads the API every 30 s.

import { get } from "/assets/js/lib/api.js";
import { CentreClock } from "/assets/js/lib/clock.js";
import { byId, jsonBlock, setText } from "/assets/js/lib/dom.js";
import { HallConnection } from "/assets/js/lib/hall.js";
import { t, en } from "/assets/js/lib/labels.js";

const FALLBACK_POLL_MS = 30000;
const REFRESH_JITTER_MS = 400; // many phones follow one line: spread their reads
const STATUSES = new Set(["waiting", "called", "serving", "done", "no_show", "cancelled"]);

const config = jsonBlock("ticket-config");
const clock = new CentreClock();
const state = { ticket: null, alerted: new Set(), soundOn: false, audio: null, refreshTimer: null, alerts: [] };

function render(ticket) {
  const previous = state.ticket;
  state.ticket = { ...(previous || {}), ...ticket };
  const tk = state.ticket;
  const key = STATUSES.has(tk.status) ? tk.status : "waiting";
  setText(byId("ts-number"), tk.number);
  setText(byId("ts-service"), tk.service_name);
  byId("ticket").dataset.status = tk.status;
  byId("ts-status").dataset.status = tk.status;
  setText(byId("ts-status-vi"), t(`ticket.${key}`));
  setText(byId("ts-status-en"), en(`ticket.${key}`));
  const atCounter = (tk.status === "called" || tk.status === "serving") && tk.counter_name;
  byId("ts-counter").hidden = !atCounter;
  setText(byId("ts-counter"), atCounter ? t("ticket.go_to", { counter: tk.counter_name }) : "");
  byId("ts-ahead-box").hidden = tk.status !== "waiting";
  if (typeof tk.waiting_ahead === "number") setText(byId("ts-ahead"), tk.waiting_ahead);
  const estimate = tk.status === "waiting" ? tk.estimate : null;
  byId("ts-estimate-box").hidden = !estimate;
  if (estimate) {
    setText(byId("ts-estimate"), estimate.text);
    setText(byId("ts-estimate-en"), estimate.text_en);
  }
  setText(byId("ts-issued"), tk.issued_at ? t("ticket.issued", { time: `${clock.time(tk.issued_at)}, ${clock.date(tk.issued_at)}` }) : "");
  // A call (or a recall: call_count grows) is announced once each.
  if (tk.status === "called") {
    const call = `${tk.id}:${tk.call_count || 1}`;
    if (!state.alerted.has(call)) {
      state.alerted.add(call);
      if (previous) alert(tk);
    }
  }
}

/* A chime (Web Audio, no file to load) and a vibration on the phone. */
function alert(ticket) {
  const entry = { at: Date.now(), counter: ticket.counter_name, vibrated: false, sounded: false };
  if (navigator.vibrate) entry.vibrated = navigator.vibrate([400, 200, 400, 200, 400]);
  if (state.soundOn && state.audio) {
    const ctx = state.audio;
    const now = ctx.currentTime;
    for (const [i, freq] of [784, 659, 523].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.5, now + i * 0.35 + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.35 + 0.33);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + i * 0.35);
      osc.stop(now + i * 0.35 + 0.35);
    }
    entry.sounded = true;
  }
  state.alerts.push(entry);
}

/* Browsers play sound only after a tap on the page: the citizen turns it on once. */
function enableSound() {
  const AudioContext = window.AudioContext || window.webkitAudioContext;
  if (!AudioContext) return;
  state.audio = state.audio || new AudioContext();
  state.audio.resume();
  state.soundOn = true;
  const button = byId("ts-sound");
  button.setAttribute("aria-pressed", "true");
  button.firstChild.textContent = t("ticket.sound_ready");
  button.querySelector(".en").textContent = en("ticket.sound_ready");
}

async function refresh() {
  try {
    render(await get(config.api));
    byId("ts-offline").hidden = true;
  } catch {
    byId("ts-offline").hidden = false;
  }
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, Math.random() * REFRESH_JITTER_MS);
}

const hall = new HallConnection({
  subscription: { ticket_code: config.code },
  onSnapshot: (snapshot) => {
    clock.sync(snapshot.server_time);
    render(snapshot.ticket);
    byId("ts-offline").hidden = true;
  },
  onEvent: (name, payload) => {
    if (name === "ticket.status" && payload && payload.ticket) {
      render(payload.ticket); // at once: status and counter
      refreshSoon(); // then people ahead and the estimate
    } else if (name === "line.changed") refreshSoon();
  },
  onStatus: (status) => {
    byId("ts-offline").hidden = status === "connected";
  },
  watchdog: { silenceMs: 60000, reload: false },
}).start();

byId("ts-sound").addEventListener("click", enableSound);
byId("ts-sound").setAttribute("aria-pressed", "false");
// Without a live socket (library missing, proxy without WebSocket and polling): read the API.
setInterval(() => {
  if (hall.status !== "connected") refresh();
}, FALLBACK_POLL_MS);
window.tthccTicket = { state, hall, refresh };
refresh();
