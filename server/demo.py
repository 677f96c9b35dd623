"""A realistic demo centre: a ward centre in Bắc Ninh. Idempotent and safe to run concurrently."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.models import (
    Agency,
    Centre,
    Counter,
    CounterService,
    Field,
    PriorityCategory,
    Service,
    Station,
    User,
)
from server.services.auth import create_user, issue_station_token

logger = logging.getLogger(__name__)

DEMO_CENTRE_CODE = "BN-KINHBAC"
#: The station of the counters' devices: rating pads, LED boards, a call keypad, and the
#: (simulated) thermal printer of the counters' dossier slips.
COUNTERS_STATION_CODE = "COUNTERS-1"
#: The demo kiosk's provisioning code, reusable and documented in the README (like the
#: demo passwords): `/kiosk/provision?code=…` makes a browser the demo kiosk. A real
#: deployment issues one-time codes (admin); revoking the station's token ends this one.
DEMO_KIOSK_CODE = "tthcc-demo-kiosk"
#: Set once the demo counters were bound to COUNTERS-1's printer, so an admin's later
#: changes to that binding survive `tthcc demo` (which runs at every `tthcc run`).
_SLIP_PRINTER_SEEDED = "demo_slip_printer_seeded"
_KIOSK_CODE_SEEDED = "demo_kiosk_code_seeded"
DEMO_LOCK_KEY = 7_270_002
#: Set once the demo's opening hours, cut-offs and caps were seeded (admins' edits stay).
_HOURS_SEEDED = "demo_hours_seeded"
#: TTHCC_DEMO_HOURS=0 loads the demo without hours, cut-offs or caps (always issuing): the
#: test suite runs at any wall-clock time and sets it; tests of hours set their own.
DEMO_HOURS_ENV = "TTHCC_DEMO_HOURS"
#: Mon–Fri 07:30–11:30 and 13:30–17:00, Saturday morning (many ward centres open then).
DEMO_OPENING_HOURS = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
#: Per service code: (cut-off, daily cap). Certification takes no new number after 15:00
#: (a copy is certified the same day); the land registry sees 40 citizens a day.
DEMO_SERVICE_LIMITS = {"CT1": ("15:00", None), "CT2": ("15:00", None), "DD": (None, 40)}
#: Set once the demo services that hand out numbers to phones were chosen.
_REMOTE_SEEDED = "demo_remote_seeded"
#: Civil status and certification take numbers from a phone (docs/remote.md).
DEMO_REMOTE_SERVICES = ("HT1", "HT2", "CT1")
_APPOINTMENTS_SEEDED = "demo_appointments_seeded"
#: Services that take appointments in the demo (docs/appointments.md).
DEMO_APPOINTMENT_SERVICES = ("HT1", "DD")
#: The bulk filers' lane (docs/remote.md): a service of its own, with its own prefix and
#: range (D0001…), numbers from the phone too, called only at its counter (Quầy 5, last in
#: its order). Seeded once: an admin's later edits stay.
DEMO_BULK_LANE = {
    "code": "DN",
    "field": "KD",
    "name": "Tổ chức, doanh nghiệp nộp nhiều hồ sơ",
    "name_en": "Organisations and businesses filing many dossiers",
    "prefix": "D",
    "range": (1, 999),
    "counter": 5,
}
_BULK_LANE_SEEDED = "demo_bulk_lane_seeded"

FIELDS = [
    # code, name, name_en
    ("HT", "Hộ tịch", "Civil status"),
    ("CT", "Chứng thực", "Certification"),
    ("DD", "Đất đai", "Land"),
    ("XD", "Xây dựng", "Construction"),
    ("KD", "Hộ kinh doanh", "Household business"),
    ("BT", "Bảo trợ xã hội – Người có công", "Social protection – Meritorious people"),
    ("TK", "Trả kết quả", "Result return"),
]

SERVICES = [
    # code, field, name, name_en, range, policy, interleave_every
    (
        "HT1",
        "HT",
        "Khai sinh, kết hôn, khai tử",
        "Birth, marriage, death registration",
        (1001, 1999),
        "interleave",
        3,
    ),
    (
        "HT2",
        "HT",
        "Trích lục, cải chính hộ tịch",
        "Civil status extracts and corrections",
        (2001, 2999),
        "interleave",
        3,
    ),
    (
        "CT1",
        "CT",
        "Chứng thực bản sao từ bản chính",
        "Certified copies",
        (3001, 3999),
        "interleave",
        3,
    ),
    (
        "CT2",
        "CT",
        "Chứng thực chữ ký, hợp đồng",
        "Signature and contract certification",
        (4001, 4999),
        "interleave",
        3,
    ),
    (
        "DD",
        "DD",
        "Đăng ký, cấp giấy chứng nhận quyền sử dụng đất",
        "Land use right certificates",
        (5001, 5999),
        "strict",
        3,
    ),
    ("XD", "XD", "Cấp giấy phép xây dựng", "Building permits", (6001, 6999), "strict", 3),
    (
        "KD",
        "KD",
        "Đăng ký hộ kinh doanh",
        "Household business registration",
        (7001, 7999),
        "interleave",
        3,
    ),
    (
        "BT",
        "BT",
        "Trợ cấp xã hội, chính sách người có công",
        "Social allowances, meritorious people",
        (8001, 8999),
        "strict",
        3,
    ),
    ("TK", "TK", "Nhận kết quả hồ sơ", "Collect a result", (9001, 9999), "interleave", 2),
]

AGENCIES = [
    "Văn phòng HĐND và UBND phường Kinh Bắc",
    "Phòng Kinh tế, Hạ tầng và Đô thị phường Kinh Bắc",
    "Phòng Văn hóa – Xã hội phường Kinh Bắc",
    "Chi nhánh Văn phòng đăng ký đất đai Bắc Ninh",
]

COUNTERS = [
    # number, services in order, staff username, full name, agency index
    (1, ["HT1", "HT2"], "canbo1", "Nguyễn Thị Hương", 0),
    (2, ["HT1", "CT1"], "canbo2", "Trần Văn Minh", 0),
    (3, ["CT1", "CT2"], "canbo3", "Lê Thị Thu Trang", 0),
    (4, ["DD", "XD"], "canbo4", "Phạm Quốc Hùng", 3),
    (5, ["XD", "KD", "DD"], "canbo5", "Đỗ Thị Lan Anh", 1),
    (6, ["BT", "HT2"], "canbo6", "Vũ Đức Thắng", 2),
    (7, ["TK", "CT1"], "canbo7", "Ngô Thị Bích Ngọc", 0),
]

#: Where the demo centre is (UBND phường Kinh Bắc, central Bắc Ninh), decimal degrees.
DEMO_CENTRE_POSITION = (21.1861, 106.0763)
#: Other centres of the province for `tthcc demo --province N`: code, name (line 2), kind,
#: latitude, longitude. Positions are plausible (the ward's or commune's centre), not
#: surveyed; beyond this list, centres are generated around the provincial centre.
PROVINCE_CENTRES = [
    ("BN-TINH", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH", "provincial", 21.1782, 106.0712),
    ("BN-VUNINH", "PHƯỜNG VŨ NINH", "commune", 21.1945, 106.0887),
    ("BN-VOCUONG", "PHƯỜNG VÕ CƯỜNG", "commune", 21.1652, 106.0581),
    ("BN-HAPLINH", "PHƯỜNG HẠP LĨNH", "commune", 21.1487, 106.0877),
    ("BN-TUSON", "PHƯỜNG TỪ SƠN", "commune", 21.1189, 105.9611),
    ("BN-TIENDU", "XÃ TIÊN DU", "commune", 21.1253, 106.0385),
    ("BN-QUEVO", "PHƯỜNG QUẾ VÕ", "commune", 21.1478, 106.1588),
    ("BN-YENPHONG", "XÃ YÊN PHONG", "commune", 21.2020, 105.9560),
    ("BN-THUANTHANH", "PHƯỜNG THUẬN THÀNH", "commune", 21.0537, 106.0786),
    ("BN-GIABINH", "XÃ GIA BÌNH", "commune", 21.0565, 106.1775),
    ("BN-BACGIANG", "PHƯỜNG BẮC GIANG", "commune", 21.2731, 106.1946),
]
#: The fields and services a generated province centre offers (codes as the demo centre's,
#: so "the same field elsewhere" is found by its code), with its counters.
PROVINCE_SERVICES = ("HT1", "CT1", "DD", "TK")
PROVINCE_COUNTERS = (["HT1", "CT1"], ["CT1", "HT1"], ["DD"], ["TK", "HT1"])

PRIORITY_CATEGORIES = [
    ("nguoi_cao_tuoi", "Người cao tuổi (từ 60 tuổi)", "Elderly (60+)"),
    ("nguoi_khuyet_tat", "Người khuyết tật", "Person with a disability"),
    ("phu_nu_co_thai", "Phụ nữ có thai", "Pregnant woman"),
    ("nguoi_co_cong", "Người có công với cách mạng", "Person with meritorious service"),
    ("mang_tre_nho", "Người đi cùng trẻ nhỏ", "Person with a small child"),
]

#: Demo accounts (documented in README). Change them on a real deployment.
DEMO_PASSWORDS = {"admin": "tthcc-admin", "giamsat": "tthcc-giamsat", "staff": "tthcc-canbo"}


@dataclass(frozen=True)
class DemoResult:
    centre_id: int
    created: bool
    kiosk_station_id: int
    kiosk_token: str | None
    counters_station_id: int | None = None
    counters_token: str | None = None
    #: (counter id, counter number) of every demo counter, by number.
    counters: tuple[tuple[int, int], ...] = ()


def _lock(session: Session) -> None:
    """Serialise concurrent demo loads (SQLite already holds the write lock from BEGIN)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({DEMO_LOCK_KEY})"))


