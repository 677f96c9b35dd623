// Đặt lịch hẹn (/dat-lich): the service's free slots (GET /api/v1/appointments/slots), a
// slot held while the phone number is typed (POST appointment-holds), the booking (POST
// appointments) with its code and QR; change (PATCH) and cancel (DELETE) by the code
// (docs/appointments.md). Each press of «Xác nhận đặt lịch» has its Idempotency-Key, sent
// again on every retry while the answer is lost (the hall's Wi-Fi), and by the next press
// for the same hold and number after a failure: one booking (docs/appointments.md,
// "Retries").

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { newRequestId, withRetries } from "/assets/js/lib/retry.js";
import { forgetProof, PhoneCode, PROOF_REFUSED } from "/assets/js/phone_code.js";

const root = byId("appt");
const form = byId("book-form");
const WEEKDAYS = ["CN", "T2", "T3", "T4", "T5", "T6", "T7"];
let days = [];
let hold = null; // {token, until}
let timer = null;
let changing = null; // the code of the booking being moved
// With an SMS gateway: the code texted to the number first (docs/remote.md).
const phoneCode = new PhoneCode(root && root.dataset.verify === "1" ? byId("verify") : null, {
  onError: (message) => fail(message),
});

const hhmm = (iso) => iso.slice(11, 16);
const ddmm = (iso) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
const dayLabel = (iso) => `${WEEKDAYS[new Date(`${iso}T12:00:00`).getDay()]}, ${ddmm(iso)}`;

function fail(message) {
  setText(byId("error"), message);
  byId("error").hidden = !message;
}

// The press whose answer may be lost: pressing «Xác nhận đặt lịch» again for the same hold
// and number sends its key again (a booking made unseen is answered, never a second one).
let unanswered = null;

function keyFor(holdToken, phone) {
  if (!unanswered || unanswered.hold !== holdToken || unanswered.phone !== phone) {
    unanswered = { hold: holdToken, phone, key: newRequestId("b") };
  }
  return unanswered.key;
}

/** POST /appointments for one press, retried with its key while the answer is lost,
 *  saying «Đang thử lại…» meanwhile. */
async function book(body) {
  const headers = { "Idempotency-Key": keyFor(body.hold, body.phone) };
  const status = byId("retrying");
  try {
    const booking = await withRetries((timeoutMs) => api("POST", "appointments", { body, headers, timeoutMs }), {
      onRetry: () => {
        status.hidden = false;
      },
    });
    unanswered = null;
    return booking;
  } catch (error) {
    // A refusal (4xx) was an answer: nothing was booked with this key. After no answer or
    // a 5xx, the next press for the same hold and number sends the key again.
    if (error.kind === "client") unanswered = null;
    throw error;
  } finally {
    status.hidden = true;
  }
}

function serviceId() {
  const chosen = form.querySelector("input[name=service]:checked");
  return chosen ? Number(chosen.value) : null;
}

async function loadSlots() {
  const id = serviceId();
  if (!id) return;
  try {
    const body = await api("GET", `appointments/slots?service_id=${id}`);
    days = body.days;
  } catch (error) {
    days = [];
    fail(error.message);
  }
  const select = byId("day");
  const keep = select.value;
  select.replaceChildren(...days.map((d) => new Option(dayLabel(d.day), d.day)));
  if (days.some((d) => d.day === keep)) select.value = keep;
  showSlots();
}

function showSlots() {
  const day = days.find((d) => d.day === byId("day").value);
  const buttons = (day ? day.slots : []).map((slot) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "p-slot";
    b.dataset.start = slot.start;
    b.disabled = slot.free < 1;
    b.setAttribute("aria-pressed", String(Boolean(hold && hold.start === slot.start)));
    b.append(hhmm(slot.start));
    const note = document.createElement("small");
    note.textContent = slot.free < 1 ? "Hết chỗ" : `Còn ${slot.free} chỗ`;
    b.append(note);
    return b;
  });
  byId("slots").replaceChildren(...buttons);
  byId("no-slots").hidden = days.length > 0;
}

function stopHold() {
  clearInterval(timer);
  hold = null;
  byId("held").hidden = true;
}

function tick() {
  const left = Math.max(0, Math.round((hold.until - Date.now()) / 1000));
  setText(byId("countdown"), `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`);
  if (left === 0) {
    stopHold();
    fail("Hết thời gian giữ chỗ: quý khách vui lòng chọn lại giờ hẹn. / The hold expired: choose a time again.");
    loadSlots();
  }
}

