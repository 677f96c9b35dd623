"""Phone ownership: a one-time code sent by SMS to the number a citizen types, required to
take a remote number or book with it when the centre has an SMS gateway (docs/remote.md,
"Phone ownership"). The code then goes with the number in POST /api/v1/remote-tickets or
/api/v1/appointments (`verification`, `code`)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.domain import phone_check as rules
from server.runtime import db, now
from server.services import appointments, phone_check, remote

blp = Blueprint("phone_checks", __name__, description="Phone ownership (mã xác nhận SMS)")


class CodeRequest(BaseSchema):
    phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "A Vietnamese mobile number: the code is texted to it"},
    )
    service_id = fields.Integer(
        load_default=None,
        metadata={
            "description": "The service of the remote number the code is for (/lay-so): "
            "when that number could not be taken now (the phone's quotas, the hours, the "
            "cut-off, the day's cap, a closed day), the same refusal comes here and no "
            "code is sent"
        },
    )
    hold = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={
            "description": "The held slot the code is for (/dat-lich): when it could not be "
            "booked with this phone (the hold expired, the phone's bookings quota), the same "
            "refusal comes here and no code is sent"
        },
    )


@blp.route("/phone-verifications")
class PhoneVerificationsView(MethodView):
    @blp.arguments(CodeRequest)
    @blp.response(201)
    @blp.alt_response(
        409,
        description="phone_verification_off (no SMS gateway, no code needed); with "
        "service_id, the number's own refusals: centre_closed, outside_opening_hours, …",
    )
    @blp.alt_response(429, description="phone_code_too_soon, phone_code_limit, phone_quota_…")
    @blp.alt_response(503, description="sms_unavailable: the gateway did not take the SMS")
    def post(self, body: dict) -> dict:
        """Text a six-digit code to `phone`, valid 5 minutes, for one remote number or
        booking. Answers `verification` (send it back with the code), the masked number,
        `expires_at` and `resend_after` (seconds before another code may be asked)."""
        config = current_app.config["TTHCC"]
        if not phone_check.required(config):
            raise rules.VerificationOff(
                "Trung tâm không gửi mã xác nhận qua SMS: quý khách lấy số hoặc đặt lịch "
                "không cần mã.",
                "no SMS gateway here: remote numbers and bookings need no code",
            )
        session = db().session
        key = current_app.config["SECRET_KEY"]
        if body["service_id"] is not None:
            # Nothing texted to a citizen who could not take the number anyway.
            remote.check_can_take(
                session,
                service_id=body["service_id"],
                phone=body["phone"],
                now=now(),
                phone_key=key,
            )
        if body["hold"] is not None:  # likewise a booking the phone could not confirm
            appointments.check_can_book(
                session, hold_token=body["hold"], phone=body["phone"], now=now(), phone_key=key
            )
        pending = phone_check.request_code(session, phone=body["phone"], now=now(), key=key)
        row_id, masked = pending.row.id, pending.row.phone_masked
        session.commit()  # counted before it is sent: a race cannot send two
        if not phone_check.send(pending, config):
            phone_check.unsent(session, row_id)
            session.commit()
            raise rules.SmsUnavailable(
                f"Chưa gửi được mã xác nhận tới số {masked}: hệ thống tin nhắn đang gián "
                "đoạn. Quý khách vui lòng thử lại sau ít phút, hoặc lấy số tại kiosk.",
                "the SMS gateway did not take the code: try again in a few minutes",
                details={"retry_after_seconds": 30},
            )
        sent_at = now()
        phone_check.sent(session, row_id, sent_at)
        session.commit()
        return {
            "verification": pending.token,
            "phone": masked,
            "code_digits": rules.CODE_DIGITS,
            "expires_at": (sent_at + rules.VALID_FOR).isoformat(),
            "valid_seconds": int(rules.VALID_FOR.total_seconds()),
            "resend_after": rules.RESEND_AFTER_SECONDS,
            "max_attempts": rules.MAX_ATTEMPTS,
        }


class VerifiedPhone(BaseSchema):
    """Mixed into the bodies that take a phone number."""

    verification = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={
            "description": "From POST /api/v1/phone-verifications; required when the centre "
            "sends SMS (docs/remote.md)"
        },
    )
    code = fields.String(
        load_default=None,
        validate=validate.Length(max=12),
        metadata={"description": "The six digits texted to the phone"},
    )


def require_phone_code(body: dict) -> None:
    """When the centre sends SMS: accept the body's code for its phone, once, in the
    request's transaction (the number or booking that fails after this gives it back). A
    wrong code's attempt is committed before the refusal."""
    config = current_app.config["TTHCC"]
    if not phone_check.required(config):
        return
    session = db().session
    try:
        phone_check.consume(
            session,
            token=body.get("verification"),
            code=body.get("code"),
            phone=body["phone"],
            now=now(),
            key=current_app.config["SECRET_KEY"],
        )
    except (rules.WrongCode, rules.CodeLocked):
        session.commit()
        raise