def load_demo(
    session: Session, *, issue_kiosk_token: bool = False, issue_counters_token: bool = False
) -> DemoResult:
    """Create the demo centre if absent; return its ids. Never duplicates anything.

    Holds the demo lock until the transaction ends, so a caller may check and (re)issue
    the stations' tokens and write their agent configs race-free in the same transaction.
    """
    _lock(session)
    centre = session.execute(
        select(Centre).where(Centre.code == DEMO_CENTRE_CODE)
    ).scalar_one_or_none()
    created = centre is None
    if centre is None:
        centre = _create_centre(session)
    __import__("server.demo_procedures").demo_procedures.seed_procedures(session, centre.id)
    if centre.latitude is None and centre.longitude is None:  # a demo loaded before
        centre.latitude, centre.longitude = DEMO_CENTRE_POSITION
    kiosk = _station(session, centre, "KIOSK-1")
    if created or not (centre.settings or {}).get(_KIOSK_CODE_SEEDED):
        _seed_kiosk_code(session, centre, kiosk)
    counters_station = _station(session, centre, COUNTERS_STATION_CODE)
    if not (centre.settings or {}).get(_SLIP_PRINTER_SEEDED):
        _bind_counters_to_slip_printer(session, centre, counters_station)
    if not (centre.settings or {}).get(_REMOTE_SEEDED):
        for service in session.execute(
            select(Service).where(
                Service.centre_id == centre.id, Service.code.in_(DEMO_REMOTE_SERVICES)
            )
        ).scalars():
            service.remote_issuing = True
        centre.settings = {**(centre.settings or {}), _REMOTE_SEEDED: True}
        session.flush()
    if not (centre.settings or {}).get(_APPOINTMENTS_SEEDED):
        for service in session.execute(
            select(Service).where(
                Service.centre_id == centre.id, Service.code.in_(DEMO_APPOINTMENT_SERVICES)
            )
        ).scalars():
            service.appointments = True
        centre.settings = {**(centre.settings or {}), _APPOINTMENTS_SEEDED: True}
        session.flush()
    if not (centre.settings or {}).get(_BULK_LANE_SEEDED):
        seed_bulk_lane(session, centre)
    if os.environ.get(DEMO_HOURS_ENV, "1") != "0" and not (centre.settings or {}).get(
        _HOURS_SEEDED
    ):
        seed_hours(session, centre)
    counters = session.execute(
        select(Counter.id, Counter.number)
        .where(Counter.centre_id == centre.id)
        .order_by(Counter.number)
    ).all()
    return DemoResult(
        centre.id,
        created,
        kiosk.id,
        issue_station_token(session, kiosk) if issue_kiosk_token else None,
        counters_station.id,
        issue_station_token(session, counters_station) if issue_counters_token else None,
        tuple((counter_id, number) for counter_id, number in counters),
    )


