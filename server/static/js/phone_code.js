// The one-time code step of the phone pages (/lay-so, /dat-lich) when the centre sends
// SMS (docs/remote.md, "Phone ownership"): POST /api/v1/phone-verifications texts a code
// to the number typed; the page then asks «Nhập mã xác nhận đã gửi tới số …» and sends
// the code with the number. Without the step in the page (no SMS gateway), no code.

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";

// A number proved today stays proved until the day ends (docs/remote.md): the page keeps
// the verification in this browser (localStorage, this day only) and sends it back without
// a code for a second number, a booking or messages; the server decides.
const PROOF_KEY = "tthcc-phone-proof";
const digits = (phone) => String(phone || "").replace(/\D/g, "").replace(/^84/, "0");
const today = () => new Date().toDateString();

/** The verification that proved `phone` today in this browser, or null. */
export function provedToday(phone) {
  try {
    const kept = JSON.parse(localStorage.getItem(PROOF_KEY) || "null");
    if (kept && kept.day === today() && kept.phone === digits(phone)) return kept.verification;
    if (kept && kept.day !== today()) localStorage.removeItem(PROOF_KEY);
  } catch {
    /* no storage (a private window): a code each time */
  }
  return null;
}

export function rememberProof(verification, phone) {
  try {
    localStorage.setItem(PROOF_KEY, JSON.stringify({ verification, phone: digits(phone), day: today() }));
  } catch {
    /* no storage: nothing remembered */
  }
}

export function forgetProof() {
  try {
    localStorage.removeItem(PROOF_KEY);
  } catch {
    /* nothing kept */
  }
}

/** The server no longer takes the kept proof: ask for a code instead. */
export const PROOF_REFUSED = new Set(["phone_code_required", "phone_verification_unknown", "phone_code_other_number"]);

export class PhoneCode {
  /** section: the page's #verify step, or null when the centre asks no code. */
  constructor(section, { onError }) {
    this.section = section;
    this.onError = onError;
    this.verification = null;
    this.phone = null;
    this.context = {};
    this.timer = null;
    if (!section) return;
    byId("resend").addEventListener("click", () => this.send(this.phone, this.context).catch((e) => this.onError(e.message)));
    byId("change-phone").addEventListener("click", () => {
      this.reset();
      byId("phone").focus();
    });
  }

  get required() {
    return Boolean(this.section);
  }

  /** A code was sent to `phone` and waits to be typed. */
  sentTo(phone) {
    return this.required && this.verification !== null && this.phone === phone;
  }

  /** Text a code to `phone`; `context` ({service_id} on /lay-so, {hold} on /dat-lich):
   * refused, with the number's or the booking's own message and no SMS, when it could
   * not be taken now. */
  async send(phone, context = {}) {
    const sent = await api("POST", "phone-verifications", { body: { phone, ...context } });
    this.verification = sent.verification;
    this.phone = phone;
    this.context = context;
    setText(byId("verify-phone"), sent.phone);
    byId("otp").value = "";
    this.section.hidden = false;
    byId("otp").focus();
    this.cooldown(sent.resend_after);
  }

  cooldown(seconds) {
    clearInterval(this.timer);
    const resend = byId("resend");
    const until = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      resend.disabled = left > 0;
      setText(byId("resend-wait"), left > 0 ? `(${left} giây)` : "");
      if (left <= 0) clearInterval(this.timer);
    };
    tick();
    this.timer = setInterval(tick, 1000);
  }

  /** `phone` was proved today in this browser: no code step. */
  proved(phone) {
    return this.required && provedToday(phone) !== null;
  }

  /** What goes with the number: {verification, code}, the day's proof, or nothing. */
  body(phone) {
    if (!this.required) return {};
    const proof = provedToday(phone);
    if (proof && !this.sentTo(phone)) return { verification: proof };
    return { verification: this.verification, code: byId("otp").value.replace(/\D/g, "") };
  }

  typed(phone) {
    return !this.required || this.proved(phone) || byId("otp").value.replace(/\D/g, "").length === 6;
  }

  /** The number or booking was taken: keep its proof for the rest of the day. */
  accepted(phone) {
    if (this.required && this.sentTo(phone)) rememberProof(this.verification, phone);
  }

  reset() {
    if (!this.required) return;
    clearInterval(this.timer);
    this.verification = null;
    this.phone = null;
    this.section.hidden = true;
  }
}
