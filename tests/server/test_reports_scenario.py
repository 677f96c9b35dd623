"""A small hall day, written through the real services at controlled times.

Shared by the report, scorecard and export tests; the figures they check are worked out
by hand in the comments below. Wednesday 25/11/2026, Hà Nội time (UTC+7):

counter 1 (staff Hương) serves A then B; counter 2 (staff Minh) serves B.

| ticket | line | issued | called            | then                                  |
|--------|------|--------|-------------------|---------------------------------------|
| A1     | A    | 09:00  | 09:02 at counter 1 | start 09:03, finish 09:08 (300 s)     |
| A2     | A    | 09:01  | 09:10 at counter 1 | finish 09:14, no start (240 s)        |
| B1     | B    | 09:05  | 09:06 at counter 2 | no-show 09:07                         |
| B2     | B    | 09:06  | 09:08 at counter 2 | start 09:09, transfer to A 09:10;     |
|        |      |        |                   | called 09:15 at counter 1, start 09:16, finish 09:20 (240 s) |

Waits (issue → first call): 120, 540, 60, 120 s. Ratings: A1 5, A2 2, B2 4.
Counter 1: opened by Hương 08:55, paused "Họp giao ban" 09:30, open 09:45, closed 10:00.
Counter 2: opened by Minh 09:00, closed 09:30.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from server.models import Agency, Rating, Ticket
from server.services import issuing
from server.services import lifecycle as ops
from server.services.auth import create_user
from server.services.lifecycle import set_counter_status
from tests.server.factories import create_centre, create_counter, create_service

DAY = date(2026, 11, 25)


def local(hhmm: str) -> datetime:
    """An instant given as local Hà Nội time on DAY."""
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, 25, h, m, tzinfo=UTC) - timedelta(hours=7)


@dataclass
class Scenario:
    centre_id: int
    service_a: int
    service_b: int
    counter_1: int
    counter_2: int
    huong: int
    minh: int
    agency_1: int
    agency_2: int
    tickets: dict[str, int]


def build_day(session) -> Scenario:
    centre = create_centre(session, name="Trung tâm báo cáo")
    agency_1 = Agency(centre_id=centre.id, name="Phòng Tư pháp")
    agency_2 = Agency(centre_id=centre.id, name="Văn phòng đăng ký đất đai")
    session.add_all([agency_1, agency_2])
    session.flush()
    a = create_service(session, centre, name="Dịch vụ A", range_start=1001, range_end=1999)
    b = create_service(session, centre, name="Dịch vụ B", range_start=2001, range_end=2999)
    c1 = create_counter(session, centre, [a, b])
    c2 = create_counter(session, centre, [b])
    for counter in (c1, c2):
        counter.status, counter.status_since = "closed", local("07:00")
    session.flush()
    suffix = uuid.uuid4().hex[:6]
    huong = create_user(
        session,
        username=f"huong{suffix}",
        password="mat-khau-1",
        role="staff",
        full_name="Nguyễn Thị Hương",
        centre_id=centre.id,
        agency_id=agency_1.id,
    )
    minh = create_user(
        session,
        username=f"minh{suffix}",
        password="mat-khau-1",
        role="staff",
        full_name="Trần Văn Minh",
        centre_id=centre.id,
        agency_id=agency_2.id,
    )
    by_huong = ops.Actor(f"user:{huong.username}", huong.id)
    by_minh = ops.Actor(f"user:{minh.username}", minh.id)

    set_counter_status(session, c1, "open", now=local("08:55"), staff_id=huong.id)
    set_counter_status(session, c2, "open", now=local("09:00"), staff_id=minh.id)
    t = {}
    t["A1"] = issuing.issue_ticket(session, service_id=a.id, now=local("09:00")).ticket.id
    t["A2"] = issuing.issue_ticket(session, service_id=a.id, now=local("09:01")).ticket.id
    ops.call_next(session, counter_id=c1.id, now=local("09:02"), actor=by_huong)
    ops.start(session, ticket_id=t["A1"], now=local("09:03"), actor=by_huong)
    t["B1"] = issuing.issue_ticket(session, service_id=b.id, now=local("09:05")).ticket.id
    t["B2"] = issuing.issue_ticket(session, service_id=b.id, now=local("09:06")).ticket.id
    ops.call_next(session, counter_id=c2.id, now=local("09:06"), actor=by_minh)
    ops.mark_no_show(session, ticket_id=t["B1"], now=local("09:07"), actor=by_minh)
    ops.finish(session, ticket_id=t["A1"], now=local("09:08"), actor=by_huong)
    ops.call_next(session, counter_id=c2.id, now=local("09:08"), actor=by_minh)
    ops.start(session, ticket_id=t["B2"], now=local("09:09"), actor=by_minh)
    ops.transfer(session, ticket_id=t["B2"], service_id=a.id, now=local("09:10"), actor=by_minh)
    called = ops.call_next(session, counter_id=c1.id, now=local("09:10"), actor=by_huong)
    assert called.id == t["A2"]
    ops.finish(session, ticket_id=t["A2"], now=local("09:14"), actor=by_huong)
    called = ops.call_next(session, counter_id=c1.id, now=local("09:15"), actor=by_huong)
    assert called.id == t["B2"]
    ops.start(session, ticket_id=t["B2"], now=local("09:16"), actor=by_huong)
    ops.finish(session, ticket_id=t["B2"], now=local("09:20"), actor=by_huong)
    set_counter_status(session, c2, "closed", now=local("09:30"), staff_id=minh.id)
    set_counter_status(session, c1, "paused", "Họp giao ban", now=local("09:30"))
    set_counter_status(session, c1, "open", now=local("09:45"), staff_id=huong.id)
    set_counter_status(session, c1, "closed", now=local("10:00"))

    for name, level, at in (("A1", 5, "09:09"), ("A2", 2, "09:15"), ("B2", 4, "09:21")):
        ticket = session.get(Ticket, t[name])
        session.add(
            Rating(
                centre_id=centre.id,
                counter_id=ticket.counter_id,
                ticket_id=ticket.id,
                staff_id=ticket.staff_id,
                service_id=ticket.service_id,
                raw_key=str(level),
                level=level,
                scale=5,
                criterion="overall",
                source="pad",
                pressed_at=local(at),
                received_at=local(at),
                idempotency_key=uuid.uuid4().hex,
            )
        )
    session.flush()
    return Scenario(
        centre.id, a.id, b.id, c1.id, c2.id, huong.id, minh.id, agency_1.id, agency_2.id, t
    )
