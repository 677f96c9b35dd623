// The counter page's state: what the server last said, in one place. A module that changes
// it says what changed (changed("ticket")); the modules that draw it listen (listen()).

import { CentreClock } from "/assets/js/lib/clock.js";
import { LineStamps } from "/assets/js/lib/hall.js";

/** A ticket in one of these states is at its counter. */
export const AT_COUNTER = new Set(["called", "serving"]);

export const state = {
  session: null, // {token, user, expires_at}
  centreId: null,
  centre: null, // the snapshot's centre: name, subtitle, max_calls
  counters: new Map(), // id → counter view, kept live
  services: new Map(), // id → service view (name, counters serving it)
  waiting: new Map(), // service id → people waiting
  stamps: new LineStamps(), // versions of those counts (queue.updated out of order)
  counterId: null, // the counter this page works at
  ticket: null, // the full ticket now at the counter (with allowed_actions)
  lastTicket: null, // the one that just left the counter, for context
  noShows: [], // today's no-shows of this counter, newest first (from the API)
  busy: false, // a request of this page is in flight: its buttons wait
  view: null, // "login", "picker" or "counter"
  hall: null, // the HallConnection
};

/** The server's clock in the centre's time zone (synced from each snapshot). */
export const clock = new CentreClock();

const listeners = new Map();

/** Call `fn` whenever `topic` changes. */
export function listen(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}

/** Tell the listeners of each topic named. */
export function changed(...topics) {
  for (const topic of topics) for (const fn of listeners.get(topic) || []) fn();
}

export const myCounter = () => (state.counterId ? state.counters.get(state.counterId) : null);

/** "Quầy 3" (or "Quầy 3 – Một cửa" when the counter has a name of its own). */
export function counterTitle(counter) {
  if (!counter) return "Quầy";
  const name = counter.name || "";
  return name.startsWith("Quầy") ? name : `Quầy ${counter.number}${name ? ` – ${name}` : ""}`;
}

/** After this many calls "call next" marks a citizen absent (null until the first snapshot). */
export const maxCalls = () => (state.centre && state.centre.max_calls) || null;

/** Whether the next "call next" will mark this ticket absent without asking. */
export function nextMarksAbsent(ticket) {
  const limit = maxCalls();
  return Boolean(ticket && ticket.status === "called" && limit && ticket.call_count >= limit);
}
