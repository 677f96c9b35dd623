"""Appointments (lịch hẹn): the bookable slots, a slot held while the phone fills the form,
booking, change and cancel by the confirmation code (docs/appointments.md). The kiosk
checks a booking in through /api/v1/check-in (server/api/public/remote.py); a centre's
closed days: server/api/admin/closures.py."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.exc import IntegrityError

from server.api.public.phone_checks import VerifiedPhone, require_phone_code
from server.api.schemas import BaseSchema
from server.domain.appointments import DEFAULT_HORIZON_DAYS
from server.models import Centre, Service
from server.notify import bookings as booking_messages
from server.runtime import db, now
from server.services import appointments as ops
from server.services import issue_keys

blp = Blueprint("appointments", __name__, description="Appointments (đặt lịch hẹn)")


class SlotsQuery(BaseSchema):
    service_id = fields.Integer(required=True)
    days = fields.Integer(
        load_default=DEFAULT_HORIZON_DAYS, validate=validate.Range(min=1, max=DEFAULT_HORIZON_DAYS)
    )


class HoldRequest(BaseSchema):
    service_id = fields.Integer(required=True)
    start = fields.String(
        required=True,
        validate=validate.Length(max=40),
        metadata={"description": "The slot's start as listed, e.g. 2026-11-26T08:00:00+07:00"},
    )


class BookRequest(VerifiedPhone):
    hold = fields.String(
        load_default=None,
        validate=validate.Length(max=40),
        metadata={"description": "The hold's token (else service_id and start)"},
    )
    service_id = fields.Integer(load_default=None)
    start = fields.String(load_default=None, validate=validate.Length(max=40))
    phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "A Vietnamese mobile number: kept only hashed and masked"},
    )
    notify = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The citizen's consent to messages about this booking (confirmation, "
            "change, cancellation) to `phone`; the number is then also kept sealed"
        },
    )
    notify_channel = fields.String(
        load_default="sms",
        validate=validate.OneOf(["sms", "zalo"]),
        metadata={"description": "sms or zalo (as GET /api/v1/notifications/channels offers)"},
    )


class ChangeRequest(BaseSchema):
    start = fields.String(required=True, validate=validate.Length(max=40))


def _view(row) -> dict:
    session = db().session
    centre = session.get(Centre, row.centre_id)
    service = session.get(Service, row.service_id)
    view = ops.appointment_view(row, centre.timezone, service.name)
    view["centre"] = centre.name
    # Messages the citizen agreed to (the number masked), none without consent.
    view["notify"] = [
        {"channel": sub.channel, "phone": sub.phone_masked}
        for sub in booking_messages.active(session, row.id)
    ]
    return view


@blp.route("/appointments/slots")
class SlotsView(MethodView):
    @blp.arguments(SlotsQuery, location="query")
    @blp.response(200)
    @blp.alt_response(422, description="slot_not_bookable: the service takes no appointments")
    def get(self, query: dict) -> dict:
        """The service's bookable slots from now on, per day, with their free seats."""
        return ops.slots_view(db().session, query["service_id"], now(), query["days"])


@blp.route("/appointment-holds")
class HoldsView(MethodView):
    @blp.arguments(HoldRequest)
    @blp.response(201)
    @blp.alt_response(409, description="slot_full")
    @blp.alt_response(422, description="slot_not_bookable")
    def post(self, body: dict) -> dict:
        """Hold a seat of a slot for 5 minutes while the citizen types the phone number;
        `hold` confirms it (POST /appointments), else it is released."""
        session = db().session
        row = ops.hold(session, service_id=body["service_id"], start=body["start"], now=now())
        session.commit()
        view = _view(row)
        view["hold"] = row.hold_token
        return view


