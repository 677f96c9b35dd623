// The hall as a lobby screen sees it: counters, waiting counts and calls, rebuilt from each
// snapshot and patched by events (docs/realtime.md). The connection itself is the shared
// HallConnection (/assets/js/lib/hall.js).

import { CentreClock } from "/assets/js/lib/clock.js";
import { EVENTS, LineStamps } from "/assets/js/lib/hall.js";

export const CALL_EVENTS = [EVENTS.TICKET_CALLED, EVENTS.TICKET_RECALLED];

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
    this.clock = new CentreClock(); // the centre's wall clock, from server_time
    this.lastCallAtMs = 0; // newest call seen, to find calls missed while disconnected
    this.stamps = new LineStamps(); // versions of the waiting counts shown
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
    this.stamps.reset(snapshot.waiting_day, snapshot.waiting_stamps);
    this.fields = snapshot.fields;
    const serverMs = Date.parse(snapshot.server_time);
    this.clock.sync(snapshot.server_time || "");
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
    if (name === EVENTS.COUNTER_UPDATED) {
      this.counters.set(payload.counter.id, payload.counter);
    } else if (name === EVENTS.QUEUE_UPDATED) {
      const stale = this.stamps.stale(payload); // lines whose count here is older than shown
      if (stale === null) return null;
      const waiting = new Map(payload.services.map((s) => [s.id, s.waiting]));
      for (const service of this.services.values()) {
        if (!stale.has(service.id)) service.waiting = waiting.get(service.id) || 0;
      }
      for (const field of this.fields) {
        field.waiting = [...this.services.values()]
          .filter((s) => s.field_id === field.id)
          .reduce((sum, s) => sum + s.waiting, 0);
      }
    } else if (name === EVENTS.TICKET_UPDATED) {
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
      const call = callFromTicket(t, name === EVENTS.TICKET_RECALLED || payload.recall);
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
}
