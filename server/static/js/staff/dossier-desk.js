// The dossier desk (/ho-so/quay): receive a dossier for a procedure (the appointment is
// computed by the server's working calendar), print its slip on the counter's thermal
// printer (watched until the station answers) or as the A5 PDF, and hand dossiers on.
// Texts: server/labels/staff.py.

import { get, post } from "/assets/js/lib/api.js";
import { byId, el, setChildren } from "/assets/js/lib/dom.js";
import { has, t } from "/assets/js/lib/labels.js";
import { centreQuery, config, hideError, requireLogin, showError, stamp } from "./page.js";

/* How long to wait for the counter's printer before saying the slip did not come out (the
   station may be off), and how often to ask. */
const SLIP_WAIT_MS = 20000;
const SLIP_POLL_MS = 1000;
/* The printer's reasons (the agent's words) and the labels that say them. */
const PRINTER_REASONS = {
  "paper out": "paper_out",
  "cover open": "cover_open",
  expired: "expired",
  superseded: "superseded",
  "interrupted (may have printed)": "interrupted",
};
const ACTIONS_ASKING_WHY = new Set(["request_supplement", "refuse"]);
const counterId = config.counter_id ? Number(config.counter_id) : null;
let procedures = [];
/* The ticket whose citizen's ID card filled the form (docs/privacy.md): sent with the
   dossier, so the server deletes what the card left once the dossier is received. */
let prefilledTicket = null;
let slipWatch = null;

/** Lower case, without diacritics: "Chứng thực" → "chung thuc". */
const fold = (text) =>
  text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();

const chosenProcedure = () => procedures.find((p) => String(p.id) === byId("procedure").value);

function fillProcedures() {
  const words = fold(byId("procedure-search").value).split(/\s+/).filter(Boolean);
  const matching = procedures.filter((p) => {
    const text = fold(`${p.code} ${p.name}`);
    return words.every((w) => text.includes(w));
  });
  setChildren(
    byId("procedure"),
    matching.map((p) => el("option", { value: p.id }, `${p.name} (${p.code})`)),
  );
}

function paperText(paper) {
  return (
    paper.name +
    (paper.originals ? t("staff.paper_originals", { count: paper.originals }) : "") +
    (paper.copies ? t("staff.paper_copies", { count: paper.copies }) : "")
  );
}

function showProcedure() {
  const p = chosenProcedure();
  const info = byId("procedure-info");
  if (!p) {
    info.textContent = "";
    setChildren(byId("papers"));
    return;
  }
  info.textContent = t("staff.procedure_info", {
    processing: p.processing_text,
    fee: p.fee_text || t("staff.no_fee"),
    agency: p.agency,
  });
  setChildren(
    byId("papers"),
    p.papers.map((paper, i) =>
      el(
        "label",
        { class: "p-check" },
        el("input", { type: "checkbox", checked: true, "data-index": i }),
        el("span", null, paperText(paper)),
      ),
    ),
  );
}

async function transition(dossier, action) {
  let note = "";
  if (ACTIONS_ASKING_WHY.has(action)) {
    note = window.prompt(t("staff.note_prompt")) || "";
    if (!note) return;
  }
  try {
    await post(`dossiers/${dossier.id}/transition`, { action, note });
    await loadRecent();
  } catch (err) {
    showError(err);
  }
}

function handoffButtons(d) {
  return el(
    "div",
    { class: "p-row-actions" },
    d.allowed_actions.map((action) =>
      el(
        "button",
        {
          class: "p-btn secondary",
          type: "button",
          "data-action": action,
          onclick: () => transition(d, action),
        },
        has(`staff.action_${action}`) ? t(`staff.action_${action}`) : action,
      ),
    ),
    el("a", { href: `/api/v1/dossiers/${d.id}/slip.pdf`, target: "_blank" }, t("staff.slip_pdf_link")),
    el(
      "button",
      {
        class: "p-btn secondary",
        type: "button",
        "data-reprint": d.id,
        onclick: () => reprint(d.id).then(loadRecent),
      },
      t("staff.slip_reprint_button"),
    ),
  );
}

/** The printer's reason in Vietnamese ("paper out" → "máy in hết giấy"). */
function reasonText(reason) {
  if (!reason) return "";
  if (reason.startsWith("offline")) return t("staff.printer_offline");
  return PRINTER_REASONS[reason] ? t(`staff.printer_${PRINTER_REASONS[reason]}`) : reason;
}

/* The slip's print status under the slip; `waited`: the wait for a pending job is over. */
function showSlipPrint(d, waited) {
  const box = byId("slip-print");
  const job = d.slip_print;
  const status = !job ? "none" : job.status === "pending" && waited ? "late" : job.status;
  const reason = job && job.reason ? `: ${reasonText(job.reason)}` : "";
  box.textContent = has(`staff.slip_${status}`) ? t(`staff.slip_${status}`, { reason }) : status;
  box.dataset.status = status;
  box.className = { printed: "p-ok", pending: "p-note", none: "p-note" }[status] || "p-error";
  box.hidden = false;
  byId("slip-reprint").hidden = !job || status === "pending";
  byId("slip-pdf").className = status === "printed" || status === "pending" ? "p-btn secondary" : "p-btn";
}

