"""Tickets: issue one at the kiosk, read it, and move it through its states at a counter."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.api.schemas import TicketCreate, TicketListQuery, TicketOut, TransferRequest
from server.api.security import (
    OPERATOR_ROLES,
    actor_name,
    require_counter_operator,
    require_operator,
    require_user,
)
from server.domain.clock import local_day, utcnow
from server.domain.tickets import TicketStatus, allowed_actions
from server.models import Centre, Counter, PrintJob, Ticket
from server.runtime import db
from server.services import printing
from server.services import tickets as ops
from server.services.tickets import Actor, NotFound
from server.services.views import ticket_view

blp = Blueprint("tickets", __name__, description="Tickets (phiếu số thứ tự)")


def ticket_out(ticket: Ticket, **extra: Any) -> dict:
    session = db().session
    view = ticket_view(ticket, timezone=ticket.service.centre.timezone)
    view["waiting_ahead"] = ops.waiting_ahead_of(session, ticket)
    job = None
    if ticket.station_id is not None:  # only a station's ticket has print jobs
        job = session.execute(
            select(PrintJob)
            .where(PrintJob.ticket_id == ticket.id)
            .order_by(PrintJob.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    view["print_job_id"] = job.job_id if job else None
    view["print_status"] = job.status if job else None
    view["print_reason"] = job.reason if job else None
    view["allowed_actions"] = [a.value for a in allowed_actions(TicketStatus(ticket.status))]
    view.update(extra)
    return view


def _ticket(ticket_id: int) -> Ticket:
    ticket = db().session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Không tìm thấy phiếu số {ticket_id}.", f"ticket {ticket_id} not found")
    return ticket


def _operate(ticket: Ticket) -> Actor:
    """Only someone allowed at the ticket's counter may act on a ticket at a counter."""
    if ticket.counter_id is not None:
        require_counter_operator(db().session.get(Counter, ticket.counter_id))
    else:
        require_user(*OPERATOR_ROLES)(lambda: None)()
    name, staff_id = actor_name()
    return Actor(name, staff_id)


@blp.route("/tickets")
class TicketsView(MethodView):
    @blp.arguments(TicketCreate)
    @blp.response(201, TicketOut)
    @blp.alt_response(404, description="Unknown service")
    @blp.alt_response(422, description="Invalid input, inactive service or priority category")
    def post(self, body: dict) -> dict:
        """Issue a ticket (the kiosk). The number comes from the service's range for today."""
        session = db().session
        config = current_app.config["TTHCC"]
        arguments = {
            "service_id": body["service_id"],
            "priority_category_id": body["priority_category"],
            "station_id": body["station_id"],
            "actor": Actor(f"station:{body['station_id']}" if body["station_id"] else "kiosk"),
            "qr_base_url": config.public_url,
            "request_id": body["request_id"],
        }
        try:
            issued = ops.issue_ticket(session, now=utcnow(), **arguments)
            session.commit()
        except IntegrityError:
            # The same request_id raced in from a second connection: return its ticket.
            session.rollback()
            if body["request_id"] is None:
                raise
            issued = ops.issue_ticket(session, now=utcnow(), **arguments)
        out = ticket_view(issued.ticket, timezone=issued.timezone)
        out.update(
            waiting_ahead=issued.waiting_ahead,
            print_job_id=issued.print_job_id,
            print_status="pending" if issued.print_job_id else None,
            print_reason="",
            allowed_actions=[a.value for a in allowed_actions(TicketStatus.WAITING)],
        )
        return out


