"""Detached rows for views (server.models.base.detached): values as loaded, nothing pending."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect

from server.models import Centre, Counter, Service, Ticket
from server.models.base import detached
from server.services.views import ticket_view


def test_a_detached_ticket_reads_like_a_loaded_one_and_changes_nothing():
    centre = detached(Centre, id=1, timezone="Asia/Ho_Chi_Minh")
    service = detached(Service, id=2, centre_id=1, name="Hộ tịch", centre=centre)
    counter = detached(Counter, id=3, centre_id=1, number=6, name="")
    issued = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    ticket = detached(
        Ticket,
        id=4,
        display_number="1023",
        status="waiting",
        issued_at=issued,
        service=service,
        counter=counter,
    )
    assert ticket.service.centre.timezone == "Asia/Ho_Chi_Minh"
    assert ticket.counter.label == "Quầy 6" and ticket.called_at is None
    view = ticket_view(ticket)
    assert (view["number"], view["service_name"], view["counter_name"]) == (
        "1023",
        "Hộ tịch",
        "Quầy 6",
    )
    assert view["issued_at"] == "2026-12-05T09:00:00+07:00"
    state = inspect(ticket)
    assert state.transient and not state.modified  # no history: nothing an add would write
    assert "tickets" not in inspect(service).dict  # no backref collection started
