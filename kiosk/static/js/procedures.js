// Kiosk "Tra cứu thủ tục": fields → procedures, or a search typed on the on-screen keyboard
// (the server's tolerant, ranked search: GET /api/v1/procedures?q=) → one procedure in large
// print, its papers printed on the kiosk's printer (POST /procedures/{id}/print, the answer
// on the hall connection) or read on a phone from a QR code → "Lấy số" for its service, on
// the same result screen as the kiosk's. ?service=ID (from the kiosk's service screen,
// "Giấy tờ cần mang") opens that service's procedures.

import { api } from "/assets/js/lib/api.js";
import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { t, en } from "/assets/js/lib/labels.js";
import { Keyboard } from "./keyboard.js";
import { KioskPage } from "./page.js";

const SEARCH_DELAY_MS = 300;
const page = new KioskPage();
const centre = page.config.centre_id;
let all = [];
let current = null;
let searchTimer = null;
let searchSeq = 0;
const serviceId = page.config.service_id;
let printJob = null; // the papers list being printed: its job id
let printTimer = null;

function query(path) {
  return centre ? `${path}${path.includes("?") ? "&" : "?"}centre_id=${centre}` : path;
}

function twoLines(vi, enText) {
  return [el("b", null, vi), el("span", { class: "en" }, enText)];
}

function showError(error) {
  const screen = byId("screen-error");
  setText(byId("error-title"), t("kiosk.refused_title"));
  setText(byId("error-title-en"), en("kiosk.refused_title"));
  setText(byId("error-message"), error.message);
  setText(byId("error-message-en"), error.messageEn || "");
  byId("btn-retry").hidden = true;
  screen.dataset.kind = "refused";
  page.show("error");
}

function renderFields() {
  const fields = new Map();
  for (const p of all) fields.set(p.field_name, (fields.get(p.field_name) || 0) + 1);
  setChildren(
    byId("fields"),
    [...fields].map(([name, count]) =>
      el(
        "button",
        {
          type: "button",
          class: "k-btn k-choice",
          onclick: () => renderList(all.filter((p) => p.field_name === name), name),
        },
        twoLines(name, t("kiosk.procedures_count", { n: count })),
      ),
    ),
  );
  byId("fields").hidden = false;
  byId("procedures").hidden = true;
  setChildren(byId("list-title"), "Chọn lĩnh vực", el("span", { class: "en" }, "Choose a field"));
  page.show("list");
}

function renderList(list, title) {
  const items = list.map((p) =>
    el(
      "li",
      null,
      el(
        "button",
        { type: "button", class: "k-btn k-item", dataset: { procedureId: p.id }, onclick: () => openProcedure(p) },
        twoLines(p.name, `${p.processing_text} · ${p.fee_text || t("kiosk.no_fee")}`),
      ),
    ),
  );
  if (!list.length) items.push(el("li", { class: "k-empty", id: "search-empty" }, t("kiosk.search_empty"), el("span", { class: "en" }, en("kiosk.search_empty"))));
  setChildren(byId("procedures"), items);
  setText(byId("list-title"), title);
  byId("fields").hidden = true;
  byId("procedures").hidden = false;
  page.show("list");
}

function openProcedure(p) {
  // A search still under way must not pull the citizen back to the list.
  clearTimeout(searchTimer);
  searchSeq += 1;
  current = p;
  setText(byId("p-name"), p.name);
  setText(byId("p-time"), p.processing_text);
  setText(byId("p-note"), p.processing_note || "");
  setText(byId("p-fee"), p.fee_text || t("kiosk.no_fee"));
  setText(byId("p-place"), p.result_place);
  setChildren(
    byId("p-papers"),
    p.papers.map((paper) => {
      const counts = [];
      if (paper.originals) counts.push(`${paper.originals} bản chính`);
      if (paper.copies) counts.push(`${paper.copies} bản sao`);
      const text = paper.name + (counts.length ? ` (${counts.join(", ")})` : "") + (paper.note ? ` – ${paper.note}` : "");
      return el("li", null, text);
    }),
  );
  byId("btn-ticket").hidden = !p.service_id;
  showTakeList(p);
  page.show("detail");
}

