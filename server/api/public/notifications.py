"""Notifications: a citizen turns them on or off for their ticket (the ticket's public
code is the key, as on its /t/ page). The supervisors' report: server/api/supervisor/
notifications.py."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from server.api.public.phone_checks import VerifiedPhone, require_phone_code
from server.api.schemas import BaseSchema
from server.domain.errors import NotFound
from server.domain.remote import normalize_phone, phone_hash
from server.models import Appointment, NotifySubscription, RemoteNumber, Ticket
from server.notify import store
from server.notify.delivery import available_channels
from server.runtime import db, now
from server.services import phone_check

blp = Blueprint("notifications", __name__, description="Notifications to citizens")


class PushKeys(BaseSchema):
    p256dh = fields.String(required=True, validate=validate.Length(max=200))
    auth = fields.String(required=True, validate=validate.Length(max=64))


class PushSubscriptionIn(BaseSchema):
    endpoint = fields.String(required=True, validate=validate.Length(max=1000))
    keys = fields.Nested(PushKeys, required=True)
    expirationTime = fields.Raw(load_default=None, allow_none=True)


class SubscribeIn(VerifiedPhone):
    channel = fields.String(required=True, validate=validate.OneOf(store.CHANNELS))
    subscription = fields.Nested(PushSubscriptionIn, load_default=None)
    phone = fields.String(load_default=None, validate=validate.Length(max=20))
    consent = fields.Boolean(
        required=True,
        metadata={"description": "The citizen agreed to be notified (must be true)"},
    )


def _ticket(code: str) -> Ticket:
    ticket = db().session.scalars(select(Ticket).where(Ticket.public_code == code)).first()
    if ticket is None:
        raise NotFound("Không tìm thấy phiếu.", "no ticket with this code")
    return ticket


def _proven_for(ticket: Ticket, phone: str) -> bool:
    """Whether `phone` is the number this ticket was taken or booked with (its remote
    number or its checked-in booking): proven by its own code then, no second one."""
    session = db().session
    digest = phone_hash(normalize_phone(phone), current_app.config["SECRET_KEY"])
    remote = session.scalar(
        select(RemoteNumber.id).where(
            RemoteNumber.ticket_id == ticket.id, RemoteNumber.phone_hash == digest
        )
    )
    if remote is not None:
        return True
    booking = session.scalar(
        select(Appointment.id).where(
            Appointment.ticket_id == ticket.id, Appointment.phone_hash == digest
        )
    )
    return booking is not None


def _view(sub: NotifySubscription) -> dict:
    return {
        "id": sub.id,
        "channel": sub.channel,
        "phone": sub.phone_masked,
        "consented_at": sub.consented_at.isoformat(),
        "withdrawn_at": sub.withdrawn_at.isoformat() if sub.withdrawn_at else None,
        "ahead_threshold": sub.ahead_threshold,
    }


@blp.route("/notifications/channels")
class ChannelsView(MethodView):
    @blp.response(200)
    def get(self) -> dict:
        """The channels this centre offers, and the VAPID public key browsers subscribe with."""
        config = current_app.config["TTHCC"]
        names = available_channels(config)
        public_key = None
        if "webpush" in names:
            from server.notify.keys import load_vapid_key, public_key_of

            public_key = public_key_of(load_vapid_key(config.vapid_key_path))
        return {"channels": names, "vapid_public_key": public_key}


@blp.route("/tickets/<code>/notifications")
class TicketNotificationsView(MethodView):
    @blp.response(200)
    def get(self, code: str) -> dict:
        """The notifications turned on for this ticket (phone numbers masked)."""
        ticket = _ticket(code)
        subs = db().session.scalars(
            select(NotifySubscription).where(
                NotifySubscription.ticket_id == ticket.id,
                NotifySubscription.withdrawn_at.is_(None),
            )
        )
        return {"subscriptions": [_view(s) for s in subs]}

    @blp.arguments(SubscribeIn)
    @blp.response(201)
    @blp.alt_response(409, description="channel_unavailable, ticket_over, consent_required")
    @blp.alt_response(422, description="phone_code_required, phone_code_wrong, …")
    def post(self, body: dict, code: str) -> dict:
        """Turn notifications on for this ticket: Web Push (the browser's PushSubscription)
        or SMS / Zalo (a mobile number). Records the consent; a "joined" message follows.
        When the centre sends SMS, a number needs the one-time code texted to it
        (`verification`, `code`: POST /api/v1/phone-verifications), unless it is the
        number this ticket was taken or booked with."""
        from server.domain.errors import InvalidRequest

        if not body["consent"]:
            raise InvalidRequest(
                "Cần sự đồng ý của quý khách để gửi thông báo.", "consent must be true"
            )
        session = db().session
        config = current_app.config["TTHCC"]
        ticket = _ticket(code)
        if body["channel"] != "webpush":
            normalize_phone(body["phone"] or "")  # 422 for a malformed number, before a code
            if phone_check.required(config) and not _proven_for(ticket, body["phone"]):
                # Accepted in this transaction: refused below (ticket over, too many
                # numbers), the code is given back.
                require_phone_code(body)
        sub, _created = store.subscribe(
            session,
            ticket=ticket,
            channel=body["channel"],
            now=now(),
            secret_key=current_app.config["SECRET_KEY"],
            available=available_channels(config),
            push=body["subscription"],
            phone=body["phone"],
            allow_local_push=config.notify_push_allow_local,
        )
        session.commit()
        return _view(sub)


@blp.route("/tickets/<code>/notifications/<int:subscription_id>")
class TicketNotificationView(MethodView):
    @blp.response(200)
    def delete(self, code: str, subscription_id: int) -> dict:
        """Withdraw: nothing more is sent; the number or browser address is erased."""
        ticket = _ticket(code)
        session = db().session
        sub = session.get(NotifySubscription, subscription_id)
        if sub is None or sub.ticket_id != ticket.id:
            raise NotFound("Không tìm thấy đăng ký.", "no such subscription for this ticket")
        cancelled = store.withdraw(session, sub, now(), "citizen")
        session.commit()
        return {**_view(sub), "cancelled": cancelled}
