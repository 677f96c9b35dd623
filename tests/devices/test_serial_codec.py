"""Codec and rating-scale unit tests: pure bytes in, messages out."""

from __future__ import annotations

import logging
import random

import pytest

from devices.serial.codec import (
    ByteKeyDecoder,
    KeypadOperation,
    KeyPress,
    LineKeyDecoder,
    LineSplitter,
    NoiseLog,
    encode_key_line,
    encode_led_line,
    fold_to_ascii,
    is_byte_map,
    keypad_key_map,
    keypad_operation,
    led_text,
    make_key_decoder,
    parse_byte_map,
    parse_key_line,
    parse_led_line,
)
from devices.serial.rating import LABELS, Debouncer, Rating, RatingScale
from devices.serial.sim import garbage_bytes


def feed_in_chunks(decoder, data: bytes, rng: random.Random, now: float = 0.0) -> list:
    """Feed ``data`` in random chunk sizes, as reads from a real port would split it."""
    out = []
    i = 0
    while i < len(data):
        n = rng.randint(1, 300)
        out += decoder.feed(data[i : i + n], now)
        i += n
    return out


# --- line splitting ------------------------------------------------------------------


def test_line_split_across_reads_is_joined():
    splitter = LineSplitter()
    assert splitter.feed(b"@1", 0.0) == []
    assert splitter.feed(b"2:", 0.01) == []
    assert splitter.feed(b"5\n@", 0.02) == [b"@12:5"]
    assert splitter.feed(b"3:1\n", 0.03) == [b"@3:1"]


def test_carriage_returns_are_ignored_anywhere():
    assert LineSplitter().feed(b"5\r\n\r4\r\n", 0.0) == [b"5", b"4"]


def test_over_long_line_is_discarded_up_to_its_newline():
    splitter = LineSplitter(max_line=8)
    assert splitter.feed(b"x" * 5, 0.0) == []
    assert splitter.feed(b"5" * 10, 0.0) == []  # now over the cap: discarding
    assert splitter.feed(b"5555\n3\n", 0.0) == [b"3"]
    assert splitter.noise.total == 1


def test_line_exactly_at_cap_is_kept():
    assert LineSplitter(max_line=4).feed(b"@1:5\n", 0.0) == [b"@1:5"]


def test_partial_line_is_dropped_after_silence():
    splitter = LineSplitter(idle_reset=0.5)
    assert splitter.feed(b"zz", 0.0) == []
    assert splitter.feed(b"5\n", 0.2) == [b"zz5"]  # within the gap: same line
    assert splitter.feed(b"zz", 1.0) == []
    assert splitter.feed(b"5\n", 2.0) == [b"5"]  # after silence: a fresh line


def test_idle_reset_also_ends_an_over_long_line():
    splitter = LineSplitter(max_line=4, idle_reset=0.5)
    splitter.feed(b"x" * 100, 0.0)
    assert splitter.feed(b"4\n", 1.0) == [b"4"]


# --- key lines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "press"),
    [
        (b"5", KeyPress("5")),
        (b"@3:5", KeyPress("5", 3)),
        (b"@0:N", KeyPress("N", 0)),
        (b"@255:1", KeyPress("1", 255)),
        (b"K1", KeyPress("K1")),
        (b"@256:1", None),
        (b"@:5", None),
        (b"@3:", None),
        (b"5 ", None),
        (b"@3:5:6", None),
        (b"\xff5", None),
        (b"5\x00", None),
        ("5đ".encode(), None),
    ],
)
def test_parse_key_line(line, press):
    assert parse_key_line(line) == press


def test_line_decoder_drops_junk_and_keeps_keys():
    decoder = LineKeyDecoder()
    assert decoder.feed(b"5\n\xfe\xff\n@2:3\n\n!!\n", 0.0) == [KeyPress("5"), KeyPress("3", 2)]
    assert decoder.noise.total == 2  # the blank line is framing, not noise


def test_line_key_map_translates_and_rejects_unmapped_tokens():
    decoder = LineKeyDecoder(key_map={"K1": "1", "K5": "5"})
    assert decoder.feed(b"K5\nK9\n5\n@4:K1\n", 0.0) == [KeyPress("5"), KeyPress("1", 4)]


