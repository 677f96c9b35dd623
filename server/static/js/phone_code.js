// The one-time code step of the phone pages (/lay-so, /dat-lich) when the centre sends
// SMS (docs/remote.md, "Phone ownership"): POST /api/v1/phone-verifications texts a code
// to the number typed; the page then asks «Nhập mã xác nhận đã gửi tới số …» and sends
// the code with the number. Without the step in the page (no SMS gateway), no code.

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";

export class PhoneCode {
  /** section: the page's #verify step, or null when the centre asks no code. */
  constructor(section, { onError }) {
    this.section = section;
    this.onError = onError;
    this.verification = null;
    this.phone = null;
    this.timer = null;
    if (!section) return;
    byId("resend").addEventListener("click", () => this.send(this.phone).catch((e) => this.onError(e.message)));
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

  async send(phone) {
    const sent = await api("POST", "phone-verifications", { body: { phone } });
    this.verification = sent.verification;
    this.phone = phone;
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

  /** What goes with the number: {verification, code}, or nothing without the step. */
  body() {
    if (!this.required) return {};
    return { verification: this.verification, code: byId("otp").value.replace(/\D/g, "") };
  }

  typed() {
    return !this.required || byId("otp").value.replace(/\D/g, "").length === 6;
  }

  reset() {
    if (!this.required) return;
    clearInterval(this.timer);
    this.verification = null;
    this.phone = null;
    this.section.hidden = true;
  }
}
