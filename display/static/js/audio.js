// The speaker PC: the same announcement queue as the TV, no picture, one status line.

import { Announcer } from "./announcer.js";
import { HallState, Watchdog, connectHall, epochNow, pageConfig } from "./hall.js";

const config = pageConfig();
const state = new HallState(config.zone);
const $ = (id) => document.getElementById(id);
let connection = "connecting";
const statusLog = []; // connection changes, for the tests and the curious

const announcer = new Announcer({
  centreId: config.centre_id,
  muted: config.muted,
  onChange: render,
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
  get announcementLog() {
    return announcer.log;
  },
  get connection() {
    return connection;
  },
  statusLog,
  setMuted: (muted) => announcer.setMuted(muted),
};

function render() {
  const parts = [];
  const where = state.centre ? `${state.centre.name} ${state.centre.subtitle}`.trim() : "TTHCC";
  parts.push(config.zone ? `${where} – khu vực ${config.zone}` : where);
  parts.push(
    { connected: "đã kết nối", error: "lỗi kết nối", connecting: "đang kết nối" }[connection] ||
      "mất kết nối",
  );
  const playing = announcer.playing();
  if (announcer.muted) parts.push("đang tắt tiếng");
  else if (announcer.blocked) parts.push("trình duyệt chặn âm thanh: bấm nút để bật");
  else if (playing) parts.push(`đang đọc số ${playing.number} → quầy ${playing.counter}`);
  else parts.push("sẵn sàng");
  if (announcer.waiting()) parts.push(`chờ đọc: ${announcer.waiting()}`);
  $("status").textContent = parts.join(" · ");
  $("status").classList.toggle("down", connection !== "connected");
  $("mute").textContent = announcer.muted ? "ĐANG TẮT TIẾNG" : "Âm thanh: bật";
  $("mute").classList.toggle("muted", announcer.muted);
  $("mute").setAttribute("aria-pressed", String(announcer.muted));
  $("unlock").hidden = !announcer.blocked || announcer.muted;
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
    render();
  },
  onSnapshot: (snapshot, { first }) => {
    for (const call of state.applySnapshot(snapshot, { first })) announcer.enqueue(call);
    render();
  },
  onEvent: (name, payload) => {
    const call = state.applyEvent(name, payload);
    if (call) announcer.enqueue(call);
  },
});

function loop() {
  try {
    render();
    watchdog.beat();
  } catch (err) {
    console.error(err);
  }
  setTimeout(loop, 1000);
}

$("mute").addEventListener("click", () => announcer.setMuted(!announcer.muted));
$("unlock").addEventListener("click", () => announcer.unlock());
if (!announcer.muted) announcer.context();
loop();