def test_byte_decoder_for_vendor_pads_without_newlines():
    decoder = ByteKeyDecoder(parse_byte_map({"A": "5", "B": "4", "0x31": "1"}))
    assert decoder.feed(b"AzB1\r\n", 0.0) == [KeyPress("5"), KeyPress("4"), KeyPress("1")]
    assert decoder.noise.total == 1  # "z"; CR/LF are ignored silently


def test_parse_byte_map_accepts_chars_hex_and_ints():
    assert parse_byte_map({"A": "5", "0x32": 2, 0x33: "3"}) == {0x41: "5", 0x32: "2", 0x33: "3"}
    with pytest.raises(ValueError):
        parse_byte_map({"AB": "1"})
    with pytest.raises(ValueError):
        parse_byte_map({"0x100": "1"})


def test_auto_framing_picks_bytes_only_for_single_byte_maps():
    assert is_byte_map({"A": "5", "0x31": "1"})
    assert not is_byte_map({"K1": "1"})
    assert isinstance(make_key_decoder(), LineKeyDecoder)
    assert isinstance(make_key_decoder(key_map={"A": "5"}), ByteKeyDecoder)
    assert isinstance(make_key_decoder(key_map={"K5": "5"}), LineKeyDecoder)
    assert isinstance(make_key_decoder(framing="line", key_map={"A": "5"}), LineKeyDecoder)
    with pytest.raises(ValueError):
        make_key_decoder(framing="byte")
    with pytest.raises(ValueError):
        make_key_decoder(framing="morse")


def test_encode_key_line():
    assert encode_key_line("5") == b"5\n"
    assert encode_key_line("5", 3) == b"@3:5\n"
    with pytest.raises(ValueError):
        encode_key_line("5\n")
    with pytest.raises(ValueError):
        encode_key_line("5", 300)


def test_garbage_without_digits_never_yields_a_rating_key():
    rng = random.Random(1)
    data = garbage_bytes(100_000, rng, exclude=b"0123456789")
    presses = feed_in_chunks(LineKeyDecoder(), data, rng)
    scale = RatingScale()
    assert [p for p in presses if scale.rate(p.key) is not None] == []


def test_valid_line_after_newline_inside_garbage_is_recognised():
    rng = random.Random(2)
    noise = garbage_bytes(5_000, rng, exclude=b"0123456789")
    data = noise + b"\n5\n" + noise + b"\n@7:2\n" + noise
    presses = feed_in_chunks(LineKeyDecoder(), data, rng)
    assert [p for p in presses if p.key.isdigit()] == [KeyPress("5"), KeyPress("2", 7)]


def test_noise_log_warns_once_per_interval(caplog):
    noise = NoiseLog("pad-1", interval=60.0)
    with caplog.at_level(logging.DEBUG, logger="devices.serial.codec"):
        for i in range(500):
            noise.report("junk", now=float(i) / 100)
        noise.report("junk", now=61.0)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "500 unrecognised" in warnings[1].getMessage()
    assert noise.total == 501


# --- keypads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "operation"),
    [
        ("N", KeypadOperation.NEXT),
        ("1", KeypadOperation.NEXT),
        ("r", KeypadOperation.RECALL),
        ("2", KeypadOperation.RECALL),
        ("F", KeypadOperation.FINISH),
        ("3", KeypadOperation.FINISH),
        ("X", KeypadOperation.NO_SHOW),
        ("4", KeypadOperation.NO_SHOW),
        ("9", None),
    ],
)
def test_default_keypad_keys(key, operation):
    assert keypad_operation(key) == operation


def test_configured_keypad_map():
    mapping = keypad_key_map({"a": "next", "b": "no_show"})
    assert keypad_operation("A", mapping) is KeypadOperation.NEXT
    assert keypad_operation("N", mapping) is None
    with pytest.raises(ValueError):
        keypad_key_map({"a": "transfer"})


# --- LED boards ----------------------------------------------------------------------


