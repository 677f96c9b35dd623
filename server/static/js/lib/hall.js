// The one connection a page keeps to the hall (Socket.IO namespace /hall, docs/realtime.md).
//
//   const hall = new HallConnection({ centreId, onSnapshot, onEvent, onStatus }).start();
//
// - Snapshot, then changes: on every (re)connect it subscribes again; the server answers
//   with a snapshot, and the page re-renders from it. Events that arrive between the
//   (re)connect and that snapshot are held and handed over right after it (the server
//   joins the room before reading the snapshot, so they may or may not be in it: pages
//   apply events as idempotent "set" messages and de-duplicate calls by ticket and time).
// - It reconnects forever (0.3–3 s back-off), also after the server closed the socket.
// - A watchdog: nothing heard (snapshot, event or the engine's ping) for `silenceMs`, or
//   the page's main loop silent for `stallMs` (when the page calls beat()): it asks the
//   server for a plain HTTP answer first, so a page is never reloaded onto Chromium's
//   error page while the server is down; then restarts the socket, and if that does not
//   bring contact back within `graceMs`, reloads the page (reload: false only restarts).
// - The Socket.IO client is loaded on demand: a page whose socket library fails to load
//   still works without live updates (status "unavailable").

import { epochNow } from "./dom.js";

/** Event names on /hall, as server/services/events.py names them (a test compares). */
export const EVENTS = Object.freeze({
  SNAPSHOT: "snapshot",
  TICKET_ISSUED: "ticket.issued",
  TICKET_CALLED: "ticket.called",
  TICKET_RECALLED: "ticket.recalled",
  TICKET_UPDATED: "ticket.updated",
  COUNTER_UPDATED: "counter.updated",
  QUEUE_UPDATED: "queue.updated",
  PRINT_STATUS: "print.status",
  DEVICE_STATUS: "device.status",
  STATION_STATUS: "station.status",
  RATING_RECORDED: "rating.recorded",
  SCANNER_SCANNED: "scanner.scanned",
});

const SOCKET_LIBRARY = new URL("../../vendor/socket.io.esm.min.js", import.meta.url).href;
const SUBSCRIBE_TIMEOUT_MS = 5000;
const SUBSCRIBE_RETRY_MS = 3000;
const LOG_SIZE = 100;

export class HallConnection {
  /**
   * centreId: the centre's room; stationId: also the station's room (a kiosk's print.status).
   * onSnapshot(snapshot, {first}), onEvent(name, payload), onStatus(status, detail).
   * status: "connecting", "connected", "disconnected", "error" (subscribe refused),
   * "unavailable" (no socket library). watchdog: {silenceMs, stallMs, graceMs, reload} or
   * null for none.
   */
  constructor({
    centreId,
    stationId = null,
    onSnapshot = () => {},
    onEvent = () => {},
    onStatus = () => {},
    watchdog = {},
    subscription = null,
  }) {
    this.centreId = centreId;
    // Instead of {centre_id, station_id}: what a page that is not in a centre's room asks
    // for, e.g. {ticket_code} for a phone following one ticket (server/realtime_follow.py).
    this.subscription = subscription;
    this.stationId = stationId;
    this.handlers = { onSnapshot, onEvent, onStatus };
    this.status = "connecting";
    this.statusLog = [];
    this.socket = null;
    this.snapshots = 0;
    this.awaitingSnapshot = true;
    this.held = []; // events received before the snapshot of this connection
    this.subscribeTimer = null;
    this.watchdog = watchdog ? new Watchdog(this, watchdog) : null;
  }

  /** Load the socket library and connect (returns this at once). */
  start() {
    import(SOCKET_LIBRARY).then(
      (module) => this.connect(module.io),
      (err) => this.setStatus("unavailable", `socket library: ${err}`),
    );
    return this;
  }

  connect(io) {
    const socket = io("/hall", {
      transports: ["websocket", "polling"],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 5000,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.contact();
      this.awaitingSnapshot = true;
      this.held = [];
      this.setStatus("connected");
      this.subscribe();
    });
    socket.on("disconnect", (reason) => {
      this.setStatus("disconnected", reason);
      // The one case the client does not retry by itself: the server closed us on purpose.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
    });
    socket.on("connect_error", (err) => this.setStatus("disconnected", err && err.message));
    socket.io.on("ping", () => this.contact());
    socket.on(EVENTS.SNAPSHOT, (snapshot) => this.receiveSnapshot(snapshot));
    socket.onAny((name, payload) => {
      if (name === EVENTS.SNAPSHOT) return;
      this.contact();
      if (this.awaitingSnapshot) this.held.push([name, payload]);
      else this.handlers.onEvent(name, payload);
    });
  }

  subscribe() {
    clearTimeout(this.subscribeTimer);
    const socket = this.socket;
    if (!socket || !socket.connected) return;
    const request = this.subscription ? { ...this.subscription } : { centre_id: this.centreId };
    if (!this.subscription && Number.isInteger(this.stationId)) request.station_id = this.stationId;
    socket.timeout(SUBSCRIBE_TIMEOUT_MS).emit("subscribe", request, (err, ack) => {
      if (!err && ack && ack.ok) return;
      const why = err ? "no answer to subscribe" : (ack && ack.message) || "subscribe refused";
      this.setStatus("error", why);
      if (socket.connected) this.subscribeTimer = setTimeout(() => this.subscribe(), SUBSCRIBE_RETRY_MS);
    });
  }

