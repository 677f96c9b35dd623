"""The procedure catalogue: search that ignores diacritics, views, and upsert by code
(the demo loader and the administrator's JSON import use the same path)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.domain.errors import InvalidRequest, NotFound
from server.domain.search import rank
from server.domain.textfold import fold, search_terms
from server.models import Field, Procedure, Service
from server.sync.capture import refuse_hub_owned_edit

logger = logging.getLogger(__name__)

#: A procedure's own columns that travel between installations (export/import here, the
#: province hub's configuration in server/sync/config.py); ids are left out.
PORTABLE_COLUMNS = (
    "code",
    "name",
    "papers",
    "fee_text",
    "fee_amount",
    "processing_days",
    "same_day",
    "cutoff_15h",
    "processing_note",
    "agency",
    "result_place",
    "legal_basis",
    "position",
    "active",
)
#: Keys of a procedure in the import/export format (JSON objects, CSV columns): its field
#: and service by their codes.
EXPORT_KEYS = (*PORTABLE_COLUMNS[:2], "field_code", "service_code", *PORTABLE_COLUMNS[2:])


def searchable_text(code: str, name: str) -> str:
    return fold(f"{code} {name}")


def search_procedures(
    session: Session,
    centre_id: int,
    *,
    q: str | None = None,
    field_id: int | None = None,
    include_inactive: bool = False,
    limit: int = 200,
) -> list[Procedure]:
    """Procedures of a centre, in field and catalogue order; with `q`, the tolerant ranked
    search of :mod:`server.domain.search`: diacritics optional, spaces optional
    ("khaisinh"), one typo per word ("khai snh"), extra words ("khai sinh cho con"), best
    first. The folded texts of the centre's catalogue (a few hundred rows) are ranked in
    Python, so the result is the same on SQLite and PostgreSQL."""
    conditions = [Procedure.centre_id == centre_id]
    if not include_inactive:
        conditions.append(Procedure.active.is_(True))
    if field_id is not None:
        conditions.append(Procedure.field_id == field_id)
    order = (Field.position, Procedure.position, Procedure.id)
    if search_terms(q or ""):
        rows = session.execute(
            select(Procedure.id, Procedure.search_text)
            .join(Field, Field.id == Procedure.field_id)
            .where(*conditions)
            .order_by(*order)
        ).all()
        hits = rank(q or "", [text or "" for _, text in rows])[:limit]
        ids = [rows[hit.index].id for hit in hits]
        if not ids:
            return []
        loaded = {
            p.id: p
            for p in session.execute(
                select(Procedure)
                .where(Procedure.id.in_(ids))
                .options(selectinload(Procedure.field), selectinload(Procedure.service))
            ).scalars()
        }
        return [loaded[i] for i in ids]
    stmt = (
        select(Procedure)
        .join(Field, Field.id == Procedure.field_id)
        .where(*conditions)
        .options(selectinload(Procedure.field), selectinload(Procedure.service))
        .order_by(*order)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def get_procedure(session: Session, procedure_id: int) -> Procedure:
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise NotFound(
            f"Không tìm thấy thủ tục số {procedure_id}.", f"procedure {procedure_id} not found"
        )
    return procedure


def processing_text(procedure: Procedure) -> str:
    """The legal processing time as posted: "Trong ngày" or "05 ngày làm việc"."""
    if procedure.same_day or procedure.processing_days == 0:
        text = "Trong ngày làm việc"
        if procedure.cutoff_15h:
            text += " (nhận sau 15 giờ: trả trong ngày làm việc tiếp theo)"
        return text
    return f"{procedure.processing_days:02d} ngày làm việc"


def fee_display(procedure: Procedure) -> str:
    if procedure.fee_text:
        return procedure.fee_text
    if procedure.fee_amount is None:
        return ""
    if procedure.fee_amount == 0:
        return "Miễn phí"
    return f"{procedure.fee_amount:,}".replace(",", ".") + " đồng"


def procedure_view(procedure: Procedure) -> dict[str, Any]:
    field = procedure.field
    service = procedure.service
    return {
        "id": procedure.id,
        "centre_id": procedure.centre_id,
        "code": procedure.code,
        "name": procedure.name,
        "field_id": procedure.field_id,
        "field_name": field.name if field else None,
        "service_id": procedure.service_id,
        "service_name": service.name if service else None,
        "papers": list(procedure.papers or []),
        "fee_text": fee_display(procedure),
        "fee_amount": procedure.fee_amount,
        "processing_days": procedure.processing_days,
        "same_day": procedure.same_day,
        "cutoff_15h": procedure.cutoff_15h,
        "processing_text": processing_text(procedure),
        "processing_note": procedure.processing_note,
        "agency": procedure.agency,
        "result_place": procedure.result_place,
        "legal_basis": procedure.legal_basis,
        "active": procedure.active,
    }


# --- import / export ----------------------------------------------------------------------


def _papers(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidRequest(
            f"{where}: danh sách giấy tờ không hợp lệ.", f"{where}: papers must be a list"
        )
    papers = []
    for i, paper in enumerate(value):
        if isinstance(paper, str):
            paper = {"name": paper}
        if not isinstance(paper, dict) or not str(paper.get("name", "")).strip():
            raise InvalidRequest(
                f"{where}: giấy tờ thứ {i + 1} thiếu tên.", f"{where}: papers[{i}] needs a name"
            )
        try:
            originals = int(paper.get("originals", 1))
            copies = int(paper.get("copies", 0))
        except (TypeError, ValueError):
            raise InvalidRequest(
                f"{where}: số bản của giấy tờ thứ {i + 1} không hợp lệ.",
                f"{where}: papers[{i}] originals/copies must be integers",
            ) from None
        papers.append(
            {
                "name": str(paper["name"]).strip(),
                "originals": originals,
                "copies": copies,
                "note": str(paper.get("note", "") or ""),
            }
        )
    return papers


def upsert_procedures(
    session: Session, centre_id: int, items: Iterable[dict[str, Any]], *, now: datetime
) -> tuple[int, int]:
    """Create or update procedures by code (the import format, see EXPORT_KEYS).

    Fields and services are named by their codes in this centre. Returns (created, updated).
    """
    fields = {
        f.code: f
        for f in session.execute(select(Field).where(Field.centre_id == centre_id)).scalars()
    }
    services = {
        s.code: s
        for s in session.execute(select(Service).where(Service.centre_id == centre_id)).scalars()
    }
    existing = {
        p.code: p
        for p in session.execute(
            select(Procedure).where(Procedure.centre_id == centre_id)
        ).scalars()
    }
    created = updated = 0
    for index, item in enumerate(items):
        code = str(item.get("code", "")).strip()
        name = str(item.get("name", "")).strip()
        where = f"thủ tục {code or index + 1}"
        if not code or not name:
            raise InvalidRequest(
                f"{where}: cần mã và tên thủ tục.", f"item {index}: code and name are required"
            )
        field = fields.get(str(item.get("field_code", "")))
        if field is None:
            raise InvalidRequest(
                f"{where}: không có lĩnh vực mã «{item.get('field_code')}».",
                f"{code}: unknown field_code {item.get('field_code')!r}",
            )
        service_code = item.get("service_code")
        service = services.get(str(service_code)) if service_code else None
        if service_code and service is None:
            raise InvalidRequest(
                f"{where}: không có dịch vụ mã «{service_code}».",
                f"{code}: unknown service_code {service_code!r}",
            )
        try:
            days = int(item.get("processing_days", 0) or 0)
            fee_amount = item.get("fee_amount")
            fee_amount = None if fee_amount in (None, "") else int(fee_amount)
        except (TypeError, ValueError):
            raise InvalidRequest(
                f"{where}: thời hạn hoặc lệ phí không phải là số.",
                f"{code}: processing_days and fee_amount must be integers",
            ) from None
        if days < 0 or days > 365:
            raise InvalidRequest(
                f"{where}: thời hạn không hợp lệ.", f"{code}: processing_days out of range"
            )
        procedure = existing.get(code)
        if procedure is None:
            procedure = Procedure(centre_id=centre_id, code=code)
            session.add(procedure)
            existing[code] = procedure
            created += 1
        else:
            updated += 1
        procedure.name = name
        procedure.search_text = searchable_text(code, name)
        procedure.field_id = field.id
        procedure.service_id = service.id if service else None
        procedure.papers = _papers(item.get("papers", []), where)
        procedure.fee_text = str(item.get("fee_text", "") or "")
        procedure.fee_amount = fee_amount
        procedure.processing_days = days
        procedure.same_day = _flag(item.get("same_day", days == 0))
        procedure.cutoff_15h = _flag(item.get("cutoff_15h", False))
        procedure.processing_note = str(item.get("processing_note", "") or "")
        procedure.agency = str(item.get("agency", "") or "")
        procedure.result_place = str(item.get("result_place", "") or "")
        procedure.legal_basis = str(item.get("legal_basis", "") or "")
        procedure.position = int(item.get("position", index) or 0)
        procedure.active = _flag(item.get("active", True))
        procedure.updated_at = now
    session.flush()
    if created or updated:
        logger.info("procedures of centre %s: %d created, %d updated", centre_id, created, updated)
    return created, updated


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "có", "x"}
    return bool(value)


def export_procedures(session: Session, centre_id: int) -> list[dict[str, Any]]:
    """Every procedure of the centre in the import format (round-trips)."""
    rows = search_procedures(session, centre_id, include_inactive=True, limit=100_000)
    return [
        {
            "code": p.code,
            "name": p.name,
            "field_code": p.field.code,
            "service_code": p.service.code if p.service else None,
            "papers": list(p.papers or []),
            "fee_text": p.fee_text,
            "fee_amount": p.fee_amount,
            "processing_days": p.processing_days,
            "same_day": p.same_day,
            "cutoff_15h": p.cutoff_15h,
            "processing_note": p.processing_note,
            "agency": p.agency,
            "result_place": p.result_place,
            "legal_basis": p.legal_basis,
            "position": p.position,
            "active": p.active,
        }
        for p in rows
    ]


def export_csv(items: list[dict[str, Any]]) -> str:
    """CSV (UTF-8, one row per procedure); papers as "name|originals|copies" joined by ";"."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_KEYS)
    writer.writeheader()
    for item in items:
        row = dict(item)
        row["papers"] = "; ".join(
            f"{p['name']}|{p.get('originals', 1)}|{p.get('copies', 0)}" for p in item["papers"]
        )
        writer.writerow(row)
    return out.getvalue()


