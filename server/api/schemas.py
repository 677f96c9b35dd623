"""Request and response schemas (marshmallow): the OpenAPI document is generated from them."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE


class ErrorSchema(BaseSchema):
    code = fields.Integer()
    status = fields.String()
    error = fields.String()
    message = fields.String(metadata={"description": "Vietnamese, for the person at the screen"})
    message_en = fields.String()


class TokenRequest(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


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
        validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{8,64}$"),
        metadata={
            "description": "Idempotency key chosen by the kiosk (8–64 of A-Z a-z 0-9 _ . : -): "
            "repeating a request with the same key returns the same ticket"
        },
    )


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
    public_code = fields.String()
    waiting_ahead = fields.Integer()
    print_job_id = fields.String(allow_none=True)
    print_status = fields.String(allow_none=True)
    print_reason = fields.String(allow_none=True)
    allowed_actions = fields.List(fields.String())


class TicketListQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(["waiting", "called", "serving", "done", "no_show"]),
    )
    counter_id = fields.Integer(load_default=None)
    service_id = fields.Integer(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class TransferRequest(BaseSchema):
    service_id = fields.Integer(required=True, strict=True)


class CallTicketRequest(BaseSchema):
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
