// The speaker PC: the same announcement policy as the TV, no picture, one status line.
// Open one per zone (`?zone=A`): one speaker channel per zone.

import { EVENTS, HallConnection } from "/assets/js/lib/hall.js";
import { byId, jsonBlock, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { Announcer, POLICY } from "./announcer.js";
import { HallState } from "./hallstate.js";

const config = jsonBlock("display-config");
const state = new HallState(config.zone);

const announcer = new Announcer({
  centreId: config.centre_id,
  muted: config.muted,
  deadlineMs: config.deadline * 1000,
  skewMs: () => state.clock.skewMs,
  onChange: render,
});

const hall = new HallConnection({
  centreId: config.centre_id,
  watchdog: { silenceMs: config.watchdog * 1000, graceMs: Math.min(10000, config.watchdog * 500) },
  onStatus: render,
  onSnapshot: (snapshot, { first }) => {
    for (const call of state.applySnapshot(snapshot, { first })) announcer.enqueue(call);
    render();
  },
  onEvent: (name, payload) => {
    const call = state.applyEvent(name, payload);
    if (call) announcer.enqueue(call);
    if (name === EVENTS.TICKET_UPDATED && payload.ticket.status !== "called") {
      announcer.retract(payload.ticket.id);
    }
  },
});

const CONNECTION = { connected: "common.connected", connecting: "common.connecting", error: "common.connection_error" };

function render() {
  const parts = [];
  const where = state.centre ? `${state.centre.name} ${state.centre.subtitle}`.trim() : "TTHCC";
  parts.push(config.zone ? `${where} – ${t("display.zone", { zone: config.zone })}` : where);
  parts.push(t(CONNECTION[hall.status] || "common.disconnected"));
  const playing = announcer.playing();
  if (announcer.muted) parts.push(t("display.audio_muted"));
  else if (announcer.blocked) parts.push(t("display.audio_blocked"));
  else if (playing) parts.push(t("display.audio_saying", { number: playing.number, counter: playing.counter }));
  else parts.push(t("display.audio_ready"));
  if (announcer.waiting()) parts.push(t("display.audio_queued", { count: announcer.waiting() }));
  setText(byId("status"), parts.join(" · "));
  byId("status").classList.toggle("down", hall.status !== "connected");
  const button = byId("mute");
  setText(button, t(announcer.muted ? "display.muted" : "display.sound_on"));
  button.classList.toggle("muted", announcer.muted);
  button.setAttribute("aria-pressed", String(announcer.muted));
  byId("unlock").hidden = !announcer.blocked || announcer.muted;
}

window.tthccDisplay = {
  state,
  announcer,
  hall,
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
};

function loop() {
  try {
    render();
    hall.beat();
  } catch (err) {
    console.error(err);
  }
  setTimeout(loop, 1000);
}

byId("mute").addEventListener("click", () => announcer.setMuted(!announcer.muted));
byId("unlock").addEventListener("click", () => announcer.unlock());
hall.start();
if (!announcer.muted) announcer.unlock();
loop();
