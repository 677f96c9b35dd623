"""Factories: small centres built through the models, for service-level tests."""

from __future__ import annotations

import itertools

from server.models import Centre, Counter, CounterService, Field, PriorityCategory, Service

_seq = itertools.count(1)


def create_centre(session, *, code: str | None = None, name: str = "Trung tâm thử") -> Centre:
    centre = Centre(code=code or f"C{next(_seq)}", name=name, subtitle="PHƯỜNG THỬ", settings={})
    session.add(centre)
    session.flush()
    return centre


def create_service(
    session,
    centre: Centre,
    *,
    code: str | None = None,
    name: str = "Dịch vụ",
    range_start: int = 1001,
    range_end: int = 1999,
    policy: str = "interleave",
    every: int = 3,
    prefix: str = "",
) -> Service:
    field = Field(centre_id=centre.id, code=f"F{next(_seq)}", name="Lĩnh vực")
    session.add(field)
    session.flush()
    service = Service(
        centre_id=centre.id,
        field_id=field.id,
        code=code or f"S{next(_seq)}",
        name=name,
        range_start=range_start,
        range_end=range_end,
        priority_policy=policy,
        interleave_every=every,
        prefix=prefix,
    )
    session.add(service)
    session.flush()
    return service


def create_counter(
    session, centre: Centre, services: list[Service], number: int | None = None
) -> Counter:
    counter = Counter(centre_id=centre.id, number=number or next(_seq), status="open")
    session.add(counter)
    session.flush()
    for position, service in enumerate(services):
        session.add(CounterService(counter_id=counter.id, service_id=service.id, position=position))
    session.flush()
    session.refresh(counter)
    return counter


def create_category(session, centre: Centre, code: str = "nguoi_cao_tuoi") -> PriorityCategory:
    category = PriorityCategory(centre_id=centre.id, code=code, name="Người cao tuổi")
    session.add(category)
    session.flush()
    return category


def provision_kiosk(client, code: str | None = None):
    """Make a Flask test client the demo kiosk's page (or the kiosk of `code`): what a
    kiosk PC does once with an administrator's code. Returns the client."""
    from server.demo import DEMO_KIOSK_CODE

    response = client.get(f"/kiosk/provision?code={code or DEMO_KIOSK_CODE}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
