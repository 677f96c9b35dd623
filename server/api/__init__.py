"""HTTP API under /api/v1, validated and documented by flask-smorest (OpenAPI 3)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from server.domain.errors import DomainError


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
            message = body.get("message") or _DEFAULT_MESSAGES.get(
                status, error.description or error.name
            )
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
    422: "invalid_input",
    429: "too_many_requests",
    500: "server_error",
}

_DEFAULT_MESSAGES = {
    400: "Yêu cầu không hợp lệ (cần JSON đúng định dạng). / Bad request: send valid JSON.",
    404: "Không tìm thấy địa chỉ này. / No such resource.",
    405: "Phương thức không được hỗ trợ. / Method not allowed.",
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
    return (
        jsonify(
            code=error.http_status,
            status="error",
            error=error.code,
            message=error.message_vi,
            message_en=error.message_en,
        ),
        error.http_status,
    )


def init_api(app: Flask) -> Api:
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
    from server.api import (
        admin,
        admin_procedures,
        announcements,
        auth,
        calendar,
        centres,
        counters,
        dossiers,
        feedback,
        procedures,
        ratings,
        reports,
        stations,
        tickets,
    )

    for module in (
        auth,
        centres,
        counters,
        tickets,
        announcements,
        procedures,
        calendar,
        feedback,
        dossiers,
        ratings,
        stations,
        reports,
        admin,
        admin_procedures,
    ):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    app.register_error_handler(DomainError, domain_error_response)
    return api
