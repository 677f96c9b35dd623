// Dossier deadlines (/supervisor/dossiers): dossiers past their appointment day and those
// due soon; record an apology (reason, new date) and open its letter.
// Texts: server/labels/staff.py.

import { get, post } from "/assets/js/lib/api.js";
import { byId, el, setChildren } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { centreQuery, requireLogin, showError, stamp } from "./page.js";

function apologyForm(d) {
  const reason = el("input", {
    type: "text",
    size: 40,
    placeholder: t("staff.apology_reason"),
    "aria-label": t("staff.apology_reason_label"),
  });
  const date = el("input", { type: "date", "aria-label": t("staff.apology_date_label") });
  const make = async () => {
    try {
      await post(`dossiers/${d.id}/apology`, { reason: reason.value, new_due_date: date.value });
      window.open(`/api/v1/dossiers/${d.id}/apology.pdf`, "_blank");
      load();
    } catch (err) {
      showError(err);
    }
  };
  return el(
    "div",
    { class: "p-row-actions" },
    reason,
    date,
    el("button", { class: "p-btn", type: "button", onclick: make }, t("staff.apology_make")),
  );
}

function item(d, overdue) {
  const meta =
    t("staff.dossier_meta", { name: d.applicant_name, received: stamp(d.received_at), due: stamp(d.due_date) }) +
    (d.new_due_date ? t("staff.dossier_new_due", { when: stamp(d.new_due_date) }) : "") +
    (d.forwarded_to ? t("staff.dossier_at", { where: d.forwarded_to }) : "");
  return el(
    "li",
    { class: "p-item", "data-code": d.code },
    el(
      "div",
      null,
      el("b", null, d.code),
      ` · ${d.procedure_name} · `,
      el("span", { class: `p-tag${d.overdue ? " overdue" : ""}` }, d.status_label),
    ),
    el("div", { class: "p-meta" }, meta),
    d.new_due_date
      ? el("a", { href: `/api/v1/dossiers/${d.id}/apology.pdf`, target: "_blank" }, t("staff.apology_pdf"))
      : null,
    overdue || !d.new_due_date ? apologyForm(d) : null,
  );
}

function fill(id, list, overdue) {
  setChildren(
    byId(id),
    list.length ? list.map((d) => item(d, overdue)) : el("li", { class: "p-empty" }, t("staff.no_dossiers")),
  );
}

async function show(path, id, overdue) {
  try {
    fill(id, await get(`${path}?${centreQuery()}`), overdue);
  } catch (err) {
    showError(err);
  }
}

function load() {
  show("dossiers/overdue", "overdue", true);
  show("dossiers/due-soon", "due-soon", false);
}

requireLogin(["staff", "supervisor", "admin"]).then(load);
