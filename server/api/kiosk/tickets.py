"""Tickets: issue one at the kiosk, read it, and move it through its states at a counter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.api.schemas import (
    FinishRequest,
    TicketCreate,
    TicketListQuery,
    TicketOut,
    TransferRequest,
)
from server.api.security import (
    OPERATOR_ROLES,
    actor_name,
    current_station,
    kiosk_printer,
    require_centre_access,
    require_counter_operator,
    require_operator,
    require_user,
)
from server.domain.actors import Actor
from server.domain.clock import local_day, utcnow
from server.domain.errors import NotFound
from server.domain.lifecycle import Outcome, TicketStatus, allowed_actions
from server.models import Centre, PrintJob, Ticket
from server.runtime import db, now
from server.services import id_cards, issue_keys, issuing, printing, queue, wait_estimates
from server.services import lifecycle as ops
from server.services.views import ticket_view

blp = Blueprint("tickets", __name__, description="Tickets (phiếu số thứ tự)")


def _public_url(ticket: Ticket) -> str | None:
    """The /t/ page of a ticket at the address phones reach; None when only a loopback
    address is configured (then no QR code is shown or printed)."""
    base = current_app.config["TTHCC"].phone_url
    return f"{base}/t/{ticket.public_code}" if base else None


def ticket_out(ticket: Ticket, **extra: Any) -> dict:
    session = db().session
    timezone = ticket.service.centre.timezone
    view = ticket_view(ticket, timezone=timezone)
    view["waiting_ahead"] = queue.waiting_ahead_of(session, ticket)
    view["estimate"] = None
    if ticket.status == TicketStatus.WAITING.value:
        view["estimate"] = wait_estimates.for_ticket(
            session, ticket, view["waiting_ahead"], timezone, utcnow()
        )
    view["public_url"] = _public_url(ticket)
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


def operate_ticket(counter: Any, ticket: Mapping[str, Any]) -> None:
    """Who may act on a ticket: at a counter, whoever may operate that counter; in a line,
    an operator of the ticket's centre. Checked on the locked rows (services.lifecycle)."""
    if counter is not None:
        require_counter_operator(counter)
        return
    require_user(*OPERATOR_ROLES)(lambda: None)()
    require_centre_access(ticket["centre_id"])  # a waiting ticket: staff of its centre only


def _actor() -> Actor:
    name, staff_id = actor_name()
    return Actor(name, staff_id)


def _caller_scope(station_id: int | None) -> str:
    """Whose idempotency keys these are (server.services.issue_keys)."""
    if station_id is not None:
        return f"station:{station_id}"
    station = current_station()
    if station is not None:
        return f"station:{station.id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "anonymous"


def _replayed(ticket: Ticket) -> tuple[dict, int, dict]:
    """The answer to a retry: the ticket the key issued, as it stands now (its print job's
    status, people ahead), 200 instead of 201, and `Idempotent-Replayed: true`."""
    from server.models import CitizenScan

    session = db().session
    linked = session.execute(
        select(CitizenScan.print_name).where(CitizenScan.ticket_id == ticket.id).limit(1)
    ).first()
    out = ticket_out(
        ticket,
        counters=printing.serving_counters(session, ticket.service_id),
        citizen_linked=linked is not None,
        citizen_name_printed=bool(linked and linked.print_name and ticket.station_id),
    )
    return out, 200, {"Idempotent-Replayed": "true"}


