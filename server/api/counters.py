"""Counters and the operations a counter takes: call next, call a ticket, open/pause/close."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.api.centres import resolve_centre_id
from server.api.schemas import (
    CallTicketRequest,
    CentreQuery,
    CounterOpenRequest,
    CounterOut,
    TicketOut,
)
from server.api.security import actor_name, require_counter_operator, require_operator
from server.api.tickets import ticket_out
from server.domain.clock import local_day, utcnow
from server.models import Counter, CounterService, Ticket
from server.runtime import db
from server.services import tickets as ops
from server.services.counters import set_counter_status
from server.services.tickets import Actor, NotFound, waiting_counts
from server.services.views import counter_view

blp = Blueprint("counters", __name__, description="Counters (quầy) and calling")


def _counter(counter_id: int) -> Counter:
    counter = db().session.get(Counter, counter_id)
    if counter is None:
        raise NotFound(f"Không tìm thấy quầy số {counter_id}.", f"counter {counter_id} not found")
    return counter


def _counter_out(counter: Counter) -> dict:
    session = db().session
    current = session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    view = counter_view(counter, current)
    counts = waiting_counts(
        session, counter.centre_id, local_day(utcnow(), counter.centre.timezone)
    )
    view["waiting"] = {
        str(link.service_id): counts.get(link.service_id, 0) for link in counter.service_links
    }
    return view


def _actor() -> Actor:
    name, staff_id = actor_name()
    return Actor(name, staff_id)


@blp.route("/counters")
class CountersView(MethodView):
    @blp.arguments(CentreQuery, location="query")
    @blp.response(200, CounterOut(many=True))
    def get(self, args: dict) -> list[dict]:
        """Counters of a centre with the ordered services each serves."""
        centre_id = resolve_centre_id(args["centre_id"])
        rows = (
            db()
            .session.execute(
                select(Counter)
                .where(Counter.centre_id == centre_id)
                .options(selectinload(Counter.service_links).selectinload(CounterService.service))
                .order_by(Counter.number)
            )
            .scalars()
        )
        return [_counter_out(c) for c in rows]


@blp.route("/counters/<int:counter_id>")
class CounterView(MethodView):
    @blp.response(200, CounterOut)
    def get(self, counter_id: int) -> dict:
        """One counter, its services in order, its current ticket and waiting counts."""
        return _counter_out(_counter(counter_id))


@blp.route("/counters/<int:counter_id>/call-next")
class CallNextView(MethodView):
    @require_operator
    @blp.response(200, TicketOut)
    @blp.alt_response(409, description="Nobody waiting (error no_ticket_waiting)")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, counter_id: int) -> dict:
        """Call the next ticket for this counter (finishes the one still at the counter)."""
        session = db().session
        ticket = ops.call_next(
            session,
            counter_id=counter_id,
            now=utcnow(),
            actor=_actor(),
            authorize=require_counter_operator,
        )
        session.commit()
        return ticket_out(ticket)


@blp.route("/counters/<int:counter_id>/call")
class CallTicketView(MethodView):
    @require_operator
    @blp.arguments(CallTicketRequest)
    @blp.response(200, TicketOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, counter_id: int) -> dict:
        """Call a specific ticket by id or by today's number (out of turn, or a no-show back)."""
        counter = _counter(counter_id)
        require_counter_operator(counter)
        session = db().session
        ticket_id = body["ticket_id"]
        if ticket_id is None:
            if not body["number"]:
                abort(422, message="Cần ticket_id hoặc number. / Give ticket_id or number.")
            day = local_day(utcnow(), counter.centre.timezone)
            ticket = session.execute(
                select(Ticket)
                .where(
                    Ticket.centre_id == counter.centre_id,
                    Ticket.day == day,
                    Ticket.display_number == body["number"].strip(),
                )
                .order_by(Ticket.cycle.desc())
                .limit(1)
            ).scalar_one_or_none()
            if ticket is None:
                raise NotFound(
                    f"Không có phiếu số {body['number']} hôm nay.",
                    f"no ticket numbered {body['number']} today",
                )
            ticket_id = ticket.id
        ticket = ops.call_ticket(
            session, counter_id=counter.id, ticket_id=ticket_id, now=utcnow(), actor=_actor()
        )
        session.commit()
        return ticket_out(ticket)


@blp.route("/counters/<int:counter_id>/status")
class CounterStatusView(MethodView):
    @require_operator
    @blp.arguments(CounterOpenRequest)
    @blp.response(200, CounterOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, counter_id: int) -> dict:
        """Open (take) the counter, pause it with a reason, or close it."""
        counter = _counter(counter_id)
        require_counter_operator(counter)
        session = db().session
        name, staff_id = actor_name()
        if not (current_user.is_authenticated and current_user.role == "staff"):
            staff_id = None  # supervisors and admins act for the counter, they don't take it
        set_counter_status(
            session,
            counter,
            body["status"],
            body["reason"],
            now=utcnow(),
            staff_id=staff_id,
            actor=name,
        )
        session.commit()
        return _counter_out(counter)
