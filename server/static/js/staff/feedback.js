// Feedback handling (/supervisor/feedback): cases, filtered (open, overdue, answered, all);
// assign, answer, close. Contact details appear only when the citizen consented.
// Texts: server/labels/staff.py.

import { get, post } from "/assets/js/lib/api.js";
import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { has, t } from "/assets/js/lib/labels.js";
import { centreQuery, hideError, requireLogin, showError, stamp } from "./page.js";

let filter = "open";
let assignees = [];

const labelOr = (key, fallback) => (has(key) ? t(key) : fallback);

async function act(path, body) {
  hideError();
  try {
    await post(`feedback/${path}`, body);
    await load();
  } catch (err) {
    showError(err);
  }
}

function actions(c) {
  const box = el("div", { class: "p-row-actions" });
  if (c.allowed_actions.includes("assign")) {
    const select = el(
      "select",
      { "aria-label": t("staff.assign_to") },
      assignees.map((u) => el("option", { value: u.id, selected: u.id === c.assignee_id }, u.full_name || u.username)),
    );
    box.append(
      select,
      el(
        "button",
        {
          class: "p-btn secondary",
          type: "button",
          onclick: () => act(`${c.id}/assign`, { assignee_id: Number(select.value) }),
        },
        t(c.assignee_id ? "staff.reassign" : "staff.assign"),
      ),
    );
  }
  if (c.allowed_actions.includes("answer")) {
    const text = el("textarea", {
      rows: 2,
      cols: 50,
      placeholder: t("staff.answer_placeholder"),
      "aria-label": t("staff.answer_label"),
    });
    box.append(
      text,
      el(
        "button",
        { class: "p-btn", type: "button", onclick: () => act(`${c.id}/answer`, { answer: text.value }) },
        t("staff.answer"),
      ),
    );
  }
  if (c.allowed_actions.includes("close")) {
    box.append(
      el(
        "button",
        { class: "p-btn secondary", type: "button", onclick: () => act(`${c.id}/close`, {}) },
        t("staff.close_case"),
      ),
    );
  }
  return box;
}

function caseItem(c) {
  const people = c.contact ? [c.contact.name, c.contact.phone, c.contact.email].filter(Boolean) : [];
  const contact = people.length ? t("staff.contact", { contact: people.join(" · ") }) : t("staff.anonymous");
  const meta =
    t("staff.case_meta", { received: stamp(c.received_at), due: stamp(c.due_date) }) +
    (c.procedure_name ? t("staff.case_procedure", { name: c.procedure_name }) : "") +
    (c.staff_description ? ` · ${c.staff_description}` : "");
  return el(
    "li",
    { class: "p-item", "data-id": c.id, "data-status": c.status },
    el(
      "div",
      null,
      el("b", null, c.reference),
      t("staff.case_head", {
        about: labelOr(`staff.about_${c.about}`, c.about),
        source: labelOr(`staff.source_${c.source}`, c.source),
      }),
      el(
        "span",
        { class: `p-tag${c.overdue ? " overdue" : ""}` },
        c.status_label + (c.overdue ? t("staff.case_overdue") : ""),
      ),
    ),
    el("div", { class: "p-meta" }, meta),
    el("p", null, c.content),
    c.answer ? el("p", { class: "p-ok" }, t("staff.case_answer", { answer: c.answer })) : null,
    el("div", { class: "p-meta" }, contact),
    actions(c),
  );
}

function render(list) {
  setText(byId("summary"), t("staff.case_count", { count: list.length }));
  setChildren(byId("cases"), list.length ? list.map(caseItem) : el("li", { class: "p-empty" }, t("staff.no_cases")));
}

async function load() {
  const query = centreQuery();
  const path =
    filter === "overdue"
      ? `feedback/overdue?${query}`
      : `feedback?${query}${filter === "answered" ? "&status=answered" : ""}`;
  try {
    let list = await get(path);
    if (filter === "open") list = list.filter((c) => c.status === "received" || c.status === "assigned");
    render(list);
  } catch (err) {
    showError(err);
  }
}

document.querySelector(".p-chips").addEventListener("click", (event) => {
  const chip = event.target.closest("[data-filter]");
  if (!chip) return;
  event.preventDefault();
  filter = chip.dataset.filter;
  for (const other of document.querySelectorAll("[data-filter]")) {
    other.setAttribute("aria-current", other === chip ? "true" : "false");
  }
  load();
});

requireLogin(["supervisor", "admin"]).then(async () => {
  try {
    assignees = await get(`feedback/assignees?${centreQuery()}`);
  } catch (err) {
    showError(err);
    return;
  }
  load();
});
