"""Phone ownership by SMS one-time code (rules: server.domain.phone_check; docs/remote.md,
"Phone ownership"): send a code to a number within its limits, and accept it once.

Required when the deployment has an SMS gateway (and `phone_verification` is on); without
one, numbers and bookings are taken as before. The number is kept only as its keyed hash
and mask, the code only as a keyed hash; logs carry the verification's id and the mask.
Like every service: no commit (the API commits around the SMS it sends).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.domain import phone_check as rules
from server.domain.remote import mask_phone, normalize_phone, phone_hash
from server.models import PhoneVerification

logger = logging.getLogger(__name__)


def required(config: Any) -> bool:
    """Whether taking a remote number or booking with a phone needs a code."""
    return bool(config.sms_gateway_url) and bool(getattr(config, "phone_verification", True))


def page_context(config: Any) -> dict[str, Any]:
    """What the phone pages need: `verify` (ask for a code) and the code's figures."""
    return {
        "verify": required(config),
        "phone_code": {
            "digits": rules.CODE_DIGITS,
            "minutes": rules.VALID_FOR.seconds // 60,
            "attempts": rules.MAX_ATTEMPTS,
        },
    }


@dataclass(frozen=True)
class Pending:
    """A verification made, its SMS still to send: the code and number only in memory."""

    row: PhoneVerification
    token: str
    code: str
    phone: str