def parse_csv(text: str) -> list[dict[str, Any]]:
    """The inverse of export_csv (a province's list edited in a spreadsheet)."""
    items = []
    for row in csv.DictReader(io.StringIO(text)):
        item: dict[str, Any] = {k: v for k, v in row.items() if k in EXPORT_KEYS}
        papers = []
        for part in (row.get("papers") or "").split(";"):
            if part.strip():
                name, *counts = (x.strip() for x in part.split("|"))
                papers.append(
                    {
                        "name": name,
                        "originals": counts[0] if counts else 1,
                        "copies": counts[1] if len(counts) > 1 else 0,
                    }
                )
        item["papers"] = papers
        items.append(item)
    return items


# --- administration: create, edit, deactivate (audited) ----------------------------------

#: The attributes an administrator edits, in the audit snapshot's order.
ADMIN_KEYS = (
    "centre_id",
    "code",
    "name",
    "field_id",
    "service_id",
    "papers",
    "fee_text",
    "fee_amount",
    "processing_days",
    "same_day",
    "cutoff_15h",
    "processing_note",
    "agency",
    "result_place",
    "legal_basis",
    "position",
    "active",
)


def admin_snapshot(procedure: Procedure) -> dict[str, Any]:
    """The editable attributes as plain JSON values (and the id): the audit's before/after."""
    out: dict[str, Any] = {"id": procedure.id}
    for key in ADMIN_KEYS:
        value = getattr(procedure, key)
        out[key] = [dict(p) for p in value or []] if key == "papers" else value
    return out


