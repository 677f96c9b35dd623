"""Build what the lobby display says when a counter calls a ticket.

An ``Announcement`` holds the same call twice over: ``text`` (words, never digits, for
the API preview and screen readers) and ``clips`` (the ordered clip names the display
plays: chime, phrase parts, number words, pause between repeats). Both come from one
list of spoken parts, so they cannot drift apart.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

from display.voice.clipnames import CHIME, PAUSE, letter_clip, number_clip, phrase_clip
from display.voice.numbers import Variant, check_number, number_words

DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
# For centres whose counters are better known by name ("quầy số ba, Hộ tịch").
TEMPLATE_WITH_COUNTER_NAME = (
    "Xin mời công dân có số thứ tự {number} đến quầy số {counter}, {counter_name}"
)
PLACEHOLDERS = frozenset({"number", "counter", "counter_name"})
#: What the display says instead when other calls are waiting to be said (docs/display.md):
#: no chime, no repeat, the fewest words that still name the ticket and the counter.
COMPACT_TEMPLATE = "Số {number}, quầy {counter}"

# Vietnamese names of the letters a ticket prefix may use (the names taught in school:
# "a, bê, xê, dê…"). F, J, W, Z are not in the Vietnamese alphabet but appear in codes.
LETTER_NAMES: dict[str, str] = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép",
    "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ",
    "N": "en nờ", "O": "o", "P": "pê", "Q": "quy", "R": "e rờ", "S": "ét xì", "T": "tê",
    "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài", "Z": "dét",
}  # fmt: skip

EDGE_PUNCTUATION = " ,.;:!?…-–"
# "A12", "A-12", "a 012", "12": letters, then 1–4 digits. Leading zeros are padding on
# the printed ticket, not part of the number: "A012" is read "a mười hai".
_CODE_RE = re.compile(r"^\s*([^\W\d_]*)[\s.\-]*(\d{1,4})\s*$")


@dataclass(frozen=True)
class Announcement:
    """One call as it will be spoken.

    ``clip_texts`` maps every clip name used to the words it says, so a missing clip
    (e.g. a phrase from a custom template) can be synthesised on demand.
    """

    text: str
    clips: tuple[str, ...]
    variant: Variant
    repeat: int
    clip_texts: tuple[tuple[str, str], ...] = ()
    #: One saying of the phrase: ``clips`` without the chime and the repeat.
    phrase: tuple[str, ...] = ()
    #: The compact form (``COMPACT_TEMPLATE``): its words and clips.
    compact_text: str = ""
    compact: tuple[str, ...] = ()

    @property
    def all_clips(self) -> tuple[str, ...]:
        """Every clip either form may play, each once."""
        return tuple(dict.fromkeys((*self.clips, *self.compact)))

    def to_dict(self) -> dict[str, Any]:
        """JSON payload of ``GET /api/v1/announcements/preview``."""
        return {
            "text": self.text,
            "clips": list(self.clips),
            "variant": self.variant,
            "repeat": self.repeat,
            "chime": CHIME,
            "pause": PAUSE,
            "phrase": list(self.phrase),
            "compact": {"text": self.compact_text, "clips": list(self.compact)},
        }


@dataclass(frozen=True)
class _Part:
    text: str
    clip: str | None  # None: punctuation or spacing, spoken as nothing


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _code_parts(code: int | str, variant: Variant, *, what: str = "number") -> list[_Part]:
    """Spoken parts of a ticket or counter code: prefix letters by name, then the number."""
    if isinstance(code, bool):
        raise TypeError(f"{what} must be an int or a string, got bool")
    if isinstance(code, int):
        check_number(code, variant)
        return [_Part(w, number_clip(w)) for w in number_words(code, variant)]
    if not isinstance(code, str):
        raise TypeError(f"{what} must be an int or a string, got {type(code).__name__}")
    match = _CODE_RE.match(_nfc(code))
    if not match:
        raise ValueError(
            f"{what} {code!r} is not a ticket code: expected optional letters then 1–4 digits"
        )
    letters, digits = match.groups()
    parts = []
    for letter in letters.upper():
        if letter not in LETTER_NAMES:
            raise ValueError(f"{what} {code!r}: no spoken name for letter {letter!r}")
        parts.append(_Part(LETTER_NAMES[letter], letter_clip(letter)))
    return parts + _code_parts(int(digits), variant, what=what)


def _template_parts(template: str, values: dict[str, list[_Part]]) -> list[_Part]:
    """Split ``template`` into literal phrases and the parts of each placeholder."""
    template = _nfc(template)
    parts: list[_Part] = []
    fields = list(string.Formatter().parse(template))
    names = {name for _, name, _, _ in fields if name is not None}
    if unknown := names - PLACEHOLDERS:
        raise ValueError(f"unknown placeholder(s) in template: {', '.join(sorted(unknown))}")
    if "number" not in names:
        raise ValueError("template must contain {number}")
    for literal, name, spec, conversion in fields:
        if any(ch.isdigit() for ch in literal):
            # espeak-ng would read them (in Southern usage); the template must say words.
            raise ValueError(f"template literal {literal!r} has digits: write numbers as words")
        if literal.strip():
            has_letters = any(ch.isalpha() for ch in literal)
            parts.append(_Part(literal, phrase_clip(literal) if has_letters else None))
        else:
            parts.append(_Part(literal, None))
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} takes no format spec or conversion")
        if name not in values:
            raise ValueError(f"template uses {{{name}}} but no {name} was given")
        parts += values[name]
    return parts


def _join_text(parts: list[_Part]) -> str:
    """Readable text of the parts: words separated by one space, punctuation kept."""
    raw = ""
    for part in parts:
        if part.clip is None:
            raw += part.text
        else:
            raw += f" {part.text.strip()} "
    text = " ".join(raw.split())
    return re.sub(r"\s+([,.;:!?])", r"\1", text)


def build_announcement(
    number: int | str,
    counter: int | str,
    *,
    template: str = DEFAULT_TEMPLATE,
    variant: Variant = "north",
    repeat: int = 2,
    counter_name: str | None = None,
) -> Announcement:
    """The announcement for ticket ``number`` called to ``counter``.

    ``number`` and ``counter`` are an int (0–9999) or a code with a letter prefix
    ("A1023": the letters are spoken by name, "a một nghìn…"). ``counter_name`` fills
    ``{counter_name}`` in templates that use it. The call is said ``repeat`` times
    (1 or 2) after one chime, with a pause between repeats.
    """
    if repeat not in (1, 2):
        raise ValueError(f"repeat must be 1 or 2, got {repeat!r}")
    values = {
        "number": _code_parts(number, variant, what="number"),
        "counter": _code_parts(counter, variant, what="counter"),
    }
    if counter_name is not None and counter_name.strip():
        name = _nfc(counter_name).strip()
        if any(ch.isdigit() for ch in name):
            raise ValueError(f"counter name {name!r} has digits: write numbers as words")
        values["counter_name"] = [_Part(name, phrase_clip(name))]
    parts = _template_parts(template, values)

    phrase_text = _join_text(parts)
    phrase_clips = [p.clip for p in parts if p.clip is not None]
    # One sentence per repeat, so a screen shows "… quầy số ba. Xin mời …".
    sentence = phrase_text if phrase_text[-1:] in ".!?" else phrase_text + "."
    text = " ".join([sentence] * repeat) if repeat > 1 else phrase_text

    clips = [CHIME, *phrase_clips]
    for _ in range(repeat - 1):
        clips += [PAUSE, *phrase_clips]
    compact_parts = _template_parts(COMPACT_TEMPLATE, values)
    # Clip texts drop the template's edge punctuation: "{number}, đến quầy" → "đến quầy".
    clip_texts = {
        p.clip: " ".join(p.text.split()).strip(EDGE_PUNCTUATION)
        for p in (*parts, *compact_parts)
        if p.clip is not None
    }
    return Announcement(
        text=text,
        clips=tuple(clips),
        variant=variant,
        repeat=repeat,
        clip_texts=tuple(sorted(clip_texts.items())),
        phrase=tuple(phrase_clips),
        compact_text=_join_text(compact_parts),
        compact=tuple(p.clip for p in compact_parts if p.clip is not None),
    )