def seed_bulk_lane(session: Session, centre: Centre) -> None:
    """Once per demo centre (also one loaded before the lane existed): the bulk filers'
    lane, its field's last service, served last by its counter."""
    lane = DEMO_BULK_LANE
    exists = session.execute(
        select(Service.id).where(Service.centre_id == centre.id, Service.code == lane["code"])
    ).first()
    field = session.execute(
        select(Field).where(Field.centre_id == centre.id, Field.code == lane["field"])
    ).scalar_one_or_none()
    counter = session.execute(
        select(Counter).where(Counter.centre_id == centre.id, Counter.number == lane["counter"])
    ).scalar_one_or_none()
    if exists is None and field is not None and counter is not None:
        position = session.execute(
            select(func.coalesce(func.max(Service.position), -1) + 1).where(
                Service.centre_id == centre.id
            )
        ).scalar_one()
        lo, hi = lane["range"]
        service = Service(
            centre_id=centre.id,
            field_id=field.id,
            code=lane["code"],
            name=lane["name"],
            name_en=lane["name_en"],
            prefix=lane["prefix"],
            range_start=lo,
            range_end=hi,
            priority_policy="interleave",
            interleave_every=3,
            position=position,
            bulk_lane=True,
            remote_issuing=True,
        )
        session.add(service)
        session.flush()
        last = session.execute(
            select(func.coalesce(func.max(CounterService.position), -1) + 1).where(
                CounterService.counter_id == counter.id
            )
        ).scalar_one()
        session.add(CounterService(counter_id=counter.id, service_id=service.id, position=last))
    centre.settings = {**(centre.settings or {}), _BULK_LANE_SEEDED: True}
    session.flush()