@blp.route("/tickets")
class TicketsView(MethodView):
    @blp.arguments(TicketCreate)
    @blp.response(201, TicketOut)
    @blp.alt_response(200, description="A retry: the ticket this Idempotency-Key issued")
    @blp.alt_response(404, description="Unknown service")
    @blp.alt_response(
        422,
        description="Invalid input, inactive service or priority category; "
        "invalid_idempotency_key; idempotency_key_reused (the key issued another request)",
    )
    @blp.doc(
        parameters=[
            issue_keys.openapi_header(
                "Chosen by the kiosk per citizen's press and sent again on "
                "every retry of that press: the first request issues the ticket, a retry "
                "(even racing the first) answers the same ticket with 200 and "
                "`Idempotent-Replayed: true`; the key is the caller's (station, user or "
                "anonymous) for the centre's day (docs/numbering.md)"
            )
        ]
    )
    def post(self, body: dict) -> Any:
        """Issue a ticket (the kiosk). The number comes from the service's range for today."""
        station_id = kiosk_printer(body["station_id"])
        session = db().session
        config = current_app.config["TTHCC"]
        at = now()
        key = issue_keys.from_request(
            request.headers.get(issue_keys.HEADER), body, scope=_caller_scope(station_id)
        )
        if key is not None:
            done = issue_keys.issued_with(session, key, at)
            if done is not None:
                return _replayed(done)
        scan = id_cards.take_pending(
            session, token=body["id_scan"] or "", station_id=station_id, now=at
        )
        print_name = scan is not None and body["print_name"]
        try:
            issued = issuing.issue_ticket(
                session,
                now=at,
                citizen_name=scan.full_name if print_name else None,
                service_id=body["service_id"],
                priority_category_id=body["priority_category"],
                station_id=station_id,
                actor=Actor(f"station:{station_id}" if station_id else "kiosk"),
                qr_base_url=config.phone_url,
                key=key,
            )
            if scan is not None:
                id_cards.link(
                    session,
                    scan,
                    ticket_id=issued.ticket.id,
                    print_name=print_name,
                    now=at,
                    timezone=issued.timezone,
                )
            session.commit()
        except IntegrityError:
            # The same key raced in on another connection and committed first (PostgreSQL:
            # this insert waited on the unique index until then): answer its ticket.
            session.rollback()
            done = issue_keys.issued_with(session, key, at) if key else None
            if done is None:
                raise
            return _replayed(done)
        out = ticket_view(issued.ticket, timezone=issued.timezone)
        out.update(
            waiting_ahead=issued.waiting_ahead,
            estimate=issued.estimate,
            counters=list(issued.counters)
            or printing.serving_counters(session, issued.ticket.service_id),
            public_url=_public_url(issued.ticket),
            print_job_id=issued.print_job_id,
            print_status="pending" if issued.print_job_id else None,
            print_reason="",
            allowed_actions=[a.value for a in allowed_actions(TicketStatus.WAITING)],
            citizen_linked=scan is not None,
            citizen_name_printed=bool(print_name and issued.print_job_id),
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
        from server.api.public.centres import resolve_centre_id

        session = db().session
        centre_id = resolve_centre_id(args["centre_id"])
        require_centre_access(centre_id)
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
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, ticket_id: int) -> dict:
        """A ticket with its status, people ahead and print status: for the kiosk that
        printed it and for users of its centre. Ids are sequential and the answer holds the
        ticket's public code, so nobody else walks them (citizens: /tickets/public/<code>)."""
        ticket = _ticket(ticket_id)
        if not current_user.is_authenticated:
            station = current_station()
            if station is None:
                abort(401, message="Vui lòng đăng nhập. / Please log in (session or bearer token).")
            if station.id != ticket.station_id:
                abort(
                    403,
                    message="Điểm thiết bị chỉ xem phiếu mình đã in. / "
                    "A station reads only the tickets it printed.",
                )
        else:
            require_centre_access(ticket.centre_id)
        return ticket_out(ticket)


def _transition(name: str, operation: Any, doc: str) -> None:
    class View(MethodView):
        @blp.response(200, TicketOut)
        @blp.alt_response(409, description="Illegal transition (error illegal_transition)")
        @blp.doc(security=[{"bearer": []}, {"cookie": []}], summary=doc, description=doc)
        @require_operator
        def post(self, ticket_id: int) -> dict:
            session = db().session
            result = operation(
                session, ticket_id=ticket_id, now=utcnow(), actor=_actor(), authorize=operate_ticket
            )
            session.commit()
            return ticket_out(result)

    View.__name__ = View.__qualname__ = f"Ticket{name.title().replace('-', '')}View"
    blp.route(f"/tickets/<int:ticket_id>/{name}")(View)


for _name, _op, _doc in (
    ("recall", ops.recall, "Call the ticket again (announced again)."),
    ("start", ops.start, "The citizen is at the counter: service starts."),
    ("no-show", ops.mark_no_show, "The citizen did not come after being called."),
    ("requeue", ops.requeue, "Put a no-show back in line at its original place."),
):
    _transition(_name, _op, _doc)


@blp.route("/tickets/<int:ticket_id>/finish")
class TicketFinishView(MethodView):
    @require_operator
    @blp.arguments(FinishRequest)
    @blp.response(200, TicketOut)
    @blp.alt_response(409, description="Illegal transition (error illegal_transition)")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, ticket_id: int) -> dict:
        """Service finished, with its outcome (served unless said otherwise)."""
        session = db().session
        result = ops.finish(
            session,
            ticket_id=ticket_id,
            now=utcnow(),
            actor=_actor(),
            outcome=Outcome(body["outcome"]),
            authorize=operate_ticket,
        )
        session.commit()
        return ticket_out(result)


@blp.route("/tickets/<int:ticket_id>/transfer")
class TransferView(MethodView):
    @require_operator
    @blp.arguments(TransferRequest)
    @blp.response(200, TicketOut)
    @blp.alt_response(409, description="Illegal transition")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, ticket_id: int) -> dict:
        """Move the ticket to another service's line, keeping its place by issue time."""
        session = db().session
        result = ops.transfer(
            session,
            ticket_id=ticket_id,
            service_id=body["service_id"],
            now=utcnow(),
            actor=_actor(),
            authorize=operate_ticket,
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
        require_centre_access(ticket.centre_id)
        session = db().session
        config = current_app.config["TTHCC"]
        printing.reprint(session, ticket_id=ticket.id, now=utcnow(), qr_base_url=config.phone_url)
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