/* The papers list to take away: printed on this kiosk's printer, or a QR code of the
   procedure's public page for a phone (when phones can reach the server). */
function showTakeList(p) {
  clearTimeout(printTimer);
  printJob = null;
  const canPrint = Number.isInteger(page.config.station_id);
  const qrUrl = page.config.procedure_qr_url;
  byId("btn-print-papers").hidden = !canPrint;
  byId("btn-print-papers").disabled = false;
  byId("p-qr-box").hidden = !qrUrl;
  if (qrUrl) byId("p-qr").src = qrUrl.replace("ID", String(p.id));
  byId("papers-status").hidden = true;
  byId("p-take").hidden = !canPrint && !qrUrl;
}

function papersStatus(key, values = {}) {
  const node = byId("papers-status");
  node.hidden = false;
  node.dataset.status = key;
  setChildren(node, t(`kiosk.${key}`, values), el("span", { class: "en" }, en(`kiosk.${key}`, values)));
}

function printFailed() {
  papersStatus(page.config.procedure_qr_url ? "papers_failed" : "papers_failed_no_qr");
  byId("btn-print-papers").disabled = false;
  printJob = null;
}

async function printPapers() {
  if (!current || printJob) return;
  const procedure = current;
  byId("btn-print-papers").disabled = true;
  papersStatus("papers_printing");
  try {
    const out = await api("POST", `procedures/${procedure.id}/print`, { body: { station_id: page.config.station_id } });
    if (current !== procedure) return;
    printJob = out.print_job_id;
    clearTimeout(printTimer);
    printTimer = setTimeout(() => printJob === out.print_job_id && printFailed(), page.config.print_timeout * 1000);
  } catch (error) {
    if (current !== procedure) return;
    const node = byId("papers-status");
    node.dataset.status = "refused";
    setChildren(node, error.message, el("span", { class: "en" }, error.messageEn || ""));
    byId("btn-print-papers").disabled = false;
  }
}

page.onPrintStatus = (payload) => {
  if (!printJob || !payload || payload.job_id !== printJob) return;
  clearTimeout(printTimer);
  if (payload.status === "printed") {
    printJob = null;
    papersStatus("papers_printed");
    byId("btn-print-papers").disabled = false;
  } else printFailed();
};

async function search() {
  const text = byId("q").value.trim();
  if (!text) {
    renderFields();
    return;
  }
  const seq = ++searchSeq;
  try {
    const found = await api("GET", query(`procedures?q=${encodeURIComponent(text)}`));
    if (seq === searchSeq) renderList(found, t("kiosk.search_results", { q: text }));
  } catch (error) {
    if (seq === searchSeq) showError(error);
  }
}

new Keyboard(byId("keyboard")).attach(byId("q"));
byId("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
byId("q").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, SEARCH_DELAY_MS);
});
byId("btn-ticket").addEventListener("click", () => {
  if (current && current.service_id) page.takeTicket(current.service_id, current.service_name || current.name, byId("ticket-status"));
});
byId("btn-print-papers").addEventListener("click", printPapers);
byId("btn-back").addEventListener("click", () => {
  const screen = document.querySelector(".k-page").dataset.screen;
  if (serviceId && (screen === "list" || serviceList().length === 1)) page.home();
  else if (screen !== "list") page.show("list");
  else if (!byId("procedures").hidden) {
    byId("q").value = "";
    renderFields();
  } else page.home();
});

window.tthccKioskProcedures = { page, search };
function serviceList() {
  return all.filter((p) => p.service_id === serviceId);
}

/* From the kiosk's service screen: the procedures filed in that service, or the only one. */
function renderService() {
  const list = serviceList();
  if (list.length === 1) {
    openProcedure(list[0]);
    return;
  }
  const name = list.length ? list[0].service_name : "";
  renderList(list, t("kiosk.papers_title", { service: name }));
}

api("GET", query("procedures"))
  .then((list) => {
    all = list;
    if (serviceId) renderService();
    else renderFields();
  })
  .catch(showError);
