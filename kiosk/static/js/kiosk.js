// Kiosk page: field → service → "LẤY SỐ" (2 taps when a field has one service).
//
// Everything goes through the server's JSON API and the hall connection; no business rule
// here. Taking the ticket and showing it (with the printer's answer or its fallback) is
// ticket-result.js, shared with the kiosk's other pages; the idle countdown is idle.js.

import { api } from "/assets/js/lib/api.js";
import { CentreClock } from "/assets/js/lib/clock.js";
import { byId, el, jsonBlock, setChildren, setText } from "/assets/js/lib/dom.js";
import { HallConnection, EVENTS } from "/assets/js/lib/hall.js";
import { t, en, list } from "/assets/js/lib/labels.js";
import { IdleReset } from "./idle.js";
import { WedgeScanner } from "./scanner.js";
import { TicketResult, availabilityError, issueTicket, newRequestId, retryStatus, showRefusal, withRetries } from "./ticket-result.js";

const TAP_GUARD_MS = 350; // a double tap must not land on the next screen's button
const CATALOG_RETRY_MS = 10000;

const config = jsonBlock("kiosk-config");
const root = byId("kiosk");
const clock = new CentreClock();
const state = {
  catalog: null,
  catalogJson: "",
  centreId: config.centre_id,
  screen: "loading",
  history: [],
  field: null,
  service: null,
  priority: false,
  busy: false,
  flow: 0, // bumped on every reset: late answers of an abandoned flow are ignored
  retry: null,
  idScan: null, // {token, name, printName, agreed}: an ID card read at this kiosk
};
const result = new TicketResult({ qrUrl: config.qr_url, printTimeoutMs: config.print_timeout * 1000 });
let hall = null;

/* A big two-line button: Vietnamese, then English smaller. */
function choiceButton(className, vi, enText, onTap, dataset) {
  return el(
    "button",
    { type: "button", class: `k-btn ${className}`, dataset, onclick: () => !state.busy && onTap() },
    vi,
    enText ? el("span", { class: "en" }, enText) : null,
  );
}

/* --- screens --------------------------------------------------------------------------- */

function show(screen) {
  for (const section of document.querySelectorAll(".k-screen")) section.hidden = section.id !== `screen-${screen}`;
  state.screen = screen;
  root.dataset.screen = screen;
  guardTaps(byId(`screen-${screen}`));
  // The start screen needs no reset; a result screen has its own shorter wait.
  if (screen === "fields" || screen === "loading" || (screen === "error" && !state.catalog)) idle.pause();
  else {
    idle.idleMs = (screen === "result" ? config.idle_result : config.idle_menu) * 1000;
    idle.resume();
  }
}

/* Buttons of a new screen ignore taps briefly, so the second tap of a double tap does not
   choose something on the screen that just appeared. */
function guardTaps(section) {
  setDisabled(section, true);
  const { flow, screen } = state;
  setTimeout(() => {
    if (state.flow === flow && state.screen === screen && !state.busy) setDisabled(section, false);
  }, TAP_GUARD_MS);
}

function setDisabled(section, disabled) {
  for (const button of section.querySelectorAll("button")) button.disabled = disabled;
}

function go(screen) {
  state.history.push(state.screen);
  show(screen);
}

function back() {
  const previous = state.history.pop();
  if (!previous || previous === "loading" || previous === "error") reset();
  else show(previous);
}

function reset() {
  forgetIdCard();
  state.flow += 1;
  state.history = [];
  state.field = null;
  state.service = null;
  result.stop();
  setBusy(false);
  state.retry = null;
  if (state.catalog) {
    show("fields");
    refreshCatalog();
  } else {
    loadCatalog();
  }
}

function showError(error, retry, serviceName = "") {
  showRefusal(error, serviceName, { retry: Boolean(retry) });
  state.retry = retry;
  state.history = [];
  show("error");
}

/* --- catalogue: fields, services, priority categories ---------------------------------- */

function catalogPath() {
  return `catalog${state.centreId ? `?centre_id=${state.centreId}` : ""}`;
}

async function loadCatalog() {
  show("loading");
  const flow = state.flow;
  try {
    const catalog = await api("GET", catalogPath());
    if (flow !== state.flow) return;
    applyCatalog(catalog);
    show("fields");
  } catch (error) {
    if (flow !== state.flow) return;
    const shown = error.kind === "client" ? error : { kind: "server", message: t("kiosk.catalog_failed"), messageEn: en("kiosk.catalog_failed") };
    showError(shown, loadCatalog);
    // Nobody may be there to press "retry": keep trying on our own.
    setTimeout(() => {
      if (flow === state.flow && state.screen === "error" && !state.catalog) loadCatalog();
    }, CATALOG_RETRY_MS);
  }
}

