"""The VAPID key pair (RFC 8292) and the sealing of phone numbers kept for SMS.

The VAPID private key is generated once (`tthcc notify vapid`) into the instance folder
(or TTHCC_VAPID_PRIVATE_KEY_FILE) and kept: browsers' subscriptions are bound to its
public key, so a new key silently orphans every subscription. Nothing here regenerates a
key that exists; without a key, Web Push is off and says so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidKeyExists(Exception):
    """A key is there already: rotating it is a decision (--rotate), not a side effect."""


def generate_vapid_key(path: Path, *, rotate: bool = False) -> str:
    """Write a new P-256 private key (PEM, 0600) to `path`; returns the public key.

    Refuses when `path` exists, unless `rotate` (which orphans every subscription)."""
    if path.exists() and not rotate:
        raise VapidKeyExists(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, path)
    return public_key_of(key)


def load_vapid_key(path: Path) -> ec.EllipticCurvePrivateKey | None:
    """The kept private key, or None when there is none (Web Push off)."""
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return key


def public_key_of(key: ec.EllipticCurvePrivateKey) -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point."""
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def _phone_key(secret_key: str) -> bytes:
    return HKDF(SHA256(), 32, salt=None, info=b"tthcc notify phone").derive(secret_key.encode())


def seal_phone(phone: str, secret_key: str) -> str:
    """The number encrypted (AES-GCM) under a key derived from the app's secret."""
    nonce = secrets.token_bytes(12)
    return b64url(nonce + AESGCM(_phone_key(secret_key)).encrypt(nonce, phone.encode(), None))


def open_phone(sealed: str, secret_key: str) -> str:
    raw = b64url_decode(sealed)
    return AESGCM(_phone_key(secret_key)).decrypt(raw[:12], raw[12:], None).decode()


def mask_phone(phone: str) -> str:
    """ "0912345678" → "***5678": what logs, staff and the citizen's page show."""
    return f"***{phone[-4:]}"


def endpoint_digest(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:16]
