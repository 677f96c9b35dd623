// "Vắng mặt hôm nay": today's no-shows of this counter, from the server (GET
// /api/v1/tickets/today?status=no_show&counter_id=…), kept live by the ticket events. It
// lists every absent citizen, whoever marked them: this page, "call next" after the
// recalls, the keypad or another screen. Each can be called again or put back in line.

import { byId, el, setChildren } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { callTicket, requeue } from "./calling.js";
import { report } from "./notices.js";
import { call } from "./session.js";
import { changed, clock, state } from "./state.js";

const LIMIT = 200;

/** Read the list again (entering the counter, and after every (re)connect). */
export async function loadNoShows() {
  const counterId = state.counterId;
  if (counterId === null) return;
  const query = new URLSearchParams({ centre_id: state.centreId, status: "no_show", counter_id: counterId, limit: LIMIT });
  try {
    const list = await call("GET", `tickets/today?${query}`);
    if (state.counterId !== counterId) return; // moved to another counter meanwhile
    state.noShows = list;
    changed("noShows");
  } catch (error) {
    report(error);
  }
}

/** A ticket event: a new no-show of this counter joins the list; one that moved on leaves. */
export function applyNoShow(ticket) {
  if (state.counterId === null || !ticket) return;
  const list = state.noShows.filter((item) => item.id !== ticket.id);
  const ours = ticket.status === "no_show" && ticket.counter_id === state.counterId;
  if (ours) list.push(ticket);
  else if (list.length === state.noShows.length) return; // not ours, not listed: no change
  state.noShows = list.sort((a, b) => b.id - a.id);
  changed("noShows");
}

async function callBack(item) {
  const ticket = await callTicket({ ticket_id: item.id });
  if (ticket) applyNoShow(ticket);
}

async function putBack(item) {
  const ticket = await requeue(item.id);
  if (ticket) applyNoShow(ticket);
}

export function renderNoShows() {
  setChildren(
    byId("no-shows"),
    state.noShows.map((item) =>
      el(
        "li",
        { class: "no-show", "data-ticket-id": item.id },
        el("span", { class: "no-show-number", text: item.number }),
        el(
          "span",
          { class: "no-show-buttons" },
          el("button", {
            type: "button",
            class: "btn btn-small",
            disabled: state.busy,
            "aria-label": t("counter.call_back_label", { number: item.number }),
            text: t("counter.call_back"),
            onclick: () => callBack(item),
          }),
          el("button", {
            type: "button",
            class: "btn btn-small",
            disabled: state.busy,
            "aria-label": t("counter.requeue_label", { number: item.number }),
            text: t("counter.requeue"),
            onclick: () => putBack(item),
          }),
        ),
        el("span", { class: "no-show-service muted small", text: describe(item) }),
      ),
    ),
  );
  byId("no-shows-empty").hidden = state.noShows.length > 0;
}

/** While a request is in flight the list's buttons wait (updated in place: no lost click). */
export function renderNoShowButtons() {
  for (const button of byId("no-shows").querySelectorAll("button")) button.disabled = state.busy;
}

function describe(item) {
  const parts = [item.service_name || ""];
  if (item.called_at) parts.push(t("counter.last_called_at", { time: clock.time(item.called_at) }));
  parts.push(t("counter.calls", { count: item.call_count }));
  return parts.filter(Boolean).join(" · ");
}