  receiveSnapshot(snapshot) {
    this.contact();
    const first = this.snapshots === 0;
    this.snapshots += 1;
    this.awaitingSnapshot = false;
    if (this.status !== "connected") this.setStatus("connected");
    this.handlers.onSnapshot(snapshot, { first });
    const held = this.held;
    this.held = [];
    for (const [name, payload] of held) this.handlers.onEvent(name, payload);
  }

  /** Ask for a fresh snapshot on the live socket (re-render from the truth). */
  resync() {
    this.awaitingSnapshot = true;
    this.subscribe();
  }

  /** Drop the socket and connect again (it subscribes and gets a snapshot on connect). */
  restart() {
    if (!this.socket) return;
    this.socket.disconnect();
    this.socket.connect();
  }

  /** The page's main loop is alive (only pages that call it get stall detection). */
  beat() {
    if (this.watchdog) this.watchdog.beat();
  }

  contact() {
    if (this.watchdog) this.watchdog.contact();
  }

  setStatus(status, detail = null) {
    if (status === this.status) return; // a retry failing again is not news
    this.status = status;
    this.statusLog.push({ status, detail, at: epochNow() });
    if (this.statusLog.length > LOG_SIZE) this.statusLog.shift();
    this.handlers.onStatus(status, detail);
  }

  close() {
    clearTimeout(this.subscribeTimer);
    if (this.watchdog) this.watchdog.stop();
    if (this.socket) this.socket.close();
  }
}

/** See the module comment. performance.now() throughout: immune to clock changes. */
export class Watchdog {
  constructor(connection, { silenceMs = 60000, stallMs = 20000, graceMs = 10000, reload = true } = {}) {
    this.connection = connection;
    this.silenceMs = silenceMs;
    this.stallMs = stallMs;
    this.graceMs = graceMs;
    this.reloadPage = reload;
    this.probeUrl = location.href;
    this.lastContact = performance.now();
    this.lastBeat = null; // null until the page beats for the first time
    this.restartedAt = null;
    this.probing = false;
    this.reloading = false;
    this.reason = null;
    this.log = []; // {action: "restart"|"reload", reason, at}
    this.timer = setInterval(() => this.check(), Math.min(2000, silenceMs / 4));
  }

  contact() {
    this.lastContact = performance.now();
    this.restartedAt = null;
  }

  beat() {
    this.lastBeat = performance.now();
  }

  stop() {
    clearInterval(this.timer);
  }

  async check() {
    if (this.reloading || this.probing) return;
    const now = performance.now();
    let reason = null;
    if (this.lastBeat !== null && now - this.lastBeat > this.stallMs) reason = "main loop stalled";
    else if (now - this.lastContact > this.silenceMs) reason = "no server contact";
    if (!reason) return;
    this.probing = true;
    try {
      const response = await fetch(this.probeUrl, { cache: "no-store", method: "HEAD" });
      if (!response.ok) return;
      if (reason === "no server contact") {
        if (this.restartedAt === null) {
          this.restartedAt = performance.now(); // the server is back: give the socket its chance
          this.act("restart", reason);
          this.connection.restart();
          return;
        }
        if (performance.now() - this.restartedAt < this.graceMs) return;
        if (!this.reloadPage) {
          this.restartedAt = null;
          return;
        }
      }
      if (!this.reloadPage) return;
      this.reloading = true;
      this.reason = reason;
      this.act("reload", reason);
      console.warn(`watchdog: ${reason}, reloading`);
      location.reload();
    } catch {
      // Server unreachable: keep the page (and its reconnecting socket) alive.
    } finally {
      this.probing = false;
    }
  }

  act(action, reason) {
    this.log.push({ action, reason, at: epochNow() });
    if (this.log.length > LOG_SIZE) this.log.shift();
  }
}

/**
 * The versions of the lines' waiting counts a page shows (queue.updated's `day` and
 * `stamps`, the snapshot's `waiting_day` and `waiting_stamps`: number_sequences'
 * waiting_version, bumped with each change of a line's count). With several server
 * processes behind Redis two queue.updated may arrive out of order: a line's count older
 * than the one shown is kept out.
 */
export class LineStamps {
  constructor() {
    this.reset(null, null);
  }

  /** A snapshot replaces what the page shows: its versions too. */
  reset(day, stamps) {
    this.day = day || null;
    this.seen = new Map(Object.entries(stamps || {}).map(([id, v]) => [Number(id), Number(v)]));
  }

  /**
   * The lines of a queue.updated to leave as they are (their count in the event is older
   * than the one shown), or null when the whole event is older (another, earlier day's).
   * Updates the versions seen. An event without stamps (an older server) is applied whole.
   */
  stale(payload) {
    const out = new Set();
    if (!payload || !payload.stamps || !payload.day) return out;
    if (this.day && payload.day < this.day) return null;
    if (payload.day !== this.day) this.reset(payload.day, null);
    for (const [key, value] of Object.entries(payload.stamps)) {
      const id = Number(key);
      const v = Number(value);
      if (this.seen.has(id) && v < this.seen.get(id)) out.add(id);
      else this.seen.set(id, v);
    }
    return out;
  }
}
