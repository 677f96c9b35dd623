// Calls to the JSON API (/api/v1). Every error becomes an ApiError with the server's
// Vietnamese message and its English one ({error, message, message_en}), or a label of
// ours when the server could not say anything (network down, timeout, a proxy's page).

import { both } from "./labels.js";

export const API_ROOT = "/api/v1";
const TIMEOUT_MS = 10000;

export class ApiError extends Error {
  /**
   * kind: "network" (no answer), "timeout", "client" (4xx: the message is for the person
   * at the screen), "server" (5xx). code: the server's `error` (e.g. "invalid_input").
   */
  constructor({ kind, status = 0, code = null, message, messageEn = "", body = null }) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.messageEn = messageEn;
    this.body = body;
  }
}

function fromBody(status, body) {
  let vi = body && typeof body.message === "string" ? body.message : "";
  let en = body && typeof body.message_en === "string" ? body.message_en : "";
  const cut = vi.indexOf(" / "); // some messages carry "Vietnamese / English" in one
  if (!en && cut > 0) [vi, en] = [vi.slice(0, cut), vi.slice(cut + 3)];
  const code = (body && typeof body.error === "string" && body.error) || null;
  if (status >= 500 || !vi) {
    const fallback = both("common.server_error");
    return new ApiError({ kind: status >= 500 ? "server" : "client", status, code, message: vi || fallback.vi, messageEn: en || fallback.en, body });
  }
  return new ApiError({ kind: "client", status, code, message: vi, messageEn: en, body });
}

/**
 * fetch JSON. path: relative to /api/v1 ("tickets/5") or from the site root ("/api/v1/…").
 * options: body (sent as JSON), token (Bearer), timeoutMs, signal, headers.
 * Returns the parsed body (null for an empty one); throws ApiError.
 */
export async function api(method, path, options = {}) {
  const { body, token, timeoutMs = TIMEOUT_MS, signal, headers = {} } = options;
  const url = /^(https?:)?\/\//.test(path) || path.startsWith("/") ? path : `${API_ROOT}/${path}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort("timeout"), timeoutMs);
  if (signal) signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  const request = { method, headers: { Accept: "application/json", ...headers }, signal: controller.signal };
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(body);
  }
  if (token) request.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, request);
  } catch (err) {
    clearTimeout(timer);
    const timedOut = controller.signal.aborted && controller.signal.reason === "timeout";
    if (signal && signal.aborted) throw err; // the caller gave up: not an error to show
    const text = both(timedOut ? "common.timeout" : "common.network_error");
    throw new ApiError({ kind: timedOut ? "timeout" : "network", message: text.vi, messageEn: text.en });
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // a proxy's HTML error page, or a body cut by the timeout
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw fromBody(response.status, data);
  return data;
}

export const get = (path, options) => api("GET", path, options);
export const post = (path, body, options = {}) => api("POST", path, { ...options, body });
