"""Kiosk credentials: a kiosk page proves it runs on a provisioned kiosk PC.

An administrator issues a code for a kiosk station (admin API, `tthcc station kiosk-code`);
on the kiosk PC, opening ``/kiosk/provision?code=…`` once exchanges it for a page
credential kept in an HttpOnly cookie. With that cookie the page issues tickets that print
on its own station's printer and joins its station's room for the print's answer. A URL
parameter alone proves nothing. Revoking the station's token (admin) ends its page
credentials too.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.domain.errors import DomainError, InvalidRequest
from server.models import KioskCredential, Station
from server.services.auth import hash_token

#: How long an administrator's provisioning code may wait before it is used.
CODE_LIFETIME = timedelta(hours=24)
#: The page credential's cookie (HttpOnly, SameSite=Strict).
COOKIE_NAME = "tthcc_kiosk"


class ProvisioningRefused(DomainError):
    code = "provisioning_refused"
    http_status = 403


def issue_code(
    session: Session,
    station: Station,
    now: datetime,
    *,
    lifetime: timedelta | None = CODE_LIFETIME,
    code: str | None = None,
    reusable: bool = False,
) -> str:
    """A provisioning code for a kiosk station, shown once (only its hash is stored).

    ``code``/``reusable``/``lifetime=None`` are for the demo's documented code only."""
    if station.kind != "kiosk":
        raise InvalidRequest(
            f"Điểm thiết bị {station.code} không phải ki-ốt lấy số.",
            f"station {station.code} is not a kiosk",
        )
    code = code or secrets.token_urlsafe(12)
    secret = hash_token(f"kiosk-code:{code}")
    session.execute(delete(KioskCredential).where(KioskCredential.secret_hash == secret))
    session.add(
        KioskCredential(
            station_id=station.id,
            kind="code",
            secret_hash=secret,
            reusable=reusable,
            created_at=now,
            expires_at=now + lifetime if lifetime is not None else None,
        )
    )
    session.flush()
    return code


def exchange_code(session: Session, code: str, now: datetime) -> tuple[Station, str]:
    """Use a provisioning code: the kiosk station and a new page credential (the cookie's
    value). A one-time code is used up; an unknown, used or expired one is refused."""
    row = session.execute(
        select(KioskCredential).where(
            KioskCredential.kind == "code",
            KioskCredential.secret_hash == hash_token(f"kiosk-code:{code}"),
        )
    ).scalar_one_or_none()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        raise ProvisioningRefused(
            "Mã kích hoạt ki-ốt không đúng, đã dùng hoặc đã hết hạn. "
            "Vui lòng xin quản trị viên một mã mới.",
            "unknown, used or expired kiosk provisioning code; ask an administrator for a new one",
        )
    station = session.get(Station, row.station_id)
    if not row.reusable:
        session.delete(row)
    token = secrets.token_urlsafe(32)
    session.add(
        KioskCredential(
            station_id=station.id,
            kind="page",
            secret_hash=page_secret_hash(token),
            reusable=False,
            created_at=now,
        )
    )
    session.flush()
    return station, token


def page_secret_hash(token: str) -> str:
    """What is stored of a page credential (the cookie's value): its hash."""
    return hash_token(f"kiosk-page:{token}")


def station_for_page(session: Session, token: str | None) -> Station | None:
    """The kiosk station whose page credential this is (None: not a provisioned kiosk)."""
    if not token or len(token) > 128:
        return None
    return session.execute(
        select(Station)
        .join(KioskCredential, KioskCredential.station_id == Station.id)
        .where(
            KioskCredential.kind == "page",
            KioskCredential.secret_hash == page_secret_hash(token),
            Station.kind == "kiosk",
        )
    ).scalar_one_or_none()


def revoke_pages(session: Session, station: Station) -> int:
    """End every page credential and unused code of the station (its token was revoked)."""
    result = session.execute(
        delete(KioskCredential).where(KioskCredential.station_id == station.id)
    )
    return result.rowcount or 0
