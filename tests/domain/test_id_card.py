"""The chip ID card's QR text and check-in codes, parsed without an app."""

from datetime import date

from server.domain.id_card import (
    CheckInCode,
    IdCard,
    Unrecognised,
    id_number_digest,
    read_scan,
)

CARD = (
    "001089012345|012345678|Nguyễn Thị Minh Khai|05071989|Nữ|"
    "Số 12 ngõ 34 phố Kim Mã, Phường Ngọc Hà, Thành phố Hà Nội|15042021"
)


def test_a_card_is_read_field_by_field_and_variants_are_tolerated() -> None:
    card = read_scan(CARD)
    assert card == IdCard(
        number="001089012345",
        old_number="012345678",
        full_name="Nguyễn Thị Minh Khai",
        birth_date=date(1989, 7, 5),
        birth_year=1989,
        sex="Nữ",
        address="Số 12 ngõ 34 phố Kim Mã, Phường Ngọc Hà, Thành phố Hà Nội",
        issued_on=date(2021, 4, 15),
    )
    assert card.masked_number == "•••••••••345"
    # No old number, separators in dates, an 8th field (newer cards), decomposed letters
    # (NFD from some scanners), spaces around fields: the same citizen.
    import unicodedata

    variant = unicodedata.normalize(
        "NFD", "001089012345|| Nguyễn  Thị Minh Khai |05/07/1989|Nữ|Hà Nội|15-04-2021|x"
    )
    parsed = read_scan(variant)
    assert isinstance(parsed, IdCard)
    assert (parsed.full_name, parsed.birth_date, parsed.old_number, parsed.sex) == (
        "Nguyễn Thị Minh Khai",
        date(1989, 7, 5),
        None,
        "Nữ",
    )
    only_year = read_scan("001089012345||Lê Văn Tư|00001950|Nam|Bắc Ninh|01012022")
    assert (only_year.birth_date, only_year.birth_year) == (None, 1950)


def test_check_in_codes_and_garbage() -> None:
    assert read_scan("123456") == CheckInCode("123456")
    assert read_scan("0123456789") == CheckInCode("0123456789")  # an appointment's QR
    assert read_scan("tthcc:checkin:AB12CD") == CheckInCode("AB12CD")
    for garbage in (
        "",
        "8935049500012",  # a product's EAN-13
        "http://example.com/x",
        "12345|Nguyễn Văn A|01011990|Nam|HN|01012020|",  # short ID number
        "001089012345||Nguyễn Văn A|31021990|Nam|HN",  # 6 fields
        "001089012345||12345|01011990|Nam|HN|01012020",  # no name
        "001089012345||Nguyễn Văn A|99999999|Nam|HN|01012020",  # no birth date
        "|||||||||||",
        "\x00\x01|\x02",
    ):
        assert isinstance(read_scan(garbage), Unrecognised), garbage


def test_the_digest_is_keyed_and_stable() -> None:
    a = id_number_digest("001089012345", "secret-1")
    assert a == id_number_digest("001089012345", "secret-1")
    assert a != id_number_digest("001089012345", "secret-2")
    assert a != id_number_digest("001089012346", "secret-1")
    import hashlib

    assert a != hashlib.sha256(b"001089012345").hexdigest() and len(a) == 64
