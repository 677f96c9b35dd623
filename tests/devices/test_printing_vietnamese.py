"""Vietnamese -> CP1258: precomposed base letters, tone marks as combining characters."""

from __future__ import annotations

import pytest

from devices.printing.vietnamese import decompose_for_cp1258, from_cp1258, to_cp1258


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Ố = Ô (D4) + acute (EC); Ứ = Ư (DD) + acute; Ự = Ư + dot below (F2)
        ("SỐ THỨ TỰ", b"S\xd4\xec TH\xdd\xec T\xdd\xf2"),
        # ộ = ô (F4) + dot below: NFD puts the dot before the circumflex
        ("Hộ tịch", b"H\xf4\xf2 ti\xf2ch"),
        # Đ (D0) and ă (E3) are precomposed; ý = y + acute
        ("Đăng ký khai sinh", b"\xd0\xe3ng ky\xec khai sinh"),
        # ả = a + hook above (D2); ơ (F5) is precomposed
        ("Cảm ơn quý khách", b"Ca\xd2m \xf5n quy\xec kha\xecch"),
        # ẫ = â (E2) + tilde (DE); Ễ = Ê (CA) + tilde; ờ = ơ + grave (CC)
        ("ẫ Ễ ờ", b"\xe2\xde \xca\xde \xf5\xcc"),
    ],
)
def test_vietnamese_words_encode_to_exact_cp1258_bytes(text: str, expected: bytes) -> None:
    assert to_cp1258(text) == expected


def test_decomposed_input_gives_the_same_bytes_as_composed_input() -> None:
    import unicodedata

    text = "Người cao tuổi"
    assert to_cp1258(unicodedata.normalize("NFD", text)) == to_cp1258(text)


def test_tone_marks_follow_the_base_letter_they_belong_to() -> None:
    assert decompose_for_cp1258("ộ") == "ô\u0323"
    assert decompose_for_cp1258("Ự") == "Ư\u0323"


def test_characters_outside_cp1258_become_question_marks() -> None:
    assert to_cp1258("Số 5 → 日") == b"S\xf4\xec 5 ? ?"


def test_decoding_gives_back_the_nfc_text() -> None:
    text = "Số người chờ trước: 4 – Quầy phục vụ"
    assert from_cp1258(to_cp1258(text)) == text
