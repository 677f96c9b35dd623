"""A centre's set-up as a JSON file, so a second centre can start from the first one's.

Exported: the centre's settings, fields, services, priority categories, agencies, counters
(with their services in order, by code, and the station printing their slips) and
stations (without tokens). Not exported: people (accounts and passwords stay with their
centre), tickets, ratings, history.
Import creates a new centre under a new code, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.errors import InvalidRequest
from server.models import (
    Agency,
    Centre,
    Counter,
    CounterService,
    Field,
    PriorityCategory,
    Service,
    Station,
    User,
)
from server.services import audit
from server.services.hours import cutoff_value, hours_value

FORMAT = "tthcc-config"
VERSION = 1

_SERVICE_KEYS = (
    "code", "name", "name_en", "prefix", "range_start", "range_end", "priority_policy",
    "interleave_every", "wait_threshold_minutes", "position", "active",
)  # fmt: skip
#: Optional in a file (exports before opening hours existed have none).
_SERVICE_LIMIT_KEYS = (
    "opening_hours", "issue_cutoff", "daily_cap", "remote_issuing", "remote_per_phone",
    "appointments", "appointment_minutes", "bulk_lane",
)  # fmt: skip


def _service_limits(data: dict[str, Any]) -> dict[str, Any]:
    """A file's hours, cut-off and cap of a service, validated like the admin's edits."""
    cap = data.get("daily_cap")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise InvalidRequest(
            f"Dịch vụ «{data.get('code')}»: số phiếu tối đa mỗi ngày phải là số nguyên ≥ 1.",
            f"service {data.get('code')!r}: daily_cap must be an integer >= 1",
        )
    per_phone = data.get("remote_per_phone", 1)
    if not isinstance(per_phone, int) or isinstance(per_phone, bool) or per_phone < 1:
        raise InvalidRequest(
            f"Dịch vụ «{data.get('code')}»: số phiếu mỗi số điện thoại phải là số nguyên ≥ 1.",
            f"service {data.get('code')!r}: remote_per_phone must be an integer >= 1",
        )
    minutes = data.get("appointment_minutes")
    if minutes is not None and (
        not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240
    ):
        raise InvalidRequest(
            f"Dịch vụ «{data.get('code')}»: số phút mỗi lượt đặt lịch phải từ 1 đến 240.",
            f"service {data.get('code')!r}: appointment_minutes must be an integer 1-240",
        )
    return {
        "opening_hours": hours_value(data.get("opening_hours")),
        "issue_cutoff": cutoff_value(data.get("issue_cutoff")),
        "daily_cap": cap,
        "remote_issuing": bool(data.get("remote_issuing", False)),
        "remote_per_phone": per_phone,
        "appointments": bool(data.get("appointments", False)),
        "appointment_minutes": minutes,
        "bulk_lane": bool(data.get("bulk_lane", False)),
    }


def export_config(session: Session, centre: Centre) -> dict[str, Any]:
    fields = {f.id: f for f in centre.fields}
    services = {s.id: s for s in centre.services}
    categories = session.execute(
        select(PriorityCategory).where(PriorityCategory.centre_id == centre.id)
    ).scalars()
    agencies = session.execute(select(Agency).where(Agency.centre_id == centre.id)).scalars()
    stations = list(
        session.execute(select(Station).where(Station.centre_id == centre.id)).scalars()
    )
    station_codes = {s.id: s.code for s in stations}
    return {
        "format": FORMAT,
        "version": VERSION,
        "centre": {
            "code": centre.code,
            "name": centre.name,
            "subtitle": centre.subtitle,
            "address": centre.address,
            "timezone": centre.timezone,
            "settings": centre.settings or {},
            "opening_hours": centre.opening_hours,
        },
        "fields": [
            {
                "code": f.code,
                "name": f.name,
                "name_en": f.name_en,
                "position": f.position,
                "active": f.active,
            }
            for f in fields.values()
        ],
        "services": [
            {
                "field": fields[s.field_id].code,
                **{k: getattr(s, k) for k in (*_SERVICE_KEYS, *_SERVICE_LIMIT_KEYS)},
            }
            for s in services.values()
        ],
        "priority_categories": [
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "position": c.position,
                "active": c.active,
            }
            for c in categories
        ],
        "agencies": [a.name for a in agencies],
        "counters": [
            {
                "number": c.number,
                "name": c.name,
                "zone": c.zone,
                "services": [services[link.service_id].code for link in c.service_links],
                "station": station_codes.get(c.station_id),
            }
            for c in centre.counters
        ],
        "stations": [
            {
                "code": s.code,
                "kind": s.kind,
                "name": s.name,
                "zone": s.zone,
                "has_printer": s.has_printer,
            }
            for s in stations
        ],
    }


def _need(data: Any, key: str, kind: type) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        raise InvalidRequest(
            f"Tệp cấu hình không hợp lệ: thiếu hoặc sai «{key}».", f"invalid config: {key!r}"
        )
    return value


def import_config(
    session: Session,
    data: Any,
    *,
    code: str,
    name: str | None,
    subtitle: str | None,
    actor: User,
    now: datetime,
) -> Centre:
    """Create centre `code` from an exported set-up (refuses a code already in use)."""
    from server.sync.capture import refuse_hub_owned_edit

    refuse_hub_owned_edit(session, "centres")
    if _need(data, "format", str) != FORMAT or data.get("version") != VERSION:
        raise InvalidRequest(
            "Đây không phải tệp cấu hình TTHCC (phiên bản 1).", "not a tthcc-config v1 file"
        )
    if actor.centre_id is not None:
        from server.services.admin import Forbidden

        raise Forbidden(
            "Chỉ quản trị cấp tỉnh được tạo trung tâm mới.", "only a province admin creates centres"
        )
    code = code.strip()
    if not code or session.execute(select(Centre.id).where(Centre.code == code)).first():
        raise InvalidRequest(
            f"Mã trung tâm «{code}» trống hoặc đã có.", f"centre code {code!r} empty or taken"
        )
    source = _need(data, "centre", dict)
    from server.services.admin import is_timezone

    timezone = source.get("timezone", "Asia/Ho_Chi_Minh")
    if not isinstance(timezone, str) or not is_timezone(timezone):
        raise InvalidRequest(
            f"Múi giờ «{timezone}» không hợp lệ (ví dụ Asia/Ho_Chi_Minh).",
            f"centre.timezone {timezone!r} is not an IANA time zone",
        )
    try:
        centre = Centre(
            code=code,
            name=name or source["name"],
            subtitle=subtitle if subtitle is not None else source.get("subtitle", ""),
            address="",
            timezone=timezone,
            settings=dict(source.get("settings") or {}),
            opening_hours=hours_value(source.get("opening_hours")),
        )
        session.add(centre)
        session.flush()
        fields = {}
        for f in _need(data, "fields", list):
            fields[f["code"]] = Field(
                centre_id=centre.id,
                **{k: f[k] for k in ("code", "name", "name_en", "position", "active")},
            )
            session.add(fields[f["code"]])
        session.flush()
        services = {}
        for s in _need(data, "services", list):
            services[s["code"]] = Service(
                centre_id=centre.id,
                field_id=fields[s["field"]].id,
                **{k: s[k] for k in _SERVICE_KEYS},
                **_service_limits(s),
            )
            session.add(services[s["code"]])
        for c in data.get("priority_categories", []):
            session.add(
                PriorityCategory(
                    centre_id=centre.id,
                    **{k: c[k] for k in ("code", "name", "name_en", "position", "active")},
                )
            )
        for agency in data.get("agencies", []):
            session.add(Agency(centre_id=centre.id, name=str(agency)))
        session.flush()
        bindings = {}  # counter -> the code of the station printing its slips
        for c in data.get("counters", []):
            counter = Counter(
                centre_id=centre.id,
                number=int(c["number"]),
                name=c.get("name", ""),
                zone=c.get("zone", ""),
            )
            session.add(counter)
            session.flush()
            if c.get("station"):
                bindings[counter] = c["station"]
            for position, service_code in enumerate(c.get("services", [])):
                session.add(
                    CounterService(
                        counter_id=counter.id,
                        service_id=services[service_code].id,
                        position=position,
                    )
                )
        stations = {}
        for s in data.get("stations", []):
            stations[s["code"]] = Station(
                centre_id=centre.id,
                **{k: s[k] for k in ("code", "kind", "name", "zone", "has_printer")},
            )
            session.add(stations[s["code"]])
        session.flush()
        for counter, station_code in bindings.items():
            counter.station_id = stations[station_code].id
        session.flush()
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"Tệp cấu hình không hợp lệ: {exc}", f"invalid config: {exc!r}"
        ) from None
    audit.record(
        session,
        user=actor,
        entity="centres",
        action="import",
        now=now,
        entity_id=centre.id,
        centre_id=centre.id,
        after={
            "code": centre.code,
            "from": source.get("code"),
            "services": len(services),
            "counters": len(data.get("counters", [])),
        },
    )
    return centre