def seed_hours(session: Session, centre: Centre) -> None:
    """Once per demo centre: its opening hours, and the cut-offs and caps of a few services."""
    from server.services.hours import hours_value

    centre.opening_hours = hours_value(DEMO_OPENING_HOURS)
    for service in session.execute(
        select(Service).where(Service.centre_id == centre.id, Service.code.in_(DEMO_SERVICE_LIMITS))
    ).scalars():
        service.issue_cutoff, service.daily_cap = DEMO_SERVICE_LIMITS[service.code]
    centre.settings = {**(centre.settings or {}), _HOURS_SEEDED: True}
    session.flush()


def _bind_counters_to_slip_printer(session: Session, centre: Centre, station: Station) -> None:
    """Once per demo centre (also one created before slips were printed): COUNTERS-1
    gets a printer and every counter not yet bound prints its dossier slips there."""
    station.has_printer = True
    for counter in session.execute(
        select(Counter).where(Counter.centre_id == centre.id, Counter.station_id.is_(None))
    ).scalars():
        counter.station_id = station.id
    centre.settings = {**(centre.settings or {}), _SLIP_PRINTER_SEEDED: True}
    session.flush()


def _seed_kiosk_code(session: Session, centre: Centre, kiosk: Station) -> None:
    """Once per demo centre: the demo kiosk's documented, reusable provisioning code (an
    administrator who revoked the kiosk's token keeps it revoked across restarts)."""
    from server.domain.clock import utcnow
    from server.services.kiosks import issue_code

    issue_code(session, kiosk, utcnow(), lifetime=None, code=DEMO_KIOSK_CODE, reusable=True)
    centre.settings = {**(centre.settings or {}), _KIOSK_CODE_SEEDED: True}
    session.flush()


def _station(session: Session, centre: Centre, code: str) -> Station:
    return session.execute(
        select(Station).where(Station.centre_id == centre.id, Station.code == code)
    ).scalar_one()


