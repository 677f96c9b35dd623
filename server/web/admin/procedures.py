"""Administration pages for the procedure catalogue (role admin): list, create, edit,
deactivate. The forms are validated by the API's schema and written through
server.services.procedures, so every change is in the audit log; every form carries a
CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from server.api.admin.procedures import ProcedureIn
from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.input_guard import db_int
from server.models import Role
from server.runtime import db
from server.services import admin
from server.services import procedures as ops
from server.web.common import page_roles

bp = Blueprint("web_admin_procedures", __name__)

_FLAGS = ("same_day", "cutoff_15h", "active")


def _scope() -> list[int] | None:
    return None if current_user.centre_id is None else [current_user.centre_id]


def papers_text(papers: list[dict[str, Any]]) -> str:
    """One paper a line: "name | originals | copies | note" (the form's textarea)."""
    lines = []
    for p in papers or []:
        parts = [p.get("name", ""), str(p.get("originals", 1)), str(p.get("copies", 0))]
        if p.get("note"):
            parts.append(p["note"])
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def parse_papers(text: str) -> list[dict[str, Any]]:
    papers = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, *rest = (part.strip() for part in line.split("|"))
        paper: dict[str, Any] = {"name": name}
        if len(rest) > 0 and rest[0]:
            paper["originals"] = rest[0]
        if len(rest) > 1 and rest[1]:
            paper["copies"] = rest[1]
        if len(rest) > 2:
            paper["note"] = " | ".join(rest[2:])
        papers.append(paper)
    return papers


def _form_body() -> dict[str, Any]:
    """The submitted form as the API's JSON body (blank optional numbers are null)."""
    form = request.form
    body: dict[str, Any] = {
        k: v for k, v in form.items() if k not in ("csrf_token", "papers", *_FLAGS)
    }
    for key in ("service_id", "fee_amount", "centre_id"):
        if not (body.get(key) or "").strip():
            body[key] = None
    for key in ("processing_days", "position"):
        if key in body and not body[key].strip():
            body[key] = 0
    body["papers"] = parse_papers(form.get("papers", ""))
    for flag in _FLAGS:
        body[flag] = flag in form
    return body


def _message(error: ValidationError) -> str:
    labels = {
        "code": "Mã",
        "name": "Tên",
        "field_id": "Lĩnh vực",
        "service_id": "Dịch vụ lấy số",
        "papers": "Giấy tờ",
        "fee_amount": "Lệ phí (đồng)",
        "processing_days": "Thời hạn (ngày làm việc)",
        "position": "Thứ tự",
    }
    parts = []
    for key, value in error.normalized_messages().items():
        parts.append(f"{labels.get(key, key)}: {value}")
    return "Dữ liệu không hợp lệ – " + "; ".join(parts)


def _options() -> dict[str, list[tuple[Any, str]]]:
    session = db().session
    scope = _scope()
    centres = admin.list_rows(session, admin.ENTITIES["centres"], scope)
    many = len(centres) > 1
    names = {c["id"]: c["code"] for c in centres}

    def label(row: dict[str, Any]) -> str:
        prefix = f"{names.get(row['centre_id'], row['centre_id'])} – " if many else ""
        return prefix + (row.get("name") or row.get("code") or str(row["id"]))

    return {
        "centre_id": [(c["id"], c["name"]) for c in centres],
        "field_id": [
            (r["id"], label(r)) for r in admin.list_rows(session, admin.ENTITIES["fields"], scope)
        ],
        "service_id": [
            (r["id"], label(r)) for r in admin.list_rows(session, admin.ENTITIES["services"], scope)
        ],
    }


def _form(values: dict[str, Any], row_id: int | None, error: str | None) -> str:
    return render_template(
        "admin/procedure_form.html",
        values=values,
        row_id=row_id,
        error=error,
        options=_options(),
    )


def _centre_id() -> int:
    from server.api.public.centres import resolve_centre_id

    requested = request.args.get("centre_id", type=db_int)
    if current_user.centre_id is not None:
        return current_user.centre_id
    return resolve_centre_id(requested)


@bp.get("/admin/procedures")
@page_roles(Role.ADMIN)
def procedures_list() -> str:
    """The centre's procedures (deactivated ones too), searchable without diacritics."""
    session = db().session
    centre_id = _centre_id()
    q = request.args.get("q") or None
    rows = ops.search_procedures(session, centre_id, q=q, include_inactive=True, limit=100_000)
    centres = admin.list_rows(session, admin.ENTITIES["centres"], _scope())
    return render_template(
        "admin/procedures.html", rows=rows, q=q or "", centre_id=centre_id, centres=centres
    )


@bp.route("/admin/procedures/new", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def procedure_new() -> Any:
    if request.method == "POST":
        session = db().session
        try:
            body = ProcedureIn().load(_form_body())
            if body["centre_id"] is None:
                body["centre_id"] = current_user.centre_id or _centre_id()
            procedure = ops.create_procedure(session, body, actor=current_user, now=utcnow())
        except ValidationError as exc:
            session.rollback()
            return _form(_redisplay(), None, _message(exc)), 422
        except DomainError as exc:
            session.rollback()
            return _form(_redisplay(), None, exc.message_vi), 422
        session.commit()
        flash(f"Đã thêm thủ tục {procedure.code}.", "ok")
        return redirect(url_for(".procedure_edit", procedure_id=procedure.id))
    values: dict[str, Any] = {
        "centre_id": current_user.centre_id or _centre_id(),
        "active": True,
        "processing_days": 0,
        "position": 0,
        "papers": "",
    }
    return _form(values, None, None)


@bp.route("/admin/procedures/<int:procedure_id>", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def procedure_edit(procedure_id: int) -> Any:
    session = db().session
    procedure = ops.admin_procedure(session, procedure_id, _scope())
    if request.method == "POST":
        try:
            body = ProcedureIn().load(_form_body())
            ops.update_procedure(session, procedure, body, actor=current_user, now=utcnow())
        except ValidationError as exc:
            session.rollback()
            return _form(_redisplay(), procedure_id, _message(exc)), 422
        except DomainError as exc:
            session.rollback()
            return _form(_redisplay(), procedure_id, exc.message_vi), 422
        session.commit()
        flash("Đã lưu.", "ok")
        return redirect(url_for(".procedure_edit", procedure_id=procedure_id))
    values = ops.admin_snapshot(procedure)
    values["papers"] = papers_text(values["papers"])
    return _form(values, procedure_id, None)


@bp.post("/admin/procedures/<int:procedure_id>/deactivate")
@page_roles(Role.ADMIN)
def procedure_deactivate(procedure_id: int) -> Any:
    session = db().session
    procedure = ops.admin_procedure(session, procedure_id, _scope())
    try:
        ops.deactivate_procedure(session, procedure, actor=current_user, now=utcnow())
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for(".procedure_edit", procedure_id=procedure_id))
    session.commit()
    flash(f"Đã ngừng niêm yết thủ tục {procedure.code}.", "ok")
    return redirect(url_for(".procedures_list", centre_id=procedure.centre_id))


def _redisplay() -> dict[str, Any]:
    values: dict[str, Any] = dict(request.form)
    for flag in _FLAGS:
        values[flag] = flag in request.form
    return values
