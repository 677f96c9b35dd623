"""Request and response schemas (marshmallow): the OpenAPI document is generated from them."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from server.domain.lifecycle import Outcome, Resolution
from server.input_guard import bad_text
from server.models.base import MAX_DB_INT, MIN_DB_INT


def _storable_text(value: str) -> None:
    why = bad_text(value)
    if why is not None:
        raise ValidationError(f"Text holds {why}.")


def _bound(field: fields.Field) -> None:
    """Every integer fits an `integer` column; no text holds NUL or invalid Unicode."""
    if isinstance(field, fields.List | fields.Tuple):
        for inner in getattr(field, "tuple_fields", None) or [field.inner]:
            _bound(inner)
    elif isinstance(field, fields.Integer):
        ranges = [v for v in field.validators if isinstance(v, validate.Range)]
        if not any(r.max is not None for r in ranges) or not any(r.min is not None for r in ranges):
            field.validators.append(validate.Range(min=MIN_DB_INT, max=MAX_DB_INT))
    elif isinstance(field, fields.String) and _storable_text not in field.validators:
        field.validators.append(_storable_text)


class BaseSchema(Schema):
    """Unknown keys are ignored; integers and text are bounded to what the database stores."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _bound(field_obj)


class ErrorSchema(BaseSchema):
    code = fields.Integer()
    status = fields.String()
    error = fields.String()
    message = fields.String(metadata={"description": "Vietnamese, for the person at the screen"})
    message_en = fields.String()


class TokenRequest(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChange(BaseSchema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=validate.Length(min=8, max=200))


class TokenResponse(BaseSchema):
    token = fields.String(required=True)
    expires_in = fields.Integer()
    user = fields.Dict()


class LoginResponse(BaseSchema):
    user = fields.Dict()


class CentreQuery(BaseSchema):
    centre_id = fields.Integer(
        load_default=None, metadata={"description": "Default: the configured default centre"}
    )


class ServiceOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    field_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    prefix = fields.String()
    range_start = fields.Integer()
    range_end = fields.Integer()
    priority_policy = fields.String()
    interleave_every = fields.Integer()
    waiting = fields.Integer(metadata={"description": "Tickets waiting today"})
    counters = fields.List(fields.Integer(), metadata={"description": "Counter numbers serving it"})


class CounterServiceOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    position = fields.Integer()


class CurrentTicketOut(BaseSchema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    service_id = fields.Integer()


class CounterOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    number = fields.Integer()
    name = fields.String()
    zone = fields.String()
    status = fields.String()
    status_reason = fields.String()
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.String(allow_none=True)
    services = fields.List(fields.Nested(CounterServiceOut), metadata={"description": "In order"})
    current_ticket = fields.Nested(CurrentTicketOut, allow_none=True)
    waiting = fields.Dict(keys=fields.String(), values=fields.Integer())
    waiting_day = fields.String(metadata={"description": "The centre's day of the counts"})
    waiting_stamps = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Each count's version, as `stamps` in queue.updated"},
    )


class TicketCreate(BaseSchema):
    service_id = fields.Integer(required=True, strict=True)
    priority_category = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "Priority category id (người cao tuổi, …); omit for normal"},
    )
    station_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    request_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{16,64}$"),
        metadata={
            "description": "Former name of the Idempotency-Key header (16–64 of A-Z a-z 0-9 "
            "_ . : -), still accepted from kiosk pages loaded before it; prefer the header"
        },
    )
    id_scan = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={
            "description": "The token of an ID card scanned at this kiosk (POST /scans or the "
            "scanner.scanned event), when the citizen agreed to link it (docs/privacy.md)"
        },
    )
    print_name = fields.Boolean(
        load_default=False,
        metadata={"description": "With id_scan: print the citizen's name on the ticket"},
    )


class WaitEstimateOut(BaseSchema):
    method = fields.String(metadata={"description": "counter_replay"})
    minutes = fields.Integer(allow_none=True)
    low_minutes = fields.Integer(allow_none=True)
    high_minutes = fields.Integer(allow_none=True)
    text = fields.String()
    text_en = fields.String()


