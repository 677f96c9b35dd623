"""Administration: create, edit and delete the centre's configuration, every change audited.

One table of entities (centres, fields, services, counters, agencies, staff users,
stations, priority categories) describes each editable attribute once; the API and the
admin pages both go through `create`, `update` and `delete`, which validate, write, and
append an audit entry with the before → after of what changed. Like every service they
never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db_errors import integrity_columns
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.models import (
    Agency,
    Centre,
    Counter,
    CounterService,
    Field,
    PriorityCategory,
    Role,
    Service,
    Station,
    User,
)
from server.models.base import MAX_DB_INT, MIN_DB_INT
from server.services import audit
from server.services.auth import generate_password_hash
from server.services.hours import cutoff_value, hours_text, hours_value
from server.sync.capture import refuse_hub_owned_edit


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class InUse(DomainError):
    code = "in_use"
    http_status = 409


class Taken(DomainError):
    """A code, number or name that another row of the same centre already has."""

    code = "conflict"
    http_status = 409


@dataclass(frozen=True)
class Attr:
    """One editable attribute: how it is typed, validated and labelled (Vietnamese)."""

    name: str
    label: str
    kind: str = "str"  # str, text, int, degrees, bool, choice, ref, refs, hours, hhmm
    required: bool = False
    choices: tuple[Any, ...] = ()
    ref: str | None = None
    min: int | None = None
    max: int | None = None
    #: Stored in Centre.settings under this key instead of a column.
    setting: str | None = None
    default: Any = None
    #: An int that may be left empty (None).
    nullable: bool = False


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    model: type
    attrs: tuple[Attr, ...]
    order: tuple[str, ...] = ("id",)

    @property
    def centre_scoped(self) -> bool:
        return self.name != "centres" and any(a.name == "centre_id" for a in self.attrs)

    def attr(self, name: str) -> Attr:
        return next(a for a in self.attrs if a.name == name)


_CENTRE = Attr("centre_id", "Trung tâm", "ref", required=True, ref="centres")
_ACTIVE = Attr("active", "Đang dùng", "bool", default=True)
_POSITION = Attr("position", "Thứ tự", "int", min=0, max=9999, default=0)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "centres",
            "Trung tâm",
            Centre,
            (
                Attr("code", "Mã", required=True),
                Attr("name", "Tên", required=True),
                Attr("subtitle", "Tên phường/xã (dòng 2)"),
                Attr("address", "Địa chỉ"),
                Attr("timezone", "Múi giờ", default="Asia/Ho_Chi_Minh"),
                Attr(
                    "latitude", "Vĩ độ (ví dụ 21.1861)", "degrees", min=-90, max=90, nullable=True
                ),
                Attr(
                    "longitude",
                    "Kinh độ (ví dụ 106.0763)",
                    "degrees",
                    min=-180,
                    max=180,
                    nullable=True,
                ),
                Attr(
                    "kind",
                    "Loại (commune: cấp xã/phường; provincial: cấp tỉnh)",
                    "choice",
                    choices=("commune", "provincial"),
                    default="commune",
                ),
                Attr("notice", "Thông báo (màn hình, phiếu)", "text", setting="notice", default=""),
                Attr(
                    "opening_hours",
                    "Giờ làm việc (vd. T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30; "
                    "trống: cấp số mọi lúc)",
                    "hours",
                ),
                Attr(
                    "remote_only",
                    "Chỉ cấp số qua điện thoại (kiosk chỉ nhận mã xác nhận đến)",
                    "bool",
                    setting="remote_only",
                    default=False,
                ),
                Attr(
                    "remote_per_phone_day",
                    "Lấy số từ xa: số phiếu tối đa mỗi số điện thoại mỗi ngày",
                    "int",
                    min=1,
                    max=50,
                    setting="remote_per_phone_day",
                    default=3,
                ),
                Attr(
                    "appointment_minutes",
                    "Đặt lịch: số phút mỗi lượt khách (mặc định của các dịch vụ)",
                    "int",
                    min=1,
                    max=240,
                    setting="appointment_minutes",
                    default=15,
                ),
                Attr(
                    "appointments_per_phone",
                    "Đặt lịch: số lịch hẹn sắp tới tối đa mỗi số điện thoại",
                    "int",
                    min=1,
                    max=20,
                    setting="appointments_per_phone",
                    default=2,
                ),
                Attr(
                    "check_in_grace_minutes",
                    "Lấy số từ xa: mã xác nhận còn hiệu lực sau khi được mời (phút)",
                    "int",
                    min=0,
                    max=240,
                    setting="check_in_grace_minutes",
                    default=15,
                ),
                Attr(
                    "notify_ahead",
                    "Thông báo cho công dân khi còn N người phía trước",
                    "int",
                    min=0,
                    max=50,
                    setting="notify_ahead",
                    default=3,
                ),
                Attr(
                    "rating_scale",
                    "Số phím đánh giá",
                    "choice",
                    choices=(3, 4, 5),
                    setting="rating_scale",
                    default=5,
                ),
            ),
        ),
        Entity(
            "fields",
            "Lĩnh vực",
            Field,
            (
                _CENTRE,
                Attr("code", "Mã", required=True),
                Attr("name", "Tên", required=True),
                Attr("name_en", "Tên tiếng Anh"),
                _POSITION,
                _ACTIVE,
            ),
            ("centre_id", "position", "id"),
        ),
        Entity(
            "services",
            "Dịch vụ",
            Service,
            (
                _CENTRE,
                Attr("field_id", "Lĩnh vực", "ref", required=True, ref="fields"),
                Attr("code", "Mã", required=True),
                Attr("name", "Tên", required=True),
                Attr("name_en", "Tên tiếng Anh"),
                Attr("prefix", "Tiền tố số", max=4, default=""),
                Attr("range_start", "Số đầu", "int", required=True, min=0, max=99999),
                Attr("range_end", "Số cuối", "int", required=True, min=0, max=99999),
                Attr(
                    "priority_policy",
                    "Chính sách ưu tiên",
                    "choice",
                    choices=("interleave", "strict"),
                    default="interleave",
                ),
                Attr(
                    "interleave_every", "Xen kẽ: 1 ưu tiên sau mỗi", "int", min=1, max=50, default=3
                ),
                Attr(
                    "wait_threshold_minutes", "Ngưỡng chờ (phút)", "int", min=1, max=600, default=30
                ),
                Attr(
                    "opening_hours",
                    "Giờ cấp số riêng (trống: theo giờ làm việc của trung tâm)",
                    "hours",
                ),
                Attr(
                    "issue_cutoff", "Giờ chốt cấp số (HH:MM, vd. 15:00; trống: đến hết giờ)", "hhmm"
                ),
                Attr("remote_issuing", "Cho lấy số qua điện thoại", "bool", default=False),
                Attr(
                    "bulk_lane",
                    "Luồng riêng cho tổ chức, doanh nghiệp nộp nhiều hồ sơ (chỉ quầy được gán gọi)",
                    "bool",
                    default=False,
                ),
                Attr("appointments", "Nhận đặt lịch hẹn", "bool", default=False),
                Attr(
                    "appointment_minutes",
                    "Đặt lịch: số phút mỗi lượt (trống: theo trung tâm, mặc định 15)",
                    "int",
                    min=1,
                    max=240,
                    nullable=True,
                ),
                Attr(
                    "remote_per_phone",
                    "Lấy số từ xa: tối đa mỗi số điện thoại mỗi ngày (dịch vụ này)",
                    "int",
                    min=1,
                    max=20,
                    default=1,
                ),
                Attr(
                    "daily_cap",
                    "Số phiếu tối đa mỗi ngày (trống: không giới hạn)",
                    "int",
                    min=1,
                    max=99999,
                    nullable=True,
                ),
                _POSITION,
                _ACTIVE,
            ),
            ("centre_id", "position", "id"),
        ),
        Entity(
            "counters",
            "Quầy",
            Counter,
            (
                _CENTRE,
                Attr("number", "Số quầy", "int", required=True, min=1, max=999),
                Attr("name", "Tên quầy"),
                Attr("zone", "Khu vực"),
                Attr("services", "Dịch vụ (theo thứ tự phục vụ)", "refs", ref="services"),
                # One station per counter: its rating pad, call keypad and LED board speak
                # only for the counters bound to it, and its printer prints their slips.
                Attr(
                    "station_id",
                    "Điểm thiết bị của quầy (bảng đánh giá, bàn phím gọi số, máy in giấy hẹn)",
                    "ref",
                    ref="stations",
                ),
            ),
            ("centre_id", "number"),
        ),
        Entity("agencies", "Cơ quan cử đến", Agency, (_CENTRE, Attr("name", "Tên", required=True))),
        Entity(
            "users",
            "Người dùng",
            User,
            (
                Attr("username", "Tên đăng nhập", required=True),
                Attr("full_name", "Họ và tên"),
                Attr(
                    "role", "Vai trò", "choice", required=True, choices=tuple(r.value for r in Role)
                ),
                Attr("centre_id", "Trung tâm", "ref", ref="centres"),
                Attr("agency_id", "Cơ quan cử đến", "ref", ref="agencies"),
                _ACTIVE,
            ),
            ("centre_id", "username"),
        ),
        Entity(
            "stations",
            "Điểm thiết bị",
            Station,
            (
                _CENTRE,
                Attr("code", "Mã", required=True),
                Attr(
                    "kind", "Loại", "choice", required=True, choices=("kiosk", "counter", "display")
                ),
                Attr("name", "Tên"),
                Attr("zone", "Khu vực"),
                Attr("has_printer", "Có máy in phiếu", "bool", default=False),
            ),
            ("centre_id", "code"),
        ),
        Entity(
            "priority_categories",
            "Đối tượng ưu tiên",
            PriorityCategory,
            (
                _CENTRE,
                Attr("code", "Mã", required=True),
                Attr("name", "Tên", required=True),
                Attr("name_en", "Tên tiếng Anh"),
                _POSITION,
                _ACTIVE,
            ),
            ("centre_id", "position", "id"),
        ),
    )
}

ROLE_LABELS = {
    "staff": "Cán bộ quầy",
    "supervisor": "Lãnh đạo / giám sát",
    "admin": "Quản trị",
    "viewer": "Xem báo cáo (tỉnh)",
}


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise NotFound(f"Không có mục quản trị «{name}».", f"no admin entity {name!r}") from None


# --- reading ---------------------------------------------------------------------------


def snapshot(ent: Entity, row: Any) -> dict[str, Any]:
    """The editable attributes of `row` as plain JSON values (and its id)."""
    out: dict[str, Any] = {"id": row.id}
    for a in ent.attrs:
        if a.setting:
            out[a.name] = (row.settings or {}).get(a.setting, a.default)
        elif a.kind == "refs":
            out[a.name] = [link.service_id for link in row.service_links]
        elif a.kind == "hours":
            out[a.name] = hours_text(getattr(row, a.name))
        else:
            out[a.name] = getattr(row, a.name)
    if ent.name == "stations":
        out["token_active"] = row.token_hash is not None
        out["last_seen_at"] = row.last_seen_at.isoformat() if row.last_seen_at else None
    return out


def list_rows(session: Session, ent: Entity, centre_ids: Sequence[int] | None) -> list[dict]:
    stmt = select(ent.model).order_by(*[getattr(ent.model, c) for c in ent.order])
    if centre_ids is not None:
        if ent.name == "centres":
            stmt = stmt.where(Centre.id.in_(list(centre_ids)))
        elif ent.centre_scoped or ent.name == "users":
            stmt = stmt.where(ent.model.centre_id.in_(list(centre_ids)))
    return [snapshot(ent, row) for row in session.execute(stmt).scalars()]


def get_row(session: Session, ent: Entity, row_id: int, centre_ids: Sequence[int] | None) -> Any:
    row = session.get(ent.model, row_id)
    if row is None or not _in_scope(ent, row, centre_ids):
        raise NotFound(
            f"Không tìm thấy {ent.label.lower()} số {row_id}.", f"{ent.name} {row_id} not found"
        )
    return row


def _in_scope(ent: Entity, row: Any, centre_ids: Sequence[int] | None) -> bool:
    if centre_ids is None:
        return True
    centre_id = row.id if ent.name == "centres" else getattr(row, "centre_id", None)
    return centre_id in centre_ids


# --- validating ------------------------------------------------------------------------


def _invalid(attr: Attr, why_vi: str, why_en: str) -> InvalidRequest:
    return InvalidRequest(f"{attr.label}: {why_vi}", f"{attr.name}: {why_en}")


def coerce(ent: Entity, raw: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Typed values from JSON or form strings; unknown keys are ignored."""
    out: dict[str, Any] = {}
    for a in ent.attrs:
        if a.name not in raw:
            if a.kind == "bool" and not partial and a.name + "__present" in raw:
                out[a.name] = False  # an unticked HTML checkbox sends nothing
            elif not partial:
                if a.required:
                    raise _invalid(a, "bắt buộc phải nhập.", "required")
                if a.default is not None or a.kind == "ref":
                    out[a.name] = a.default
            continue
        out[a.name] = _value(a, raw[a.name])
    return out


