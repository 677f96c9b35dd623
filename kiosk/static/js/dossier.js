// Kiosk "Tra cứu hồ sơ": a scanner or the keypad types the code; the status and return date
// in large print; a dossier whose result is ready offers a ticket for the result-return
// service, on the same result screen as the kiosk's.

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { KioskPage } from "./page.js";

const page = new KioskPage();
let dossier = null;

function dmy(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}

function hm(iso) {
  const m = /T(\d{2}):(\d{2})/.exec(iso || "");
  return m ? `${m[1]} giờ ${m[2]} phút` : "";
}

function fail(message) {
  setText(byId("error"), message);
  byId("error").hidden = false;
}

function focusCode() {
  if (!byId("screen-input").hidden) byId("code").focus({ preventScroll: true });
}

function reset() {
  dossier = null;
  byId("code").value = "";
  byId("error").hidden = true;
  page.show("input");
  focusCode();
}

function render(d) {
  dossier = d;
  setText(byId("r-code"), d.code);
  setText(byId("r-applicant"), d.applicant);
  setText(byId("r-procedure"), d.procedure_name);
  setText(byId("r-status"), d.status_label);
  byId("r-status").dataset.status = d.status;
  setText(byId("r-reason"), d.status_reason ? `Nội dung cần bổ sung: ${d.status_reason}` : "");
  setText(byId("r-due"), `${hm(d.appointment_at)}, ngày ${dmy(d.due_date)}`);
  byId("r-new").hidden = !d.new_due_date;
  setText(byId("r-new-date"), d.new_due_date ? dmy(d.new_due_date) : "");
  setText(byId("r-place"), d.result_place);
  byId("r-dates").hidden = d.status === "returned";
  byId("btn-ticket").hidden = !(d.status === "result_ready" && d.result_service_id);
  page.show("dossier");
}

async function lookup(code) {
  const text = (code || "").trim();
  if (!text) return;
  byId("error").hidden = true;
  const centre = page.config.centre_id ? `&centre_id=${page.config.centre_id}` : "";
  try {
    render(await api("GET", `dossiers/lookup?code=${encodeURIComponent(text)}${centre}`));
  } catch (error) {
    fail(error.message);
    byId("code").select();
  }
}

byId("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  lookup(byId("code").value);
});
byId("keypad").addEventListener("click", (event) => {
  const key = event.target.closest("[data-key]");
  if (!key) return;
  const input = byId("code");
  if (key.dataset.key === "back") input.value = input.value.slice(0, -1);
  else if (key.dataset.key === "clear") input.value = "";
  else input.value += key.dataset.key;
  focusCode();
});
// A scanner may fire while the result is shown: start a new lookup with what it types.
document.addEventListener(
  "keydown",
  (event) => {
    if (byId("screen-input").hidden && event.key.length === 1 && !event.ctrlKey && !event.metaKey) reset();
  },
  true,
);
byId("btn-again").addEventListener("click", reset);
byId("btn-ticket").addEventListener("click", () => {
  if (dossier && dossier.result_service_id) page.takeTicket(dossier.result_service_id, dossier.procedure_name, byId("ticket-status"));
});

window.tthccKioskDossier = { page };
const initial = new URLSearchParams(location.search).get("code");
reset();
if (initial) {
  byId("code").value = initial;
  lookup(initial);
}
