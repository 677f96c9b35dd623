// The counter's lines (people waiting for each of its services, in its service order) and
// its duty: open, pause with a reason, resume, close.

import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { ask } from "./dialogs.js";
import { hideBanner } from "./notices.js";
import { call, run } from "./session.js";
import { changed, myCounter, state } from "./state.js";

/**
 * Remember a counter view; one from the API also carries its services' waiting counts, each
 * with its version: a count older than the one shown (an answer overtaken by a
 * queue.updated) is kept out, as in applyQueue.
 */
export function applyCounter(counter) {
  state.counters.set(counter.id, counter);
  if (!counter.waiting) return;
  const stale = state.stamps.stale({ day: counter.waiting_day, stamps: counter.waiting_stamps });
  if (stale === null) return;
  for (const [id, n] of Object.entries(counter.waiting)) {
    if (!stale.has(Number(id))) state.waiting.set(Number(id), n);
  }
}

/** queue.updated: the waiting count of every line of the centre (unlisted: nobody). */
export function applyQueue(payload) {
  if (!payload || payload.centre_id !== state.centreId) return;
  // Two events may arrive out of order (several server processes): a line's count older
  // than the one shown is kept out (lib/hall.js LineStamps).
  const stale = state.stamps.stale(payload);
  if (stale === null) return;
  const listed = new Map((payload.services || []).map((s) => [s.id, s.waiting]));
  for (const id of new Set([...state.waiting.keys(), ...listed.keys()])) {
    if (!stale.has(id)) state.waiting.set(id, listed.get(id) || 0);
  }
  changed("waiting");
}

export function renderWaiting() {
  const counter = myCounter();
  if (!counter || state.view !== "counter") return;
  const services = [...(counter.services || [])].sort((a, b) => a.position - b.position);
  let total = 0;
  setChildren(
    byId("waiting-rows"),
    services.map((s) => {
      const n = state.waiting.get(s.id) || 0;
      total += n;
      return el(
        "tr",
        { "data-service-id": s.id, class: n ? "has-waiting" : "" },
        el("th", { scope: "row", text: s.name }),
        el("td", { class: "num", text: n }),
      );
    }),
  );
  setText(byId("waiting-total"), total);
}

export function renderDuty() {
  const counter = myCounter();
  if (!counter) return;
  const badge = byId("counter-status");
  setText(badge, t(`counter.counter_${counter.status}`));
  badge.className = `badge badge-${counter.status}`;
  const reason = counter.status === "paused" && counter.status_reason ? `(${counter.status_reason})` : "";
  setText(byId("counter-status-reason"), reason);
  byId("btn-open").hidden = counter.status !== "closed";
  byId("btn-resume").hidden = counter.status !== "paused";
  byId("btn-pause").hidden = counter.status !== "open";
  byId("btn-close").hidden = counter.status === "closed";
  for (const id of ["btn-open", "btn-resume", "btn-pause", "btn-close"]) byId(id).disabled = state.busy;
}

export async function setDuty(status, reason = "") {
  const counter = await run(() => call("POST", `counters/${state.counterId}/status`, { status, reason }));
  if (!counter) return;
  applyCounter(counter);
  hideBanner();
  changed("counter");
}

export async function pause() {
  const form = byId("form-pause");
  byId("pause-other").value = "";
  form.querySelector("input[name=reason]").checked = true;
  if ((await ask(byId("dlg-pause"))) !== "ok") return;
  const picked = form.querySelector("input[name=reason]:checked");
  let reason = picked ? picked.value : "";
  if (!reason) reason = byId("pause-other").value.trim() || t("counter.pause_other");
  await setDuty("paused", reason);
}