async function pick(start) {
  fail("");
  try {
    if (changing) {
      showBooking(await api("PATCH", `appointments/${changing}`, { body: { start } }));
      return;
    }
    const held = await api("POST", "appointment-holds", { body: { service_id: serviceId(), start } });
    clearInterval(timer);
    hold = { token: held.hold, start, until: Date.now() + Number(root.dataset.holdMinutes) * 60000 };
    setText(byId("held-when"), `${hhmm(start)} ${dayLabel(start.slice(0, 10))}`);
    byId("held").hidden = false;
    tick();
    timer = setInterval(tick, 1000);
    showSlots();
    byId("phone").focus();
  } catch (error) {
    fail(error.message);
    loadSlots();
  }
}

function showBooking(booking) {
  stopHold();
  phoneCode.reset();
  changing = null;
  form.hidden = true;
  byId("cancelled").hidden = true;
  setText(byId("when"), `${hhmm(booking.start)} ${dayLabel(booking.start.slice(0, 10))}`);
  setText(byId("service"), booking.service);
  setText(byId("code"), booking.code);
  byId("qr").src = booking.qr_url;
  const told = (booking.notify || [])[0];
  byId("notify-to").hidden = !told;
  setText(byId("notify-to"), told ? `Tin nhắn xác nhận được gửi tới số ${told.phone}. / A text message goes to ${told.phone}.` : "");
  byId("done").hidden = false;
  byId("done").dataset.code = booking.code;
  byId("done").dataset.service = booking.service_id;
}

if (form) {
  form.addEventListener("change", (event) => {
    if (event.target.name === "service") {
      stopHold();
      loadSlots();
    } else if (event.target.id === "day") showSlots();
  });
  byId("slots").addEventListener("click", (event) => {
    const button = event.target.closest("button.p-slot");
    if (button && !button.disabled) pick(button.dataset.start);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!hold) return fail("Vui lòng chọn giờ hẹn. / Choose a time.");
    const phone = byId("phone").value.trim();
    if (!phone) return fail("Vui lòng nhập số điện thoại di động. / Enter your mobile number.");
    byId("confirm").disabled = true;
    try {
      if (phoneCode.required && !phoneCode.sentTo(phone) && !phoneCode.proved(phone)) {
        fail("");
        await phoneCode.send(phone, { hold: hold.token }); // «Nhập mã xác nhận đã gửi tới số …», then confirm again
        return;
      }
      if (!phoneCode.typed(phone)) return fail("Vui lòng nhập đủ 6 chữ số của mã xác nhận. / Type the 6-digit code.");
      const body = { hold: hold.token, phone, ...phoneCode.body(phone) };
      // The consent to messages about the booking (shown when the centre sends SMS).
      // The checkbox is on the page only with an SMS gateway (byId throws when it is not).
      const consent = document.getElementById("notify");
      if (consent && consent.checked) Object.assign(body, { notify: true, notify_channel: "sms" });
      let booking;
      try {
        booking = await book(body);
      } catch (error) {
        if (phoneCode.required && !("code" in body) && PROOF_REFUSED.has(error.code)) {
          forgetProof(); // the day's proof is over: a code as usual
          fail("");
          await phoneCode.send(phone, { hold: hold.token });
          return;
        }
        throw error;
      }
      phoneCode.accepted(phone); // proved for the rest of the day
      showBooking(booking);
    } catch (error) {
      if (error.retried || error.kind === "network" || error.kind === "timeout") {
        fail(
          "Chưa kết nối được với hệ thống. Quý khách vui lòng kiểm tra mạng rồi bấm «Xác nhận đặt lịch» lại: bấm lại không đặt thêm lịch thứ hai. / The system cannot be reached. Please check your connection and press «Confirm the booking» again: pressing again never books a second appointment.",
        );
        return;
      }
      fail(error.message);
      if (error.code === "hold_expired") {
        stopHold();
        loadSlots();
      }
    } finally {
      byId("confirm").disabled = false;
    }
  });
  byId("change").addEventListener("click", () => {
    const done = byId("done");
    changing = done.dataset.code;
    const radio = form.querySelector(`input[name=service][value="${done.dataset.service}"]`);
    if (radio) radio.checked = true;
    done.hidden = true;
    form.hidden = false;
    fail("");
    loadSlots();
  });
  byId("cancel").addEventListener("click", async () => {
    try {
      await api("DELETE", `appointments/${byId("done").dataset.code}`);
      byId("done").hidden = true;
      byId("cancelled").hidden = false;
      form.hidden = false;
      loadSlots();
    } catch (error) {
      fail(error.message);
      form.hidden = false;
    }
  });
  byId("lookup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = byId("lookup-code").value.replace(/[\s-]/g, "");
    try {
      const booking = await api("GET", `appointments/${encodeURIComponent(code)}`);
      if (booking.status !== "booked") {
        form.hidden = false;
        return fail(`Lịch hẹn này ${booking.status === "cancelled" ? "đã bị hủy" : "đã dùng"}. / This booking is ${booking.status}.`);
      }
      showBooking(booking);
    } catch (error) {
      fail(error.message);
    }
  });
  loadSlots();
}