@blp.route("/appointments")
class AppointmentsView(MethodView):
    @blp.arguments(BookRequest)
    @blp.response(201)
    @blp.alt_response(200, description="A retry: the booking this Idempotency-Key made")
    @blp.alt_response(409, description="slot_full, hold_expired, channel_unavailable")
    @blp.alt_response(
        422,
        description="phone_code_required, phone_code_wrong, …; invalid_idempotency_key; "
        "idempotency_key_reused (the key booked another slot or service)",
    )
    @blp.alt_response(429, description="booking_quota_reached, phone_code_locked")
    @blp.doc(
        parameters=[
            issue_keys.openapi_header(
                "Chosen by the phone page per press of «Xác nhận đặt lịch» and "
                "sent again on every retry of that press: the first request books, a retry "
                "(even racing the first, even with the code the first one used) answers the "
                "same booking with 200 and `Idempotent-Replayed: true`, before any code is "
                "checked and without counting against the phone's bookings quota; the key is "
                "the phone number's for the centre's day (docs/appointments.md)"
            )
        ]
    )
    def post(self, body: dict) -> Any:
        """Book: confirm a hold, or take a seat of `service_id` at `start` at once. The
        answer's ten-digit `code` (also in the QR at `qr_url`) checks in at the kiosk and
        changes or cancels the booking."""
        session = db().session
        secret = current_app.config["SECRET_KEY"]
        at = now()
        key = None
        header = request.headers.get(issue_keys.HEADER)
        if header is not None:
            key = ops.booking_key_of(
                session,
                header,
                phone=body["phone"],
                phone_key=secret,
                now=at,
                hold_token=body["hold"],
                service_id=body["service_id"],
                start=body["start"],
            )
            # Before the code: the first request used it, its retry carries it again.
            done = ops.booked_with_key(session, key) if key is not None else None
            if done is not None:
                return _replayed(session, done)
        if body["notify"]:  # refused before anything is booked
            from server.notify.delivery import available_channels

            booking_messages.check_channel(
                body["notify_channel"], available_channels(current_app.config["TTHCC"])
            )
        require_phone_code(body)  # with an SMS gateway: the code texted to the phone
        try:
            row = ops.book(
                session,
                phone=body["phone"],
                now=at,
                phone_key=secret,
                hold_token=body["hold"],
                service_id=body["service_id"],
                start=body["start"],
                key=key,
            )
            if body["notify"]:
                booking_messages.subscribe(
                    session,
                    row=row,
                    phone=body["phone"],
                    channel=body["notify_channel"],
                    now=at,
                    secret_key=secret,
                )
            session.commit()
        except IntegrityError:
            # The same key committed first on another connection: answer its booking.
            session.rollback()
            done = ops.booked_with_key(session, key) if key is not None else None
            if done is None:
                raise
            return _replayed(session, done)
        return _with_qr(_view(row))


def _replayed(session, row) -> tuple[dict, int, dict]:
    """The answer to a retry: the booking the key made, as it stands now, 200 instead of
    201, and `Idempotent-Replayed: true` (nothing booked, texted or counted again)."""
    out = _with_qr(_view(row))
    session.commit()  # the phone's lock (PostgreSQL) held no longer than the answer
    return out, 200, {"Idempotent-Replayed": "true"}


def _with_qr(view: dict) -> dict:
    from flask import url_for

    view["qr_url"] = url_for("appointments_pages.appointment_qr", code=view["code"])
    return view


@blp.route("/appointments/<code>")
class AppointmentView(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="No appointment has this code")
    def get(self, code: str) -> dict:
        """A booking by its code."""
        return _with_qr(_view(ops.by_code(db().session, code)))

    @blp.arguments(ChangeRequest)
    @blp.response(200)
    @blp.alt_response(409, description="slot_full, booking_closed")
    def patch(self, body: dict, code: str) -> dict:
        """Move the booking to another slot of its service (the code stays)."""
        session = db().session
        row = ops.change(session, code=code, start=body["start"], now=now())
        session.commit()
        return _with_qr(_view(row))

    @blp.response(200)
    @blp.alt_response(409, description="booking_closed")
    def delete(self, code: str) -> dict:
        """Cancel the booking: its seat is free at once."""
        session = db().session
        row = ops.cancel(session, code=code, now=now())
        session.commit()
        return _view(row)