/* Pick up changes made by an administrator; keep the old catalogue if this fails. */
function refreshCatalog() {
  api("GET", catalogPath())
    .then((catalog) => state.screen === "fields" && applyCatalog(catalog))
    .catch(() => {});
}

function applyCatalog(catalog) {
  const json = JSON.stringify(catalog);
  if (json === state.catalogJson) return;
  state.catalog = catalog;
  state.catalogJson = json;
  result.categories = catalog.priority_categories;
  if (!state.centreId) state.centreId = catalog.centre.id;
  connect();
  setText(byId("centre-name"), catalog.centre.name);
  setText(byId("centre-sub"), catalog.centre.subtitle || "");
  setChildren(
    byId("fields-grid"),
    catalog.fields.map((field) =>
      choiceButton("k-choice k-field", field.name, field.name_en, () => chooseField(field), { fieldId: field.id }),
    ),
  );
  byId("priority-block").hidden = !catalog.priority_categories.length;
  // A remote-only centre: the kiosk is where citizens check in, so that comes first.
  byId("btn-checkin").classList.toggle("is-primary", Boolean(catalog.centre.remote_only));
}

function chooseField(field) {
  state.field = field;
  if (field.services.length === 1) {
    chooseService(field.services[0]);
    return;
  }
  setText(byId("services-title"), field.name);
  setChildren(byId("services-grid"), field.services.map(serviceButton));
  go("services");
}

/* A service that does not issue now (outside its hours, past its cut-off, its daily cap
   reached: the catalogue's availability) is greyed out with why and when it opens; a tap
   on it says so in full instead of asking the server. */
function serviceButton(service) {
  const a = service.availability;
  const closed = Boolean(a && a.open === false);
  const button = choiceButton("k-choice k-service", service.name, service.name_en, () => chooseService(service), { serviceId: service.id });
  if (service.bulk_lane) {
    // The bulk filers' lane (docs/remote.md): its own numbers, its own counters.
    button.classList.add("is-bulk-lane");
    button.append(el("span", { class: "k-lane" }, t("kiosk.bulk_lane"), el("span", { class: "en" }, en("kiosk.bulk_lane"))));
  }
  if (!closed) {
    if (a && typeof a.remaining === "number" && a.remaining <= 10) {
      button.append(el("span", { class: "k-count" }, `${t("kiosk.remaining", { n: a.remaining })} · ${en("kiosk.remaining", { n: a.remaining })}`));
    }
    return button;
  }
  const key = `kiosk.${["full", "cutoff", "day_off", "remote_only", "closure"].includes(a.state) ? a.state : "closed"}_short`;
  button.classList.add("is-closed");
  button.dataset.state = a.state;
  button.append(
    el("span", { class: "k-closed-why" }, t(key), el("span", { class: "en" }, en(key))),
    a.opens ? el("span", { class: "k-closed-when" }, t("kiosk.opens_at", { when: a.opens }), el("span", { class: "en" }, en("kiosk.opens_at", { when: a.opens_en }))) : null,
  );
  return button;
}

function chooseService(service) {
  const a = service.availability;
  if (a && a.open === false) {
    state.service = null;
    showError(availabilityError(a), null, service.name);
    return;
  }
  state.service = service;
  // "Giấy tờ cần mang": the papers of the procedures filed in this service, before the number.
  const papers = byId("btn-papers");
  papers.hidden = !service.procedures;
  if (service.procedures) {
    const query = new URLSearchParams({ service: service.id });
    if (state.centreId) query.set("centre", state.centreId);
    if (Number.isInteger(config.station_id)) query.set("station", config.station_id);
    papers.href = `${config.procedures_url}?${query}`;
  }
  setText(byId("confirm-field"), state.field.name);
  setText(byId("confirm-service"), service.name);
  setText(byId("confirm-service-en"), service.name_en || "");
  setPriority(false);
  setChildren(
    byId("priority-list"),
    state.catalog.priority_categories.map((category) =>
      choiceButton("k-category", category.name, category.name_en, () => issue(category.id), { categoryId: category.id }),
    ),
  );
  go("confirm");
}

/* The toggle swaps the big button for the categories: tapping one issues the priority
   ticket, so there is never a "priority on but nothing chosen" state to get wrong. */
function setPriority(on) {
  state.priority = on;
  byId("btn-priority").setAttribute("aria-pressed", on ? "true" : "false");
  byId("screen-confirm").classList.toggle("is-priority", on);
  byId("priority-list").hidden = !on;
  byId("priority-hint").hidden = !on;
  byId("btn-get").hidden = on;
}

/* --- issuing --------------------------------------------------------------------------- */

