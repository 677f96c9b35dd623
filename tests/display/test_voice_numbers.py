"""Reading numbers 0–9999 aloud, Northern and Southern usage (DOMAIN.md, "Announcement")."""

import unicodedata

import pytest

from display.voice.clipnames import number_clip
from display.voice.numbers import all_number_words, number_words, read_number

# (number, Northern reading, Southern reading). Grouped by the DOMAIN.md rule each row proves.
TABLE = [
    # 0 is "không"; single digits keep their plain names (4 alone is "bốn", 5 "năm").
    (0, "không", "không"),
    (1, "một", "một"),
    (4, "bốn", "bốn"),
    (5, "năm", "năm"),
    (7, "bảy", "bảy"),
    (9, "chín", "chín"),
    # Tens 1: "mười"; unit 5 becomes "lăm"; 1 and 4 keep their plain names.
    (10, "mười", "mười"),
    (11, "mười một", "mười một"),
    (14, "mười bốn", "mười bốn"),
    (15, "mười lăm", "mười lăm"),
    (19, "mười chín", "mười chín"),
    # Tens >= 2: "{d} mươi"; unit 1 "mốt", 4 "tư" (South "bốn"), 5 "lăm", 0 nothing.
    (20, "hai mươi", "hai mươi"),
    (21, "hai mươi mốt", "hai mươi mốt"),
    (22, "hai mươi hai", "hai mươi hai"),
    (24, "hai mươi tư", "hai mươi bốn"),
    (25, "hai mươi lăm", "hai mươi lăm"),
    (30, "ba mươi", "ba mươi"),
    (41, "bốn mươi mốt", "bốn mươi mốt"),
    (44, "bốn mươi tư", "bốn mươi bốn"),
    (55, "năm mươi lăm", "năm mươi lăm"),
    (74, "bảy mươi tư", "bảy mươi bốn"),
    (99, "chín mươi chín", "chín mươi chín"),
    # Hundreds, with nothing, "mười…" or "{d} mươi…" after them.
    (100, "một trăm", "một trăm"),
    (110, "một trăm mười", "một trăm mười"),
    (111, "một trăm mười một", "một trăm mười một"),
    (115, "một trăm mười lăm", "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt", "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư", "một trăm hai mươi bốn"),
    (400, "bốn trăm", "bốn trăm"),
    (555, "năm trăm năm mươi lăm", "năm trăm năm mươi lăm"),
    (999, "chín trăm chín mươi chín", "chín trăm chín mươi chín"),
    # Tens 0 after a spoken hundreds word: "linh" (South "lẻ") + the plain digit name.
    (101, "một trăm linh một", "một trăm lẻ một"),
    (104, "một trăm linh bốn", "một trăm lẻ bốn"),
    (105, "một trăm linh năm", "một trăm lẻ năm"),
    (909, "chín trăm linh chín", "chín trăm lẻ chín"),
    # Thousands: "{d} nghìn" (South "ngàn"); nothing after a round thousand.
    (1000, "một nghìn", "một ngàn"),
    (2000, "hai nghìn", "hai ngàn"),
    (9000, "chín nghìn", "chín ngàn"),
    (1100, "một nghìn một trăm", "một ngàn một trăm"),
    (1500, "một nghìn năm trăm", "một ngàn năm trăm"),
    (4444, "bốn nghìn bốn trăm bốn mươi tư", "bốn ngàn bốn trăm bốn mươi bốn"),
    # Anything after a thousand: hundreds spoken even when zero, "không trăm".
    (1010, "một nghìn không trăm mười", "một ngàn không trăm mười"),
    (1015, "một nghìn không trăm mười lăm", "một ngàn không trăm mười lăm"),
    (1023, "một nghìn không trăm hai mươi ba", "một ngàn không trăm hai mươi ba"),
    (1050, "một nghìn không trăm năm mươi", "một ngàn không trăm năm mươi"),
    (2014, "hai nghìn không trăm mười bốn", "hai ngàn không trăm mười bốn"),
    (2024, "hai nghìn không trăm hai mươi tư", "hai ngàn không trăm hai mươi bốn"),
    (3021, "ba nghìn không trăm hai mươi mốt", "ba ngàn không trăm hai mươi mốt"),
    (5095, "năm nghìn không trăm chín mươi lăm", "năm ngàn không trăm chín mươi lăm"),
    # …and then "linh"/"lẻ" for tens 0, the unit keeping its plain name.
    (1001, "một nghìn không trăm linh một", "một ngàn không trăm lẻ một"),
    (1004, "một nghìn không trăm linh bốn", "một ngàn không trăm lẻ bốn"),
    (1005, "một nghìn không trăm linh năm", "một ngàn không trăm lẻ năm"),
    (2004, "hai nghìn không trăm linh bốn", "hai ngàn không trăm lẻ bốn"),
    (9009, "chín nghìn không trăm linh chín", "chín ngàn không trăm lẻ chín"),
    # Full four-digit numbers.
    (1101, "một nghìn một trăm linh một", "một ngàn một trăm lẻ một"),
    (1111, "một nghìn một trăm mười một", "một ngàn một trăm mười một"),
    (1234, "một nghìn hai trăm ba mươi tư", "một ngàn hai trăm ba mươi bốn"),
    (2345, "hai nghìn ba trăm bốn mươi lăm", "hai ngàn ba trăm bốn mươi lăm"),
    (5555, "năm nghìn năm trăm năm mươi lăm", "năm ngàn năm trăm năm mươi lăm"),
    (7071, "bảy nghìn không trăm bảy mươi mốt", "bảy ngàn không trăm bảy mươi mốt"),
    (8104, "tám nghìn một trăm linh bốn", "tám ngàn một trăm lẻ bốn"),
    (9404, "chín nghìn bốn trăm linh bốn", "chín ngàn bốn trăm lẻ bốn"),
    (6610, "sáu nghìn sáu trăm mười", "sáu ngàn sáu trăm mười"),
    (9999, "chín nghìn chín trăm chín mươi chín", "chín ngàn chín trăm chín mươi chín"),
]

