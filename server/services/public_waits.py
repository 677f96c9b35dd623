"""Live waits in public (issue 13, item 4): per centre, how many wait in each field and how
long someone joining now would wait; and the centres near a citizen ranked by the time to
get there plus the wait there (a citizen may file at any centre of the province).

The estimate is the hall's own (services/wait_estimates.py, the same as the kiosk, the
ticket and the supervisor), for a citizen taking a ticket now. Only counts and estimates
leave this module: no ticket numbers or codes, no names of staff or citizens.

A centre's view is kept :data:`CACHE_SECONDS` per process (phones refreshing a busy page
must not each replay the hall), and answers carry ``Cache-Control: public`` for as long.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import wait_estimate as method
from server.domain.clock import local_day, to_local
from server.domain.geo import haversine_km, visit_minutes
from server.models import Centre, Field, Service
from server.models.centre import CENTRE_KINDS
from server.services import wait_estimates
from server.services.queue import waiting_counts

#: How long one centre's public view is reused (seconds; also the HTTP max-age).
CACHE_SECONDS = 15
#: "Centres near you": the nearest this many are estimated, the best `limit` shown.
NEAR_CANDIDATES = 8
#: Positions are used to this many decimals (about 1 km): enough to rank centres, too
#: coarse to say where someone is, and repeated URLs a cache can answer.
POSITION_DECIMALS = 2

_cache: dict[tuple[str, int], tuple[datetime, dict[str, Any]]] = {}


def clear_cache() -> None:
    """Forget the cached views (tests)."""
    _cache.clear()


def round_position(value: float) -> float:
    return round(value, POSITION_DECIMALS)


def centre_card(centre: Any) -> dict[str, Any]:
    """What the public may know of a centre: names, address, kind, position."""
    return {
        "id": centre.id,
        "code": centre.code,
        "name": centre.name,
        "subtitle": centre.subtitle,
        "address": centre.address,
        "kind": centre.kind,
        "kind_label": CENTRE_KINDS.get(centre.kind, centre.kind),
        "latitude": centre.latitude,
        "longitude": centre.longitude,
    }


def centre_waits(session: Session, centre: Centre, now: datetime) -> dict[str, Any]:
    """Waiting per field (and per service), each with the estimate for someone joining now."""
    key = (str(session.get_bind().url), centre.id)
    cached = _cache.get(key)
    if cached is not None and 0 <= (now - cached[0]).total_seconds() < CACHE_SECONDS:
        return cached[1]
    day = local_day(now, centre.timezone)
    counts = waiting_counts(session, centre.id, day)
    rows = session.execute(
        select(Service, Field)
        .join(Field, Field.id == Service.field_id)
        .where(
            Service.centre_id == centre.id,
            Service.active.is_(True),
            Field.active.is_(True),
        )
        .order_by(Field.position, Field.id, Service.position, Service.id)
    ).all()
    hall = wait_estimates.hall_state(session, centre.id, centre.timezone, now, counts)
    fields: dict[int, dict[str, Any]] = {}
    longest: dict[int, method.Estimate | None] = defaultdict(lambda: None)
    open_any: dict[int, bool] = defaultdict(bool)
    for service, field in rows:
        waiting = counts.get(service.id, 0)
        estimate = hall.wait(service.id, waiting)
        view = fields.setdefault(
            field.id,
            {
                "code": field.code,
                "name": field.name,
                "name_en": field.name_en,
                "waiting": 0,
                "services": [],
            },
        )
        view["waiting"] += waiting
        view["services"].append(
            {
                "code": service.code,
                "name": service.name,
                "name_en": service.name_en,
                "waiting": waiting,
                "estimate": wait_estimates.estimate_view(estimate),
            }
        )
        if estimate is not None:
            open_any[field.id] = True
            if longest[field.id] is None or estimate.minutes > longest[field.id].minutes:
                longest[field.id] = estimate
    for field_id, view in fields.items():
        # The field's longest line: what someone choosing this field may have to wait.
        view["estimate"] = wait_estimates.estimate_view(longest[field_id])
    field_list = list(fields.values())
    known = [longest[f] for f in fields if longest[f] is not None]
    overall = max(known, key=lambda e: e.minutes) if known else None
    result = {
        "centre": centre_card(centre),
        "updated_at": to_local(now, centre.timezone).isoformat(timespec="seconds"),
        "method": method.METHOD,
        "waiting": sum(f["waiting"] for f in field_list),
        "estimate": wait_estimates.estimate_view(overall),
        "fields": field_list,
    }
    if len(_cache) > 4096:
        _cache.clear()
    _cache[key] = (now, result)
    return result


def _wait_minutes(view: dict[str, Any], field_code: str | None) -> tuple[bool, int | None]:
    """(offers the field, minutes) of a centre's view: the field's estimate, or the centre's
    longest line when no field is asked for; minutes None when no counter serves it now."""
    if field_code is None:
        return True, view["estimate"]["minutes"]
    for field in view["fields"]:
        if field["code"] == field_code:
            return True, field["estimate"]["minutes"]
    return False, None


def near(
    session: Session,
    now: datetime,
    *,
    latitude: float,
    longitude: float,
    field_code: str | None = None,
    origin_centre_id: int | None = None,
    limit: int = 5,
    exact: bool = False,
) -> dict[str, Any]:
    """Centres near a position, best visit first (minutes to get there + minutes waiting).

    Only the :data:`NEAR_CANDIDATES` nearest centres with a position are estimated (a
    centre 40 km away is no help however short its line). A centre without an open counter
    for the field comes last; one without the field is left out. With `origin_centre_id`,
    each row says whether its wait is shorter than the origin's. A citizen's position is
    used to :data:`POSITION_DECIMALS` decimals; a centre's (`exact`) as it is.
    """
    if exact:
        lat, lon = latitude, longitude
    else:
        lat, lon = round_position(latitude), round_position(longitude)
    centres = session.execute(
        select(Centre).where(Centre.latitude.is_not(None), Centre.longitude.is_not(None))
    ).scalars()
    by_distance = sorted(
        ((haversine_km(lat, lon, c.latitude, c.longitude), c) for c in centres),
        key=lambda pair: (pair[0], pair[1].id),
    )[:NEAR_CANDIDATES]
    origin_wait = None
    rows = []
    for distance, centre in by_distance:
        view = centre_waits(session, centre, now)
        offered, minutes = _wait_minutes(view, field_code)
        if centre.id == origin_centre_id:
            origin_wait = minutes
        if not offered:
            continue
        rows.append(
            {
                "centre": view["centre"],
                "distance_km": round(distance, 1),
                "waiting": view["waiting"]
                if field_code is None
                else next(f["waiting"] for f in view["fields"] if f["code"] == field_code),
                "wait_minutes": minutes,
                "estimate": view["estimate"]
                if field_code is None
                else next(f["estimate"] for f in view["fields"] if f["code"] == field_code),
                "visit_minutes": None
                if minutes is None
                else round(visit_minutes(distance, minutes)),
                "is_origin": centre.id == origin_centre_id,
            }
        )
    rows.sort(
        key=lambda r: (
            r["visit_minutes"] is None,
            r["visit_minutes"] or 0,
            r["distance_km"],
            r["centre"]["id"],
        )
    )
    for row in rows:
        row["shorter_wait"] = (
            origin_wait is not None
            and row["wait_minutes"] is not None
            and not row["is_origin"]
            and row["wait_minutes"] < origin_wait
        )
    return {
        "from": {"latitude": lat, "longitude": lon, "centre_id": origin_centre_id},
        "field": field_code,
        "ranking": "visit_minutes = distance_km × 3 + wait_minutes",
        "centres": rows[: max(1, limit)],
    }