def _check_admin_write(session: Session, procedure: Procedure, actor: Any) -> None:
    """The actor's scope, and the field and kiosk service being of the procedure's centre."""
    from server.services.admin import Forbidden

    if actor.centre_id is not None and procedure.centre_id != actor.centre_id:
        raise Forbidden(
            "Bạn chỉ quản trị được trung tâm của mình.", "you administer only your own centre"
        )
    field = session.get(Field, procedure.field_id) if procedure.field_id is not None else None
    if field is None or field.centre_id != procedure.centre_id:
        raise InvalidRequest(
            "Lĩnh vực: không thuộc trung tâm này.", "field_id: not a field of this centre"
        )
    if procedure.service_id is not None:
        service = session.get(Service, procedure.service_id)
        if service is None or service.centre_id != procedure.centre_id:
            raise InvalidRequest(
                "Dịch vụ (lấy số): không thuộc trung tâm này.",
                "service_id: not a service of this centre",
            )
    duplicate = session.execute(
        select(Procedure.id).where(
            Procedure.centre_id == procedure.centre_id,
            Procedure.code == procedure.code,
            Procedure.id != (procedure.id or 0),
        )
    ).first()
    if duplicate is not None:
        raise InvalidRequest(
            f"Mã thủ tục «{procedure.code}» đã có ở trung tâm này.",
            f"code {procedure.code!r}: already used in this centre",
        )


