"""HTTP API under /api/v1, validated and documented by flask-smorest (OpenAPI 3)."""

from __future__ import annotations

import threading
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
    """flask-smorest's Api with error bodies a person can act on, and an OpenAPI document
    built when first read (served at /api/v1/openapi.json, or ``flask openapi``).

    Converting every route's schemas into the document is about half of what creating an
    app costs (~40 ms of ~80), and only that one route reads it: every other request, and
    every app a test makes, goes without. The document is built from the same calls
    flask-smorest makes while registering, in the same order, on the first read of
    ``spec`` (tests/server/test_openapi_lazy.py compares it with an eagerly built one).
    """

    def __init__(self, app: Flask) -> None:
        self._spec_kwargs_deferred: dict[str, Any] | None = None
        self._blueprints_deferred: list[tuple[Blueprint, str, Any]] = []
        self._spec_lock = threading.RLock()
        self._spec_state = "deferred"  # then "building", then "built"
        super().__init__(app)

    @property
    def spec(self) -> Any:
        if self._spec_state != "built":
            with self._spec_lock:
                # "building": this thread, inside the build, reading the spec it is filling.
                if self._spec_state == "deferred":
                    self._spec_state = "building"
                    try:
                        self._build_spec()
                    except BaseException:
                        self._spec_state = "deferred"
                        raise
                    self._spec_state = "built"
        return self.__dict__["_spec"]

    @spec.setter
    def spec(self, value: Any) -> None:
        self.__dict__["_spec"] = value

    def _init_spec(self, **kwargs: Any) -> None:
        # Called by init_app. Only the part that is not the document happens now.
        from flask_smorest.spec import openapi_cli

        self._spec_kwargs_deferred = kwargs
        self._app.cli.add_command(openapi_cli)

    def register_blueprint(self, blp: Blueprint, *, parameters: Any = None, **options: Any) -> None:
        # flask-smorest's register_blueprint, with the document's part deferred.
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._blueprints_deferred.append((blp, name, parameters))

    def _build_spec(self) -> None:
        super()._init_spec(**(self._spec_kwargs_deferred or {}))
        spec = self.__dict__["_spec"]
        for blp, name, parameters in self._blueprints_deferred:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

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
