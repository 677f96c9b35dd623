// The supervisor's live hall (/supervisor): GET /api/v1/supervisor/overview (session
// cookie), read again every few seconds and right after any /hall event (the one
// HallConnection: snapshot on every reconnect, watchdog); seconds tick locally in between.
// Times on the centre's clock (the overview's server_time). Texts: server/labels/staff.py.

import { ApiError, get } from "/assets/js/lib/api.js";
import { CentreClock } from "/assets/js/lib/clock.js";
import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { HallConnection } from "/assets/js/lib/hall.js";
import { has, t } from "/assets/js/lib/labels.js";

const REFRESH_MS = 5000;
const root = byId("live");
const centreId = Number(root.dataset.centreId);
const overviewUrl = root.dataset.overview;
const clock = new CentreClock();
const conn = byId("conn");
let data = null;
let fetchedAt = 0;
let pending = null;

const since = () => Math.floor((Date.now() - fetchedAt) / 1000);

/** "4:05", "1:02:03", "—" for no value. */
export function mmss(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

const kpi = (value, key, warn = false) =>
  el("div", { class: warn ? "sv-kpi warn" : "sv-kpi" }, el("b", null, value), el("span", null, t(key)));

function counterRow(c, extra) {
  const cur = c.current_ticket;
  const secs = cur ? cur.serving_seconds + extra : c.idle_seconds !== null ? c.idle_seconds + extra : null;
  const paused = c.status === "paused";
  const status = [
    el("span", { class: `sv-badge ${c.status}` }, labelOr(`staff.counter_${c.status}`, c.status)),
    paused && c.status_reason ? ` (${c.status_reason})` : null,
    paused && c.status_seconds !== null ? ` ${mmss(c.status_seconds + extra)}` : null,
  ];
  let serving = null;
  if (cur) serving = [el("b", null, cur.number), ` ${labelOr(`staff.ticket_${cur.status}`, cur.status)}`];
  else if (c.status === "open") serving = el("span", { class: "muted" }, t("staff.idle"));
  return el(
    "tr",
    { "data-counter": c.id, class: `st-${c.status}` },
    el("td", null, c.name),
    el("td", null, status),
    el("td", null, c.staff_name || "—"),
    el("td", null, serving),
    el("td", { class: "num" }, cur || c.idle_seconds !== null ? mmss(secs) : ""),
    el("td", { class: "num" }, c.waiting),
  );
}

function serviceRow(s, extra) {
  let estimate = "—";
  if (s.estimated_wait_seconds === null) estimate = t("staff.no_open_counter");
  else if (s.waiting) estimate = t("staff.minutes_about", { minutes: Math.round(s.estimated_wait_seconds / 60) });
  return el(
    "tr",
    { "data-service": s.id, class: s.over_threshold ? "over" : "" },
    el("td", null, s.name),
    el("td", { class: "num" }, s.waiting),
    el("td", { class: "num" }, s.waiting ? mmss(s.longest_wait_seconds + extra) : "—"),
    el("td", { class: "num" }, estimate),
    el("td", { class: "num" }, s.open_counters),
  );
}

function deviceRow(d) {
  const devices = d.devices.length
    ? d.devices.flatMap((x, i) => [
        i ? el("br") : null,
        `${x.name}: `,
        el("span", { class: `dev-${x.state}` }, x.state),
        x.reason ? ` (${x.reason})` : null,
      ])
    : "—";
  return el(
    "tr",
    { "data-station": d.id },
    el("td", null, d.name || d.code, " ", el("span", { class: "muted" }, d.code)),
    el(
      "td",
      null,
      el("span", { class: `sv-badge ${d.online ? "open" : "closed"}` }, t(d.online ? "staff.station_online" : "staff.station_offline")),
    ),
    el("td", null, devices),
  );
}

/** A label built from a server value, or the value itself for one the page does not know. */
const labelOr = (key, fallback) => (has(key) ? t(key) : fallback);

function render() {
  if (!data) return;
  const extra = since();
  const totals = data.totals;
  setChildren(
    byId("totals"),
    kpi(totals.waiting, "staff.kpi_waiting"),
    kpi(totals.open_counters, "staff.kpi_open_counters"),
    kpi(totals.served_today, "staff.kpi_served_today"),
    kpi(data.alerts.length, "staff.kpi_alerts", data.alerts.length > 0),
  );
  setChildren(
    byId("alerts"),
    data.alerts.length
      ? data.alerts.map((a) => el("li", { class: `sv-alert ${a.severity}`, "data-kind": a.kind }, a.message))
      : el("li", { class: "muted" }, t("staff.no_alerts")),
  );
  setChildren(root.querySelector("#counters tbody"), data.counters.map((c) => counterRow(c, extra)));
  setChildren(root.querySelector("#services tbody"), data.services.map((s) => serviceRow(s, extra)));
  setChildren(root.querySelector("#devices tbody"), data.devices.map(deviceRow));
}

/** The centre box's link to the province hub, one line; hidden where there is no hub. */
async function refreshLink() {
  const line = byId("sync-link");
  let link;
  try {
    link = await get(root.dataset.syncLink);
  } catch {
    return; // the overview's own error says what is wrong
  }
  line.hidden = !link.configured;
  if (!link.configured) return;
  const at = link.last_push_at;
  const last = at ? `${clock.time(at, { seconds: true })} ${clock.date(at)}` : t("staff.sync_never");
  const ok = !link.last_error;
  // The configuration the hub owns: last checked, or why it was not received.
  const config = link.config_error
    ? t("staff.sync_config_error", { error: link.config_error })
    : link.config_pulled_at
      ? t("staff.sync_config", { time: clock.time(link.config_pulled_at, { seconds: true }) })
      : "";
  setText(
    line,
    (ok && at
      ? t("staff.sync_ok", { time: clock.time(at, { seconds: true }), date: clock.date(at), pending: link.pending })
      : t("staff.sync_failing", { last, pending: link.pending })) + (config ? `; ${config}` : ""),
  );
  line.className = `sv-conn ${ok && at ? "ok" : "bad"}`;
  line.dataset.pending = link.pending;
}

async function refresh() {
  clearTimeout(pending);
  pending = null;
  try {
    data = await get(overviewUrl);
    fetchedAt = Date.now();
    if (data.server_time) clock.sync(data.server_time);
    setText(byId("updated"), clock.time(null, { seconds: true }));
    render();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      location.href = `/supervisor/login?next=${encodeURIComponent(location.pathname + location.search)}`;
      return;
    }
    showConn(t("staff.load_failed", { message: err.message }), false);
  }
}

function soon() {
  if (!pending) pending = setTimeout(refresh, 300);
}

function showConn(text, ok) {
  setText(conn, text);
  conn.className = `sv-conn ${ok ? "ok" : "bad"}`;
}

function onStatus(status) {
  if (status === "connected") return; // "live" once the snapshot says we are subscribed
  showConn(t(`staff.conn_${status}`), false);
}

const hall = new HallConnection({
  centreId,
  onSnapshot: () => {
    showConn(t("staff.conn_connected"), true);
    soon(); // the truth after every (re)connect
  },
  onEvent: soon,
  onStatus,
  watchdog: { silenceMs: 60000, reload: false },
}).start();

refresh();
setInterval(refresh, REFRESH_MS);
refreshLink();
setInterval(refreshLink, 3 * REFRESH_MS);
setInterval(render, 1000);

window.tthccSupervisor = { hall, clock, refresh, refreshLink };
