"""Reports and scorecards as files: CSV (UTF-8 with BOM, so Excel reads the diacritics) and
XLSX (openpyxl), with Vietnamese headers. Times are in minutes, one decimal."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from server.services.reports import RATING_LEVELS_VI

WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def _columns(include_duty: bool) -> list[tuple[str, Callable[[dict], Any]]]:
    cols: list[tuple[str, Callable[[dict], Any]]] = [
        ("Số phiếu cấp", lambda r: r["issued"]),
        ("Đã phục vụ", lambda r: r["served"]),
        ("Hẹn bổ sung hồ sơ", lambda r: r["supplement"]),
        ("Hướng dẫn sang nơi khác", lambda r: r["redirected"]),
        ("Công dân đã về", lambda r: r["left"]),
        ("Vắng mặt", lambda r: r["no_show"]),
        ("Chuyển dịch vụ", lambda r: r["transferred"]),
        ("Thời gian chờ TB (phút)", lambda r: _minutes(r["wait_mean"])),
        ("Thời gian chờ trung vị (phút)", lambda r: _minutes(r["wait_median"])),
        ("Thời gian chờ P90 (phút)", lambda r: _minutes(r["wait_p90"])),
        ("Thời gian phục vụ TB (phút)", lambda r: _minutes(r["service_mean"])),
        ("Thời gian phục vụ trung vị (phút)", lambda r: _minutes(r["service_median"])),
        ("Thời gian phục vụ P90 (phút)", lambda r: _minutes(r["service_p90"])),
    ]
    for level, name in RATING_LEVELS_VI.items():
        cols.append((name, lambda r, level=level: r["ratings"][str(level)]))
    cols += [
        ("Tổng lượt đánh giá", lambda r: r["ratings_total"]),
        (
            "Điểm đánh giá TB (1–5)",
            lambda r: None if r["rating_mean"] is None else round(r["rating_mean"], 2),
        ),
        ("Chỉ số hài lòng (%)", lambda r: r["satisfaction_index"]),
    ]
    if include_duty:
        cols += [
            ("Thời gian làm việc tại quầy (giờ)", lambda r: round(r["on_duty_seconds"] / 3600, 2)),
            ("Thời gian tạm dừng (phút)", lambda r: _minutes(r["paused_seconds"])),
            (
                "Tạm dừng theo lý do",
                lambda r: "; ".join(
                    f"{p['reason']}: {p['count']} lần, {_minutes(p['seconds'])} phút"
                    for p in r["pauses"]
                ),
            ),
        ]
    return cols


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a report (``rows`` + total) or of scorecards (``cards``)."""
    cards = "cards" in report
    cols = _columns(include_duty=cards)
    header = [report["by_label"], *[name for name, _ in cols]]
    items = report["cards"] if cards else [*report["rows"], report["total"]]
    body = []
    for item in items:
        body.append([item["label"], *[get(item) for _, get in cols]])
    if not cards and not report.get("issued_attributed", True):
        for row in body[:-1]:
            row[1] = None  # issue is not attributed to counters/staff: leave it blank
    return header, body


def _title(report: dict[str, Any], kind: str) -> list[str]:
    centres = ", ".join(c["name"] for c in report.get("centres", []))
    return [f"{kind} – {report['period']['label']}" + (f" – {centres}" if centres else "")]


def to_csv(report: dict[str, Any], kind: str = "Báo cáo") -> bytes:
    header, body = table(report)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_title(report, kind))
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    if _has_bookings(report):  # readers of the report table alone see no change
        writer.writerow([])
        writer.writerows(_appointment_rows(report["appointments"]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _has_bookings(report: dict[str, Any]) -> bool:
    return bool(report.get("appointments", {}).get("total", {}).get("bookings"))


def _appointment_rows(figures: dict[str, Any]) -> list[list[Any]]:
    """The appointments' table: a header, one row per day, the total."""
    from server.services.reports import APPOINTMENT_COLUMNS_VI, APPOINTMENT_KEYS

    rows: list[list[Any]] = [["Lịch hẹn theo ngày", *APPOINTMENT_COLUMNS_VI]]
    for day in figures["days"]:
        rows.append([day["day"], *[day[k] for k in APPOINTMENT_KEYS]])
    rows.append(["Tổng cộng", *[figures["total"][k] for k in APPOINTMENT_KEYS]])
    return rows


def to_xlsx(report: dict[str, Any], kind: str = "Báo cáo") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, body = table(report)
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws.append(_title(report, kind))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in body:
        ws.append(row)
    ws.column_dimensions["A"].width = 40
    ws.freeze_panes = "B3"
    if "heatmap" in report:
        heat = wb.create_sheet("Giờ cao điểm")
        heat.append(["Số phiếu cấp theo giờ và thứ", *[f"{h:02d}h" for h in range(24)]])
        for name, counts in zip(WEEKDAYS_VI, report["heatmap"], strict=True):
            heat.append([name, *counts])
    if _has_bookings(report):
        booked = wb.create_sheet("Lịch hẹn")
        for row in _appointment_rows(report["appointments"]):
            booked.append(row)
    if report.get("low_ratings"):
        low = wb.create_sheet("Đánh giá thấp")
        low.append(["Thời điểm", "Mức", "Số phiếu", "Quầy", "Dịch vụ", "Cán bộ"])
        for r in report["low_ratings"]:
            low.append(
                [
                    r["pressed_at"],
                    r["level_label"],
                    r["ticket_number"],
                    r["counter_name"],
                    r["service_name"],
                    r["staff_name"],
                ]
            )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def sheets_to_csv(title: str, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """Several tables (e.g. the province's commune centres, then its provincial units) in
    one CSV: a title row, then per table its title, header and rows, a blank row between."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title])
    for position, (name, header, body) in enumerate(sheets):
        if position:
            writer.writerow([])
        writer.writerow([name])
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in body])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheets_to_xlsx(title: str, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """The same tables as XLSX, one worksheet each (names cut to Excel's 31 characters)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, header, body in sheets or [(title, [], [])]:
        ws = wb.create_sheet(name.split(" – ")[0][:31])
        ws.append([f"{title} – {name}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in body:
            ws.append(row)
        ws.column_dimensions["B"].width = 45
        ws.freeze_panes = "C3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