def request_code(session: Session, *, phone: str, now: datetime, key: str) -> Pending:
    """A new code for `phone`, within its limits (ResendTooSoon, PhoneCodeLimit)."""
    number = normalize_phone(phone)
    digest = phone_hash(number, key)
    masked = mask_phone(number)
    from server.services.remote import _lock_phone

    _lock_phone(session, digest)  # one number's requests in turn: limits hold under races
    session.execute(
        delete(PhoneVerification).where(PhoneVerification.created_at < now - rules.KEEP_FOR)
    )
    hour, day, last = session.execute(
        select(
            func.count().filter(PhoneVerification.created_at >= now - timedelta(hours=1)),
            func.count(),
            func.max(PhoneVerification.created_at),
        ).where(PhoneVerification.phone_hash == digest)
    ).one()
    rules.check_send(rules.SendCounts(hour, day, last), now, masked)
    token, code = rules.new_token(), rules.new_code()
    token_hash = rules.token_digest(token)
    row = PhoneVerification(
        token_hash=token_hash,
        phone_hash=digest,
        phone_masked=masked,
        code_hash=rules.code_digest(code, token_hash, key),
        created_at=now,
        expires_at=now + rules.VALID_FOR,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return Pending(row, token, code, number)


def send(pending: Pending, config: Any) -> bool:
    """Text the code through the SMS gateway (the notification provider interface), at
    once: a citizen waits for it. True when the gateway took it."""
    from server.notify import texts
    from server.notify.channels import HttpGatewayProvider, Outgoing

    gateway = HttpGatewayProvider(
        config.sms_gateway_url,
        config.sms_gateway_token,
        timeout=float(config.sms_gateway_timeout_seconds),
        sender=config.sms_sender,
    )
    text = texts.phone_code(pending.code, rules.VALID_FOR.seconds // 60)
    result = gateway.send(
        Outgoing(
            id=pending.row.id,
            channel="sms",
            kind="phone_code",
            title=text.title,
            body=text.body,
            url="",
            phone=pending.phone,
            phone_masked=pending.row.phone_masked,
            reference=f"tthcc-code-{pending.row.id}",
        )
    )
    logger.info(
        "phone code %s to %s: %s %s",
        pending.row.id,
        pending.row.phone_masked,
        result.outcome,
        result.detail,
    )
    return result.outcome == "sent"


def sent(session: Session, row_id: int, now: datetime) -> None:
    """The gateway took the SMS: the code is valid from now for VALID_FOR."""
    session.execute(
        update(PhoneVerification)
        .where(PhoneVerification.id == row_id)
        .values(sent_at=now, expires_at=now + rules.VALID_FOR)
    )


def unsent(session: Session, row_id: int) -> None:
    """The gateway did not take it: forget it (no cool-down for a code never received)."""
    session.execute(delete(PhoneVerification).where(PhoneVerification.id == row_id))


def consume(
    session: Session,
    *,
    token: str | None,
    code: str | None,
    phone: str,
    now: datetime,
    key: str,
) -> PhoneVerification:
    """Accept the code sent for `token` to `phone`, once. A wrong code counts one attempt
    (the caller commits it before answering: the refusal must not roll it back).

    `token` without a code: the number proved earlier today by that verification
    (rules.proved_today), accepted again without a new SMS."""
    if token and not rules.clean_code(code):
        return _proof(session, token=str(token), phone=phone, now=now, key=key)
    if not token or not rules.clean_code(code):
        raise rules.CodeRequired(
            "Cần mã xác nhận gửi qua SMS tới số điện thoại của quý khách: bấm «Gửi mã "
            "xác nhận», rồi nhập mã 6 chữ số nhận được.",
            "a one-time code is required: POST /api/v1/phone-verifications {phone}, then "
            "send its `verification` and the `code` received",
        )
    digits = rules.clean_code(code)
    number = normalize_phone(phone)
    row = session.scalars(
        select(PhoneVerification)
        .where(PhoneVerification.token_hash == rules.token_digest(str(token)))
        .with_for_update()
    ).first()
    if row is None:
        raise rules.UnknownVerification(
            "Không tìm thấy yêu cầu mã xác nhận này (có thể đã quá một ngày). Quý khách bấm "
            "«Gửi lại mã» để nhận mã mới.",
            "unknown verification: ask for a new code",
        )
    state = rules.Verification(
        phone_hash=row.phone_hash,
        phone_masked=row.phone_masked,
        token_hash=row.token_hash,
        code_hash=row.code_hash,
        expires_at=row.expires_at,
        attempts=row.attempts,
        used_at=row.used_at,
        sent=row.sent_at is not None,
    )
    try:
        rules.check_code(state, phone_hash=phone_hash(number, key), code=digits, key=key, now=now)
    except (rules.WrongCode, rules.CodeLocked):
        session.execute(
            update(PhoneVerification)
            .where(
                PhoneVerification.id == row.id,
                PhoneVerification.attempts < rules.MAX_ATTEMPTS,
            )
            .values(attempts=PhoneVerification.attempts + 1)
        )
        logger.info("phone code %s: wrong code (%s)", row.id, row.phone_masked)
        raise
    # Once only: two requests with the same code at once, one of them takes it.
    taken = session.execute(
        update(PhoneVerification)
        .where(
            PhoneVerification.id == row.id,
            PhoneVerification.used_at.is_(None),
            PhoneVerification.attempts < rules.MAX_ATTEMPTS,
        )
        .values(used_at=now)
    ).rowcount
    if taken != 1:
        raise rules.CodeUsed(
            "Mã xác nhận này đã được dùng. Mỗi mã chỉ dùng một lần: quý khách bấm «Gửi lại "
            "mã» để nhận mã mới.",
            "this code was used already: ask for a new one",
        )
    logger.info("phone code %s accepted (%s)", row.id, row.phone_masked)
    return row


def _proof(
    session: Session, *, token: str, phone: str, now: datetime, key: str
) -> PhoneVerification:
    """The verification whose code was accepted today for `phone`: the number stays proved
    for whoever holds its token until the local day ends (no new code, no new SMS)."""
    row = session.scalars(
        select(PhoneVerification).where(PhoneVerification.token_hash == rules.token_digest(token))
    ).first()
    if row is None:
        raise rules.UnknownVerification(
            "Không tìm thấy yêu cầu mã xác nhận này (có thể đã quá một ngày). Quý khách bấm "
            "«Gửi mã xác nhận» để nhận mã mới.",
            "unknown verification: ask for a new code",
        )
    rules.check_proof(
        row.phone_hash,
        row.phone_masked,
        row.used_at,
        phone_hash=phone_hash(normalize_phone(phone), key),
        now=now,
    )
    logger.info("phone %s proved earlier today (verification %s)", row.phone_masked, row.id)
    return row