class TicketOut(BaseSchema):
    id = fields.Integer()
    number = fields.String()
    number_value = fields.Integer()
    service_id = fields.Integer()
    service_name = fields.String()
    issued_service_id = fields.Integer()
    status = fields.String()
    is_priority = fields.Boolean()
    priority_category_id = fields.Integer(allow_none=True)
    issued_at = fields.String()
    called_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    counter_id = fields.Integer(allow_none=True)
    counter_number = fields.Integer(allow_none=True)
    counter_name = fields.String(allow_none=True)
    call_count = fields.Integer()
    outcome = fields.String(
        allow_none=True,
        metadata={"description": "How a done ticket ended: served, supplement, redirected, left"},
    )
    origin = fields.String(
        allow_none=True,
        metadata={
            "description": "appointment (a booking checked in), remote (a phone's number), "
            "null (a walk-in)"
        },
    )
    booked = fields.Boolean(
        metadata={"description": "From a booking's check-in: the counter shows «Đặt lịch»"}
    )
    public_code = fields.String()
    waiting_ahead = fields.Integer()
    print_job_id = fields.String(allow_none=True)
    print_status = fields.String(allow_none=True)
    print_reason = fields.String(allow_none=True)
    allowed_actions = fields.List(fields.String())
    estimate = fields.Nested(
        "WaitEstimateOut",
        allow_none=True,
        metadata={"description": "Wait estimate while waiting (docs/wait-estimate.md)"},
    )
    counters = fields.List(
        fields.String(), metadata={"description": "Counters serving the service (on issue)"}
    )
    public_url = fields.String(
        allow_none=True,
        metadata={"description": "The ticket's /t/ page for phones; null with a loopback URL"},
    )
    citizen_linked = fields.Boolean(
        metadata={"description": "On issue: the ID card scanned (id_scan) was linked"}
    )
    citizen_name_printed = fields.Boolean(
        metadata={"description": "On issue: the citizen's name goes on the printed ticket"}
    )


class TicketListQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(["waiting", "called", "serving", "done", "no_show", "cancelled"]),
    )
    counter_id = fields.Integer(load_default=None)
    service_id = fields.Integer(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class TransferRequest(BaseSchema):
    service_id = fields.Integer(required=True, strict=True)


_RESOLVE = fields.String(
    load_default=None,
    validate=validate.OneOf([r.value for r in Resolution]),
    metadata={
        "description": "What happened to the ticket still at the counter when it was only "
        "called: served, supplement, redirected, left or no_show. Without it, a ticket only "
        "called (not started) is refused with 409 current_not_started, unless it was called "
        "the centre's max_calls times (then it is marked no-show)."
    },
)


_RESOLVE_FOR = fields.Integer(
    load_default=None,
    strict=True,
    metadata={
        "description": "The ticket `resolve` is about (the counter's current ticket as the "
        "page saw it). Required with `resolve`: an answer about a ticket another press has "
        "already let go of is ignored, never applied to the next citizen."
    },
)


class _Resolving(BaseSchema):
    resolve = _RESOLVE
    current_ticket_id = _RESOLVE_FOR

    @validates_schema
    def _resolve_names_its_ticket(self, data: dict, **kwargs: object) -> None:
        if data.get("resolve") and data.get("current_ticket_id") is None:
            raise ValidationError(
                "Cho biết phiếu đang ở quầy (current_ticket_id). / "
                "Say which ticket `resolve` is about (current_ticket_id).",
                "current_ticket_id",
            )


class CallNextRequest(_Resolving):
    pass


class FinishRequest(BaseSchema):
    outcome = fields.String(
        load_default=Outcome.SERVED.value,
        validate=validate.OneOf([o.value for o in Outcome]),
        metadata={"description": "served (default), supplement, redirected or left"},
    )


class CallTicketRequest(_Resolving):
    ticket_id = fields.Integer(load_default=None, strict=True)
    number = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=12),
        metadata={"description": "Today's display number, e.g. 1023 (alternative to ticket_id)"},
    )


class CounterOpenRequest(BaseSchema):
    status = fields.String(
        load_default="open", validate=validate.OneOf(["open", "paused", "closed"])
    )
    reason = fields.String(load_default="", validate=validate.Length(max=200))
