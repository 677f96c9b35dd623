// Lấy số từ xa (/lay-so): POST /api/v1/remote-tickets with the chosen service and the
// phone number (and, with an SMS gateway, the code texted to it: phone_code.js), then the
// number and its six-digit check-in code (docs/remote.md), and
// "Nhận thông báo" for it (docs/notifications.md). Each press of «Lấy số» has its
// Idempotency-Key, sent again on every retry while the answer is lost (the hall's Wi-Fi),
// and by the next press for the same service and number after a failure: one number
// (docs/remote.md, "Retries").

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { mountNotify } from "/assets/js/notify.js";
import { newRequestId, withRetries } from "/assets/js/lib/retry.js";
import { forgetProof, PhoneCode, PROOF_REFUSED } from "/assets/js/phone_code.js";

const form = byId("remote-form");

function fail(message, messageEn = "") {
  const node = byId("error");
  setText(node, message);
  if (messageEn) {
    const en = document.createElement("span");
    en.className = "en";
    en.textContent = messageEn;
    node.append(en);
  }
  node.hidden = false;
}

// The press whose answer may be lost: pressing «Lấy số» again for the same service and
// number sends its key again (a number taken unseen is answered, never a second one).
let unanswered = null;

function keyFor(serviceId, phone) {
  if (!unanswered || unanswered.serviceId !== serviceId || unanswered.phone !== phone) {
    unanswered = { serviceId, phone, key: newRequestId("p") };
  }
  return unanswered.key;
}

/** POST /remote-tickets for one press, retried with its key while the answer is lost,
 *  saying «Đang thử lại…» meanwhile. */
async function takeNumber(body) {
  const headers = { "Idempotency-Key": keyFor(body.service_id, body.phone) };
  const status = byId("retrying");
  try {
    const ticket = await withRetries((timeoutMs) => api("POST", "remote-tickets", { body, headers, timeoutMs }), {
      onRetry: () => {
        status.hidden = false;
      },
    });
    unanswered = null;
    return ticket;
  } catch (error) {
    // A refusal (4xx) was an answer: nothing was taken with this key. After no answer or a
    // 5xx, the next press for the same service and number sends the key again.
    if (error.kind === "client") unanswered = null;
    throw error;
  } finally {
    status.hidden = true;
  }
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
        ticket = await takeNumber(body);
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
      if (error.retried || error.kind === "network" || error.kind === "timeout") {
        fail(
          "Chưa kết nối được với hệ thống. Quý khách vui lòng kiểm tra mạng rồi bấm «Lấy số» lại: bấm lại không cấp thêm số thứ hai.",
          "The system cannot be reached. Please check your connection and press «Get a number» again: pressing again never gives you a second number.",
        );
      } else {
        fail(error.message, error.messageEn);
      }
    } finally {
      byId("submit").disabled = false;
    }
  });
}
