"""Clip names: stable ASCII identifiers for the audio clips an announcement plays.

A clip name is also a relative file path without extension (``num/muoi_huyen`` →
``num/muoi_huyen.wav``), so a centre can drop recorded clips with the same names into
a folder and override the generated ones one by one.

Scheme (see docs/voice.md):

- ``chime``, ``pause``: the ding-dong before a call and the gap between repeats.
- ``num/<slug>``: one number word. The slug keeps the base letters (đ → d, vowel
  marks ă â ê ô ơ ư dropped) and appends the tone name when the word has one:
  ``_sac`` (á), ``_huyen`` (à), ``_hoi`` (ả), ``_nga`` (ã), ``_nang`` (ạ). That keeps
  "mười" (``muoi_huyen``), "mươi" (``muoi``), "một" (``mot_nang``) and "mốt"
  (``mot_sac``) apart; a test proves every number word gets its own name.
- ``letter/<letter>``: a ticket prefix letter (``letter/a``; Đ is ``letter/dd``).
- ``phrase/<slug>``: a fixed stretch of the template, tones dropped, words joined with
  "_" (``phrase/xin_moi_cong_dan_co_so_thu_tu``). Phrase slugs may in theory collide
  across templates; the clip manifest stores the text and regenerates on a change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

CHIME = "chime"
PAUSE = "pause"
NUM_PREFIX = "num/"
LETTER_PREFIX = "letter/"
PHRASE_PREFIX = "phrase/"

# Combining tone marks after NFD. Vowel-quality marks (breve, circumflex, horn) are
# not listed: they are dropped, which is what makes slugs readable.
_TONES = {
    "\u0301": "sac",
    "\u0300": "huyen",
    "\u0309": "hoi",
    "\u0303": "nga",
    "\u0323": "nang",
}
_NAME_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*(?:/[a-z0-9]+(?:_[a-z0-9]+)*)*$")
# A phrase slug longer than this is cut and given a hash suffix, to keep file names sane.
_MAX_PHRASE_SLUG = 80


def _base_letters(text: str) -> tuple[str, list[str]]:
    """ASCII base letters of ``text`` plus the tone names found, in order."""
    letters: list[str] = []
    tones: list[str] = []
    for ch in unicodedata.normalize("NFD", text.lower()):
        if ch in _TONES:
            tones.append(_TONES[ch])
        elif ch == "đ":
            letters.append("d")
        elif unicodedata.combining(ch):
            continue
        elif ch.isascii() and ch.isalnum():
            letters.append(ch)
        else:
            letters.append(" ")
    return "".join(letters), tones


def word_slug(word: str) -> str:
    """ASCII slug of one Vietnamese word, tone kept as a suffix ("mười" → "muoi_huyen")."""
    letters, tones = _base_letters(word)
    base = "_".join(letters.split())
    if not base or "_" in base:
        raise ValueError(f"not a single word: {word!r}")
    return "_".join([base, *tones])


def phrase_slug(text: str) -> str:
    """ASCII slug of a phrase, tones dropped ("đến quầy số" → "den_quay_so")."""
    letters, _ = _base_letters(text)
    slug = "_".join(letters.split())
    if not slug:
        raise ValueError(f"phrase has no letters: {text!r}")
    if len(slug) > _MAX_PHRASE_SLUG:
        digest = hashlib.sha1(unicodedata.normalize("NFC", text).encode()).hexdigest()[:8]
        slug = f"{slug[: _MAX_PHRASE_SLUG - 9].rstrip('_')}_{digest}"
    return slug


def number_clip(word: str) -> str:
    """Clip name of a number word ("nghìn" → "num/nghin_huyen")."""
    return NUM_PREFIX + word_slug(word)


def letter_clip(letter: str) -> str:
    """Clip name of a prefix letter ("A" → "letter/a", "Đ" → "letter/dd")."""
    if len(letter) != 1 or not letter.isalpha():
        raise ValueError(f"not a letter: {letter!r}")
    low = letter.lower()
    return LETTER_PREFIX + ("dd" if low == "đ" else word_slug(low))


def phrase_clip(text: str) -> str:
    """Clip name of a template phrase ("Xin mời công dân" → "phrase/xin_moi_cong_dan")."""
    return PHRASE_PREFIX + phrase_slug(text)


def check_clip_name(name: str) -> str:
    """Return ``name`` if it is a well-formed clip name, else raise ``ValueError``.

    Clip names become file paths; this refuses anything that could leave the clip folder.
    """
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid clip name {name!r}: expected e.g. 'num/muoi_huyen'")
    return name


def clip_file(folder: Path, name: str) -> Path:
    """Path of clip ``name`` inside ``folder`` (the file may not exist)."""
    return Path(folder, *check_clip_name(name).split("/")).with_suffix(".wav")
