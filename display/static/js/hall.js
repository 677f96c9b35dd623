// The hall as a lobby screen sees it: the Socket.IO connection, the state rebuilt from the
// snapshot plus events, and a watchdog that reloads a wedged page.
//
// Contract: docs/realtime.md. On every (re)connect we subscribe again and the server
// answers with a snapshot; the page re-renders from it, so it always returns to the truth.

/* global io */

export const CALL_EVENTS = ["ticket.called", "ticket.recalled"];
const STATE_EVENTS = ["ticket.issued", "ticket.updated", "counter.updated", "queue.updated"];
/** A citizen rated a counter (the TV thanks them; HallState ignores it). */
export const RATING_EVENT = "rating.recorded";

/** Wall-clock milliseconds (same clock as the tests' time.time()). */
export const epochNow = () => performance.timeOrigin + performance.now();

/** Read the page's JSON config (rendered by the blueprint). */
export function pageConfig() {
  return JSON.parse(document.getElementById("display-config").textContent);
}

/**
 * Connect to /hall and keep connected forever.
 * handlers: onSnapshot(snapshot, {first}), onEvent(name, payload), onStatus(status, detail),
 * onContact() for anything heard from the server (snapshot, event, engine ping).
 */
export function connectHall(centreId, handlers) {
  const socket = io("/hall", {
    transports: ["websocket", "polling"],
    reconnection: true,
    reconnectionAttempts: Infinity,
    reconnectionDelay: 300,
    reconnectionDelayMax: 3000,
    randomizationFactor: 0.3,
    timeout: 5000,
  });
  let first = true;
  let subscribeTimer = null;

  const subscribe = () => {
    clearTimeout(subscribeTimer);
    socket.timeout(5000).emit("subscribe", { centre_id: centreId }, (err, ack) => {
      if (!err && ack && ack.ok) return;
      const why = err ? "no answer to subscribe" : (ack && ack.message) || "subscribe refused";
      handlers.onStatus("error", why);
      if (socket.connected) subscribeTimer = setTimeout(subscribe, 3000);
    });
  };

  socket.on("connect", () => {
    handlers.onContact();
    handlers.onStatus("connected");
    subscribe();
  });
  socket.on("disconnect", (reason) => {
    handlers.onStatus("disconnected", reason);
    // The only case socket.io does not retry by itself: the server closed us on purpose.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", (err) => handlers.onStatus("disconnected", err && err.message));
  socket.io.on("ping", () => handlers.onContact());
  socket.on("snapshot", (snapshot) => {
    handlers.onContact();
    handlers.onSnapshot(snapshot, { first });
    first = false;
  });
  for (const name of [...CALL_EVENTS, ...STATE_EVENTS, RATING_EVENT]) {
    socket.on(name, (payload) => {
      handlers.onContact();
      handlers.onEvent(name, payload);
    });
  }
  return socket;
}

/** A call as the screen and the announcer use it, from a ticket payload or a recent call. */
export function callFromTicket(ticket, recall) {
  return {
    ticket_id: ticket.id,
    number: ticket.number,
    counter_id: ticket.counter_id,
    counter_number: ticket.counter_number,
    counter_name: ticket.counter_name,
    service_id: ticket.service_id,
    recall: Boolean(recall),
    at: ticket.called_at,
  };
}

/**
 * Counters, waiting counts and calls of one centre, optionally one zone of it.
 * Rebuilt from each snapshot; events patch it in between.
 */
export class HallState {
  constructor(zone = "") {
    this.zone = zone;
    this.centre = null;
    this.counters = new Map(); // id -> counter
    this.services = new Map(); // id -> service
    this.fields = [];
    this.recentCalls = []; // newest first, zone-filtered
    this.latestCall = null;
    this.clockSkewMs = 0; // server clock minus ours
    this.utcOffsetMin = 7 * 60; // the centre's, from server_time
    this.lastCallAtMs = 0; // newest call seen, to find calls missed while disconnected
  }

  inZone(counterId) {
    if (!this.zone) return true;
    const counter = this.counters.get(counterId);
    return Boolean(counter) && counter.zone === this.zone;
  }

  /** Replace everything. Returns the calls made while we were away (oldest first). */
  applySnapshot(snapshot, { first }) {
    this.centre = snapshot.centre;
    this.counters = new Map(snapshot.counters.map((c) => [c.id, c]));
    this.services = new Map(snapshot.services.map((s) => [s.id, s]));
    this.fields = snapshot.fields;
    const serverMs = Date.parse(snapshot.server_time);
    if (!Number.isNaN(serverMs)) this.clockSkewMs = serverMs - Date.now();
    const offset = /([+-])(\d\d):(\d\d)$/.exec(snapshot.server_time || "");
    if (offset) {
      const sign = offset[1] === "-" ? -1 : 1;
      this.utcOffsetMin = sign * (Number(offset[2]) * 60 + Number(offset[3]));
    }
    const calls = snapshot.recent_calls.filter((c) => this.inZone(c.counter_id));
    this.recentCalls = calls.slice(0, 10);
    this.latestCall = calls[0] || null;
    const newest = Math.max(0, ...calls.map((c) => Date.parse(c.at) || 0));
    let missed = [];
    if (!first && this.lastCallAtMs) {
      // A network blip must not swallow a call: announce what was called meanwhile,
      // if recent enough that the citizen may still be waiting to hear it.
      const horizon = (Number.isNaN(serverMs) ? Date.now() : serverMs) - 120000;
      missed = calls
        .filter((c) => Date.parse(c.at) > this.lastCallAtMs && Date.parse(c.at) > horizon)
        .reverse();
    }
    this.lastCallAtMs = Math.max(this.lastCallAtMs, newest);
    return missed;
  }

  /** Apply one event. Returns the call to show and announce, or null. */
  applyEvent(name, payload) {
    if (name === "counter.updated") {
      this.counters.set(payload.counter.id, payload.counter);
    } else if (name === "queue.updated") {
      const waiting = new Map(payload.services.map((s) => [s.id, s.waiting]));
      for (const service of this.services.values()) service.waiting = waiting.get(service.id) || 0;
      for (const field of this.fields) {
        field.waiting = [...this.services.values()]
          .filter((s) => s.field_id === field.id)
          .reduce((sum, s) => sum + s.waiting, 0);
      }
    } else if (name === "ticket.updated") {
      const t = payload.ticket;
      const counter = t.counter_id && this.counters.get(t.counter_id);
      if (counter && counter.current_ticket && counter.current_ticket.id === t.id) {
        counter.current_ticket = { ...counter.current_ticket, status: t.status };
      }
    } else if (CALL_EVENTS.includes(name)) {
      const t = payload.ticket;
      const counter = this.counters.get(t.counter_id);
      if (counter) {
        // counter.updated follows; set it now so the tile changes in the same frame.
        counter.current_ticket = {
          id: t.id,
          number: t.number,
          status: t.status,
          service_id: t.service_id,
        };
        if (counter.status !== "open") counter.status = "open";
      }
      const call = callFromTicket(t, name === "ticket.recalled" || payload.recall);
      this.lastCallAtMs = Math.max(this.lastCallAtMs, Date.parse(call.at) || 0);
      if (!this.inZone(call.counter_id)) return null;
      this.recentCalls = [call, ...this.recentCalls].slice(0, 10);
      this.latestCall = call;
      return call;
    }
    return null;
  }

  /** Counters to show: open or paused ones of the zone, by number. */
  visibleCounters() {
    return [...this.counters.values()]
      .filter((c) => (!this.zone || c.zone === this.zone) && c.status !== "closed")
      .sort((a, b) => a.number - b.number);
  }

  /** Fields with their waiting counts; in a zone, only what its counters serve. */
  visibleFields() {
    if (!this.zone) return this.fields;
    const numbers = new Set(
      [...this.counters.values()].filter((c) => c.zone === this.zone).map((c) => c.number),
    );
    return this.fields
      .map((field) => {
        const services = [...this.services.values()].filter(
          (s) => s.field_id === field.id && s.counters.some((n) => numbers.has(n)),
        );
        if (!services.length) return null;
        return { ...field, waiting: services.reduce((sum, s) => sum + s.waiting, 0) };
      })
      .filter(Boolean);
  }

  /** The centre's wall clock as a Date whose UTC fields read as local time there. */
  centreNow() {
    return new Date(Date.now() + this.clockSkewMs + this.utcOffsetMin * 60000);
  }
}

/**
 * Reload the page when it has heard nothing from the server for `silenceMs`, or when the
 * page's main loop stopped beating for `stallMs`.
 *
 * Before reloading it asks the server for the page over plain HTTP: while the server is
 * down a reload would leave Chromium on an error page, whereas the socket keeps retrying
 * by itself. When the server answers but the socket is still silent, it first nudges the
 * socket (`nudge`) and waits `graceMs` for it to come back before reloading.
 */
export class Watchdog {
  constructor({ silenceMs = 60000, stallMs = 20000, graceMs = 10000, nudge = () => {} } = {}) {
    this.silenceMs = silenceMs;
    this.stallMs = stallMs;
    this.graceMs = graceMs;
    this.nudge = nudge;
    this.probeUrl = location.href;
    this.lastContact = performance.now();
    this.lastBeat = performance.now();
    this.nudgedAt = null;
    this.reloading = false;
    this.reason = null;
    this.timer = setInterval(() => this.check(), Math.min(2000, silenceMs / 4));
  }

  contact() {
    this.lastContact = performance.now();
    this.nudgedAt = null;
  }

  beat() {
    this.lastBeat = performance.now();
  }

  async check() {
    if (this.reloading || this.probing) return;
    const now = performance.now();
    let reason = null;
    if (now - this.lastBeat > this.stallMs) reason = "main loop stalled";
    else if (now - this.lastContact > this.silenceMs) reason = "no server contact";
    if (!reason) return;
    this.probing = true;
    try {
      const response = await fetch(this.probeUrl, { cache: "no-store" });
      if (!response.ok) return;
      if (reason === "no server contact" && this.nudgedAt === null) {
        this.nudgedAt = performance.now(); // the server is back: give the socket its chance
        this.nudge();
        return;
      }
      if (reason === "no server contact" && performance.now() - this.nudgedAt < this.graceMs) {
        return;
      }
      this.reloading = true;
      this.reason = reason;
      console.warn(`watchdog: ${reason}, reloading`);
      location.reload();
    } catch {
      // Server unreachable: keep the page (and its reconnecting socket) alive.
    } finally {
      this.probing = false;
    }
  }
}