def _apply_admin(procedure: Procedure, values: dict[str, Any], now: datetime) -> None:
    for key, value in values.items():
        if key in ADMIN_KEYS:
            setattr(procedure, key, _papers(value, "thủ tục") if key == "papers" else value)
    procedure.search_text = searchable_text(procedure.code, procedure.name)
    procedure.updated_at = now


def create_procedure(
    session: Session, values: dict[str, Any], *, actor: Any, now: datetime
) -> Procedure:
    """A new procedure from validated values (see server.api.admin.procedures), audited."""
    refuse_hub_owned_edit(session, "procedures")
    from server.services import audit

    procedure = Procedure(
        papers=[], fee_text="", processing_days=0, same_day=False, cutoff_15h=False, active=True
    )
    for key in ("processing_note", "agency", "result_place", "legal_basis"):
        setattr(procedure, key, "")
    procedure.position = 0
    _apply_admin(procedure, values, now)
    _check_admin_write(session, procedure, actor)
    session.add(procedure)
    session.flush()
    audit.record(
        session,
        user=actor,
        entity="procedures",
        action="create",
        now=now,
        entity_id=procedure.id,
        centre_id=procedure.centre_id,
        after=admin_snapshot(procedure),
    )
    return procedure


def update_procedure(
    session: Session, procedure: Procedure, values: dict[str, Any], *, actor: Any, now: datetime
) -> Procedure:
    """Change the given attributes (not the centre); the audit keeps before → after."""
    refuse_hub_owned_edit(session, "procedures")
    from server.services import audit

    before = admin_snapshot(procedure)
    values = {k: v for k, v in values.items() if k != "centre_id"}
    _apply_admin(procedure, values, now)
    _check_admin_write(session, procedure, actor)
    session.flush()
    audit.record(
        session,
        user=actor,
        entity="procedures",
        action="update",
        now=now,
        entity_id=procedure.id,
        centre_id=procedure.centre_id,
        before=before,
        after=admin_snapshot(procedure),
    )
    return procedure


def deactivate_procedure(
    session: Session, procedure: Procedure, *, actor: Any, now: datetime
) -> Procedure:
    """Soft delete: hidden from the public catalogue and the kiosk, kept for dossiers."""
    refuse_hub_owned_edit(session, "procedures")
    from server.services import audit

    before = admin_snapshot(procedure)
    _check_admin_write(session, procedure, actor)
    procedure.active = False
    procedure.updated_at = now
    session.flush()
    audit.record(
        session,
        user=actor,
        entity="procedures",
        action="deactivate",
        now=now,
        entity_id=procedure.id,
        centre_id=procedure.centre_id,
        before={"active": before["active"]},
        after={"active": False},
    )
    return procedure


def admin_procedure(session: Session, procedure_id: int, centre_ids: Any) -> Procedure:
    """One procedure within the administrator's scope (None: every centre), else 404."""
    procedure = session.get(Procedure, procedure_id)
    if procedure is None or (centre_ids is not None and procedure.centre_id not in centre_ids):
        raise NotFound(
            f"Không tìm thấy thủ tục số {procedure_id}.", f"procedure {procedure_id} not found"
        )
    return procedure
