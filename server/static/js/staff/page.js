// What the staff pages share (the supervisor's devices, the dossier desk, dossier deadlines,
// feedback): the page's config, the centre's clock, logging in with the session cookie,
// and the page's error line. Texts: server/labels/staff.py.

import { api } from "/assets/js/lib/api.js";
import { CentreClock } from "/assets/js/lib/clock.js";
import { byId, jsonBlock } from "/assets/js/lib/dom.js";
import { both, t } from "/assets/js/lib/labels.js";

/** {centre_id, server_time, …} rendered by the server (staff_config() in server/web/public/front_door.py). */
export const config = jsonBlock("staff-config", {}) || {};

/** "centre_id=3" for the page's centre ("" when the server named none). */
export const centreQuery = () => (config.centre_id ? `centre_id=${config.centre_id}` : "");

/** The centre's clock: times shown in the centre's zone, whatever the PC's. */
export const clock = new CentreClock();
if (config.server_time) clock.sync(config.server_time);

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "25/11/2026" for a calendar day, "08:58 25/11/2026" for a moment (centre's clock). */
export function stamp(value) {
  if (!value) return "";
  const day = DATE_ONLY.exec(value);
  if (day) return `${day[3]}/${day[2]}/${day[1]}`;
  if (Number.isNaN(Date.parse(value))) return String(value);
  return `${clock.time(value)} ${clock.date(value)}`;
}

/** Show an error (an ApiError's Vietnamese message) on the page's error line. */
export function showError(err) {
  const line = byId("error");
  line.textContent = err && err.message ? err.message : String(err);
  line.hidden = false;
}

export function hideError() {
  byId("error").hidden = true;
}

/**
 * Show the login form until someone with one of `roles` is logged in (session cookie);
 * resolves with the user once, when the page may load.
 */
export function requireLogin(roles) {
  const box = byId("login");
  const app = byId("app");
  const error = byId("login-error");
  let done = null;
  const ready = new Promise((resolve) => {
    done = resolve;
  });
  const enter = (user) => {
    if (!roles.includes(user.role)) {
      const text = both("staff.not_allowed");
      error.textContent = `${text.vi} / ${text.en}`;
      error.hidden = false;
      box.hidden = false;
      app.hidden = true;
      return;
    }
    box.hidden = true;
    app.hidden = false;
    const who = document.getElementById("who");
    if (who) who.textContent = t("staff.who", { name: user.full_name || user.username, role: user.role });
    done(user);
  };
  api("GET", "auth/me").then(
    (body) => enter(body.user),
    () => {
      box.hidden = false;
    },
  );
  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const body = await api("POST", "auth/login", {
        body: { username: byId("username").value.trim(), password: byId("password").value },
      });
      enter(body.user);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async (event) => {
      event.preventDefault();
      await api("POST", "auth/logout").catch(() => null);
      location.reload();
    });
  }
  return ready;
}