NORTH_ONLY = {"nghìn", "linh", "tư"}
SOUTH_ONLY = {"ngàn", "lẻ"}
KNOWN_WORDS = {
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
    "mười", "mươi", "trăm", "nghìn", "ngàn", "linh", "lẻ", "mốt", "tư", "lăm",
}  # fmt: skip


def test_table_has_enough_rows_and_no_duplicates():
    assert len(TABLE) >= 60
    assert len({n for n, _, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("n", "north", "south"), TABLE, ids=[str(r[0]) for r in TABLE])
def test_reads_number_in_both_variants(n, north, south):
    assert read_number(n) == north
    assert read_number(n, "north") == north
    assert read_number(n, "south") == south
    assert number_words(n, "south") == south.split(" ")


@pytest.mark.parametrize("variant", ["north", "south"])
def test_every_number_reads_only_known_nfc_words(variant):
    for n in range(10000):
        words = number_words(n, variant)
        assert words, n
        assert set(words) <= KNOWN_WORDS, n
        text = read_number(n, variant)
        assert text == unicodedata.normalize("NFC", text)
        assert text == " ".join(words)
        assert not any(ch.isdigit() for ch in text)


def test_variants_never_mix_their_own_words():
    for n in range(10000):
        assert not set(number_words(n, "north")) & SOUTH_ONLY, n
        assert not set(number_words(n, "south")) & NORTH_ONLY, n


def test_variants_differ_only_by_the_three_swapped_words():
    swap = {"nghìn": "ngàn", "linh": "lẻ", "tư": "bốn"}
    for n in range(10000):
        assert [swap.get(w, w) for w in number_words(n, "north")] == number_words(n, "south")


def test_readings_are_unique_per_number():
    for variant in ("north", "south"):
        assert len({read_number(n, variant) for n in range(10000)}) == 10000


def test_all_number_words_is_the_known_set():
    assert all_number_words() == KNOWN_WORDS


def test_every_number_word_has_its_own_clip_name():
    names = {w: number_clip(w) for w in all_number_words()}
    assert len(set(names.values())) == len(names)
    assert names["mười"] == "num/muoi_huyen"
    assert names["mươi"] == "num/muoi"
    assert names["một"] == "num/mot_nang"
    assert names["mốt"] == "num/mot_sac"
    assert all(name.isascii() for name in names.values())


@pytest.mark.parametrize("n", [-1, 10000, 123456])
def test_out_of_range_raises_value_error(n):
    with pytest.raises(ValueError, match=r"out of range.*0–9999"):
        read_number(n)


@pytest.mark.parametrize("n", [True, 1.0, "12", None])
def test_non_int_raises_type_error(n):
    with pytest.raises(TypeError, match="must be an int"):
        number_words(n)


def test_unknown_variant_raises_value_error():
    with pytest.raises(ValueError, match="unknown variant 'central'"):
        read_number(12, "central")
