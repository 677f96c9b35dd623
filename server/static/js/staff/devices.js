// The supervisor's devices page (/supervisor/devices): stations from GET /api/v1/stations,
// kept live by /hall (device.status, station.status, rating.recorded) over the one
// HallConnection (snapshot on every reconnect: read the stations again); reprint a failed
// ticket; the day's low ratings. Texts: server/labels/staff.py.

import { get, post } from "/assets/js/lib/api.js";
import { byId, el, setChildren } from "/assets/js/lib/dom.js";
import { EVENTS, HallConnection } from "/assets/js/lib/hall.js";
import { has, t } from "/assets/js/lib/labels.js";
import { clock, config, hideError, requireLogin, showError, stamp } from "./page.js";

const centreId = Number(config.centre_id);
const live = byId("live");
let stations = [];
let refreshTimer = null;
let hall = null;

/** "hết giấy (paper out)": the agent's reason in Vietnamese, with its own words. */
function reasonText(reason) {
  if (!reason) return "";
  const words = String(reason).toLowerCase();
  const key = (name) => `staff.reason_${name.trim().replace(/\s+/g, "_")}`;
  const found = [key(words), key(words.split(":")[0])].find(has);
  return found ? `${t(found)} (${reason})` : String(reason);
}

const stateText = (state) => (has(`staff.device_${state}`) ? t(`staff.device_${state}`) : state || "?");

function deviceItem(d) {
  const state = has(`staff.device_${d.state}`) ? d.state : "unknown";
  return el(
    "li",
    { "data-device": d.name, "data-state": d.state || "" },
    el("span", { class: `d-state ${state}` }, stateText(d.state)),
    ` ${has(`staff.kind_${d.kind}`) ? t(`staff.kind_${d.kind}`) : d.kind || ""} `,
    el("code", null, d.name),
    d.reason ? el("span", { class: "d-reason" }, ` – ${reasonText(d.reason)}`) : null,
  );
}

async function reprint(ticketId, button) {
  button.disabled = true;
  try {
    await post(`tickets/${ticketId}/reprint`);
    await refresh();
  } catch (err) {
    button.disabled = false;
    showError(err);
  }
}

function failedItem(f) {
  const button = el("button", { class: "p-btn", type: "button", "data-reprint": f.ticket_id }, t("staff.reprint"));
  button.addEventListener("click", () => reprint(f.ticket_id, button));
  return el(
    "li",
    { "data-failed-ticket": f.ticket_id },
    el("strong", null, t("staff.failed_number", { number: f.number })),
    ` – ${reasonText(f.reason)} `,
    button,
  );
}

function stationRow(st) {
  return el(
    "tr",
    { "data-station": st.code, "data-online": String(st.online) },
    el("td", null, el("strong", null, st.code), el("br"), st.name || ""),
    el(
      "td",
      null,
      el("span", { class: st.online ? "d-online" : "d-offline" }, t(st.online ? "staff.agent_online" : "staff.agent_offline")),
      el("br"),
      el("span", { class: "p-meta" }, st.last_seen_at ? t("staff.last_seen", { when: stamp(st.last_seen_at) }) : t("staff.never_seen")),
    ),
    el("td", null, st.devices.length ? el("ul", { class: "d-devices" }, st.devices.map(deviceItem)) : "—"),
    el("td", null, st.failed_prints.length ? el("ul", { class: "d-devices" }, st.failed_prints.map(failedItem)) : "—"),
  );
}

function render() {
  setChildren(byId("stations"), stations.map(stationRow));
}

async function refresh() {
  try {
    stations = await get(`stations?centre_id=${centreId}`);
    hideError();
    render();
  } catch (err) {
    showError(err);
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

function onDeviceStatus(e) {
  const station = stations.find((s) => s.id === e.station_id);
  if (!station) {
    refreshSoon();
    return;
  }
  const fields = { kind: e.kind, state: e.state, reason: e.reason, at: e.at };
  const device = station.devices.find((d) => d.name === e.device);
  if (device) Object.assign(device, fields);
  else station.devices.push({ name: e.device, ...fields });
  station.online = true;
  render();
  refreshSoon(); // failed prints come with a printer's fault
}

function lowItem(r) {
  const parts = [
    r.counter_name || t("staff.a_counter"),
    r.ticket_number ? t("staff.rating_ticket", { number: r.ticket_number }) : t("staff.rating_no_ticket"),
    r.service_name,
    r.staff_id ? t("staff.rating_staff", { id: r.staff_id }) : null,
  ].filter(Boolean);
  return el(
    "li",
    { "data-rating": r.id },
    el("strong", null, t("staff.rating_level", { label: r.label, level: r.level })),
    ` – ${parts.join(", ")} · ${stamp(r.pressed_at)}`,
  );
}

function showLow(ratings) {
  const list = byId("low-ratings");
  for (const r of ratings) {
    if (!list.querySelector(`[data-rating="${Number(r.id)}"]`)) list.prepend(lowItem(r));
  }
  byId("no-low").hidden = list.children.length > 0;
}

async function loadLow() {
  try {
    const list = await get(`ratings?max_level=2&centre_id=${centreId}`);
    showLow(list.slice().reverse());
  } catch (err) {
    showError(err);
  }
}

function onEvent(name, payload) {
  if (name === EVENTS.DEVICE_STATUS) onDeviceStatus(payload);
  else if (name === EVENTS.STATION_STATUS) refreshSoon();
  else if (name === EVENTS.RATING_RECORDED) {
    const rating = payload && payload.rating;
    if (rating && rating.level <= 2 && rating.counted) showLow([rating]);
  }
}

function connect() {
  hall = new HallConnection({
    centreId,
    onSnapshot: (snapshot) => {
      if (snapshot && snapshot.server_time) clock.sync(snapshot.server_time);
      live.dataset.socket = "connected";
      refresh(); // back to the truth after any reconnect
    },
    onEvent,
    onStatus: (status) => {
      if (status !== "connected") live.dataset.socket = "disconnected";
    },
    watchdog: { silenceMs: 60000, reload: false },
  }).start();
  window.tthccDevices = { hall, clock };
}

requireLogin(["supervisor", "admin"]).then(() => {
  refresh();
  loadLow();
  connect();
  setInterval(refresh, 30000); // last seen times and anything a lost event missed
});
