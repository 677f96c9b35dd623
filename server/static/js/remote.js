// Lấy số từ xa (/lay-so): POST /api/v1/remote-tickets with the chosen service and the
// phone number (and, with an SMS gateway, the code texted to it: phone_code.js), then the
// number and its six-digit check-in code (docs/remote.md), and
// "Nhận thông báo" for it (docs/notifications.md).

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { mountNotify } from "/assets/js/notify.js";
import { forgetProof, PhoneCode, PROOF_REFUSED } from "/assets/js/phone_code.js";

const form = byId("remote-form");

function fail(message) {
  setText(byId("error"), message);
  byId("error").hidden = false;
}

if (form) {
  // With an SMS gateway: the code texted to the number first (docs/remote.md).
  const code = new PhoneCode(form.dataset.verify === "1" ? byId("verify") : null, { onError: fail });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=service]:checked");
    const phone = byId("phone").value.trim();
    if (!chosen) {
      fail("Vui lòng chọn dịch vụ.");
      return;
    }
    if (!phone) {
      fail("Vui lòng nhập số điện thoại di động.");
      return;
    }
    byId("submit").disabled = true;
    byId("error").hidden = true;
    const serviceId = Number(chosen.value);
    try {
      if (code.required && !code.sentTo(phone) && !code.proved(phone)) {
        // Refused with the number's own message (quota, hours, cap), no SMS, when the
        // number could not be taken; else «Nhập mã xác nhận đã gửi tới số …».
        await code.send(phone, { service_id: serviceId });
        return;
      }
      if (!code.typed(phone)) {
        fail("Vui lòng nhập đủ 6 chữ số của mã xác nhận.");
        return;
      }
      const body = { service_id: serviceId, phone, ...code.body(phone) };
      let ticket;
      try {
        ticket = await api("POST", "remote-tickets", { body });
      } catch (error) {
        if (code.required && !("code" in body) && PROOF_REFUSED.has(error.code)) {
          forgetProof(); // the day's proof is over: a code as usual
          await code.send(phone, { service_id: serviceId });
          return;
        }
        throw error;
      }
      code.accepted(phone);
      setText(byId("number"), ticket.number);
      setText(byId("service"), ticket.service_name);
      setText(byId("code"), ticket.remote.code);
      byId("follow").href = `/t/${encodeURIComponent(ticket.public_code)}`;
      form.hidden = true;
      code.reset();
      byId("done").hidden = false;
      mountNotify(ticket.public_code, { phone }); // "Nhận thông báo" for the new number
    } catch (error) {
      fail(error.message);
    } finally {
      byId("submit").disabled = false;
    }
  });
}
