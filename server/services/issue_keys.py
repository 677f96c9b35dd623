"""Idempotency keys of ticket issuing (docs/numbering.md, "Retries").

A kiosk sends `Idempotency-Key` with POST /api/v1/tickets (a phone with POST
/api/v1/remote-tickets and POST /api/v1/appointments, scoped to the phone number it
proved; a booking's row keeps the digest as a ticket's does); a retry after a lost answer (the
process died after the commit, a stalled link, a 502 from the proxy) sends the same key and
gets the ticket the first request issued, never a second one.

A key belongs to its caller and its day: the ticket row stores
sha256(caller, centre's local day, key) in its unique `request_id` column, so the unique
constraint that already guards the row decides a race of two requests with the same key
(the second waits for the first's commit, then finds its ticket), a key sent by another
station or user is another key (it can never answer someone else's ticket), and a key
reused the next day issues a new ticket. Alongside, `request_fingerprint` is a digest of
what was asked (service, priority, station, ID scan): the same key with another request is
refused (422), not answered with a ticket the caller did not ask for.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day
from server.domain.errors import InvalidRequest
from server.models import Centre, Ticket

HEADER = "Idempotency-Key"
#: 16–64 characters: a caller without a credential shares the "anonymous" scope, where the
#: key itself is the only thing that tells two callers apart, so it must be hard to guess.
PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{16,64}$")
#: The fields of POST /tickets that decide which ticket is issued.
ASKED = ("service_id", "priority_category", "station_id", "id_scan", "print_name")


def openapi_header(description: str) -> dict[str, Any]:
    """The `Idempotency-Key` header as an OpenAPI parameter of a route that takes it."""
    return {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "pattern": PATTERN.pattern},
        "description": description,
    }


class InvalidKey(InvalidRequest):
    code = "invalid_idempotency_key"


class KeyReused(InvalidRequest):
    """The key already issued a ticket today for a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class IssueKey:
    #: Who asked: "station:<id>", "user:<id>", "anonymous", or "phone:<the number's keyed
    #: hash>" (a remote number).
    scope: str
    key: str
    #: Digest of the asked fields (ASKED), 32 hex digits.
    fingerprint: str

    def digest(self, day: date) -> str:
        """The value stored in tickets.request_id: 64 hex digits, unique per caller, day and
        key."""
        return hashlib.sha256(f"{self.scope}\n{day.isoformat()}\n{self.key}".encode()).hexdigest()


def check_key(value: str) -> str:
    if not PATTERN.match(value):
        raise InvalidKey(
            f"Khóa {HEADER} không hợp lệ: 16–64 ký tự A-Z a-z 0-9 _ . : -.",
            f"invalid {HEADER}: 16 to 64 characters of A-Z a-z 0-9 _ . : -",
            details={"header": HEADER},
        )
    return value


def from_request(header: str | None, body: Mapping[str, Any], *, scope: str) -> IssueKey | None:
    """The request's key: the `Idempotency-Key` header, or the body's `request_id` (the
    name kiosk pages used before the header; both must agree when both are sent)."""
    legacy = body.get("request_id")
    if header is not None:
        header = check_key(header.strip())
        if legacy is not None and legacy != header:
            raise InvalidKey(
                f"{HEADER} và request_id khác nhau: chỉ gửi một khóa.",
                f"{HEADER} and request_id differ: send one key",
                details={"header": HEADER},
            )
    key = header if header is not None else legacy
    if key is None:
        return None
    return keyed(key, scope=scope, asked={name: body.get(name) for name in ASKED})


def keyed(key: str, *, scope: str, asked: Mapping[str, Any]) -> IssueKey:
    """A checked key of `scope`, with the digest of what its request asked (`asked`: the
    fields that decide which ticket is issued, JSON-serialisable)."""
    digest = hashlib.sha256(json.dumps(dict(asked), sort_keys=True).encode()).hexdigest()
    return IssueKey(scope, check_key(key.strip()), digest[:32])


#: A key's tickets among the three days a local day can be around the UTC date (any zone
#: from UTC-12 to UTC+14): one look-up by the unique index, before the centre is known.
_BY_DIGESTS = select(Ticket).where(Ticket.request_id.in_(bindparam("digests", expanding=True)))


def issued_with(session: Session, key: IssueKey, now: datetime) -> Ticket | None:
    """Today's ticket of this caller issued with this key, if any (today: the local day of
    the ticket's centre). KeyReused when that ticket was asked differently."""
    days = [now.astimezone(UTC).date() + timedelta(days=d) for d in (-1, 0, 1)]
    found = session.execute(_BY_DIGESTS, {"digests": [key.digest(d) for d in days]}).scalars()
    for ticket in found:
        timezone = session.execute(
            select(Centre.timezone).where(Centre.id == ticket.centre_id)
        ).scalar_one()
        if ticket.day != local_day(now, timezone):
            continue  # the key's ticket of another day: that press is over
        if ticket.request_fingerprint != key.fingerprint:
            raise KeyReused(
                f"Khóa {HEADER} này đã lấy một phiếu khác hôm nay: mỗi lần bấm lấy số dùng "
                "một khóa mới.",
                f"this {HEADER} already issued a different ticket today: use a new key for "
                "each new ticket",
                details={"header": HEADER},
            )
        return ticket
    return None