async function issue(categoryId, requestId = newRequestId()) {
  if (state.busy || !state.service) return;
  setBusy(true);
  setDisabled(byId("screen-confirm"), true);
  byId("confirm-status").hidden = false;
  const flow = state.flow;
  const service = state.service;
  const status = retryStatus(byId("confirm-status"));
  try {
    // The same key on every retry of this press, and on «Thử lại»: if an answer was lost,
    // the server returns that ticket instead of issuing a second one.
    const idScan = state.idScan && state.idScan.agreed ? state.idScan : null;
    const onRetry = () => status.retrying();
    const retryForMs = config.retry_for * 1000;
    const ticket = await issueTicket({ serviceId: service.id, categoryId, stationId: config.station_id, requestId, idScan, onRetry, retryForMs });
    if (flow !== state.flow) return;
    if (idScan) state.idScan = null; // linked (or expired): nothing left to withdraw
    state.history = [];
    show("result");
    result.show(ticket);
  } catch (error) {
    if (flow !== state.flow) return;
    showError(error, () => {
      show("confirm");
      issue(categoryId, requestId);
    }, service.name);
  } finally {
    status.done();
    if (flow === state.flow) {
      setBusy(false);
      byId("confirm-status").hidden = true;
    }
  }
}

/* --- check-in of a number taken from a phone (docs/remote.md), or of an appointment (ten
   digits, typed or scanned from its QR by a keyboard-wedge scanner: docs/appointments.md) */

const CODE_LENGTHS = [6, 10];

let checkinCode = "";

function openCheckin() {
  checkinCode = "";
  setText(byId("checkin-code"), "");
  go("checkin");
}

function checkinKey(digit) {
  if (state.busy) return;
  if (digit === "del") checkinCode = checkinCode.slice(0, -1);
  else if (digit === "ok") {
    checkIn();
    return;
  } else if (checkinCode.length < Math.max(...CODE_LENGTHS)) checkinCode += digit;
  setText(byId("checkin-code"), checkinCode);
}

async function checkIn() {
  if (!CODE_LENGTHS.includes(checkinCode.length)) {
    showError({ kind: "client", code: "check_in_short", message: t("kiosk.checkin_short"), messageEn: en("kiosk.checkin_short") }, () => openCheckin());
    return;
  }
  setBusy(true);
  byId("checkin-status").hidden = false;
  const flow = state.flow;
  const body = { code: checkinCode };
  if (Number.isInteger(config.station_id)) body.station_id = config.station_id;
  else if (state.centreId) body.centre_id = state.centreId;
  const status = retryStatus(byId("checkin-status"));
  try {
    // A check-in is safe to repeat (its code: a second one answers the same ticket and
    // prints nothing), so a lost answer is asked again like a ticket's.
    const send = (timeoutMs) => api("POST", "check-in", { body, timeoutMs });
    const ticket = await withRetries(send, { onRetry: () => status.retrying(), retryForMs: config.retry_for * 1000 });
    if (flow !== state.flow) return;
    state.history = [];
    show("result");
    result.show(ticket);
  } catch (error) {
    if (flow !== state.flow) return;
    const shown = error.status === 404 ? { ...error, kind: "client", message: t("kiosk.checkin_unknown"), messageEn: en("kiosk.checkin_unknown") } : error;
    showError(shown, () => openCheckin());
    byId("error-title").textContent = t("kiosk.checkin_title");
    byId("error-title-en").textContent = en("kiosk.checkin_title");
  } finally {
    status.done();
    if (flow === state.flow) {
      setBusy(false);
      byId("checkin-status").hidden = true;
    }
  }
}

/* --- the barcode scanner: an ID card, or a check-in code (docs/privacy.md) --------------- */

/* What the scanner read, as the server parsed it: from the station's serial scanner (the
   scanner.scanned event) or from keys typed by a keyboard-wedge scanner (POST /scans). */
function scanned(result) {
  if (!result || state.busy) return;
  if (result.kind === "check_in") {
    reset();
    openCheckin();
    checkinCode = String(result.code).slice(0, Math.max(...CODE_LENGTHS));
    setText(byId("checkin-code"), checkinCode);
    checkIn();
  } else if (result.kind === "id_card") {
    reset();
    state.idScan = { token: result.token, name: result.full_name, printName: false, agreed: false };
    setText(byId("idcard-name"), result.full_name);
    setText(byId("idcard-number"), t("kiosk.idcard_number", { number: result.masked_number }));
    setPrintName(false);
    go("idcard");
  } else {
    const message = result.message ? { message: result.message, messageEn: result.message_en } : { message: t("kiosk.scan_unprovisioned"), messageEn: en("kiosk.scan_unprovisioned") };
    reset();
    showError({ kind: "client", code: "scan", ...message }, null);
    byId("error-title").textContent = t("kiosk.scan_title");
    byId("error-title-en").textContent = en("kiosk.scan_title");
  }
}

