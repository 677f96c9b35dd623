"""HTTP API under /api/v1, validated and documented by flask-smorest (OpenAPI 3)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from server.domain.errors import DomainError


class OneSchemaPerClassParser(FlaskParser):
    """webargs' parser, building each request schema once.

    Given a Schema class (as every ``@blp.arguments`` here is), webargs builds an instance
    for every request: 40-65 µs with its fields deep-copied, on the hottest paths (issue a
    ticket, call next) too. An instance holds no state of a request, so one per class
    serves every request.
    """

    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


# Every blueprint (server/api/<audience>/*.py, imported after this package) parses with it.
Blueprint.ARGUMENTS_PARSER = OneSchemaPerClassParser()


class TthccApi(Api):
    """flask-smorest's Api with error bodies a person can act on."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        body, status, headers = super().handle_http_exception(error)
        errors = body.get("errors")
        if status in (400, 422) and errors:
            detail = _flatten_errors(errors)
            body["message"] = f"Dữ liệu không hợp lệ: {detail}"
            body["message_en"] = f"Invalid input: {detail}"
        else:
            message = (
                _DEFAULT_MESSAGES.get(status)
                if status in _GENERIC_ONLY
                else body.get("message") or _DEFAULT_MESSAGES.get(status)
            ) or (error.description or error.name)
            # Our own aborts say "Vietnamese / English": split them into the two fields.
            vi, _, en = message.partition(" / ")
            body["message"], body["message_en"] = vi, en or vi
        body["error"] = _ERROR_CODES.get(status, "http_error")
        return jsonify(body), status, headers


_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "server_error",
}

#: Werkzeug's own English text for these is replaced by ours (both languages).
_GENERIC_ONLY = frozenset({413, 414})

_DEFAULT_MESSAGES = {
    400: "Yêu cầu không hợp lệ (cần JSON đúng định dạng). / Bad request: send valid JSON.",
    404: "Không tìm thấy địa chỉ này. / No such resource.",
    405: "Phương thức không được hỗ trợ. / Method not allowed.",
    413: "Dữ liệu gửi lên quá lớn. / The request body is too large.",
    414: "Địa chỉ quá dài. / The URL is too long.",
    500: "Lỗi máy chủ, vui lòng thử lại. / Server error, please try again.",
}


def _flatten_errors(errors: Any, prefix: str = "") -> str:
    parts: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            # flask-smorest nests by location ("json", "query"): drop that level.
            name = key if key not in {"json", "query", "path", "form"} else ""
            parts.append(
                _flatten_errors(value, f"{prefix}.{name}" if prefix and name else name or prefix)
            )
    elif isinstance(errors, list):
        text = "; ".join(str(e) for e in errors if not isinstance(e, dict | list))
        nested = [_flatten_errors(e, prefix) for e in errors if isinstance(e, dict | list)]
        if text:
            parts.append(f"{prefix}: {text}" if prefix else text)
        parts.extend(nested)
    else:
        parts.append(f"{prefix}: {errors}" if prefix else str(errors))
    return "; ".join(p for p in parts if p)


def domain_error_response(error: DomainError) -> Any:
    body = {
        **error.details,
        "code": error.http_status,
        "status": "error",
        "error": error.code,
        "message": error.message_vi,
        "message_en": error.message_en,
    }
    headers = {}
    if isinstance(error.details.get("retry_after_seconds"), int):
        headers["Retry-After"] = str(error.details["retry_after_seconds"])
    return jsonify(body), error.http_status, headers


def init_api(app: Flask) -> Api:
    """The API object (its blueprints are registered by server/app.py from the one list)."""
    app.config.update(
        API_TITLE="TTHCC API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Queue, counters, tickets and devices of a public administration "
                "centre (Trung tâm Phục vụ hành chính công). Errors are JSON with `message` "
                "(Vietnamese) and `message_en`."
            },
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                }
            },
        },
    )
    api = TthccApi(app)
    app.register_error_handler(DomainError, domain_error_response)
    return api
