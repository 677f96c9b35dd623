"""Administration pages (role admin): the same services as /api/v1/admin, as HTML forms.

Every form carries a CSRF token; every change goes through server.services.admin and is
written to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.input_guard import db_int
from server.models import Centre, Role, SyncLink
from server.models.centre import counter_label
from server.runtime import db
from server.services import admin, audit
from server.services.admin_config import export_config, import_config
from server.web.common import page_roles

bp = Blueprint("web_admin_pages", __name__)


def _scope() -> list[int] | None:
    return None if current_user.centre_id is None else [current_user.centre_id]


def _form_values(ent: admin.Entity) -> dict[str, Any]:
    """The submitted form as the admin service expects it."""
    raw: dict[str, Any] = {k: v for k, v in request.form.items() if not k.startswith("order_")}
    for a in ent.attrs:
        if a.kind == "bool":
            raw[a.name + "__present"] = "1"
            if a.name not in request.form:
                raw[a.name] = "0"
        if a.kind == "refs":
            chosen = []
            for key, value in request.form.items():
                if key.startswith("order_") and value.strip():
                    try:
                        chosen.append((int(value), int(key[6:])))
                    except ValueError:
                        continue
            raw[a.name] = [sid for _, sid in sorted(chosen)]
    return raw


def _options(ent: admin.Entity) -> dict[str, list[tuple[Any, str]]]:
    """Choices of every select of the form: referenced rows within scope, and fixed lists."""
    session = db().session
    out: dict[str, list[tuple[Any, str]]] = {}
    for a in ent.attrs:
        if a.kind in ("ref", "refs"):
            rows = admin.list_rows(session, admin.ENTITIES[a.ref], _scope())
            out[a.name] = [(r["id"], _row_label(a.ref, r)) for r in rows]
        elif a.kind == "choice":
            labels = admin.ROLE_LABELS if a.name == "role" else {}
            out[a.name] = [(c, labels.get(c, str(c))) for c in a.choices]
    return out


def _row_label(entity: str, row: dict[str, Any]) -> str:
    if entity == "counters":
        return counter_label(row["number"], row.get("name"))
    if entity == "users":
        return row.get("full_name") or row["username"]
    return row.get("name") or row.get("code") or str(row["id"])


@bp.get("/admin")
@page_roles(Role.ADMIN)
def admin_index() -> str:
    """What can be configured, with counts, and the latest changes."""
    session = db().session
    counts = {}
    for name, ent in admin.ENTITIES.items():
        stmt = select(func.count()).select_from(ent.model)
        scope = _scope()
        if scope is not None:
            column = ent.model.id if name == "centres" else getattr(ent.model, "centre_id", None)
            if column is not None:
                stmt = stmt.where(column.in_(scope))
        counts[name] = session.execute(stmt).scalar_one()
    return render_template(
        "admin/index.html",
        entities=admin.ENTITIES,
        counts=counts,
        recent=audit.entries(session, _scope(), limit=10),
        public_url=current_app.config["TTHCC"].public_url,
        public_url_warning=current_app.config["TTHCC"].public_url_warning(),
        # A centre box: the configuration is the hub's (docs/sync.md), edits here are
        # overwritten at the next pull.
        hub_owned=session.execute(select(SyncLink.id)).first() is not None,
    )


@bp.get("/admin/audit")
@page_roles(Role.ADMIN)
def audit_page() -> str:
    entity = request.args.get("entity") or None
    rows = audit.entries(db().session, _scope(), limit=500, entity=entity)
    return render_template("admin/audit.html", rows=rows, entity=entity, entities=admin.ENTITIES)


@bp.get("/admin/config")
@page_roles(Role.ADMIN)
def config_page() -> str:
    centres = admin.list_rows(db().session, admin.ENTITIES["centres"], _scope())
    return render_template("admin/config.html", centres=centres)


@bp.get("/admin/config/<int:centre_id>.json")
@page_roles(Role.ADMIN)
def config_download(centre_id: int) -> Response:
    session = db().session
    centre = admin.get_row(session, admin.ENTITIES["centres"], centre_id, _scope())
    return Response(
        json.dumps(export_config(session, centre), ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="tthcc-config-{centre.code}.json"'},
    )


@bp.post("/admin/config/import")
@page_roles(Role.ADMIN)
def config_import() -> Any:
    session = db().session
    upload = request.files.get("file")
    try:
        data = json.loads(upload.read().decode("utf-8")) if upload else None
        centre: Centre = import_config(
            session,
            data,
            code=request.form.get("code", ""),
            name=request.form.get("name") or None,
            subtitle=request.form.get("subtitle") or None,
            actor=current_user,
            now=utcnow(),
        )
    except (ValueError, UnicodeDecodeError):
        session.rollback()
        flash("Tệp không phải JSON hợp lệ.", "error")
        return redirect(url_for(".config_page"))
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for(".config_page"))
    session.commit()
    flash(f"Đã tạo trung tâm {centre.code} từ tệp cấu hình.", "ok")
    return redirect(url_for(".edit", entity="centres", row_id=centre.id))


@bp.route("/admin/calendar", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def calendar_page() -> Any:
    """The working calendar of a year (days off, make-up Saturdays) as its JSON document."""
    from server.services import calendar as calendars

    session = db().session
    year = request.values.get("year", type=db_int) or utcnow().year
    error = None
    if request.method == "POST":
        before, _ = calendars.year_schedule(session, year)
        try:
            if request.form.get("action") == "reset":
                calendars.delete_year_schedule(session, year)
                after = None
            else:
                data = json.loads(request.form.get("data") or "{}")
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                data.pop("source", None)
                after = calendars.save_year_schedule(
                    session, year, data, now=utcnow(), actor=f"user:{current_user.username}"
                ).to_dict()
        except ValueError:
            session.rollback()
            error = "Dữ liệu không phải JSON hợp lệ."
        except DomainError as exc:
            session.rollback()
            error = exc.message_vi
        else:
            audit.record(
                session,
                user=current_user,
                entity="calendar",
                action="update" if after is not None else "delete",
                now=utcnow(),
                entity_id=year,
                before=before.to_dict(),
                after=after,
            )
            session.commit()
            flash(f"Đã lưu lịch làm việc năm {year}.", "ok")
            return redirect(url_for(".calendar_page", year=year))
    schedule, source = calendars.year_schedule(session, year)
    document = request.form.get("data") if error else None
    return render_template(
        "admin/calendar.html",
        year=year,
        schedule=schedule.to_dict(),
        source=source,
        document=document or json.dumps(schedule.to_dict(), ensure_ascii=False, indent=2),
        error=error,
    ), (422 if error else 200)


@bp.get("/admin/<entity>")
@page_roles(Role.ADMIN)
def listing(entity: str) -> str:
    ent = _entity(entity)
    rows = admin.list_rows(db().session, ent, _scope())
    return render_template(
        "admin/list.html", ent=ent, rows=rows, options=_options(ent), role_labels=admin.ROLE_LABELS
    )


@bp.route("/admin/<entity>/new", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def new(entity: str) -> Any:
    ent = _entity(entity)
    values: dict[str, Any] = {a.name: a.default for a in ent.attrs}
    if current_user.centre_id is not None:
        values["centre_id"] = current_user.centre_id
    if request.method == "POST":
        session = db().session
        try:
            row = admin.create(session, ent, _form_values(ent), actor=current_user, now=utcnow())
        except DomainError as exc:
            session.rollback()
            return _form(ent, None, dict(request.form), exc.message_vi), 422
        session.commit()
        flash(f"Đã thêm {ent.label.lower()}.", "ok")
        return redirect(url_for(".edit", entity=entity, row_id=row.id))
    return _form(ent, None, values, None)


@bp.route("/admin/<entity>/<int:row_id>", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def edit(entity: str, row_id: int) -> Any:
    ent = _entity(entity)
    session = db().session
    row = admin.get_row(session, ent, row_id, _scope())
    if request.method == "POST":
        try:
            admin.update(session, ent, row, _form_values(ent), actor=current_user, now=utcnow())
        except DomainError as exc:
            session.rollback()
            return _form(ent, row_id, dict(request.form), exc.message_vi), 422
        session.commit()
        flash("Đã lưu.", "ok")
        return redirect(url_for(".edit", entity=entity, row_id=row_id))
    return _form(ent, row_id, admin.snapshot(ent, row), None)


@bp.post("/admin/<entity>/<int:row_id>/delete")
@page_roles(Role.ADMIN)
def remove(entity: str, row_id: int) -> Any:
    ent = _entity(entity)
    session = db().session
    row = admin.get_row(session, ent, row_id, _scope())
    try:
        admin.delete(session, ent, row, actor=current_user, now=utcnow())
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for(".edit", entity=entity, row_id=row_id))
    session.commit()
    flash(f"Đã xoá {ent.label.lower()}.", "ok")
    return redirect(url_for(".listing", entity=entity))


@bp.post("/admin/users/<int:row_id>/password")
@page_roles(Role.ADMIN)
def password(row_id: int) -> Any:
    session = db().session
    user = admin.get_row(session, admin.ENTITIES["users"], row_id, _scope())
    try:
        admin.reset_password(
            session, user, request.form.get("password", ""), actor=current_user, now=utcnow()
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
    else:
        session.commit()
        flash("Đã đặt mật khẩu mới.", "ok")
    return redirect(url_for(".edit", entity="users", row_id=row_id))


@bp.post("/admin/stations/<int:row_id>/token")
@page_roles(Role.ADMIN)
def station_token(row_id: int) -> Any:
    session = db().session
    station = admin.get_row(session, admin.ENTITIES["stations"], row_id, _scope())
    issue = request.form.get("action") != "revoke"
    token = admin.station_token(session, station, issue=issue, actor=current_user, now=utcnow())
    session.commit()
    if token is None:
        flash("Đã thu hồi mã của điểm thiết bị.", "ok")
        return redirect(url_for(".edit", entity="stations", row_id=row_id))
    return render_template("admin/token.html", station=station, token=token)


@bp.post("/admin/stations/<int:row_id>/kiosk-code")
@page_roles(Role.ADMIN)
def kiosk_code(row_id: int) -> Any:
    """A one-time code provisioning a kiosk PC's page, shown once."""
    session = db().session
    station = admin.get_row(session, admin.ENTITIES["stations"], row_id, _scope())
    try:
        code = admin.kiosk_code(session, station, actor=current_user, now=utcnow())
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for(".edit", entity="stations", row_id=row_id))
    session.commit()
    return render_template(
        "admin/kiosk_code.html",
        station=station,
        code=code,
        url=url_for("kiosk.provision", code=code, _external=True),
    )


def _entity(name: str) -> admin.Entity:
    try:
        return admin.ENTITIES[name]
    except KeyError:
        abort(404)


def _form(ent: admin.Entity, row_id: int | None, values: dict, error: str | None) -> str:
    return render_template(
        "admin/form.html",
        ent=ent,
        row_id=row_id,
        values=values,
        error=error,
        options=_options(ent),
    )