async function wedgeScan(text) {
  // Six digits (a number from the phone) or ten (an appointment) are a check-in code, which
  // needs no kiosk credential; the rest goes to the server, which reads ID cards only for
  // a provisioned kiosk.
  if (/^(\d{6}|\d{10})$/.test(text)) {
    scanned({ kind: "check_in", code: text });
    return;
  }
  if (!Number.isInteger(config.station_id)) {
    scanned({ kind: "unrecognised" });
    return;
  }
  try {
    scanned(await api("POST", "scans", { body: { text } }));
  } catch (error) {
    scanned({ kind: "unrecognised", message: error.message || t("kiosk.busy"), message_en: error.messageEn || en("kiosk.busy") });
  }
}

function setPrintName(on) {
  if (state.idScan) state.idScan.printName = on;
  byId("btn-print-name").setAttribute("aria-pressed", on ? "true" : "false");
}

function agreeIdCard() {
  if (!state.idScan) return;
  state.idScan.agreed = true;
  const banner = byId("idcard-linked");
  banner.hidden = false;
  both(banner, "kiosk.idcard_linked", { name: state.idScan.name });
  state.history = [];
  show("fields");
}

/* The card is not to be used (declined, or the citizen left): the server deletes it now. */
function forgetIdCard() {
  const scan = state.idScan;
  state.idScan = null;
  byId("idcard-linked").hidden = true;
  if (scan) api("POST", `scans/${encodeURIComponent(scan.token)}/decline`).catch(() => {});
}

function both(node, key, values) {
  node.textContent = t(key, values);
  node.append(el("span", { class: "en" }, en(key, values)));
}

function setBusy(busy) {
  state.busy = busy;
  root.classList.toggle("is-busy", busy);
}

/* --- the hall: the centre's name, the clock, the printer's answers ---------------------- */

function connect() {
  if (hall || !state.centreId) return;
  hall = new HallConnection({
    centreId: state.centreId,
    stationId: config.station_id,
    onSnapshot: (snapshot) => {
      clock.sync(snapshot.server_time);
      tick();
      if (snapshot.centre) {
        setText(byId("centre-name"), snapshot.centre.name);
        setText(byId("centre-sub"), snapshot.centre.subtitle || "");
      }
    },
    onEvent: (name, payload) => {
      if (name === EVENTS.PRINT_STATUS) result.printStatus(payload);
      else if (name === EVENTS.SCANNER_SCANNED) scanned(payload);
    },
    onStatus: (status) => {
      root.dataset.socket = status;
    },
  }).start();
}

let catalogAge = 0;

function tick() {
  // Services open and close by the clock (hours, cut-offs) and fill up (caps): the start
  // screen refreshes the catalogue every minute.
  catalogAge += 1;
  if (catalogAge >= 60 && state.screen === "fields") {
    catalogAge = 0;
    refreshCatalog();
  }
  const parts = clock.parts();
  setText(byId("clock-date"), `${list("kiosk.weekdays")[parts.weekday]}, ${clock.date()}`);
  setText(byId("clock-time"), clock.time());
  if (hall) hall.beat();
}

/* --- wiring ---------------------------------------------------------------------------- */

const idle = new IdleReset({ idleMs: config.idle_menu * 1000, onReset: reset });

root.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled) return;
  const action = button.dataset.action;
  if (action === "back" && !state.busy) back();
  else if (action === "home") reset();
  else if (action === "get") issue(null);
  else if (action === "priority" && !state.busy) setPriority(!state.priority);
  else if (action === "retry" && state.retry) state.retry();
  else if (action === "checkin" && !state.busy) openCheckin();
  else if (action === "print-name") setPrintName(!(state.idScan && state.idScan.printName));
  else if (action === "idcard-agree") agreeIdCard();
  else if (action === "idcard-decline") reset();
});
byId("checkin-keypad").addEventListener("click", (event) => {
  const key = event.target.closest("button[data-digit]");
  if (key && !key.disabled) checkinKey(key.dataset.digit);
});
// Digits typed on a keyboard on the check-in screen fill the code, Enter sends it. A QR
// scanner's code (a number's or an appointment's) is caught on any screen by the wedge
// scanner below, by its keys' timing, so a person's typing elsewhere opens nothing.
document.addEventListener("keydown", (event) => {
  if (state.busy || event.target.closest?.("input, textarea")) return;
  if (/^[0-9]$/.test(event.key) && state.screen === "checkin") checkinKey(event.key);
  else if (event.key === "Enter" && state.screen === "checkin" && checkinCode) checkinKey("ok");
});
document.addEventListener("contextmenu", (event) => event.preventDefault()); // long press: no menu

const wedge = new WedgeScanner({ onScan: wedgeScan }).start();

window.tthccKiosk = { state, idle, result, wedge, get hall() { return hall; } };
tick();
setInterval(tick, 1000);
loadCatalog();
