"""Vietnamese number reading for ticket and counter numbers (0–9999).

The rules are those of DOMAIN.md ("Announcement"). Northern usage is the default;
the Southern variant only swaps three words (nghìn → ngàn, linh → lẻ, tư → bốn).

Each word is returned separately because each word is one audio clip: the lobby
display plays ``num/<slug>`` clips back to back instead of asking a TTS engine to
read digits (espeak-ng reads digits with the Southern "ngàn" whatever the setting).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Variant = Literal["north", "south"]
VARIANTS: tuple[Variant, ...] = ("north", "south")

MIN_NUMBER = 0
MAX_NUMBER = 9999

# Index = digit. Written as literals in NFC; normalised again below so that an
# editor that saves NFD cannot silently break clip names.
_DIGITS: tuple[str, ...] = tuple(
    unicodedata.normalize("NFC", w)
    for w in ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
)

# Words that differ between the variants. Everything else is shared.
_VARIANT_WORDS: dict[Variant, dict[str, str]] = {
    "north": {"thousand": "nghìn", "zero_tens": "linh", "four_after_tens": "tư"},
    "south": {"thousand": "ngàn", "zero_tens": "lẻ", "four_after_tens": "bốn"},
}

_TEN = "mười"  # tens digit 1: "mười" (falling tone)
_TENS = "mươi"  # tens digit >= 2: "{d} mươi" (level tone)
_HUNDRED = "trăm"
_ONE_AFTER_TENS = "mốt"  # unit 1 after "{d} mươi" (21 "hai mươi mốt")
_FIVE_AFTER_TENS = "lăm"  # unit 5 after "mười" / "mươi" (15 "mười lăm")


def check_number(n: int, variant: str) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``n`` is an int in 0–9999 and ``variant`` known."""
    # bool is an int subclass; "read_number(True)" is a bug, not the number one.
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number must be an int, got {type(n).__name__}")
    if not MIN_NUMBER <= n <= MAX_NUMBER:
        raise ValueError(
            f"number {n} is out of range: announcements read {MIN_NUMBER}–{MAX_NUMBER}"
        )
    if variant not in _VARIANT_WORDS:
        raise ValueError(f"unknown variant {variant!r}: expected one of {', '.join(VARIANTS)}")


def _tens_and_units(tens: int, units: int, *, after_hundreds: bool, variant: Variant) -> list[str]:
    """Words for the last two digits.

    ``after_hundreds`` is true when a hundreds word ("… trăm") was spoken before:
    only then does a zero tens digit become "linh"/"lẻ" (105 "một trăm linh năm"),
    and only then is a lone unit digit preceded by anything at all.
    """
    words = _VARIANT_WORDS[variant]
    if tens == 0:
        if units == 0:
            return []
        # After "linh" the digit keeps its plain name: 1001 "… linh một", 1004 "… linh bốn".
        prefix = [words["zero_tens"]] if after_hundreds else []
        return [*prefix, _DIGITS[units]]
    if tens == 1:
        head = [_TEN]
        if units == 0:
            return head
        # 15 "mười lăm", but 11 "mười một" and 14 "mười bốn": only 5 changes after "mười".
        return [*head, _FIVE_AFTER_TENS if units == 5 else _DIGITS[units]]
    head = [_DIGITS[tens], _TENS]
    if units == 0:
        return head
    special = {1: _ONE_AFTER_TENS, 4: words["four_after_tens"], 5: _FIVE_AFTER_TENS}
    return [*head, special.get(units, _DIGITS[units])]


def number_words(n: int, variant: Variant = "north") -> list[str]:
    """The words that read ``n`` aloud, one word per list item (each is one clip).

    Raises ``ValueError`` for numbers outside 0–9999 or an unknown variant.
    """
    check_number(n, variant)
    if n == 0:
        return [_DIGITS[0]]
    thousands, below_thousand = divmod(n, 1000)
    hundreds, last_two = divmod(below_thousand, 100)
    tens, units = divmod(last_two, 10)

    words: list[str] = []
    if thousands:
        words += [_DIGITS[thousands], _VARIANT_WORDS[variant]["thousand"]]
    # Once a thousand was said, the hundreds are spoken even when zero ("không trăm"),
    # unless nothing follows at all (1000 "một nghìn").
    say_hundreds = hundreds > 0 or (thousands > 0 and last_two > 0)
    if say_hundreds:
        words += [_DIGITS[hundreds], _HUNDRED]
    words += _tens_and_units(tens, units, after_hundreds=say_hundreds, variant=variant)
    return words


def read_number(n: int, variant: Variant = "north") -> str:
    """``n`` read aloud as Vietnamese words (NFC).

    1023 → "một nghìn không trăm hai mươi ba"; South: "một ngàn không trăm hai mươi ba".
    """
    return " ".join(number_words(n, variant))


def all_number_words() -> frozenset[str]:
    """Every word any number 0–9999 can produce, in both variants (the clip set needed)."""
    return frozenset(
        w
        for variant in VARIANTS
        for n in range(MIN_NUMBER, MAX_NUMBER + 1)
        for w in number_words(n, variant)
    )