def test_fold_to_ascii_strips_vietnamese_diacritics():
    assert fold_to_ascii("Quầy số 1") == "Quay so 1"
    assert fold_to_ascii("Đăng ký đất đai") == "Dang ky dat dai"
    assert fold_to_ascii("Trường hợp ưu tiên") == "Truong hop uu tien"
    assert fold_to_ascii("a–b") == "a?b"


def test_led_frame_bytes_are_exact():
    assert encode_led_line(3, "Quầy 1: 1023") == b"@3:Quay 1: 1023\n"
    assert encode_led_line(3, "") == b"@3:\n"
    assert encode_led_line(12, "1023", width=2) == b"@12:10\n"


def test_led_text_cannot_break_the_frame():
    assert led_text("10\n23\r") == "10 23 "
    assert encode_led_line(1, "a\nb").count(b"\n") == 1


def test_led_frame_keeps_diacritics_for_boards_that_draw_them():
    frame = encode_led_line(2, "Quầy 1", ascii_only=False)
    assert frame == "@2:Quầy 1\n".encode()
    assert parse_led_line(frame[:-1]) == (2, "Quầy 1")


def test_parse_led_line():
    assert parse_led_line(b"@3:A1023") == (3, "A1023")
    assert parse_led_line(b"@3:") == (3, "")
    assert parse_led_line(b"3:A1023") is None
    assert parse_led_line(b"@999:x") is None


# --- rating scale --------------------------------------------------------------------


def test_default_scale_has_five_levels_and_key_is_level():
    scale = RatingScale()
    assert scale.levels == 5
    assert scale.rate("5") == Rating("5", 5, "Rất hài lòng")
    assert scale.rate("4") == Rating("4", 4, "Hài lòng")
    assert scale.rate("3") == Rating("3", 3, "Bình thường")
    assert scale.rate("2") == Rating("2", 2, "Không hài lòng")
    assert scale.rate("1") == Rating("1", 1, "Rất không hài lòng")
    assert scale.rate("6") is None
    assert scale.rate("A") is None


def test_three_and_four_level_scales_keep_label_meaning():
    three = RatingScale(3)
    assert [three.rate(k).level for k in "123"] == [2, 3, 4]
    assert three.rate("3").label == "Hài lòng"
    four = RatingScale(4)
    assert [four.rate(k).level for k in "1234"] == [2, 3, 4, 5]
    assert four.rate("4").label == "Rất hài lòng"


def test_scale_with_custom_keys_and_explicit_map():
    assert RatingScale(4, keys="DCBA").rate("A") == Rating("A", 5, LABELS[5])
    custom = RatingScale.from_map({"G": 5, "Y": 3, "R": 1})
    assert custom.rate("R") == Rating("R", 1, "Rất không hài lòng")
    assert custom.levels == 3


@pytest.mark.parametrize(
    "build",
    [
        lambda: RatingScale(2),
        lambda: RatingScale(6),
        lambda: RatingScale(3, keys="12"),
        lambda: RatingScale.from_map({"a": 5, "b": 5, "c": 1}),
        lambda: RatingScale.from_map({"a": 5, "b": 0, "c": 1}),
        lambda: RatingScale.from_map({"a": 5, "b": 4}),
    ],
)
def test_invalid_scales_are_refused(build):
    with pytest.raises(ValueError):
        build()


def test_debounce_drops_same_key_within_window_only():
    debounce = Debouncer(0.3)
    assert debounce.accept("pad", "5", now=10.0)
    assert not debounce.accept("pad", "5", now=10.2)
    assert debounce.accept("pad", "4", now=10.25)  # a different key counts
    assert debounce.accept("pad", "4", now=10.6)
    assert debounce.accept("other", "4", now=10.61)  # another pad is independent


def test_held_key_counts_once():
    debounce = Debouncer(0.3)
    times = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]  # auto-repeat every 100 ms
    assert [debounce.accept(None, "5", now=t) for t in times] == [True] + [False] * 5
    assert debounce.accept(None, "5", now=0.9)


def test_debounce_uses_monotonic_clock_by_default():
    clock = iter([1.0, 1.1, 2.0])
    debounce = Debouncer(0.3, clock=lambda: next(clock))
    assert [debounce.accept(1, "5") for _ in range(3)] == [True, False, True]
