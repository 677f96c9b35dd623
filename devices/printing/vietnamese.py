"""Vietnamese text to CP1258 bytes for ESC/POS text mode.

CP1258 (Windows Vietnamese, ESC/POS table "WPC1258") has the Vietnamese base letters
precomposed (â ê ô ă ơ ư đ and capitals) but only five tone marks, as combining
characters: grave U+0300, acute U+0301, tilde U+0303, hook above U+0309, dot below U+0323.
A toned letter such as "ộ" must therefore be sent as "ô" + U+0323. Python's ``cp1258``
codec does not do this decomposition (``"ộ".encode("cp1258")`` fails), and
python-escpos's magic encoder hops between code pages and drops letters, so we convert
ourselves and write the bytes raw.
"""

from __future__ import annotations

import unicodedata

#: The combining tone marks CP1258 has (bytes 0xCC, 0xEC, 0xDE, 0xD2, 0xF2).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

#: Byte sent for a character CP1258 cannot show.
REPLACEMENT = b"?"


def decompose_for_cp1258(text: str) -> str:
    """Rewrite ``text`` so every character is encodable in CP1258.

    Each letter is split (NFD) into its base and marks; the non-tone marks (circumflex,
    breve, horn) are recomposed with the base, giving a CP1258 base letter, and the tone
    marks follow it as combining characters. NFD sorts marks by combining class, so a tone
    mark may come before the circumflex ("ộ" is o, dot below, circumflex): we collect both
    kinds per letter rather than relying on their order.
    """
    out: list[str] = []
    base = ""
    tones: list[str] = []
    others: list[str] = []

    def flush() -> None:
        if base or tones or others:
            out.append(unicodedata.normalize("NFC", base + "".join(others)))
            out.extend(tones)

    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            (tones if char in TONE_MARKS else others).append(char)
            continue
        flush()
        base, tones, others = char, [], []
    flush()
    return "".join(out)


def to_cp1258(text: str) -> bytes:
    """Encode ``text`` as CP1258 bytes, tone marks combining; unknown characters as ``?``."""
    return decompose_for_cp1258(text).encode("cp1258", errors="replace")


def from_cp1258(data: bytes) -> str:
    """Decode CP1258 bytes back to NFC text (used by the simulators to render jobs)."""
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))