def _value(a: Attr, value: Any) -> Any:
    if a.kind in ("str", "text"):
        text = "" if value is None else str(value).strip()
        if a.required and not text:
            raise _invalid(a, "bắt buộc phải nhập.", "required")
        limit = a.max or (2000 if a.kind == "text" else 200)
        if len(text) > limit:
            raise _invalid(a, f"tối đa {limit} ký tự.", f"at most {limit} characters")
        return text
    if a.kind == "bool":
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "on", "yes", "có"}
        return bool(value)
    if a.kind == "hours":
        try:
            return hours_value(value)
        except InvalidRequest as exc:
            raise _invalid(a, exc.message_vi, exc.message_en) from None
    if a.kind == "hhmm":
        try:
            return cutoff_value(value)
        except InvalidRequest as exc:
            raise _invalid(a, exc.message_vi, exc.message_en) from None
    if a.kind == "degrees":
        if value in (None, "") and a.nullable and not a.required:
            return None
        try:
            number = float(str(value).replace(",", "."))
        except (TypeError, ValueError):
            raise _invalid(a, "phải là số thập phân.", "must be a decimal number") from None
        if not (a.min <= number <= a.max):  # also refuses NaN
            raise _invalid(a, f"phải từ {a.min} đến {a.max}.", f"must be {a.min}..{a.max}")
        return number
    if a.kind in ("int", "ref"):
        if value in (None, "") and (a.kind == "ref" or a.nullable) and not a.required:
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _invalid(a, "phải là số nguyên.", "must be an integer") from None
        low = MIN_DB_INT if a.min is None else a.min
        high = MAX_DB_INT if a.max is None else a.max
        if not low <= number <= high:
            if a.kind == "ref":
                raise _invalid(a, "không thuộc trung tâm này.", "not in this centre")
            raise _invalid(a, f"phải từ {low} đến {high}.", f"must be {low}..{high}")
        return number
    if a.kind == "choice":
        for choice in a.choices:
            if str(choice) == str(value):
                return choice
        raise _invalid(a, f"chọn một trong {', '.join(map(str, a.choices))}.", "invalid choice")
    if a.kind == "refs":
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        try:
            ids = [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise _invalid(a, "danh sách số không hợp lệ.", "must be a list of ids") from None
        if any(not 0 < i <= MAX_DB_INT for i in ids):
            raise _invalid(a, "có mục không thuộc trung tâm này.", "an id is not in this centre")
        if len(set(ids)) != len(ids):
            raise _invalid(a, "có mục bị lặp.", "duplicates")
        return ids
    raise AssertionError(a.kind)


def _check(session: Session, ent: Entity, row: Any, actor: User) -> None:
    """Cross-attribute rules and references staying inside the row's centre and scope."""
    centre_id = row.id if ent.name == "centres" else getattr(row, "centre_id", None)
    if actor.centre_id is not None and centre_id != actor.centre_id:
        raise Forbidden(
            "Bạn chỉ quản trị được trung tâm của mình.", "you administer only your own centre"
        )
    if ent.name == "centres" and actor.centre_id is not None and row.id is None:
        raise Forbidden(
            "Chỉ quản trị cấp tỉnh được tạo trung tâm mới.", "only a province admin creates centres"
        )
    for a in ent.attrs:
        if a.kind != "ref" or a.name == "centre_id":
            continue
        ref_id = getattr(row, a.name)
        if ref_id is None:
            continue
        target = session.get(ENTITIES[a.ref].model, ref_id)
        if target is None or (
            centre_id is not None and getattr(target, "centre_id", centre_id) != centre_id
        ):
            raise _invalid(a, "không thuộc trung tâm này.", "not in this centre")
    if ent.name == "centres" and not is_timezone(row.timezone):
        raise _invalid(
            ent.attr("timezone"),
            f"«{row.timezone}» không phải múi giờ (ví dụ Asia/Ho_Chi_Minh).",
            f"{row.timezone!r} is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)",
        )
    if ent.name == "services" and row.range_start > row.range_end:
        raise InvalidRequest("Số đầu phải nhỏ hơn số cuối.", "range_start must be <= range_end")


def _apply(session: Session, ent: Entity, row: Any, values: Mapping[str, Any]) -> None:
    settings = dict(getattr(row, "settings", None) or {}) if ent.name == "centres" else None
    for name, value in values.items():
        a = ent.attr(name)
        if a.setting:
            settings[a.setting] = value
        elif a.kind == "refs":
            continue
        else:
            setattr(row, name, value)
    if settings is not None:
        row.settings = settings


def _set_counter_services(session: Session, counter: Counter, service_ids: list[int]) -> None:
    for sid in service_ids:
        service = session.get(Service, sid)
        if service is None or service.centre_id != counter.centre_id:
            raise InvalidRequest(
                f"Dịch vụ số {sid} không thuộc trung tâm của quầy.",
                f"service {sid} not in the centre",
            )
    counter.service_links.clear()
    session.flush()
    for position, sid in enumerate(service_ids):
        counter.service_links.append(CounterService(service_id=sid, position=position))


def _unique_column_sets(model: type) -> list[tuple[str, ...]]:
    table = model.__table__
    sets = [
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    ]
    sets += [(c.name,) for c in table.columns if c.unique]
    return sets


def _refuse_taken(session: Session, ent: Entity, row: Any) -> None:
    """409 naming the attribute when another row already has the row's code/number/name."""
    model = ent.model
    for names in _unique_column_sets(model):
        values = [getattr(row, n, None) for n in names]
        if any(v is None for v in values):
            continue
        stmt = select(model.id).where(
            *[getattr(model, n) == v for n, v in zip(names, values, strict=True)]
        )
        if row.id is not None:
            stmt = stmt.where(model.id != row.id)
        with session.no_autoflush:
            clash = session.execute(stmt.limit(1)).scalar_one_or_none()
        if clash is None:
            continue
        shown = [n for n in names if n != "centre_id"] or list(names)
        labels = ", ".join(
            ent.attr(n).label if any(a.name == n for a in ent.attrs) else n for n in shown
        )
        value = ", ".join(str(getattr(row, n)) for n in shown)
        raise Taken(
            f"{ent.label}: {labels} «{value}» đã có (mục số {clash}).",
            f"{ent.name}: {', '.join(shown)} {value!r} is taken by {ent.name} {clash}",
        )


def _flush(session: Session, ent: Entity, row: Any) -> None:
    _refuse_taken(session, ent, row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent insert won the race
        columns = integrity_columns(exc)
        raise Taken(
            f"{ent.label}: trùng giá trị với một mục đã có ({columns}).",
            f"{ent.name}: conflict on {columns or 'a unique value'}",
        ) from None


def is_timezone(name: str | None) -> bool:
    """Whether zoneinfo knows `name` (a centre's every local time depends on it)."""
    from zoneinfo import ZoneInfo

    if not name or name != name.strip() or "\x00" in name:
        return False
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


# --- writing ---------------------------------------------------------------------------


def create(
    session: Session, ent: Entity, raw: Mapping[str, Any], *, actor: User, now: datetime
) -> Any:
    refuse_hub_owned_edit(session, ent.name)
    values = coerce(ent, raw, partial=False)
    if ent.name == "users":
        password = str(raw.get("password") or "")
        if len(password) < 8:
            raise InvalidRequest(
                "Mật khẩu phải có ít nhất 8 ký tự.", "password must be 8+ characters"
            )
        row = User(password_hash=generate_password_hash(password))
    else:
        row = ent.model()
    if ent.name == "centres":
        row.settings = {}
    _apply(session, ent, row, values)
    _check(session, ent, row, actor)
    session.add(row)
    _flush(session, ent, row)
    if ent.name == "counters":
        _set_counter_services(session, row, values.get("services") or [])
        session.flush()
    after = snapshot(ent, row)
    audit.record(
        session,
        user=actor,
        entity=ent.name,
        action="create",
        now=now,
        entity_id=row.id,
        centre_id=_centre_of(ent, row),
        after=after,
    )
    return row


def update(
    session: Session, ent: Entity, row: Any, raw: Mapping[str, Any], *, actor: User, now: datetime
) -> Any:
    refuse_hub_owned_edit(session, ent.name)
    before = snapshot(ent, row)
    values = coerce(ent, raw, partial=True)
    if ent.name == "centres" and "code" in values and values["code"] != row.code:
        pass  # allowed: the code only names the centre in URLs and config files
    _apply(session, ent, row, values)
    _check(session, ent, row, actor)
    if ent.name == "counters" and "services" in values:
        _set_counter_services(session, row, values["services"])
    _flush(session, ent, row)
    audit.record(
        session,
        user=actor,
        entity=ent.name,
        action="update",
        now=now,
        entity_id=row.id,
        centre_id=_centre_of(ent, row),
        before=before,
        after=snapshot(ent, row),
    )
    return row


def delete(session: Session, ent: Entity, row: Any, *, actor: User, now: datetime) -> None:
    """Delete, or refuse with 409 when history refers to it (deactivate it instead)."""
    refuse_hub_owned_edit(session, ent.name)
    _check(session, ent, row, actor)
    if ent.name == "users" and row.id == actor.id:
        raise InvalidRequest("Không thể tự xoá tài khoản của mình.", "cannot delete yourself")
    before = snapshot(ent, row)
    row_id, centre_id = row.id, _centre_of(ent, row)
    try:
        with session.begin_nested():
            if ent.name == "services":
                for link in list(row.counter_links):
                    session.delete(link)  # the counters stop serving it
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise InUse(
            f"{ent.label} này đã có dữ liệu (phiếu, lịch sử) tham chiếu: hãy tắt «Đang dùng» "
            "thay vì xoá.",
            f"{ent.name} {row_id} is referenced by history; deactivate it instead",
        ) from None
    audit.record(
        session,
        user=actor,
        entity=ent.name,
        action="delete",
        now=now,
        entity_id=row_id,
        centre_id=centre_id,
        before=before,
    )


def reset_password(
    session: Session, user: User, password: str, *, actor: User, now: datetime
) -> None:
    refuse_hub_owned_edit(session, "users")
    _check(session, ENTITIES["users"], user, actor)
    if len(password) < 8:
        raise InvalidRequest("Mật khẩu phải có ít nhất 8 ký tự.", "password must be 8+ characters")
    from server.services.auth import change_password

    change_password(session, user, password)  # its sessions and bearer tokens end too
    audit.record(
        session,
        user=actor,
        entity="users",
        action="reset_password",
        now=now,
        entity_id=user.id,
        centre_id=user.centre_id,
    )


def station_token(
    session: Session, station: Station, *, issue: bool, actor: User, now: datetime
) -> str | None:
    """Issue a new token (returned once; the old one stops working) or revoke it."""
    from server.services.auth import issue_station_token, revoke_station_token

    _check(session, ENTITIES["stations"], station, actor)
    token = issue_station_token(session, station) if issue else None
    if not issue:
        revoke_station_token(session, station, now)
    audit.record(
        session,
        user=actor,
        entity="stations",
        action="issue_token" if issue else "revoke_token",
        now=now,
        entity_id=station.id,
        centre_id=station.centre_id,
    )
    return token


def kiosk_code(session: Session, station: Station, *, actor: User, now: datetime) -> str:
    """A one-time provisioning code for a kiosk station (services/kiosks.py), shown once."""
    from server.services.kiosks import issue_code

    _check(session, ENTITIES["stations"], station, actor)
    code = issue_code(session, station, now)
    audit.record(
        session,
        user=actor,
        entity="stations",
        action="issue_kiosk_code",
        now=now,
        entity_id=station.id,
        centre_id=station.centre_id,
    )
    return code


def _centre_of(ent: Entity, row: Any) -> int | None:
    return row.id if ent.name == "centres" else getattr(row, "centre_id", None)