/* Ask for the dossier until its slip job is answered or SLIP_WAIT_MS have passed. */
function watchSlip(d) {
  clearTimeout(slipWatch);
  const started = Date.now();
  showSlipPrint(d, false);
  const tick = async () => {
    let fresh;
    try {
      fresh = await get(`dossiers/${d.id}`);
    } catch {
      slipWatch = setTimeout(tick, SLIP_POLL_MS * 3);
      return;
    }
    if (byId("result").dataset.dossierId !== String(d.id)) return; // another dossier since
    const waited = Date.now() - started >= SLIP_WAIT_MS;
    showSlipPrint(fresh, waited);
    const job = fresh.slip_print;
    if (job && job.status === "pending" && !waited) slipWatch = setTimeout(tick, SLIP_POLL_MS);
    else if (job && job.status !== "pending") loadRecent();
  };
  if (d.slip_print && d.slip_print.status === "pending") slipWatch = setTimeout(tick, SLIP_POLL_MS);
}

async function reprint(dossierId) {
  try {
    const d = await post(`dossiers/${dossierId}/slip/print`, counterId ? { counter_id: counterId } : {});
    if (byId("result").dataset.dossierId === String(d.id)) watchSlip(d);
    return d;
  } catch (err) {
    showError(err);
    return null;
  }
}

function recentItem(d) {
  const slip = d.slip_print;
  return el(
    "li",
    { class: "p-item", "data-code": d.code },
    el(
      "div",
      null,
      el("b", null, d.code),
      ` · ${d.procedure_name} · `,
      el("span", { class: `p-tag${d.overdue ? " overdue" : ""}`, "data-status": d.status }, d.status_label),
    ),
    el(
      "div",
      { class: "p-meta" },
      `${d.applicant_name} · ${t("staff.appointment", { when: stamp(d.appointment_at) })}${
        d.result_timing ? ` · ${d.result_timing_label}` : ""
      } `,
      slip
        ? el(
            "span",
            { class: "p-tag", "data-slip-status": slip.status, title: reasonText(slip.reason) },
            has(`staff.slip_tag_${slip.status}`) ? t(`staff.slip_tag_${slip.status}`) : slip.status,
          )
        : null,
    ),
    handoffButtons(d),
  );
}

async function loadRecent() {
  try {
    const list = await get(`dossiers?${centreQuery()}`);
    setChildren(
      byId("recent"),
      list.length ? list.slice(0, 30).map(recentItem) : el("li", { class: "p-empty" }, t("staff.no_dossiers_yet")),
    );
  } catch (err) {
    showError(err);
  }
}

async function receive(event) {
  event.preventDefault();
  hideError();
  const p = chosenProcedure();
  if (!p) {
    showError(new Error(t("staff.choose_procedure")));
    return;
  }
  const papers = [...byId("papers").querySelectorAll("input[type=checkbox]")]
    .filter((box) => box.checked)
    .map((box) => {
      const paper = p.papers[Number(box.dataset.index)];
      return { name: paper.name, originals: paper.originals, copies: paper.copies };
    });
  const body = {
    procedure_id: p.id,
    applicant_name: byId("applicant").value.trim(),
    papers_received: papers,
    notes: byId("notes").value.trim(),
  };
  const phone = byId("phone").value.trim();
  if (phone) body.applicant_phone = phone;
  if (byId("birth-date").value) body.applicant_birth_date = byId("birth-date").value;
  const address = byId("address").value.trim();
  if (address) body.applicant_address = address;
  if (prefilledTicket) body.ticket_id = prefilledTicket;
  if (counterId) body.counter_id = counterId;
  byId("submit").disabled = true;
  try {
    const d = await post("dossiers", body);
    byId("slip").textContent = d.slip_lines.join("\n");
    byId("slip-pdf").href = `/api/v1/dossiers/${d.id}/slip.pdf`;
    byId("slip-png").href = `/api/v1/dossiers/${d.id}/slip.png`;
    byId("result").dataset.dossierId = String(d.id);
    byId("result").hidden = false;
    watchSlip(d);
    byId("receive").reset();
    prefilledTicket = null;
    byId("idcard-prefill").hidden = true;
    fillProcedures();
    showProcedure();
    loadRecent();
  } catch (err) {
    showError(err);
  } finally {
    byId("submit").disabled = false;
  }
}

/* The ID card read at the kiosk for the ticket this counter serves: fill the empty fields. */
async function prefillFromIdCard() {
  if (!counterId || byId("applicant").value.trim()) return;
  let found;
  try {
    found = await get(`counters/${counterId}/citizen`);
  } catch {
    return; // no counter held, or not allowed: the form is typed by hand as before
  }
  const card = found && found.citizen;
  if (!card || byId("applicant").value.trim()) return;
  byId("applicant").value = card.full_name;
  if (card.birth_date) byId("birth-date").value = card.birth_date;
  if (card.address) byId("address").value = card.address;
  prefilledTicket = found.ticket_id;
  const note = byId("idcard-prefill");
  note.textContent = t("staff.idcard_prefilled", { number: found.ticket_number });
  note.hidden = false;
}

byId("slip-reprint").addEventListener("click", () => reprint(Number(byId("result").dataset.dossierId)));
byId("procedure-search").addEventListener("input", fillProcedures);
byId("procedure").addEventListener("change", showProcedure);
byId("receive").addEventListener("submit", receive);

requireLogin(["staff", "supervisor", "admin"]).then(async () => {
  loadRecent();
  prefillFromIdCard();
  // The counter calls the next citizen while this page is open: look again on focus.
  window.addEventListener("focus", prefillFromIdCard);
  try {
    procedures = await get(`procedures?${centreQuery()}`);
    fillProcedures();
  } catch (err) {
    showError(err);
  }
});