def _create_centre(session: Session) -> Centre:
    centre = Centre(
        code=DEMO_CENTRE_CODE,
        name="TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        subtitle="PHƯỜNG KINH BẮC",
        address="Số 10 Lý Thái Tổ, phường Kinh Bắc, tỉnh Bắc Ninh",
        latitude=DEMO_CENTRE_POSITION[0],
        longitude=DEMO_CENTRE_POSITION[1],
        settings={
            "notice": "Trung tâm làm việc từ thứ Hai đến thứ Sáu: sáng 7h30–11h30, chiều "
            "13h30–17h00. Công dân vui lòng giữ phiếu và chờ đến lượt được mời.",
        },
    )
    session.add(centre)
    session.flush()
    services = _add_catalogue(session, centre, SERVICES, every_field=True)
    for position, (code, name, name_en) in enumerate(PRIORITY_CATEGORIES):
        session.add(
            PriorityCategory(
                centre_id=centre.id, code=code, name=name, name_en=name_en, position=position
            )
        )
    agencies = [Agency(centre_id=centre.id, name=name) for name in AGENCIES]
    session.add_all(agencies)
    session.flush()
    for number, service_codes, username, full_name, agency_index in COUNTERS:
        counter = Counter(centre_id=centre.id, number=number, name=f"Quầy {number}")
        session.add(counter)
        session.flush()
        for position, code in enumerate(service_codes):
            session.add(
                CounterService(
                    counter_id=counter.id, service_id=services[code].id, position=position
                )
            )
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            continue
        create_user(
            session,
            username=username,
            password=DEMO_PASSWORDS["staff"],
            role="staff",
            full_name=full_name,
            centre_id=centre.id,
            agency_id=agencies[agency_index].id,
        )
    for username, role, full_name in (
        ("admin", "admin", "Quản trị hệ thống"),
        ("giamsat", "supervisor", "Giám đốc Trung tâm"),
    ):
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            continue
        create_user(
            session,
            username=username,
            password=DEMO_PASSWORDS[username],
            role=role,
            full_name=full_name,
            centre_id=centre.id if role != "admin" else None,
        )
    session.add_all(
        [
            Station(
                centre_id=centre.id,
                code="KIOSK-1",
                kind="kiosk",
                name="Kiosk sảnh chính",
                has_printer=True,
            ),
            Station(
                centre_id=centre.id, code="DISPLAY-1", kind="display", name="Màn hình sảnh chờ"
            ),
            Station(
                centre_id=centre.id,
                code=COUNTERS_STATION_CODE,
                kind="counter",
                name="Thiết bị các quầy (bàn phím đánh giá, bảng LED, máy in giấy hẹn)",
                has_printer=True,
            ),
        ]
    )
    session.flush()
    logger.info("demo centre %s created", DEMO_CENTRE_CODE)
    return centre


def write_agent_config(
    path: Path, *, server_url: str, token: str, printed_dir: Path, spool_dir: Path
) -> None:
    """The demo kiosk station's agent config: a simulated printer writing into a folder."""
    text = (
        "# Demo kiosk station: written by `tthcc demo`, regenerated with a fresh token.\n"
        f'server_url = "{server_url}"\n'
        f'station_token = "{token}"\n'
        f'spool_dir = "{spool_dir}"\n\n'
        "[[printers]]\n"
        'name = "kiosk-printer"\n'
        f'url = "sim://{printed_dir}"\n'
        'mode = "text"\n'
        "default = true\n"
    )
    _write_private(path, text)


def counters_agent_config_text(
    *,
    server_url: str,
    token: str,
    spool_dir: Path,
    counters: tuple[tuple[int, int], ...],
    printed_dir: Path | None = None,
    keypad_counters: tuple[int, ...] = (1,),
) -> str:
    """The demo counters station's agent config, every device a simulator.

    One rating pad per counter on a port of its own (``ratingpad-N``, pty-sim:NAME),
    every counter's LED board on one RS-485 bus (``ledboards``, address = counter
    number), a call keypad at counter 1 (``keypad-1``), and the counters' slip printer
    (``sim://printed_dir``: each dossier slip lands there as .bin and .png). ``tthcc sim
    hall`` plugs the serial ones in, with a control FIFO each:
    ``echo 5 > var/dev/ratingpad-1.ctl``.
    """
    lines = [
        "# Demo counters station: written by `tthcc demo`, regenerated with a fresh token.",
        "# Every device is simulated: `tthcc sim hall THIS_FILE` (started by `tthcc run`)",
        "# plugs them in; press keys with `echo 5 > var/dev/ratingpad-1.ctl` (docs/devices.md).",
        f'server_url = "{server_url}"',
        f'station_token = "{token}"',
        f'spool_dir = "{spool_dir}"',
    ]
    if printed_dir is not None:
        lines += [
            "",
            "# The counters' dossier slips (docs/dossiers.md): one .bin and .png per slip.",
            "[[printers]]",
            'name = "counters-printer"',
            f'url = "sim://{printed_dir}"',
            'mode = "text"',
            "default = true",
        ]
    for counter_id, number in counters:
        lines += [
            "",
            "[[ratingpads]]",
            f'name = "ratingpad-{number}"',
            f'url = "pty-sim:ratingpad-{number}"',
            f"counter_id = {counter_id}",
        ]
    for counter_id, number in counters:
        lines += [
            "",
            "[[ledboards]]",
            f'name = "ledboard-{number}"',
            'url = "pty-sim:ledboards"',
            f"counter_id = {counter_id}",
            f"address = {number}",
        ]
    for counter_id, number in counters:
        if number in keypad_counters:
            lines += [
                "",
                "[[keypads]]",
                f'name = "keypad-{number}"',
                f'url = "pty-sim:keypad-{number}"',
                f"counter_id = {counter_id}",
            ]
    return "\n".join(lines) + "\n"


