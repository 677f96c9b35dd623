"""The ticket layout: exact ESC/POS bytes in text mode, raster mode, PNG preview, decoding."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from escpos.printer import Dummy
from PIL import Image

from devices.errors import DeviceError
from devices.printing.decode import EscposStream, decode_blocks
from devices.printing.layout import Cut, QrCode, TextLine, draw_ticket, ticket_blocks
from devices.printing.preview import preview_png, render_preview
from devices.printing.render import load_font
from devices.printing.ticket import TicketPayloadError, TicketPrint

ESC, GS = b"\x1b", b"\x1d"


def qr_bytes(data: bytes, module: int = 6) -> bytes:
    """GS ( k: model 2, module size, error correction L, store data, print."""
    store = len(data) + 3
    return (
        GS + b"(k\x04\x00" + b"1A2\x00"
        + GS + b"(k\x03\x00" + b"1C" + bytes((module,))
        + GS + b"(k\x03\x00" + b"1E0"
        + GS + b"(k" + bytes((store % 256, store // 256)) + b"1P0" + data
        + GS + b"(k\x03\x00" + b"1Q0"
    )  # fmt: skip


def text_job(ticket: TicketPrint, profile: str | None = None, **kwargs: object) -> bytes:
    printer = Dummy(profile=profile)
    draw_ticket(printer, ticket, "text", **kwargs)
    return printer.output


def test_minimal_ticket_in_text_mode_is_exactly_these_bytes() -> None:
    ticket = TicketPrint.from_payload(
        {
            "centre_name": "UBND PHƯỜNG KINH BẮC",
            "number": "7",
            "service_name": "Chứng thực",
            "waiting_ahead": 0,
            "issued_at": "2026-11-27T09:15:02+07:00",
            "qr_url": "http://x/t/1",
            "thank_you": "Cảm ơn!",
        }
    )
    assert text_job(ticket) == (
        ESC + b"@"  # initialise
        + ESC + b"t\x34"  # code page table 52 = CP1258 in the default profile
        + ESC + b"a\x01" + ESC + b"E\x01"  # centred, bold
        + b"UBND PH\xdd\xd5\xccNG KINH B\xc3\xecC\n"
        + ESC + b"d\x01"
        + GS + b"!\x11" + b"S\xd4\xec TH\xdd\xec T\xdd\xf2\n"  # double size
        + GS + b"!\x33" + b"7\n"  # quadruple size
        + GS + b"!\x00" + b"Ch\xfd\xecng th\xfd\xf2c\n"
        + ESC + b"E\x00" + b"S\xf4\xec ng\xfd\xf5\xcci ch\xf5\xcc tr\xfd\xf5\xecc: 0\n"
        + b"Th\xf5\xcci gian: 27/11/2026 09:15:02\n"
        + qr_bytes(b"http://x/t/1")
        + ESC + b"E\x01" + b"Ca\xd2m \xf5n!\n"
        + ESC + b"E\x00" + ESC + b"a\x00"
        + ESC + b"d\x06" + GS + b"V\x00"  # feed, full cut
    )  # fmt: skip


def test_typical_text_ticket_selects_cp1258_and_stays_under_500_bytes(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload(priority_label="Người cao tuổi"))
    job = text_job(ticket)

    assert job.startswith(ESC + b"@" + ESC + b"t\x34")
    assert job.count(ESC + b"t") == 1  # python-escpos's magic encoder never chimed in
    assert b"TRUNG T\xc2M PHU\xf2C VU\xf2 HA\xccNH CHI\xecNH C\xd4NG\n" in job
    assert b"H\xf4\xf2 ti\xf2ch\n" in job
    assert GS + b"B\x01 \xddU TI\xcaN: Ng\xfd\xf5\xcci cao tu\xf4\xd2i \n" in job  # inverted
    assert b"Qu\xe2\xccy phu\xf2c vu\xf2: Qu\xe2\xccy 1, Qu\xe2\xccy 2\n" in job
    assert b"Th\xf5\xcci gian: 27/11/2026 09:15:02\n" in job
    assert qr_bytes(b"http://192.168.1.10:8000/t/8f3a9c2e") in job
    assert job.endswith(ESC + b"d\x06" + GS + b"V\x00")
    assert len(job) <= 500


def test_the_wait_estimate_is_printed_under_the_people_ahead(ticket_payload) -> None:
    job = text_job(TicketPrint.from_payload(ticket_payload()))
    # CP1258 with combining tone marks: "Dự kiến chờ: khoảng 12 phút (8-16)".
    estimate_line = job.index(b"D\xfd\xf2 ki\xea\xecn ch\xf5\xcc: khoa\xd2ng 12 phu\xect (8-16)\n")
    assert job.index(b"ng\xfd\xf5\xcci ch\xf5\xcc tr\xfd\xf5\xecc: 4\n") < estimate_line
    without = text_job(TicketPrint.from_payload(ticket_payload(estimate=None)))
    assert b"ki\xea\xecn ch" not in without
    # The longest estimate line still keeps a priority ticket under 500 bytes.
    longest = ticket_payload(
        estimate="Dự kiến chờ: khoảng 125 phút (81-169)", priority_label="Người cao tuổi"
    )
    assert len(text_job(TicketPrint.from_payload(longest))) <= 500


def test_code_page_table_comes_from_the_printer_profile(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    assert text_job(ticket, profile="NT-80-V-UL").startswith(ESC + b"@" + ESC + b"t\x5e")  # 94


def test_profile_without_cp1258_needs_an_explicit_code_page(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    with pytest.raises(DeviceError, match=r"no CP1258 code page.*codepage"):
        text_job(ticket, profile="TM-T88IV")
    assert text_job(ticket, profile="TM-T88IV", codepage=30).startswith(ESC + b"@" + ESC + b"t\x1e")


def test_long_lines_wrap_to_the_paper_width(ticket_payload) -> None:
    long_name = "Bảo trợ xã hội – Người có công – Chính sách với người có công với cách mạng"
    ticket = TicketPrint.from_payload(ticket_payload(service_name=long_name))
    lines = [b.text for b in decode_blocks(text_job(ticket)) if isinstance(b, TextLine)]
    wrapped = [line for line in lines if line and line in long_name]
    assert len(wrapped) == 2 and all(len(line) <= 48 for line in wrapped)


def test_raster_mode_sends_bitmaps_and_a_native_qr(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    printer = Dummy()
    draw_ticket(printer, ticket, "raster")
    job = printer.output

    header = GS + b"v0\x00" + bytes((72, 0))  # GS v 0, normal density, 576 dots = 72 bytes
    assert job.startswith(ESC + b"@" + header)
    assert job.count(header) == 2  # text above the QR, text below it
    assert qr_bytes(b"http://192.168.1.10:8000/t/8f3a9c2e") in job
    assert b"S\xd4\xec" not in job and ESC + b"t" not in job  # no text, no code page
    assert job.endswith(GS + b"V\x00")
    assert 10_000 < len(job) < 60_000


def test_raster_width_follows_the_printer_profile(ticket_payload) -> None:
    printer = Dummy(profile="TM-T88V")  # 512 dots
    draw_ticket(printer, TicketPrint.from_payload(ticket_payload()), "raster")
    assert GS + b"v0\x00" + bytes((64, 0)) in printer.output


def test_preview_png_shows_the_ticket(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload(priority_label="Người khuyết tật"))
    image = Image.open(io.BytesIO(preview_png(ticket)))

    assert image.format == "PNG"
    assert image.width == 576 and 500 < image.height < 1400
    grey = image.convert("L")
    dark = sum(grey.histogram()[:64])
    assert 0.05 < dark / (image.width * image.height) < 0.5  # ink, but mostly paper
    assert grey.getpixel((0, 0)) == 255


def test_preview_draws_the_tone_marks(ticket_payload) -> None:
    # Same layout with and without diacritics: the accented one must carry more ink,
    # which fails if the font lacked the glyphs and drew empty boxes or nothing.
    def ink(centre: str) -> int:
        image = render_preview(TicketPrint.from_payload(ticket_payload(centre_name=centre)))
        return sum(image.crop((0, 0, 576, 50)).convert("L").histogram()[:128])

    assert ink("SỐ THỨ TỰ ĐĂNG KÝ") > ink("SO THU TU DANG KY") * 1.05
    assert load_font(True, 22).getbbox("Ự")[3] > load_font(True, 22).getbbox("U")[3]


def test_decoding_a_text_job_gives_back_the_layout(ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    decoded = decode_blocks(text_job(ticket))
    wanted = [b for b in ticket_blocks(ticket) if isinstance(b, TextLine | QrCode | Cut)]
    got = [b for b in decoded if isinstance(b, TextLine | QrCode | Cut)]
    assert [(b.text, b.scale, b.bold) for b in got if isinstance(b, TextLine)] == [
        (b.text, b.scale, b.bold) for b in wanted if isinstance(b, TextLine)
    ]
    assert QrCode("http://192.168.1.10:8000/t/8f3a9c2e", 6) in got
    assert isinstance(got[-1], Cut)


def test_stream_tokenizer_is_not_fooled_by_status_bytes_inside_data() -> None:
    raster = GS + b"v0\x00\x01\x00\x03\x00" + b"\x10\x04\x01"  # 1 x 3 bytes of bitmap
    whole = EscposStream().feed(raster + b"\x10\x04\x04")
    assert [c.name for c in whole] == ["raster", "status"]

    stream = EscposStream()
    split = [c for byte in raster + b"\x10\x04\x04" for c in stream.feed(bytes((byte,)))]
    assert [c.name for c in split] == ["raster", "status"]
    assert split[0].raw == raster


def test_ticket_payload_errors_name_every_bad_field(ticket_payload) -> None:
    payload = ticket_payload(number="", waiting_ahead=-1, issued_at="yesterday")
    del payload["centre_name"]
    with pytest.raises(TicketPayloadError) as info:
        TicketPrint.from_payload(payload)
    message = str(info.value)
    for field in ("number", "waiting_ahead", "issued_at", "centre_name"):
        assert field in message


def test_timestamp_without_offset_is_refused(ticket_payload) -> None:
    with pytest.raises(TicketPayloadError, match="UTC offset"):
        TicketPrint.from_payload(ticket_payload(issued_at="2026-11-27T09:15:02"))


def test_print_time_is_the_centres_wall_clock(ticket_payload, monkeypatch) -> None:
    local = TicketPrint.from_payload(ticket_payload(issued_at="2026-11-27T09:15:02+07:00"))
    assert local.local_issued_at().strftime("%H:%M") == "09:15"
    # A UTC timestamp is converted to the station's zone.
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    import time

    time.tzset()
    try:
        utc = TicketPrint.from_payload(ticket_payload(issued_at="2026-11-27T02:15:02Z"))
        assert utc.issued_at == datetime(2026, 11, 27, 2, 15, 2, tzinfo=UTC)
        assert utc.local_issued_at().strftime("%d/%m/%Y %H:%M:%S") == "27/11/2026 09:15:02"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
