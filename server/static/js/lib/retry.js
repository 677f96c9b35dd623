// A press that is safe to send again (a ticket or a phone's number with its Idempotency-Key,
// a check-in by its code), retried while its answer is lost (docs/numbering.md, "Retries").
// Used by the kiosk (kiosk/static/js/ticket-result.js) and the phone page /lay-so
// (server/static/js/remote.js).

/** A press's idempotency key (the Idempotency-Key header, 16–64 of A-Z a-z 0-9 _ . : -):
 *  every retry of one press sends it, so a lost answer never gives a second number.
 *  `prefix`: who chose it ("k" the kiosk, "p" the phone page), for the logs. */
export function newRequestId(prefix = "k") {
  // crypto.randomUUID needs a secure context; a kiosk on plain http over the LAN has none.
  const random = new Uint32Array(3);
  crypto.getRandomValues(random);
  return `${prefix}-${Date.now().toString(36)}-${Array.from(random, (n) => n.toString(36).padStart(7, "0")).join("")}`;
}

/** How long one press keeps trying when the server cannot be reached or answers 502, 503
 *  or 504 (a process that died, a proxy without a backend), and the waits in between. */
export const RETRY_FOR_MS = 10000;
const RETRY_WAITS_MS = [300, 700, 1500, 2500];
const RETRY_STATUSES = [502, 503, 504];

/** No answer, or a gateway's or a dying process's 502/503/504. A 503 with an `error` code
 *  is the server's own answer (number_range_exhausted): asking again changes nothing. */
export function retriable(error) {
  if (!error) return false;
  return error.kind === "network" || error.kind === "timeout" || (RETRY_STATUSES.includes(error.status) && !error.code);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** send(timeoutMs) again while its answer is lost (no answer, a timeout, a bare 502/503/
 *  504), for up to retryForMs; onRetry(attempt) before each retry. Only for requests that
 *  are safe to repeat: a ticket with its Idempotency-Key, a check-in by its code. Throws the
 *  last ApiError; one that outlived the retries has `retried` set. */
export async function withRetries(send, { onRetry = () => {}, retryForMs = RETRY_FOR_MS } = {}) {
  const deadline = Date.now() + retryForMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      // An attempt may not outlast the press by much: a stalled link is given up on.
      return await send(Math.max(1500, Math.min(6000, deadline - Date.now())));
    } catch (error) {
      const wait = RETRY_WAITS_MS[Math.min(attempt, RETRY_WAITS_MS.length - 1)];
      if (!retriable(error)) throw error;
      if (Date.now() + wait >= deadline) {
        error.retried = true;
        throw error;
      }
      onRetry(attempt + 1);
      await sleep(wait);
    }
  }
}
