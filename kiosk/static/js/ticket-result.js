// Taking a ticket and showing it, the same on every kiosk page (the ticket screen, a
// procedure's "Lấy số", a dossier's "Lấy số nhận kết quả"): the number, the service, the
// counters that serve it, the people ahead and the wait estimate; then the printer's answer
// ("Mời quý khách nhận phiếu"), or, when it fails or stays silent, the number on screen with
// a QR code of the ticket's page (when phones can reach it).
// The markup is kiosk/templates/kiosk/_result.html and _refusal.html.

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { t, en } from "/assets/js/lib/labels.js";
import { newRequestId, RETRY_FOR_MS, withRetries } from "/assets/js/lib/retry.js";

const POLL_MS = 1000;

// The press's key and its retries are shared with the phone page (lib/retry.js).
export { newRequestId, RETRY_FOR_MS, withRetries };

/** POST /tickets for one press, retried with the same key while the answer is lost
 *  (docs/numbering.md, "Retries"). Throws the api's ApiError (withRetries). */
export function issueTicket({ serviceId, categoryId = null, stationId = null, requestId = newRequestId(), idScan = null, onRetry, retryForMs }) {
  const body = { service_id: serviceId };
  // An ID card the citizen agreed to link (docs/privacy.md): its token, and the name choice.
  if (idScan) Object.assign(body, { id_scan: idScan.token, print_name: idScan.printName });
  if (categoryId !== null && categoryId !== undefined) body.priority_category = categoryId;
  if (Number.isInteger(stationId)) body.station_id = stationId;
  const headers = { "Idempotency-Key": requestId };
  return withRetries((timeoutMs) => api("POST", "tickets", { body, headers, timeoutMs }), { onRetry, retryForMs });
}

/** A press's status line («Đang lấy số…»): retrying() says «Đang thử lại…», done() puts
 *  the first text back for the next press. */
export function retryStatus(node) {
  if (!node) return { retrying() {}, done() {} };
  const saved = Array.from(node.childNodes, (child) => child.cloneNode(true));
  return {
    retrying() {
      both(node, "kiosk.retrying");
      node.dataset.retrying = "true";
    },
    done() {
      if (!node.dataset.retrying) return;
      node.replaceChildren(...saved);
      delete node.dataset.retrying;
    },
  };
}

function both(node, key, values) {
  // "<vi><span class=en>en</span>"
  node.textContent = t(key, values);
  const small = document.createElement("span");
  small.className = "en";
  small.textContent = en(key, values);
  node.append(small);
}

/** The title of a refusal by hours, cut-off or cap, by the server's reason. */
const LIMIT_TITLES = {
  closed: "kiosk.closed_title",
  day_off: "kiosk.day_off_title",
  closure: "kiosk.closure_title",
  cutoff: "kiosk.cutoff_title",
  full: "kiosk.full_title",
  remote_only: "kiosk.remote_only_title",
};
const LIMIT_CODES = { full: "daily_cap_reached", remote_only: "remote_only", closure: "centre_closed" };

/** The error a greyed service of the list stands for (its availability from the catalogue),
 *  shaped like the API's refusal, so a tap on it explains itself without a request. */
export function availabilityError(availability) {
  return {
    kind: "client",
    code: LIMIT_CODES[availability.state] || "outside_opening_hours",
    message: availability.message,
    messageEn: availability.message_en,
    body: { reason: availability.state, next_opening: availability.next_opening },
  };
}

/** What to say when no ticket was issued: {title, message, messageEn, exhausted, kind}. */
export function refusal(error, serviceName = "") {
  if (error && ["outside_opening_hours", "daily_cap_reached", "remote_only", "centre_closed"].includes(error.code)) {
    // Not today (or not now, or not here): the server's message says when or where.
    const body = error.body || {};
    const reason = { daily_cap_reached: "full", remote_only: "remote_only" }[error.code] || body.reason || "closed";
    const title = LIMIT_TITLES[reason] || LIMIT_TITLES.closed;
    return {
      exhausted: true,
      kind: reason === "full" ? "full" : "closed",
      title: t(title),
      titleEn: en(title),
      message: error.message || t(title),
      messageEn: error.messageEn || en(title),
    };
  }
  if (error && error.code === "number_range_exhausted") {
    const body = error.body || {};
    return {
      exhausted: true,
      title: t("kiosk.exhausted_title"),
      titleEn: en("kiosk.exhausted_title"),
      message: body.message || t("kiosk.exhausted", { service: serviceName }),
      messageEn: body.message_en || en("kiosk.exhausted", { service: serviceName }),
    };
  }
  const network = error && (error.kind === "network" || error.kind === "timeout");
  // A 4xx message is meant for the person at the screen; a 5xx one never is.
  const own = error && error.kind === "client" && error.message;
  // After the retries the ticket may exist: «Thử lại» sends the same key, never a second one.
  const key = error && error.retried ? "kiosk.retry_failed" : network ? "kiosk.network" : "kiosk.busy";
  return {
    exhausted: false,
    title: t("kiosk.refused_title"),
    titleEn: en("kiosk.refused_title"),
    message: own ? error.message : t(key),
    messageEn: own ? error.messageEn || "" : en(key),
  };
}

