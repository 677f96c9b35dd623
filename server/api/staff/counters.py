"""Counters and the operations a counter takes: call next, call a ticket, open/pause/close."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.api.kiosk.tickets import ticket_out
from server.api.public.centres import resolve_centre_id
from server.api.schemas import (
    CallNextRequest,
    CallTicketRequest,
    CentreQuery,
    CounterOpenRequest,
    CounterOut,
    TicketOut,
)
from server.api.security import actor_name, require_counter_operator, require_operator
from server.domain.actors import Actor
from server.domain.clock import local_day, utcnow
from server.domain.errors import NotFound
from server.domain.lifecycle import Resolution
from server.models import Counter, CounterService, Ticket
from server.runtime import db
from server.services import lifecycle as ops
from server.services.lifecycle import set_counter_status
from server.services.queue import waiting_counts
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
    day = local_day(utcnow(), counter.centre.timezone)
    stamps: dict[int, int] = {}
    counts = waiting_counts(session, counter.centre_id, day, stamps)
    view["waiting"] = {
        str(link.service_id): counts.get(link.service_id, 0) for link in counter.service_links
    }
    # Each count's version, as in queue.updated: an answer that left the server before an
    # event the page already applied must not put the older count back.
    view["waiting_day"] = day.isoformat()
    view["waiting_stamps"] = {
        str(link.service_id): stamps[link.service_id]
        for link in counter.service_links
        if link.service_id in stamps
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
    @blp.arguments(CallNextRequest)
    @blp.response(200, TicketOut)
    @blp.alt_response(
        409,
        description="Nobody waiting (no_ticket_waiting), or the ticket "
        "still at the counter was only called (current_not_started: say `resolve`)",
    )
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, counter_id: int) -> dict:
        """Call the next ticket for this counter, after the one still at it (see `resolve`)."""
        session = db().session
        ticket = ops.call_next(
            session,
            counter_id=counter_id,
            now=utcnow(),
            actor=_actor(),
            resolve=_resolution(body),
            resolve_for=body["current_ticket_id"],
            authorize=require_counter_operator,
        )
        session.commit()
        return ticket_out(ticket)


def _resolution(body: dict) -> Resolution | None:
    return Resolution(body["resolve"]) if body.get("resolve") else None


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
            session,
            counter_id=counter.id,
            ticket_id=ticket_id,
            now=utcnow(),
            actor=_actor(),
            resolve=_resolution(body),
            resolve_for=body["current_ticket_id"],
            authorize=require_counter_operator,
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
        """Open (take) the counter, pause it with a reason, or close it (staff, not a
        station: a keypad calls, recalls and finishes only)."""
        if not current_user.is_authenticated:
            abort(
                403,
                message="Chỉ cán bộ mới mở, tạm dừng hay đóng quầy. / "
                "Only staff open, pause or close a counter (a station's keypad cannot).",
            )
        counter = _counter(counter_id)
        require_counter_operator(counter)
        session = db().session
        name, staff_id = actor_name()
        if not (current_user.is_authenticated and current_user.role == "staff"):
            staff_id = None  # supervisors and admins act for the counter, they don't take it
        set_counter_status(
            session,
            counter.id,
            body["status"],
            body["reason"],
            now=utcnow(),
            staff_id=staff_id,
            actor=Actor(name, staff_id),
        )
        session.commit()
        return _counter_out(_counter(counter_id))


@blp.route("/counters/<int:counter_id>/citizen")
class CounterCitizenView(MethodView):
    @require_operator
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, counter_id: int) -> dict:
        """The ID card read at the kiosk for the ticket this counter serves, to pre-fill the
        dossier receipt (name, date of birth, address): `citizen` is null when none was
        read, or it was already used or purged (docs/privacy.md). Staff who may operate the
        counter only, not a station."""
        if not current_user.is_authenticated:
            abort(403, message="Chỉ cán bộ của quầy. / Staff of the counter only.")
        counter = _counter(counter_id)
        require_counter_operator(counter)
        from server.runtime import now
        from server.services import id_cards

        return id_cards.prefill_for_counter(db().session, counter, now())