@blp.route("/tickets/today")
class TicketListView(MethodView):
    @blp.arguments(TicketListQuery, location="query")
    @blp.response(200, TicketOut(many=True))
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user()
    def get(self, args: dict) -> list[dict]:
        """Today's tickets of a centre, newest first, filtered by status, counter or service."""
        from server.api.centres import resolve_centre_id

        session = db().session
        centre_id = resolve_centre_id(args["centre_id"])
        centre = session.get(Centre, centre_id)
        query = select(Ticket).where(
            Ticket.centre_id == centre_id, Ticket.day == local_day(utcnow(), centre.timezone)
        )
        for key in ("status", "counter_id", "service_id"):
            if args[key] is not None:
                query = query.where(getattr(Ticket, key) == args[key])
        rows = session.execute(query.order_by(Ticket.id.desc()).limit(args["limit"])).scalars()
        out = []
        for ticket in rows:
            view = ticket_view(ticket, timezone=centre.timezone)
            view["allowed_actions"] = [
                a.value for a in allowed_actions(TicketStatus(ticket.status))
            ]
            out.append(view)
        return out


@blp.route("/tickets/<int:ticket_id>")
class TicketView(MethodView):
    @blp.response(200, TicketOut)
    def get(self, ticket_id: int) -> dict:
        """A ticket with its status, people ahead and print status."""
        return ticket_out(_ticket(ticket_id))


def _transition(name: str, operation: Any, doc: str) -> None:
    class View(MethodView):
        @blp.response(200, TicketOut)
        @blp.alt_response(409, description="Illegal transition (error illegal_transition)")
        @blp.doc(security=[{"bearer": []}, {"cookie": []}], summary=doc, description=doc)
        @require_operator
        def post(self, ticket_id: int) -> dict:
            ticket = _ticket(ticket_id)
            actor = _operate(ticket)
            session = db().session
            result = operation(session, ticket_id=ticket.id, now=utcnow(), actor=actor)
            session.commit()
            return ticket_out(result)

    View.__name__ = View.__qualname__ = f"Ticket{name.title().replace('-', '')}View"
    blp.route(f"/tickets/<int:ticket_id>/{name}")(View)


for _name, _op, _doc in (
    ("recall", ops.recall, "Call the ticket again (announced again)."),
    ("start", ops.start, "The citizen is at the counter: service starts."),
    ("finish", ops.finish, "Service finished."),
    ("no-show", ops.mark_no_show, "The citizen did not come after being called."),
    ("requeue", ops.requeue, "Put a no-show back in line at its original place."),
):
    _transition(_name, _op, _doc)


@blp.route("/tickets/<int:ticket_id>/transfer")
class TransferView(MethodView):
    @require_operator
    @blp.arguments(TransferRequest)
    @blp.response(200, TicketOut)
    @blp.alt_response(409, description="Illegal transition")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, ticket_id: int) -> dict:
        """Move the ticket to another service's line, keeping its place by issue time."""
        ticket = _ticket(ticket_id)
        actor = _operate(ticket)
        session = db().session
        result = ops.transfer(
            session, ticket_id=ticket.id, service_id=body["service_id"], now=utcnow(), actor=actor
        )
        session.commit()
        return ticket_out(result)


@blp.route("/tickets/<int:ticket_id>/reprint")
class ReprintView(MethodView):
    @blp.response(200, TicketOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(*OPERATOR_ROLES)
    def post(self, ticket_id: int) -> dict:
        """Print the ticket again on its kiosk's printer (e.g. after paper was refilled)."""
        ticket = _ticket(ticket_id)
        session = db().session
        printing.reprint(session, ticket_id=ticket.id, now=utcnow())
        session.commit()
        return ticket_out(ticket)


@blp.route("/tickets/public/<string:code>")
class PublicTicketView(MethodView):
    @blp.response(200, TicketOut)
    def get(self, code: str) -> dict:
        """A ticket by the code in its QR (a citizen following the queue on a phone)."""
        ticket = (
            db()
            .session.execute(select(Ticket).where(Ticket.public_code == code))
            .scalar_one_or_none()
        )
        if ticket is None:
            raise NotFound("Không tìm thấy phiếu.", "no ticket with this code")
        return ticket_out(ticket)
