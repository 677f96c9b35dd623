"""Hostile input gets a 4xx with a message, never a 500.

Checked once for every request, before any view runs:
- integers in URLs fit the database (`<int:…>` stops at 2³¹−1: a larger id is a 404);
- no NUL character anywhere in the path, the query or a form field (PostgreSQL refuses NUL
  in text, so it would otherwise surface as a server error deep in a query);
- a JSON body is valid UTF-8, an object, at most `MAX_JSON_DEPTH` deep, and none of its
  strings or keys holds NUL or a lone surrogate (invalid Unicode);
- a body is at most `Config.max_request_bytes` (`Config.max_import_bytes` for imports).

What still slips through to the database is answered by two error handlers: a value the
database cannot store (out of range, invalid text) is a 422, a uniqueness or reference
conflict a 409 naming the constraint's columns.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask_smorest import abort
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.routing import IntegerConverter

from server.db_errors import integrity_columns
from server.models.base import MAX_DB_INT, MIN_DB_INT

logger = logging.getLogger(__name__)

#: Nesting allowed in a JSON body (an exported centre set-up is 5 deep).
MAX_JSON_DEPTH = 32
#: Endpoints that take a whole set-up file: they may be larger than other requests.
IMPORT_ENDPOINTS = frozenset({"admin.ConfigImportView", "web_admin_pages.config_import"})

_JSON_MIMETYPE = re.compile(r"^application/(.+\+)?json$")


class DbIntegerConverter(IntegerConverter):
    """`<int:…>` that matches only what an integer column can hold (else the URL is a 404)."""

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_DB_INT if max is None else max, signed)


def db_int(value: str) -> int:
    """`type=` for request.args.get: an integer a column can hold (else the default)."""
    number = int(value)
    if not MIN_DB_INT <= number <= MAX_DB_INT:
        raise ValueError(f"{number} is out of range")
    return number


def bad_text(value: str) -> str | None:
    """Why `value` cannot be stored as text (NUL, lone surrogate), or None when it can."""
    if "\x00" in value:
        return "NUL"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid Unicode"
    return None


def json_error(status: int, error: str, message_vi: str, message_en: str) -> Any:
    """The error body every answer of ours has (see server.api.TthccApi)."""
    body = {"code": status, "status": "error", "error": error}
    return jsonify(**body, message=message_vi, message_en=message_en), status


def _refuse(what_vi: str, what_en: str) -> None:
    abort(422, message=f"Dữ liệu không hợp lệ: {what_vi}. / Invalid input: {what_en}.")


def _check_json(value: Any) -> tuple[str, str] | None:
    """Walk a parsed body without recursion: too deep, or text that cannot be stored."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return (
                    f"JSON lồng quá {MAX_JSON_DEPTH} cấp",
                    f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                )
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and bad_text(key):
                    return (
                        "tên trường chứa ký tự không hợp lệ",
                        "a key holds NUL or invalid Unicode",
                    )
                stack.append((child, depth + 1))
        elif isinstance(item, str) and (why := bad_text(item)):
            return "văn bản chứa ký tự không hợp lệ (NUL hoặc Unicode lỗi)", f"text holds {why}"
    return None


def _guard_request() -> None:
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = current_app.config["TTHCC"].max_import_bytes
    if bad_text(request.path):
        _refuse("địa chỉ chứa ký tự không hợp lệ", "the URL path holds NUL or invalid Unicode")
    for key, value in request.args.items(multi=True):
        if bad_text(key) or bad_text(value):
            _refuse(f"tham số «{key[:40]}» chứa ký tự không hợp lệ", "a query parameter holds NUL")
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if bad_text(key) or bad_text(value):
                _refuse(f"ô «{key[:40]}» chứa ký tự không hợp lệ", "a form field holds NUL")
        return
    if not _JSON_MIMETYPE.match(request.mimetype or ""):
        return
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        body = json.loads(raw)
    except RecursionError:
        _refuse(f"JSON lồng quá {MAX_JSON_DEPTH} cấp", f"JSON nested deeper than {MAX_JSON_DEPTH}")
    except UnicodeDecodeError:
        _refuse("nội dung không phải UTF-8", "the body is not UTF-8")
    except ValueError:
        abort(400, message="Nội dung JSON không đúng định dạng. / Malformed JSON body.")
    if not isinstance(body, dict):
        _refuse("nội dung phải là một đối tượng JSON {…}", "the JSON body must be an object")
    problem = _check_json(body)
    if problem is not None:
        _refuse(*problem)


def _data_error(error: Exception) -> Any:
    """A value the database cannot hold (integer out of range, text it refuses)."""
    from server.runtime import db

    db().session.rollback()
    logger.warning("refused a value the database cannot store: %s", str(error).splitlines()[0])
    return json_error(
        422,
        "invalid_input",
        "Dữ liệu không hợp lệ: có giá trị vượt giới hạn cho phép.",
        "Invalid input: a value is out of range.",
    )


def _integrity_error(error: IntegrityError) -> Any:
    from server.runtime import db

    db().session.rollback()
    columns = integrity_columns(error)
    logger.info("integrity conflict on %s", columns or "unknown columns")
    where = f" ({columns})" if columns else ""
    return json_error(
        409,
        "conflict",
        f"Xung đột dữ liệu{where}: giá trị đã có hoặc tham chiếu không tồn tại.",
        f"Conflict{where}: the value is taken or refers to something that does not exist.",
    )


def init_input_guard(app: Flask) -> None:
    """Install the converter (before any route is added), the checks and the handlers."""
    config = app.config["TTHCC"]
    app.url_map.converters["int"] = DbIntegerConverter
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes

    @app.before_request
    def _hostile_input() -> None:
        _guard_request()

    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(OverflowError, _data_error)
    app.register_error_handler(IntegrityError, _integrity_error)
