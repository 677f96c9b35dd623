// The staff member's session: a bearer token kept for the life of the tab (sessionStorage),
// every API call made with it, and one action at a time. A token the server no longer
// accepts (expired, logged out elsewhere) ends the session: changed("expired").

import { api } from "/assets/js/lib/api.js";
import { report } from "./notices.js";
import { changed, state } from "./state.js";

const K_SESSION = "tthcc.counter.session";
const DEFAULT_LIFETIME_S = 12 * 3600;
let expiryTimer = null;

/** The API, as this staff member. A 401 ends the session (the error is then `handled`). */
export async function call(method, path, body) {
  const token = state.session && state.session.token;
  try {
    return await api(method, path, { body, token });
  } catch (error) {
    if (error.status === 401 && token && state.session) {
      expire();
      error.handled = true;
    }
    throw error;
  }
}

/**
 * Run one action of the staff member at a time: while it is in flight the page's buttons
 * are disabled (a double press does nothing); its error, if any, reaches the banner.
 * Resolves to the action's result, or undefined if it failed or another one was running.
 */
export async function run(action) {
  if (state.busy) return undefined;
  state.busy = true;
  changed("busy");
  try {
    return await action();
  } catch (error) {
    report(error);
    return undefined;
  } finally {
    state.busy = false;
    changed("busy");
  }
}

/** Log in; resolves to the user. Throws the API's error (wrong password: 401, not an expiry). */
export async function logIn(username, password) {
  const data = await api("POST", "auth/token", { body: { username, password } });
  state.session = {
    token: data.token,
    user: data.user,
    expires_at: Date.now() + (data.expires_in || DEFAULT_LIFETIME_S) * 1000,
  };
  sessionStorage.setItem(K_SESSION, JSON.stringify(state.session));
  armExpiry();
  return data.user;
}

/** The session this tab already had: "ok", "expired" (it had one) or "none". */
export function restore() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(K_SESSION));
  } catch {
    saved = null;
  }
  if (!saved) return "none";
  if (!saved.token || !(saved.expires_at > Date.now())) {
    sessionStorage.removeItem(K_SESSION);
    return "expired";
  }
  state.session = saved;
  armExpiry();
  return "ok";
}

function armExpiry() {
  clearTimeout(expiryTimer);
  const left = state.session.expires_at - Date.now();
  expiryTimer = setTimeout(expire, Math.min(Math.max(left, 0), 2 ** 31 - 1));
}

/** Forget the session (the token stays valid on the server until logout or expiry). */
export function endSession() {
  clearTimeout(expiryTimer);
  state.session = null;
  sessionStorage.removeItem(K_SESSION);
}

/** Tell the server the session is over (best effort), then forget it. */
export async function logOut() {
  const token = state.session && state.session.token;
  endSession();
  if (token) await api("POST", "auth/logout", { token }).catch(() => {});
}

function expire() {
  if (!state.session) return;
  endSession();
  changed("expired");
}

export const roleName = (role) => ({ staff: "cán bộ", supervisor: "giám sát", admin: "quản trị" })[role] || role;
