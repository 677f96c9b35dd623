"""Where a message goes: Web Push (RFC 8030 delivery, RFC 8291 aes128gcm encryption, RFC
8292 VAPID, through pywebpush) and an SMS/Zalo gateway over JSON/HTTPS (the provider
interface and its one documented provider, docs/notifications.md).

A channel answers every send with a SendResult: sent, retry (the service is down, slow or
busy: try later), failed (it refused this message for good) or gone (the browser's
subscription no longer exists: stop the subscription). A channel never logs the phone
number: only the message id and the mask.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message, as the worker hands it to a channel (the phone already unsealed)."""

    id: int
    channel: str
    kind: str
    title: str
    body: str
    url: str
    #: Seconds the push service may keep it for an offline browser.
    ttl: int = 900
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None
    phone: str | None = None
    phone_masked: str | None = None
    #: The gateway's idempotency key; default "tthcc-<id>" (an outbox message's id).
    reference: str | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | retry | failed | gone
    detail: str = ""
    provider_ref: str | None = None
    retry_after: float | None = None


class Channel(Protocol):
    def send(self, message: Outgoing) -> SendResult: ...


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _by_status(status: int, response: Any, what: str) -> SendResult:
    if status == 429 or status >= 500:
        return SendResult("retry", f"{what} answered {status}", retry_after=_retry_after(response))
    return SendResult("failed", f"{what} refused: {status} {response.text[:120]}")


class WebPushChannel:
    """Encrypt the message for the browser's keys and POST it to its push service with a
    VAPID-signed JWT; the service wakes the page's service worker (notify-sw.js)."""

    def __init__(self, private_key_pem: bytes, subject: str, timeout: float = 10.0) -> None:
        # pywebpush, py_vapid and requests load at the first push, not at the worker's start
        # (tests/server/test_worker_footprint.py).
        self.private_key_pem = private_key_pem
        self.subject = subject
        self.timeout = timeout
        self._vapid: Any = None
        self._http: Any = None

    @classmethod
    def from_file(cls, path: Path, subject: str, timeout: float = 10.0) -> WebPushChannel:
        return cls(path.read_bytes(), subject, timeout)

    def send(self, message: Outgoing) -> SendResult:
        import requests
        from py_vapid import Vapid02
        from pywebpush import WebPushException, webpush

        if self._vapid is None:
            self._vapid, self._http = Vapid02.from_pem(self.private_key_pem), requests.Session()
        payload = json.dumps(
            {
                "title": message.title,
                "body": message.body,
                "url": message.url,
                "tag": f"tthcc-{message.kind}",
                "id": message.id,
            },
            ensure_ascii=False,
        )
        subscription = {
            "endpoint": message.endpoint,
            "keys": {"p256dh": message.p256dh, "auth": message.auth},
        }
        try:
            response = webpush(
                subscription,
                payload,
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self.subject},
                ttl=message.ttl,
                timeout=self.timeout,
                headers={"Urgency": "high" if message.kind == "called" else "normal"},
                requests_session=self._http,
            )
        except WebPushException as exc:
            response = exc.response
            if response is None:
                return SendResult("retry", f"push service: {str(exc)[:120]}")
            if response.status_code in (404, 410):
                return SendResult("gone", f"push service answered {response.status_code}")
            return _by_status(response.status_code, response, "push service")
        except requests.RequestException as exc:
            return SendResult("retry", f"push service unreachable: {type(exc).__name__}")
        return SendResult("sent", provider_ref=response.headers.get("Location"))


class HttpGatewayProvider:
    """The generic SMS/Zalo gateway: ``POST <url>/messages`` with a bearer token and
    ``{"to", "channel", "text", "reference"}``; 2xx accepted, 409 already had it, 429/5xx
    and time-outs retried, any other 4xx refused (docs/notifications.md)."""

    def __init__(self, url: str, token: str, timeout: float = 5.0, sender: str = "") -> None:
        self.url = url.rstrip("/") + "/messages"
        self.timeout = timeout
        self.sender = sender
        self.token = token
        self._http: Any = None

    def send(self, message: Outgoing) -> SendResult:
        import requests

        if self._http is None:
            self._http = requests.Session()
            self._http.headers["Authorization"] = f"Bearer {self.token}"
        reference = message.reference or f"tthcc-{message.id}"
        body = {
            "to": _international(message.phone or ""),
            "channel": message.channel,
            "text": f"{message.title}\n{message.body}",
            "reference": reference,
        }
        if self.sender:
            body["sender"] = self.sender
        try:
            response = self._http.post(
                self.url,
                json=body,
                headers={"Idempotency-Key": reference},
                timeout=self.timeout,
            )
        except requests.Timeout:
            return SendResult("retry", f"gateway did not answer in {self.timeout:g} s")
        except requests.RequestException as exc:
            return SendResult("retry", f"gateway unreachable: {type(exc).__name__}")
        if response.status_code in (200, 201, 202, 409):
            try:
                ref = str(response.json().get("id") or "") or None
            except ValueError:
                ref = None
            return SendResult("sent", provider_ref=ref)
        return _by_status(response.status_code, response, "gateway")


def _international(phone: str) -> str:
    """ "0912345678" → "+84912345678" (E.164, as gateways expect)."""
    return "+84" + phone[1:] if phone.startswith("0") else phone
