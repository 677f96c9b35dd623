"""Notifications in Chromium against the real server (gunicorn, its own delivery worker):
Web Push end to end as far as it can run without Google's push service, and SMS consent
from the phone page to a local gateway.

What is real: the page's "Nhận thông báo" (permission, service worker registration, the
subscription posted with consent), the server's trigger → outbox → worker → pywebpush
POST, VAPID-signed and aes128gcm-encrypted for the subscription's keys; a push service of
ours (tests/push_service.py) verifies the JWT and decrypts the body with the private key,
then hands the plaintext to the page's service worker through CDP
ServiceWorker.deliverPushMessage; the service worker shows the notification we read back
with registration.getNotifications(). What is not: PushManager.subscribe() (headless
Chromium cannot reach FCM; the test hands the page a subscription it made, pointing at its
push service) and the browser's own decryption (CDP delivers plaintext)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from server.notify.gateway_sim import GatewaySimulator
from server.notify.keys import generate_vapid_key
from tests.e2e.a11y import assert_axe_clean
from tests.e2e.conftest import running_server
from tests.push_service import PushService

PHONE = {"width": 390, "height": 844}
FAKE_SUBSCRIBE = """(sub) => {
  const fake = { endpoint: sub.endpoint, expirationTime: null, toJSON: () => sub,
                 unsubscribe: async () => true };
  PushManager.prototype.getSubscription = async function () { return null; };
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__askedKey = btoa(String.fromCharCode(...key)).replace(/\\+/g, "-")
      .replace(/\\//g, "_").replace(/=+$/, "");
    return fake;
  };
}"""
SHOWN = (
    "navigator.serviceWorker.getRegistration('/assets/sw/')"
    ".then(r => r.getNotifications()).then(ns => ns.map(n => ({title: n.title, body: n.body,"
    " url: n.data.url})))"
)


@pytest.mark.browser
def test_web_push_reaches_the_service_worker_and_sms_consent_from_the_phone_page(
    browser, tmp_path, monkeypatch, artifacts
):
    push, gateway = PushService().start(), GatewaySimulator().start()
    instance = tmp_path / "instance"
    public_key = generate_vapid_key(instance / "vapid_private.pem")
    for name, value in {
        "TTHCC_NOTIFY_PUSH_ALLOW_LOCAL": "1",
        "TTHCC_NOTIFY_INTERVAL_SECONDS": "1",
        "TTHCC_SMS_GATEWAY_URL": gateway.url,
        "TTHCC_SMS_GATEWAY_TOKEN": gateway.token,
    }.items():
        monkeypatch.setenv(name, value)
    try:
        with running_server(instance) as server:
            ticket = requests.post(
                f"{server.url}/api/v1/tickets", json={"service_id": 1}, timeout=5
            ).json()
            subscription = push.new_subscription()
            context = browser.new_context(viewport=PHONE, locale="vi-VN")
            context.grant_permissions(["notifications"], origin=server.url)
            context.add_init_script(
                script=f"({FAKE_SUBSCRIBE})({json.dumps(subscription.to_json())})"
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            registrations: dict[str, str] = {}
            cdp.on(
                "ServiceWorker.workerRegistrationUpdated",
                lambda e: registrations.update(
                    {r["scopeURL"]: r["registrationId"] for r in e["registrations"]}
                ),
            )
            cdp.send("ServiceWorker.enable")

            page.goto(f"{server.url}/t/{ticket['public_code']}")
            expect(page.locator("#notify")).to_be_visible()
            page.locator("#notify-push").click()
            expect(page.locator("#notify-list li[data-channel=webpush]")).to_contain_text(
                "Đang bật: thông báo trên trình duyệt"
            )
            assert page.evaluate("window.__askedKey") == public_key
            assert_axe_clean(page, "ticket-notify")

            received = push.wait_for(2)  # joined, and "near" (0 ahead ≤ 3)
            assert {p.payload["tag"] for p in received} == {"tthcc-joined", "tthcc-near"}
            assert all(p.claims["aud"] == push.url for p in received)
            for item in received:
                cdp.send(
                    "ServiceWorker.deliverPushMessage",
                    {
                        "origin": server.url,
                        "registrationId": registrations[f"{server.url}/assets/sw/"],
                        "data": json.dumps(item.payload, ensure_ascii=False),
                    },
                )
            staff = {"Authorization": f"Bearer {server.token()}"}
            requests.post(
                f"{server.url}/api/v1/counters/1/status", json={"status": "open"}, headers=staff
            )
            called = requests.post(
                f"{server.url}/api/v1/counters/1/call-next", json={}, headers=staff, timeout=5
            ).json()
            assert called["id"] == ticket["id"]
            call_push = push.wait_for(3)[2]
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": server.url,
                    "registrationId": registrations[f"{server.url}/assets/sw/"],
                    "data": json.dumps(call_push.payload, ensure_ascii=False),
                },
            )
            page.wait_for_function(
                "(shown) => navigator.serviceWorker.getRegistration('/assets/sw/')"
                ".then(r => r.getNotifications()).then(ns => ns.length >= 3)",
                polling=100,
            )
            shown = page.evaluate(SHOWN)
            titles = sorted(n["title"] for n in shown)
            number = ticket["number"]
            assert titles == sorted(
                [
                    f"Mời số {number} đến Quầy 1 / Number {number}: Counter 1",
                    f"Số {number}: sắp đến lượt / Your turn is near",
                    f"Số {number}: đã bật thông báo / Notifications on",
                ]
            ), titles
            called_note = next(n for n in shown if n["title"].startswith("Mời"))
            assert called_note["body"].startswith(f"Xin mời công dân có số thứ tự {number}")
            assert called_note["url"] == f"/t/{ticket['public_code']}"
            page.screenshot(path=str(artifacts / "ticket-notify.png"), full_page=True)

            # SMS: the phone page offers it for the new number, with the number typed.
            phone_page = context.new_page()
            phone_page.goto(f"{server.url}/lay-so")
            phone_page.locator("#phone").fill("0912 345 678")
            phone_page.locator("#submit").click()
            # With the gateway, the number is proved first by the code texted to it.
            expect(phone_page.locator("#verify")).to_be_visible()
            expect(phone_page.locator("#verify")).to_contain_text(
                "Nhập mã xác nhận đã gửi tới số 091****678"
            )
            expect(phone_page.locator("#resend")).to_be_disabled()  # the cool-down
            [texted] = gateway.wait_for(1)
            code = texted["text"][:6]
            assert texted["text"].startswith(f"{code} là mã xác nhận") and code.isdigit()
            phone_page.locator("#otp").fill(code)
            phone_page.screenshot(path=str(artifacts / "remote-page-code.png"), full_page=True)
            phone_page.locator("#submit").click()
            expect(phone_page.locator("#notify-sms-form")).to_be_visible()
            expect(phone_page.locator("#notify-phone")).to_have_value("0912 345 678")
            phone_page.locator("#notify-sms").click()
            expect(phone_page.locator("#notify-status")).to_contain_text("đánh dấu đồng ý")
            phone_page.locator("#notify-consent").check()
            phone_page.locator("#notify-sms").click()
            expect(phone_page.locator("#notify-list li[data-channel=sms]")).to_contain_text(
                "SMS đến ***5678"
            )
            [_, sms] = gateway.wait_for(2)
            assert sms["to"] == "+84912345678" and "đã bật thông báo" in sms["text"]

            def codes_texted() -> int:
                return sum("là mã xác nhận" in m["text"] for m in gateway.accepted.values())

            # Proved for the rest of the day: a second number (HT2) asks no new code.
            second = context.new_page()
            second.goto(f"{server.url}/lay-so")
            second.locator("input[name=service]").nth(1).check()
            second.locator("#phone").fill("0912 345 678")
            with second.expect_response(lambda r: r.url.endswith("/remote-tickets")) as taken:
                second.locator("#submit").click()
            assert taken.value.status == 201, taken.value.json()
            expect(second.locator("#done")).to_be_visible()
            assert second.locator("#verify").is_hidden() and codes_texted() == 1
            # Another browser, the same number for HT1 again: its quota is used, so the page
            # says so before any code is texted (no SMS for a number it cannot take).
            elsewhere = browser.new_context(viewport=PHONE, locale="vi-VN")
            fresh = elsewhere.new_page()
            fresh.goto(f"{server.url}/lay-so")
            fresh.locator("#phone").fill("0912 345 678")
            fresh.locator("#submit").click()
            expect(fresh.locator("#error")).to_contain_text("đã lấy 1 số cho dịch vụ này hôm nay")
            assert fresh.locator("#verify").is_hidden() and codes_texted() == 1
            elsewhere.close()
            # Another number on the kiosk ticket's page: proved by its code first.
            page.locator("#notify-phone").fill("0987 654 321")
            page.locator("#notify-consent").check()
            page.locator("#notify-sms").click()
            expect(page.locator("#notify-verify")).to_contain_text(
                "Nhập mã xác nhận đã gửi tới số 098****321"
            )
            [other] = [m for m in gateway.accepted.values() if "mã xác nhận" in m["text"][6:30]][
                1:
            ]  # sent in the request: there before the page shows the step
            assert other["to"] == "+84987654321"
            page.locator("#notify-otp").fill(other["text"][:6])
            page.locator("#notify-sms").click()
            expect(page.locator("#notify-list li[data-channel=sms]")).to_contain_text(
                "SMS đến ***4321"
            )
            log = (instance / "gunicorn.log").read_text()
            assert "912345678" not in log and "912 345 678" not in log
            assert "987654321" not in log
            assert not re.search(rf"(?<!\d){code}(?!\d)", log)  # nor the one-time code
            context.close()
    finally:
        push.close()
        gateway.close()
