"""A Web Push service on this machine, for tests: it receives what our server POSTs to a
subscription's endpoint and checks it the way a real push service and browser would,
with code of its own (not pywebpush's): the VAPID JWT (RFC 8292: ES256 under the key in
`k=`, audience = the endpoint's origin, expiry within 24 h, a contact subject) and the
aes128gcm payload (RFC 8188 / RFC 8291), decrypted with the subscription's private key
and auth secret, as the browser would. The subscription keys are made here (`new_
subscription`), since headless Chromium cannot subscribe without Google's service."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(SHA256(), length, salt=salt, info=info).derive(ikm)


@dataclass
class Subscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    @property
    def public(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def to_json(self) -> dict[str, Any]:
        """What the browser's PushSubscription.toJSON() gives."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64u(self.public), "auth": b64u(self.auth)},
        }


@dataclass
class Push:
    subscription_id: str
    payload: dict[str, Any]
    claims: dict[str, Any]
    vapid_key: str
    headers: dict[str, str]


def decrypt_aes128gcm(body: bytes, sub: Subscription) -> bytes:
    """RFC 8291 §3.4 + RFC 8188: what the browser does with the push message body."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    server_public = body[21 : 21 + idlen]
    records = body[21 + idlen :]
    assert idlen == 65 and len(records) <= rs, "one record, keyid = the server's public key"
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public)
    shared = sub.private_key.exchange(ec.ECDH(), peer)
    ikm = _hkdf(sub.auth, shared, b"WebPush: info\x00" + sub.public + server_public, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    padded = AESGCM(cek).decrypt(nonce, records, None)
    end = padded.rstrip(b"\x00")
    assert end.endswith(b"\x02"), "last record's delimiter"
    return end[:-1]


def verify_vapid(authorization: str, endpoint: str) -> tuple[dict[str, Any], str]:
    """Check `Authorization: vapid t=<jwt>, k=<key>`; returns (claims, key)."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization[:20]
    values = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = values["t"], values["k"]
    head, claims_part, signature = token.split(".")
    header = json.loads(unb64u(head))
    assert header == {"typ": "JWT", "alg": "ES256"} or header.get("alg") == "ES256", header
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(key))
    raw = unb64u(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims_part}".encode(), ec.ECDSA(SHA256()))  # raises if forged
    claims = json.loads(unb64u(claims_part))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    assert claims["aud"] == origin, (claims["aud"], origin)
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims["exp"]
    assert str(claims["sub"]).startswith(("mailto:", "https:")), claims["sub"]
    return claims, key


@dataclass
class PushService:
    """`start()`, make subscriptions with `new_subscription()`, read `received` or
    `wait_for(n)`. `answer[sub_id] = 410` makes that subscription gone."""

    received: list[Push] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answer: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self._cond = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> PushService:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def new_subscription(self) -> Subscription:
        ident = b64u(os.urandom(9))
        sub = Subscription(
            ident,
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            f"{self.url}/push/{ident}",
        )
        self.subscriptions[ident] = sub
        return sub

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Push]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count or self.errors, timeout)
        assert not self.errors, self.errors
        assert len(self.received) >= count, f"{len(self.received)} push(es), wanted {count}"
        return list(self.received)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ident = self.path.rsplit("/", 1)[-1]
                sub = service.subscriptions.get(ident)
                status = service.answer.get(ident, 201)
                if sub is None:
                    status = 404
                elif status == 201:
                    try:
                        assert self.headers["Content-Encoding"] == "aes128gcm"
                        assert int(self.headers["TTL"]) > 0
                        claims, key = verify_vapid(self.headers["Authorization"], sub.endpoint)
                        payload = json.loads(decrypt_aes128gcm(body, sub))
                    except Exception as exc:
                        status = 400
                        with service._cond:
                            service.errors.append(f"{type(exc).__name__}: {exc}")
                            service._cond.notify_all()
                    else:
                        with service._cond:
                            service.received.append(
                                Push(ident, payload, claims, key, dict(self.headers))
                            )
                            service._cond.notify_all()
                self.send_response(status)
                self.send_header("Location", f"{service.url}/message/{len(service.received)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
