// What the staff member does with tickets: call the next one (asking once about a citizen
// only called), call a given number, recall, start, finish with an outcome, no-show,
// transfer. Every request goes through run(): one at a time, buttons disabled meanwhile.

import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { setTicket } from "./current.js";
import { ask, openDialog } from "./dialogs.js";
import { hideBanner, say } from "./notices.js";
import { call, run } from "./session.js";
import { myCounter, nextMarksAbsent, state } from "./state.js";

/** "Gọi số tiếp theo" (F1 / Space, the largest button). */
export const callNext = () => callWith("call-next");

/** Call a given ticket: a no-show who came back ({ticket_id}) or a number ({number}). */
export const callTicket = (body) => callWith("call", body);

/**
 * Call at this counter. A citizen still at the counter who was only called (never
 * started) is not taken for served: the server answers 409 current_not_started naming
 * that ticket, and the page asks once what happened ("Công dân số 1023 đã đến chưa?"),
 * then calls again with the answer about that very ticket (docs/lifecycle.md).
 * Resolves to the ticket called, or null.
 */
async function callWith(path, body = {}) {
  if (state.busy || openDialog() || state.counterId === null) return null;
  const before = state.ticket;
  let question = null;
  const called = await run(async () => {
    try {
      return await call("POST", `counters/${state.counterId}/${path}`, body);
    } catch (error) {
      if (error.code !== "current_not_started" || !error.body) throw error;
      question = error.body;
      return null;
    }
  });
  if (called) {
    calledInstead(called, before, null);
    return called;
  }
  if (!question) return null;
  const answer = await askAbout(question);
  if (answer === "recall") {
    await recall(question.current_ticket_id);
    return null;
  }
  if (answer !== "served" && answer !== "no_show") return null;
  const resolved = await run(() =>
    call("POST", `counters/${state.counterId}/${path}`, {
      ...body,
      resolve: answer,
      current_ticket_id: question.current_ticket_id,
    }),
  );
  if (resolved) calledInstead(resolved, before, answer);
  return resolved || null;
}

/** Ask about the citizen the server asks about; "served", "no_show", "recall" or null. */
function askAbout(question) {
  const dialog = byId("dlg-resolve");
  setText(byId("resolve-number"), question.current_number);
  setText(
    byId("resolve-calls"),
    question.max_calls
      ? t("counter.calls_of", { count: question.call_count, max: question.max_calls })
      : t("counter.calls", { count: question.call_count }),
  );
  return ask(dialog);
}

/** Another ticket was called: the one before left the counter (say how, if we know). */
function calledInstead(ticket, before, answer) {
  hideBanner();
  const absentAfterCalls = !answer && nextMarksAbsent(before);
  // Its own ticket.updated may have come first and told the truth already.
  if (before && before.id !== ticket.id && state.ticket && state.ticket.id === before.id) {
    const status = answer === "no_show" || absentAfterCalls ? "no_show" : "done";
    state.lastTicket = { ...before, status, outcome: status === "done" ? answer || "served" : null };
  }
  setTicket(ticket);
  if (absentAfterCalls && before.id !== ticket.id) {
    say("counter.marked_absent", { number: before.number, count: before.call_count });
  }
}

// --- the ticket at the counter ------------------------------------------------------------

function onTicket(path, body, ticketId = null) {
  const id = ticketId ?? (state.ticket && state.ticket.id);
  if (!id || state.busy) return Promise.resolve();
  return run(async () => {
    const result = await call("POST", `tickets/${id}/${path}`, body);
    hideBanner();
    setTicket(result);
    return result;
  });
}

export const recall = (ticketId = null) => onTicket("recall", undefined, ticketId);
export const start = () => onTicket("start");
export const noShow = () => onTicket("no-show");

/** Finish with an outcome: served (F4, "Kết thúc"), supplement, redirected or left. */
export const finish = (outcome = "served") => onTicket("finish", { outcome });

export async function transfer() {
  const ticket = state.ticket;
  if (!ticket || state.busy) return;
  const mine = new Set(((myCounter() || {}).services || []).map((s) => s.id));
  const choices = [...state.services.values()]
    .filter((s) => s.id !== ticket.service_id)
    .sort((a, b) => Number(mine.has(b.id)) - Number(mine.has(a.id)));
  setText(byId("transfer-number"), ticket.number);
  setChildren(
    byId("transfer-services"),
    choices.map((s) =>
      el(
        "label",
        { class: "service-choice", "data-service-id": s.id },
        el("input", { type: "radio", name: "service", value: s.id, required: true }),
        el("span", { class: "service-choice-name", text: s.name }),
        el("span", {
          class: "muted small",
          text: (s.counters || []).length
            ? t("counter.served_at", { counters: s.counters.join(", ") })
            : t("counter.served_nowhere"),
        }),
      ),
    ),
  );
  if ((await ask(byId("dlg-transfer"))) !== "ok") return;
  const chosen = byId("form-transfer").querySelector("input[name=service]:checked");
  if (!chosen || !state.ticket || state.ticket.id !== ticket.id) return;
  const result = await run(() => call("POST", `tickets/${ticket.id}/transfer`, { service_id: Number(chosen.value) }));
  if (!result) return;
  setTicket(result);
  say("counter.transferred", { number: result.number, service: result.service_name });
}

export async function callNumber() {
  if (state.busy) return;
  const input = byId("call-number-input");
  input.value = "";
  if ((await ask(byId("dlg-call-number"))) !== "ok") return;
  const number = input.value.trim();
  if (number) await callTicket({ number });
}

/** Put a no-show back in line, at its place by issue time. */
export async function requeue(ticketId) {
  const ticket = await run(() => call("POST", `tickets/${ticketId}/requeue`));
  if (ticket) say("counter.requeued", { number: ticket.number });
  return ticket;
}
