"""Configuration from the hub to a centre box: the hub owns it, the box applies it.

The hub's configuration of one centre — the centre (its notice and settings, hours), its
fields, services, priority categories, counters and what they serve, procedures, its
users (with their password hashes, so staff sign in at the box when the link is down) and
the working calendar — is one JSON document keyed by natural keys only (codes, counter
numbers, usernames, years), never by ids: a box's ids are its own. Its version is the
SHA-256 of the document, the hub's ETag.

The box asks with the version it last applied (`If-None-Match`): unchanged, the hub
answers 304 with no body. The box also keeps the digest of its own configuration right
after applying; when that changed (someone edited hub-owned configuration on the box) it
asks unconditionally, and the hub's document overwrites the edit. Applying touches
configuration tables only, never the hall's tickets, ratings, dossiers or feedback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import (
    CalendarYear,
    Centre,
    Counter,
    CounterService,
    Field,
    PriorityCategory,
    Procedure,
    Service,
    User,
)
from server.services.procedures import PORTABLE_COLUMNS

CENTRE_COLUMNS = (
    "name",
    "subtitle",
    "address",
    "timezone",
    "settings",
    "opening_hours",
    "kind",
    "latitude",
    "longitude",
)
FIELD_COLUMNS = ("code", "name", "name_en", "position", "active")
SERVICE_COLUMNS = (
    "code",
    "name",
    "name_en",
    "prefix",
    "range_start",
    "range_end",
    "priority_policy",
    "interleave_every",
    "wait_threshold_minutes",
    "position",
    "active",
    "opening_hours",
    "issue_cutoff",
    "daily_cap",
    "remote_issuing",
    "remote_per_phone",
    "appointments",
    "appointment_minutes",
    "bulk_lane",
)
CATEGORY_COLUMNS = ("code", "name", "name_en", "position", "active")
COUNTER_COLUMNS = ("number", "name", "zone")
PROCEDURE_COLUMNS = PORTABLE_COLUMNS
USER_COLUMNS = ("username", "full_name", "role", "active", "password_hash")

#: GET `If-None-Match` → (status, document or None).
ConfigTransport = Callable[[str | None], tuple[int, dict[str, Any] | None]]


def _row(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: getattr(obj, c) for c in columns}


def config_document(session: Session, centre_id: int) -> dict[str, Any]:
    """The centre's configuration, natural keys only, in a stable order: a fixed number of
    statements (one per table) whatever the number of services or counters."""
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise LookupError(f"no centre {centre_id}")

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.scalars(select(model).where(model.centre_id == centre_id).order_by(order))
        )

    field_rows = rows(Field, Field.code)
    service_rows = rows(Service, Service.code)
    fields = {f.id: f.code for f in field_rows}
    services = {s.id: s.code for s in service_rows}
    links: dict[int, list[list[Any]]] = {}
    for counter_id, service_id, position in session.execute(
        select(CounterService.counter_id, CounterService.service_id, CounterService.position)
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(Counter.centre_id == centre_id)
    ):
        links.setdefault(counter_id, []).append([services[service_id], position])
    return {
        "centre": {"code": centre.code, **_row(centre, CENTRE_COLUMNS)},
        "fields": [_row(f, FIELD_COLUMNS) for f in field_rows],
        "services": [
            {**_row(s, SERVICE_COLUMNS), "field": fields.get(s.field_id)} for s in service_rows
        ],
        "priority_categories": [
            _row(p, CATEGORY_COLUMNS) for p in rows(PriorityCategory, PriorityCategory.code)
        ],
        "counters": [
            {**_row(c, COUNTER_COLUMNS), "services": sorted(links.get(c.id, []))}
            for c in session.execute(
                select(Counter.id, *(getattr(Counter, name) for name in COUNTER_COLUMNS))
                .where(Counter.centre_id == centre_id)
                .order_by(Counter.number)
            )
        ],
        "procedures": [
            {
                **_row(p, PROCEDURE_COLUMNS),
                "field": fields.get(p.field_id),
                "service": services.get(p.service_id),
            }
            for p in rows(Procedure, Procedure.code)
        ],
        "users": [_row(u, USER_COLUMNS) for u in rows(User, User.username)],
        "calendar": [
            {"year": y.year, "data": y.data}
            for y in session.scalars(select(CalendarYear).order_by(CalendarYear.year))
        ],
    }


def version_of(document: dict[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON (the hub's ETag)."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _upsert(session: Session, model: Any, existing: dict[Any, Any], key: Any, values: dict) -> Any:
    obj = existing.get(key)
    if obj is None:
        obj = model(**values)
        session.add(obj)
        existing[key] = obj
    else:
        for name, value in values.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
    return obj


def apply_config(session: Session, centre_id: int, document: dict[str, Any]) -> None:
    """Make the box's configuration of the centre the hub's document. Rows the hub no
    longer has are deactivated (fields, services, categories, procedures, users: the hall's
    history refers to them) or removed (a counter's services, calendar years)."""
    from server.services.procedures import searchable_text

    centre = session.get(Centre, centre_id)
    if centre is None or centre.code != document["centre"]["code"]:
        raise LookupError("the document is not this centre's")
    for name in CENTRE_COLUMNS:
        if getattr(centre, name) != document["centre"][name]:
            setattr(centre, name, document["centre"][name])

    def scoped(model: Any, key: str) -> dict[Any, Any]:
        rows = session.scalars(select(model).where(model.centre_id == centre_id))
        return {getattr(r, key): r for r in rows}

    fields = scoped(Field, "code")
    for f in document["fields"]:
        _upsert(session, Field, fields, f["code"], {"centre_id": centre_id, **f})
    _deactivate(fields, {f["code"] for f in document["fields"]})
    session.flush()

    services = scoped(Service, "code")
    for s in document["services"]:
        values = {k: v for k, v in s.items() if k != "field"}
        values.update(centre_id=centre_id, field_id=fields[s["field"]].id)
        _upsert(session, Service, services, s["code"], values)
    _deactivate(services, {s["code"] for s in document["services"]})

    categories = scoped(PriorityCategory, "code")
    for p in document["priority_categories"]:
        _upsert(session, PriorityCategory, categories, p["code"], {"centre_id": centre_id, **p})
    _deactivate(categories, {p["code"] for p in document["priority_categories"]})
    session.flush()

    counters = scoped(Counter, "number")
    for c in document["counters"]:
        values = {k: v for k, v in c.items() if k != "services"}
        counter = _upsert(
            session, Counter, counters, c["number"], {"centre_id": centre_id, **values}
        )
        session.flush()
        wanted = {services[code].id: position for code, position in c["services"]}
        for link in list(counter.service_links):
            if link.service_id not in wanted:
                counter.service_links.remove(link)
            elif link.position != wanted[link.service_id]:
                link.position = wanted[link.service_id]
        have = {link.service_id for link in counter.service_links}
        for service_id, position in wanted.items():
            if service_id not in have:
                counter.service_links.append(
                    CounterService(service_id=service_id, position=position)
                )

    procedures = scoped(Procedure, "code")
    for p in document["procedures"]:
        values = {k: v for k, v in p.items() if k not in ("field", "service")}
        values.update(
            centre_id=centre_id,
            field_id=fields[p["field"]].id,
            service_id=services[p["service"]].id if p["service"] else None,
            search_text=searchable_text(p["code"], p["name"]),
        )
        _upsert(session, Procedure, procedures, p["code"], values)
    _deactivate(procedures, {p["code"] for p in document["procedures"]})

    users = {u.username: u for u in session.scalars(select(User))}
    for u in document["users"]:
        user = users.get(u["username"])
        if user is not None and user.centre_id not in (centre_id, None):
            continue  # another centre's account on this box: not this document's
        _upsert(session, User, users, u["username"], {"centre_id": centre_id, **u})
    mine = {n: u for n, u in users.items() if u.centre_id == centre_id}
    _deactivate(mine, {u["username"] for u in document["users"]})

    years = {y.year: y for y in session.scalars(select(CalendarYear))}
    now = datetime.now(UTC)
    for y in document["calendar"]:
        year = years.get(y["year"])
        if year is None:
            session.add(
                CalendarYear(year=y["year"], data=y["data"], updated_at=now, updated_by="hub")
            )
        elif year.data != y["data"]:
            year.data, year.updated_at, year.updated_by = y["data"], now, "hub"
    stale = set(years) - {y["year"] for y in document["calendar"]}
    if stale:
        session.execute(delete(CalendarYear).where(CalendarYear.year.in_(stale)))
    session.flush()


def _deactivate(rows: dict[Any, Any], keep: set[Any]) -> None:
    for key, row in rows.items():
        if key not in keep and row.active:
            row.active = False


def http_config_transport(hub_url: str, token: str, timeout: float = 30.0) -> ConfigTransport:
    """GET `<hub_url>/api/v1/sync/config` with the box token and `If-None-Match`."""
    import requests

    from server.sync.push import HubUnreachable

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    url = hub_url.rstrip("/") + "/api/v1/sync/config"

    def get(version: str | None) -> tuple[int, dict[str, Any] | None]:
        headers = {"If-None-Match": f'"{version}"'} if version else {}
        try:
            response = http.get(url, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise HubUnreachable(str(exc)) from exc
        if response.status_code >= 500:
            raise HubUnreachable(f"hub answered {response.status_code}")
        if response.status_code == 304:
            return 304, None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {"message": response.text[:200]}

    return get


def pull(database: Any, transport: ConfigTransport) -> dict[str, Any]:
    """Ask the hub for this centre's configuration; apply it when it changed, or when the
    box's copy was edited here. Raises HubUnreachable / HubRefused."""
    from server.domain.clock import utcnow
    from server.models import SyncLink
    from server.sync.push import HubRefused

    with database.transaction() as session:
        link = session.scalars(select(SyncLink)).first()
        if link is None:
            raise HubRefused("this database is not a centre box (tthcc sync enable)")
        centre_code = link.centre_code
        centre_id = session.scalar(select(Centre.id).where(Centre.code == centre_code))
        # A new box with no configuration yet is set up from the hub's document.
        local = version_of(config_document(session, centre_id)) if centre_id else None
        edited = bool(link.config_local) and local != link.config_local
        asked = link.config_version if link.config_version and centre_id and not edited else None
    status, body = transport(asked)
    with database.transaction() as session:
        link = session.scalars(select(SyncLink)).one()
        link.config_pulled_at = utcnow()
        if status == 304:
            link.config_error = ""
            return {"changed": False, "version": link.config_version, "overwrote_local": False}
        if status != 200 or not body or "config" not in body:
            message = (body or {}).get("message_en") or (body or {}).get("message") or status
            link.config_error = f"refused ({status}): {message}"[:500]
            raise HubRefused(f"hub refused the configuration request ({status}): {message}")
        if centre_id is None:
            centre = Centre(code=centre_code, name=body["config"]["centre"]["name"])
            session.add(centre)
            session.flush()
            centre_id = centre.id
        apply_config(session, centre_id, body["config"])
        session.flush()
        session.expire_all()
        link = session.scalars(select(SyncLink)).one()
        link.config_version = body["version"]
        link.config_local = version_of(config_document(session, centre_id))
        link.config_error = ""
        return {"changed": True, "version": body["version"], "overwrote_local": edited}
