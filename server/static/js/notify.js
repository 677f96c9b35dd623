// "Nhận thông báo" for one ticket (server/templates/_notify.html, docs/notifications.md):
// Web Push through this page's service worker (notify-sw.js) and/or SMS / Zalo to a mobile
// number, each with the citizen's consent, each withdrawable ("Tắt").

import { api } from "/assets/js/lib/api.js";
import { byId, el } from "/assets/js/lib/dom.js";
import { forgetProof, PROOF_REFUSED, provedToday, rememberProof } from "/assets/js/phone_code.js";

const WORKER_URL = "/assets/sw/notify-sw.js";

function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function say(vi, en = "") {
  const node = byId("notify-status");
  node.replaceChildren(vi, ...(en ? [el("span", { class: "en", text: en })] : []));
}

/* The worker's registration once it is active (`serviceWorker.ready` would wait for one
   whose scope holds this page: the worker lives under /assets/sw/, its own scope). */
async function activeRegistration() {
  const registration = await navigator.serviceWorker.register(WORKER_URL);
  const worker = registration.installing || registration.waiting || registration.active;
  if (worker && worker.state !== "activated") {
    await new Promise((resolve) => {
      worker.addEventListener("statechange", () => worker.state === "activated" && resolve());
    });
  }
  return registration;
}

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Show the widget for the ticket `code`; `phone` pre-fills the SMS number (/lay-so). */
export async function mountNotify(code, { phone = "" } = {}) {
  const base = `tickets/${encodeURIComponent(code)}/notifications`;
  let offer;
  try {
    offer = await api("GET", "notifications/channels");
  } catch {
    return; // no notifications without the server: the page works as before
  }
  const channels = new Set(offer.channels);
  if (!channels.size) return;
  const box = byId("notify");
  box.hidden = false;
  box.dataset.code = code;

  async function refresh() {
    const { subscriptions } = await api("GET", base);
    const list = byId("notify-list");
    if (pushOffered) byId("notify-push-box").hidden = subscriptions.some((s) => s.channel === "webpush");
    list.replaceChildren(
      ...subscriptions.map((s) =>
        el(
          "li",
          { dataset: { channel: s.channel, id: s.id } },
          s.channel === "webpush" ? "Đang bật: thông báo trên trình duyệt " : `Đang bật: ${s.channel === "zalo" ? "Zalo" : "SMS"} đến ${s.phone} `,
          el("button", {
            type: "button",
            class: "notify-off",
            text: "Tắt / Turn off",
            onclick: async () => {
              await api("DELETE", `${base}/${s.id}`);
              say("Đã tắt thông báo.", "Notifications off.");
              await refresh();
            },
          }),
        ),
      ),
    );
  }

  const pushOffered = channels.has("webpush") && pushSupported() && Boolean(offer.vapid_public_key);
  if (pushOffered) {
    byId("notify-push-box").hidden = false;
    byId("notify-push").addEventListener("click", async () => {
      try {
        const permission = await Notification.requestPermission();
        if (permission !== "granted") {
          say("Trình duyệt chưa cho phép thông báo.", "The browser did not allow notifications.");
          return;
        }
        const registration = await activeRegistration();
        const subscription =
          (await registration.pushManager.getSubscription()) ||
          (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(offer.vapid_public_key) }));
        await api("POST", base, { body: { channel: "webpush", subscription: subscription.toJSON(), consent: true } });
        say("Đã bật thông báo trên điện thoại này.", "Notifications are on for this phone.");
        await refresh();
      } catch (error) {
        say(`Không bật được thông báo: ${error.message}`, "Could not turn notifications on.");
      }
    });
  }
  if (channels.has("sms") || channels.has("zalo")) {
    const form = byId("notify-sms-form");
    form.hidden = false;
    byId("notify-phone").value = phone;
    byId("notify-channel-box").hidden = !channels.has("zalo");
    // With an SMS gateway the number is proved by a one-time code texted to it (not for
    // the number this ticket was taken with): «Nhập mã xác nhận đã gửi tới số …».
    const proof = { verification: null, phone: null };
    const sendCode = async (phone) => {
      try {
        const sent = await api("POST", "phone-verifications", { body: { phone } });
        Object.assign(proof, { verification: sent.verification, phone });
        byId("notify-verify-phone").textContent = sent.phone;
        byId("notify-otp").value = "";
        byId("notify-verify").hidden = false;
        byId("notify-otp").focus();
        say(`Nhập mã xác nhận đã gửi tới số ${sent.phone}, rồi bấm «Nhận tin nhắn».`, "Type the code texted to this number, then press again.");
      } catch (error) {
        say(error.message, error.messageEn);
      }
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!byId("notify-consent").checked) {
        say("Vui lòng đánh dấu đồng ý nhận tin nhắn.", "Please tick your consent first.");
        return;
      }
      const chosen = form.querySelector("input[name=notify-channel]:checked");
      const channel = channels.has("zalo") && chosen ? chosen.value : "sms";
      const phone = byId("notify-phone").value.trim();
      const body = { channel, phone, consent: true };
      if (proof.verification && proof.phone === phone) {
        const code = byId("notify-otp").value.replace(/\D/g, "");
        if (code.length !== 6) {
          say("Vui lòng nhập đủ 6 chữ số của mã xác nhận.", "Please type the 6-digit code.");
          return;
        }
        Object.assign(body, { verification: proof.verification, code });
      } else if (provedToday(phone)) {
        body.verification = provedToday(phone); // proved earlier today: no new code
      }
      try {
        await api("POST", base, { body });
        byId("notify-verify").hidden = true;
        if ("code" in body) rememberProof(body.verification, phone);
        proof.verification = null;
        say("Đã đăng ký nhận tin nhắn.", "Messages are on.");
        await refresh();
      } catch (error) {
        if (body.verification && !("code" in body) && PROOF_REFUSED.has(error.code)) forgetProof();
        if (error.code === "phone_code_required" || (!("code" in body) && PROOF_REFUSED.has(error.code))) {
          await sendCode(phone); // the server asks for the number's code (an SMS gateway)
          return;
        }
        say(error.message, error.messageEn);
      }
    });
    byId("notify-resend").addEventListener("click", () => sendCode(proof.phone));
  }
  await refresh();
}

// The ticket page names its ticket in #notify's config; /lay-so mounts it after issuing.
const config = document.getElementById("notify-config");
if (config) mountNotify(JSON.parse(config.textContent).code);
