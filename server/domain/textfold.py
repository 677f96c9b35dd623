"""Folding Vietnamese text for search: "Đăng ký khai sinh" and "dang ky khai sinh" match.

Pure Python, no dependencies: Unicode NFD splits every tone mark and vowel mark into a
combining character, which we drop; "đ" has no decomposition and is mapped by hand.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w.]+")


def fold(text: str) -> str:
    """Lower case, no diacritics, "đ" → "d", punctuation as spaces, single spaces.

    Dots stay, so procedure codes such as "1.001193" remain searchable as typed.
    """
    decomposed = unicodedata.normalize("NFD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("đ", "d").replace("Đ", "D").lower()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", bare)).strip()


def search_terms(query: str) -> list[str]:
    """The folded words of a query; a row matches when its folded text contains them all."""
    return [term for term in fold(query).split(" ") if term]