def write_counters_agent_config(path: Path, **kwargs: Any) -> bool:
    """Write :func:`counters_agent_config_text` to ``path`` unless it already says that;
    True when the file was (re)written."""
    text = counters_agent_config_text(**kwargs)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    _write_private(path, text)
    return True


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a file only its owner reads (it holds a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(staging, path)


def load_province_demo(session: Session, count: int) -> list[int]:
    """`count` more centres of the province around the demo centre (idempotent by code):
    each with four services in three fields and four open-able counters, a kind and a
    position. Returns their ids, in PROVINCE_CENTRES order."""
    _lock(session)
    ids = []
    for index in range(count):
        if index < len(PROVINCE_CENTRES):
            code, subtitle, kind, lat, lon = PROVINCE_CENTRES[index]
        else:  # a ring of generated communes 5-25 km around the provincial centre
            import math

            angle, radius = index * 2.39996, 0.05 + 0.2 * ((index * 37) % 100) / 100
            code, subtitle, kind = f"BN-XA{index + 1:03d}", f"XÃ SỐ {index + 1}", "commune"
            lat = 21.1782 + radius * math.sin(angle)
            lon = 106.0712 + radius * math.cos(angle)
        centre = session.execute(select(Centre).where(Centre.code == code)).scalar_one_or_none()
        if centre is None:
            centre = _create_province_centre(session, code, subtitle, kind, lat, lon)
        ids.append(centre.id)
    return ids


def _create_province_centre(
    session: Session, code: str, subtitle: str, kind: str, lat: float, lon: float
) -> Centre:
    provincial = kind == "provincial"
    centre = Centre(
        code=code,
        name=subtitle if provincial else "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        subtitle="TỈNH BẮC NINH" if provincial else subtitle,
        address=f"{subtitle.title()}, tỉnh Bắc Ninh",
        kind=kind,
        latitude=round(lat, 5),
        longitude=round(lon, 5),
        settings={},
    )
    session.add(centre)
    session.flush()
    wanted = [row for row in SERVICES if row[0] in PROVINCE_SERVICES]
    services = _add_catalogue(session, centre, wanted, every_field=False)
    session.flush()
    for number, codes in enumerate(PROVINCE_COUNTERS, start=1):
        counter = Counter(centre_id=centre.id, number=number, name=f"Quầy {number}")
        session.add(counter)
        session.flush()
        for position, scode in enumerate(codes):
            session.add(
                CounterService(
                    counter_id=counter.id, service_id=services[scode].id, position=position
                )
            )
    session.flush()
    logger.info("province demo centre %s created", code)
    return centre


def _add_catalogue(
    session: Session, centre: Centre, rows: list[tuple], *, every_field: bool
) -> dict[str, Service]:
    """The demo's fields (all of them, or those `rows` use) and the services in `rows`, in
    the demo's order; services by code."""
    fields: dict[str, Field] = {}
    for position, (code, name, name_en) in enumerate(FIELDS):
        if every_field or any(row[1] == code for row in rows):
            fields[code] = Field(
                centre_id=centre.id, code=code, name=name, name_en=name_en, position=position
            )
            session.add(fields[code])
    session.flush()
    services: dict[str, Service] = {}
    for position, (code, field_code, name, name_en, (lo, hi), policy, every) in enumerate(rows):
        services[code] = Service(
            centre_id=centre.id,
            field_id=fields[field_code].id,
            code=code,
            name=name,
            name_en=name_en,
            range_start=lo,
            range_end=hi,
            priority_policy=policy,
            interleave_every=every,
            position=position,
        )
        session.add(services[code])
    return services
