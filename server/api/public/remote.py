"""Numbers from the phone: take today's number remotely, check in at the kiosk by code."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.exc import IntegrityError

from server.api.public.phone_checks import VerifiedPhone, require_phone_code
from server.api.schemas import BaseSchema
from server.api.security import kiosk_printer
from server.domain.appointments import CODE_DIGITS
from server.runtime import db, now
from server.services import issue_keys, remote
from server.services.views import ticket_view

blp = Blueprint("remote", __name__, description="Numbers from the phone (lấy số từ xa)")


class RemoteTicketCreate(VerifiedPhone):
    service_id = fields.Integer(required=True)
    phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "A Vietnamese mobile number: kept only hashed and masked"},
    )


class CheckInRequest(BaseSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(max=16),
        metadata={"description": "A remote number's six digits, or an appointment's ten"},
    )
    station_id = fields.Integer(load_default=None, metadata={"description": "The kiosk"})
    centre_id = fields.Integer(load_default=None)


def _out(ticket, rn, centre, **extra) -> dict:
    from server.models import Centre

    centre = centre or db().session.get(Centre, ticket.centre_id)
    view = ticket_view(ticket, timezone=centre.timezone)
    base = current_app.config["TTHCC"].phone_url
    view["public_url"] = f"{base}/t/{ticket.public_code}" if base else None
    view["remote"] = remote.remote_view(rn, remote.grace_minutes(centre), centre.timezone)
    view.update(extra)
    return view


@blp.route("/remote-tickets")
class RemoteTicketsView(MethodView):
    @blp.arguments(RemoteTicketCreate)
    @blp.response(201)
    @blp.alt_response(200, description="A retry: the number this Idempotency-Key took")
    @blp.alt_response(409, description="remote_not_allowed, outside_opening_hours, …")
    @blp.alt_response(
        422,
        description="phone_code_required, phone_code_wrong, …; invalid_idempotency_key; "
        "idempotency_key_reused (the key took a number for another service)",
    )
    @blp.alt_response(429, description="phone_quota_reached, phone_code_locked")
    @blp.doc(
        parameters=[
            issue_keys.openapi_header(
                "Chosen by the phone page per press of «Lấy số» and sent again "
                "on every retry of that press: the first request takes the number, a retry "
                "(even racing the first, even with the code the first one used) answers the "
                "same number with 200 and `Idempotent-Replayed: true`, before any code is "
                "checked and without counting against the phone's quotas; the key is the "
                "phone number's for the centre's day (docs/remote.md)"
            )
        ]
    )
    def post(self, body: dict) -> Any:
        """Take today's number from a phone (services with remote issuing): the number is
        in the line at once; its six-digit `remote.code` checks the citizen in at the kiosk
        until the number was called plus the centre's grace minutes. With an SMS gateway,
        the code texted to the phone is required (`verification`, `code`)."""
        session = db().session
        config = current_app.config
        at = now()
        key = None
        header = request.headers.get(issue_keys.HEADER)
        if header is not None:
            key = remote.phone_key_of(
                header,
                service_id=body["service_id"],
                phone=body["phone"],
                phone_key=config["SECRET_KEY"],
            )
            # Before the code: the first request used it, its retry carries it again.
            done = remote.issued_with_key(session, key, at)
            if done is not None:
                return _replayed(session, done)
        require_phone_code(body)
        try:
            result = remote.issue_remote(
                session,
                service_id=body["service_id"],
                phone=body["phone"],
                now=at,
                phone_key=config["SECRET_KEY"],
                qr_base_url=config["TTHCC"].phone_url,
                key=key,
            )
            session.commit()
        except IntegrityError:
            # The same key committed first on another connection: answer its number.
            session.rollback()
            done = remote.issued_with_key(session, key, at) if key else None
            if done is None:
                raise
            return _replayed(session, done)
        row = result.remote
        return _out(
            row.ticket,
            row,
            None,
            waiting_ahead=result.issued.waiting_ahead,
            estimate=result.issued.estimate,
        )


def _replayed(session, row) -> tuple[dict, int, dict]:
    """The answer to a retry: the number the key took, as it stands now (people ahead, the
    estimate), 200 instead of 201, and `Idempotent-Replayed: true`."""
    from server.models import Centre
    from server.services import queue, wait_estimates

    ticket = row.ticket
    centre = session.get(Centre, ticket.centre_id)
    ahead = queue.waiting_ahead_of(session, ticket)
    estimate = None
    if ticket.status == "waiting":
        estimate = wait_estimates.for_ticket(session, ticket, ahead, centre.timezone, now())
    out = _out(ticket, row, centre, waiting_ahead=ahead, estimate=estimate)
    session.commit()  # the phone's lock (PostgreSQL) held no longer than the answer
    return out, 200, {"Idempotent-Replayed": "true"}


@blp.route("/check-in")
class CheckInView(MethodView):
    @blp.arguments(CheckInRequest)
    @blp.response(200)
    @blp.alt_response(404, description="No remote number of today has this code")
    @blp.alt_response(409, description="check_in_expired, check_in_too_early, booking_closed")
    def post(self, body: dict) -> dict:
        """The citizen has come: check in today's remote number (six digits) or an
        appointment (ten digits: a ticket merged into the line by the arrival rule,
        docs/appointments.md) by its code at a kiosk (its printer prints the ticket)."""
        # Printed only at the calling kiosk, with its credential (docs/security.md).
        station_id = kiosk_printer(body["station_id"])
        session = db().session
        if len("".join(ch for ch in body["code"] if ch.isdigit())) == CODE_DIGITS:
            return _appointment_check_in(session, body, station_id)
        done = remote.check_in(
            session,
            code=body["code"],
            now=now(),
            station_id=station_id,
            centre_id=body["centre_id"],
            qr_base_url=current_app.config["TTHCC"].phone_url,
        )
        session.commit()
        from server.services import printing, queue, wait_estimates

        ticket = done.ticket
        ahead = queue.waiting_ahead_of(session, ticket)
        centre = ticket.service.centre
        estimate = None
        if ticket.status == "waiting":
            estimate = wait_estimates.for_ticket(session, ticket, ahead, centre.timezone, now())
        return _out(
            ticket,
            done.remote,
            centre,
            checked_in_now=done.first_time,
            print_job_id=done.print_job_id,
            waiting_ahead=ahead,
            estimate=estimate,
            counters=printing.serving_counters(session, ticket.service_id),
        )


def _appointment_check_in(session, body: dict, station_id: int | None) -> dict:
    from server.models import Service
    from server.services import appointment_arrivals, appointments, printing, queue, wait_estimates

    done = appointment_arrivals.check_in(
        session,
        code=body["code"],
        now=now(),
        station_id=station_id,
        centre_id=body["centre_id"],
        qr_base_url=current_app.config["TTHCC"].phone_url,
    )
    session.commit()
    ticket = done.ticket
    centre = session.get(Service, ticket.service_id).centre
    view = ticket_view(ticket, timezone=centre.timezone)
    base = current_app.config["TTHCC"].phone_url
    view["public_url"] = f"{base}/t/{ticket.public_code}" if base else None
    ahead = queue.waiting_ahead_of(session, ticket)
    estimate = None
    if ticket.status == "waiting":
        estimate = wait_estimates.for_ticket(session, ticket, ahead, centre.timezone, now())
    view.update(
        appointment=appointments.appointment_view(done.appointment, centre.timezone),
        checked_in_now=done.first_time,
        print_job_id=done.print_job_id,
        waiting_ahead=ahead,
        estimate=estimate,
        counters=printing.serving_counters(session, ticket.service_id),
    )
    return view
