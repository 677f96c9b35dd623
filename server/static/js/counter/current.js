// The ticket at the counter: what the page shows of it, and keeping it true. The page shows
// the server's answer to its own requests at once, and follows what others do (another
// screen, the keypad, a supervisor) through counter.updated and the ticket events.

import { byId, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { report } from "./notices.js";
import { call } from "./session.js";
import { AT_COUNTER, changed, clock, maxCalls, myCounter, nextMarksAbsent, state } from "./state.js";

// Button id → the allowed_actions value that enables it.
const TICKET_BUTTONS = {
  "btn-recall": "recall",
  "btn-start": "start",
  "btn-finish": "finish",
  "btn-finish-supplement": "finish",
  "btn-finish-redirected": "finish",
  "btn-finish-left": "finish",
  "btn-no-show": "no_show",
  "btn-transfer": "transfer",
};

export const statusText = (status) => t(`counter.ticket_${status}`);

/** Put a ticket the server returned on screen, or clear the screen if it left the counter. */
export function setTicket(ticket) {
  if (ticket && AT_COUNTER.has(ticket.status) && ticket.counter_id === state.counterId) {
    state.ticket = ticket;
  } else {
    if (ticket && (!state.ticket || state.ticket.id === ticket.id)) state.lastTicket = ticket;
    if (!ticket || !state.ticket || state.ticket.id === ticket.id) state.ticket = null;
  }
  changed("ticket");
}

/** A ticket event (any screen's doing): update what the page shows of that ticket. */
export function applyTicketEvent(ticket) {
  if (state.lastTicket && state.lastTicket.id === ticket.id) {
    state.lastTicket = { ...state.lastTicket, ...ticket };
    changed("ticket");
  } else if (!state.ticket && ticket.counter_id === state.counterId && !AT_COUNTER.has(ticket.status)) {
    // Called and ended here before this page had fetched it (the keypad or another screen
    // was quicker): it is still the counter's last ticket.
    state.lastTicket = ticket;
    changed("ticket");
  }
  if (!state.ticket || state.ticket.id !== ticket.id) return;
  if (ticket.status === state.ticket.status && ticket.counter_id === state.counterId) {
    Object.assign(state.ticket, ticket); // a recall: same state, new call time and count
    changed("ticket");
  } else if (!AT_COUNTER.has(ticket.status) || ticket.counter_id !== state.counterId) {
    setTicket(ticket); // it left the counter
  }
  // A change that stays at the counter (start) comes with counter.updated: syncCurrent.
}

let syncSeq = 0;

/** Make the shown ticket match the counter's current one (`current` from a counter view). */
export async function syncCurrent(current, force = false) {
  const seq = ++syncSeq;
  if (!current) {
    const left = state.ticket;
    if (!left) return;
    state.lastTicket = left;
    state.ticket = null;
    changed("ticket");
    await refreshLast(left);
    return;
  }
  const shown = state.ticket;
  if (!force && shown && shown.id === current.id && shown.status === current.status) return;
  try {
    const ticket = await call("GET", `tickets/${current.id}`);
    const now = myCounter();
    const stillCurrent = now && now.current_ticket && now.current_ticket.id === ticket.id;
    if (seq !== syncSeq || !stillCurrent) return;
    if (shown && shown.id !== ticket.id) state.lastTicket = shown;
    setTicket(ticket);
    if (shown && shown.id !== ticket.id) await refreshLast(shown);
  } catch (error) {
    report(error);
  }
}

/** A ticket left the counter without this page being told how (e.g. offline): ask. */
async function refreshLast(left) {
  try {
    const ticket = await call("GET", `tickets/${left.id}`);
    if (state.lastTicket && state.lastTicket.id === ticket.id) {
      state.lastTicket = ticket;
      changed("ticket");
    }
  } catch (error) {
    report(error);
  }
}

// --- drawing ----------------------------------------------------------------------------

export function renderTicket() {
  const ticket = state.ticket;
  byId("ticket-card").dataset.status = ticket ? ticket.status : "";
  setText(byId("ticket-number"), ticket ? ticket.number : "—");
  setText(byId("ticket-status"), ticket ? statusText(ticket.status) : t("counter.no_ticket"));
  byId("ticket-priority").hidden = !(ticket && ticket.is_priority);
  // A booking checked in at the kiosk (docs/appointments.md): on time it is also "Ưu tiên".
  byId("ticket-booked").hidden = !(ticket && ticket.booked);
  setText(byId("ticket-service"), ticket ? ticket.service_name || "" : t("counter.press_next"));
  renderCalls(ticket);
  const last = state.lastTicket;
  let text = "";
  if (last && (!ticket || last.id !== ticket.id)) {
    let ended = statusText(last.status);
    if (last.status === "done" && last.outcome && last.outcome !== "served") {
      ended += ` · ${t(`counter.outcome_${last.outcome}`)}`;
    }
    text = t("counter.last_ticket", { number: last.number, status: ended });
    if (last.status === "waiting" && last.service_name) text += t("counter.last_moved", { service: last.service_name });
  }
  setText(byId("ticket-last"), text);
  renderElapsed();
  renderButtons();
}

function renderCalls(ticket) {
  const out = byId("ticket-calls");
  const absentNext = nextMarksAbsent(ticket);
  out.dataset.warn = String(absentNext);
  if (!ticket || ticket.status !== "called") {
    setText(out, "");
    return;
  }
  const limit = maxCalls();
  const calls = limit ? t("counter.calls_of", { count: ticket.call_count, max: limit }) : t("counter.calls", { count: ticket.call_count });
  setText(out, absentNext ? `${calls} · ${t("counter.next_marks_absent")}` : calls);
}

/** "Gọi lúc 08:58:03 · 00:42": the centre's clock, not the browser's. Runs every second. */
export function renderElapsed() {
  const ticket = state.ticket;
  const out = byId("ticket-time");
  const since = ticket && (ticket.status === "serving" ? ticket.started_at : ticket.called_at);
  if (!since) {
    setText(out, "");
    return;
  }
  const label = ticket.status === "serving" ? "counter.started_at" : "counter.called_at";
  const elapsed = duration(clock.nowMs() - Date.parse(since));
  setText(out, `${t(label, { time: clock.time(since, { seconds: true }) })} · ${elapsed}`);
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** Buttons follow the ticket's allowed actions, the counter's status and the busy flag. */
export function renderButtons() {
  const allowed = new Set((state.ticket && state.ticket.allowed_actions) || []);
  const ready = !state.busy && state.counterId !== null;
  byId("btn-next").disabled = !ready;
  byId("btn-call-number").disabled = !ready;
  for (const [id, action] of Object.entries(TICKET_BUTTONS)) byId(id).disabled = !ready || !allowed.has(action);
  byId("btn-next").dataset.marksAbsent = String(nextMarksAbsent(state.ticket));
}
