// Choosing a counter: every counter of the centre with its status, who holds it (by name),
// its services and how many wait for them. Choosing one opens it under the staff member's
// name. The list is built once and updated in place, so a live update arriving while the
// staff member clicks never swallows the click.

import { byId, el, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { applyCounter } from "./lines.js";
import { call, run } from "./session.js";
import { counterTitle, state } from "./state.js";

const kLast = (centreId) => `tthcc.counter.last.${centreId}`;
let focusPending = false;
let onPick = () => {};

/** `pick(counterId, counterView)`: enter the counter the staff member opened. */
export function initPicker(pick) {
  onPick = pick;
}

/** The counter this browser worked at last (in this centre). */
export const lastCounter = () => Number.parseInt(localStorage.getItem(kLast(state.centreId)), 10) || null;

export function rememberCounter(counterId) {
  localStorage.setItem(kLast(state.centreId), String(counterId));
}

/** Fetch the counters and draw the list (focus on the last counter's button). */
export async function loadPicker() {
  focusPending = true;
  const counters = await call("GET", `counters?centre_id=${state.centreId}`);
  for (const counter of counters) applyCounter(counter);
  renderPicker();
}

function holderText(counter) {
  const me = state.session && state.session.user;
  if (counter.staff_id === null || counter.staff_id === undefined) return t("counter.held_by_nobody");
  if (me && counter.staff_id === me.id) return t("counter.held_by_you");
  return t("counter.held_by", { name: counter.staff_name || t("counter.someone") });
}

function pickerItem(list, counter) {
  const found = list.querySelector(`[data-counter-id="${counter.id}"]`);
  if (found) return found;
  const item = el(
    "li",
    { class: "counter-item", "data-counter-id": counter.id },
    el(
      "div",
      { class: "counter-item-head" },
      el("span", { class: "counter-item-number", "aria-hidden": "true", text: counter.number }),
      el("h3", { class: "counter-item-name" }),
      el("span", { class: "badge counter-item-status" }),
      el("span", { class: "badge badge-last", text: t("counter.last_time") }),
    ),
    el("div", { class: "counter-item-services" }),
    el(
      "div",
      { class: "counter-item-foot" },
      el("span", { class: "counter-item-holder" }),
      el("span", { class: "counter-item-waiting muted" }),
    ),
    el("button", { type: "button", class: "btn btn-primary btn-pick", onclick: () => pick(counter.id) }),
  );
  list.append(item);
  return item;
}

export function renderPicker() {
  if (state.view !== "picker") return;
  const list = byId("counter-list");
  const last = lastCounter();
  const me = state.session && state.session.user;
  const counters = [...state.counters.values()]
    .filter((c) => c.centre_id === state.centreId)
    .sort((a, b) => a.number - b.number);
  const items = counters.map((c) => pickerItem(list, c));
  counters.forEach((counter, i) => {
    const item = items[i];
    const waiting = (counter.services || []).reduce((n, s) => n + (state.waiting.get(s.id) || 0), 0);
    const taken = counter.staff_id != null && me && counter.staff_id !== me.id;
    item.className = `counter-item status-${counter.status}${counter.id === last ? " is-last" : ""}${taken ? " is-taken" : ""}`;
    setText(item.querySelector(".counter-item-name"), counterTitle(counter));
    const badge = item.querySelector(".counter-item-status");
    badge.className = `badge counter-item-status badge-${counter.status}`;
    setText(badge, t(`counter.counter_${counter.status}`));
    item.querySelector(".badge-last").hidden = counter.id !== last;
    setText(item.querySelector(".counter-item-services"), (counter.services || []).map((s) => s.name).join(" · "));
    setText(item.querySelector(".counter-item-holder"), holderText(counter));
    setText(item.querySelector(".counter-item-waiting"), t("counter.people_waiting", { count: waiting }));
    const button = item.querySelector(".btn-pick");
    setText(button, t(counter.status === "open" && !taken ? "counter.enter" : "counter.open_it"));
    button.setAttribute("aria-label", `${button.textContent}: ${counterTitle(counter)}`);
    button.disabled = state.busy;
  });
  const shown = [...list.children];
  if (shown.length !== items.length || items.some((item, i) => shown[i] !== item)) {
    list.replaceChildren(...items); // counter-number order, only when it changed
  }
  if (focusPending) {
    const button = list.querySelector(".is-last .btn-pick") || list.querySelector(".btn-pick");
    if (button) {
      button.focus();
      focusPending = false;
    }
  }
}

function pick(counterId) {
  return run(async () => {
    const counter = await call("POST", `counters/${counterId}/status`, { status: "open", reason: "" });
    applyCounter(counter);
    await onPick(counterId, counter);
  });
}

/** Forget the centre's counters (the next person may work for another centre). */
export function clearPicker() {
  byId("counter-list").replaceChildren();
}