/** Fill the refusal screen (_refusal.html) and return it; retry hides its button. */
export function showRefusal(error, serviceName = "", { retry = true } = {}) {
  const r = refusal(error, serviceName);
  const screen = byId("screen-error");
  screen.dataset.kind = r.kind || (r.exhausted ? "exhausted" : "refused");
  setText(byId("error-title"), r.title);
  setText(byId("error-title-en"), r.titleEn);
  setText(byId("error-message"), r.message);
  setText(byId("error-message-en"), r.messageEn);
  // A full range, a closed or full service: trying again now gives the same answer.
  byId("btn-retry").hidden = r.exhausted || !retry;
  return screen;
}

export class TicketResult {
  /** qrUrl: the kiosk's QR image route with CODE in it; categories: [{id, name}]. */
  constructor({ qrUrl, printTimeoutMs, categories = [] }) {
    this.qrUrl = qrUrl;
    this.printTimeoutMs = printTimeoutMs;
    this.categories = categories;
    this.ticket = null;
    this.early = new Map(); // print.status that came before the ticket's answer
    this.timers = [];
  }

  get section() {
    return byId("screen-result");
  }

  /** A print.status from the hall connection (the kiosk station's room). */
  printStatus(payload) {
    if (!payload || typeof payload.ticket_id !== "number") return;
    if (this.early.size > 50) this.early.clear(); // a kiosk runs for weeks
    this.early.set(payload.ticket_id, payload.status);
    if (this.ticket && payload.ticket_id === this.ticket.id) this.settle(payload.status);
  }

  show(ticket) {
    this.stop();
    this.ticket = ticket;
    setText(byId("result-number"), ticket.number);
    setText(byId("result-service"), ticket.service_name);
    const category = this.categories.find((c) => c.id === ticket.priority_category_id);
    const priority = byId("result-priority");
    priority.hidden = !category;
    if (category) setText(priority, t("kiosk.priority", { name: category.name }));
    const counters = byId("result-counters");
    counters.hidden = !(ticket.counters && ticket.counters.length);
    if (!counters.hidden) both(counters, "kiosk.counters", { counters: ticket.counters.join(", ") });
    setText(byId("result-ahead"), ticket.waiting_ahead);
    const estimate = byId("result-estimate");
    estimate.hidden = !ticket.estimate;
    if (ticket.estimate) {
      estimate.textContent = t("kiosk.estimate", { text: ticket.estimate.text });
      const small = document.createElement("span");
      small.className = "en";
      small.textContent = en("kiosk.estimate", { text: ticket.estimate.text_en });
      estimate.append(small);
    }
    const qr = byId("result-qr");
    qr.removeAttribute("src");
    qr.hidden = true;
    if (!ticket.print_job_id) {
      this.setPrint("fallback"); // no station or no printer: nothing will come out
      return;
    }
    this.setPrint("pending");
    // A retry's answer (Idempotent-Replayed) carries the job's status: it may be printed.
    this.settle(ticket.print_status);
    const early = this.early.get(ticket.id);
    if (early) this.settle(early);
    this.poll(ticket);
    this.timers.push(
      setTimeout(() => {
        if (this.ticket === ticket && this.section.dataset.print === "pending") this.setPrint("fallback");
      }, this.printTimeoutMs),
    );
  }

  /** The printer's answer arrives on the socket; the API is asked too, in case it is down.
   *  A late "printed" still wins over the fallback shown after the timeout. */
  poll(ticket) {
    const again = () => {
      if (this.ticket !== ticket || this.settled) return;
      api("GET", `tickets/${ticket.id}`)
        .then((fresh) => this.settle(fresh.print_status))
        .catch(() => {})
        .finally(() => {
          if (this.ticket === ticket && !this.settled) this.timers.push(setTimeout(again, POLL_MS));
        });
    };
    this.timers.push(setTimeout(again, POLL_MS));
  }

  settle(status) {
    if (this.settled || !this.ticket) return;
    if (status === "printed") {
      this.settled = true;
      this.setPrint("printed");
    } else if (status === "failed") {
      this.settled = true;
      this.setPrint("fallback");
    }
  }

  setPrint(status) {
    this.section.dataset.print = status;
    if (status !== "fallback" || !this.ticket) return;
    const qr = byId("result-qr");
    const phones = Boolean(this.ticket.public_url);
    if (phones) {
      qr.src = this.qrUrl.replace("CODE", encodeURIComponent(this.ticket.public_code));
      qr.hidden = false;
    }
    both(byId("fallback-message"), phones ? "kiosk.print_failed_qr" : "kiosk.print_failed");
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.ticket = null;
    this.settled = false;
  }
}
