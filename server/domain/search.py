"""Tolerant, ranked search of short catalogue texts (procedure names and codes).

A citizen at a kiosk types on a touchscreen, often without diacritics, sometimes without
spaces, with a slip of the finger, or a whole sentence. Both sides are folded first
(:func:`server.domain.textfold.fold`), then each query word is matched against a row, from
the best kind of match to the loosest:

============  =====  ==========================================================
match         score  example (query word → row text)
============  =====  ==========================================================
word          1.0    "sinh" → "dang ky khai sinh"
prefix        0.9    "chung" → "chung thuc"; "kh" only as a prefix of a word
joined        0.85   "khaisinh" → "khai sinh" (spaces missing: found in the
                     row's text with its spaces removed)
inside        0.7    "thuc" inside "chungthuc..." (words of 3+ letters)
one edit      0.6    "snh" → "sinh", "khia" → "khai", "khaisnh" → "khai sinh"
                     (one letter missing, extra, wrong or two swapped; a word of
                     3–5 letters must then be a whole word of the row)
============  =====  ==========================================================

A row's coverage is the share of the query's letters its matched words carry (each word
weighted by its length times its score). A row is a hit when some matched word has 3 or more letters and its coverage is at least
:data:`MIN_COVERAGE` (or :data:`MIN_SENTENCE_COVERAGE` when two such words match), so
extra words ("khai sinh cho con", "tôi muốn làm khai sinh") do not hide a good row and
two stray letters do not make a hit.

Rows that contain every query word as it was typed (the historic, strict rule) rank
first and, when there are any, are the only results: a precise query gets a precise list.
Ties keep the catalogue's order (the caller's order of rows).
Pure Python: runs the same on SQLite and PostgreSQL, since the database only supplies rows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from server.domain.textfold import fold

#: Share of the query's letters a row must match to be a hit at all.
MIN_COVERAGE = 0.5
#: A sentence ("tôi muốn làm khai sinh") needs less, when two real words of it match.
MIN_SENTENCE_COVERAGE = 0.3
#: A row whose words follow the query's order side by side ("khai sinh") ranks higher.
PHRASE_BONUS = 0.15
#: Longer names rank a little lower among equals: "Đăng ký khai sinh" before "Đăng ký
#: khai sinh có yếu tố nước ngoài" for "khai sinh".
LENGTH_PENALTY = 0.005

WORD, PREFIX, JOINED, INSIDE, ONE_EDIT = 1.0, 0.9, 0.85, 0.7, 0.6


@dataclass(frozen=True)
class Hit:
    """One ranked row: its position in the caller's list and how well it matched."""

    index: int
    score: float
    strict: bool


@dataclass(frozen=True)
class _Row:
    words: tuple[str, ...]
    text: str
    compact: str


def _row(text: str) -> _Row:
    folded = fold(text)
    return _Row(tuple(folded.split()), folded, folded.replace(" ", ""))


@lru_cache(maxsize=256)
def _one_edit_pattern(word: str) -> re.Pattern[str]:
    """A regular expression matching every string one edit away from `word`."""
    options = set()
    escaped = [re.escape(c) for c in word]
    for i in range(len(word) + 1):
        options.add("".join(escaped[:i]) + "." + "".join(escaped[i:]))  # a letter missing
    for i in range(len(word)):
        options.add("".join(escaped[:i]) + "." + "".join(escaped[i + 1 :]))  # a wrong one
        if len(word) > 3:
            options.add("".join(escaped[:i] + escaped[i + 1 :]))  # an extra letter
        if i + 1 < len(word):
            swapped = [*escaped[:i], escaped[i + 1], escaped[i], *escaped[i + 2 :]]
            options.add("".join(swapped))  # two letters swapped
    return re.compile("|".join(sorted(options, key=len, reverse=True)))


def _word_score(word: str, row: _Row) -> tuple[float, int | None]:
    """How well one query word matches a row, and which row word it matched (if one)."""
    for position, candidate in enumerate(row.words):
        if candidate == word:
            return WORD, position
    if len(word) >= 2:
        for position, candidate in enumerate(row.words):
            if candidate.startswith(word):
                return PREFIX, position
    if len(word) >= 3 and word in row.compact:
        # Spaces missing ("khaisinh") or part of a word: joined when it starts at a word.
        starts = {0}
        offset = 0
        for candidate in row.words[:-1]:
            offset += len(candidate)
            starts.add(offset)
        at = row.compact.find(word)
        return (JOINED if at in starts else INSIDE), None
    if len(word) >= 3:
        pattern = _one_edit_pattern(word)
        if len(word) <= 5:
            for position, candidate in enumerate(row.words):
                if pattern.fullmatch(candidate):
                    return ONE_EDIT, position
        elif pattern.search(row.compact):
            return ONE_EDIT, None
    return 0.0, None


def score_row(query_words: Sequence[str], text: str) -> tuple[float, bool]:
    """(score, strict) of one row for the folded query words; score 0 means no hit."""
    row = _row(text)
    strict = all(word in row.text for word in query_words)
    total = sum(len(w) for w in query_words)
    if not total:
        return 0.0, False
    matched = 0.0
    long_matches = 0
    positions: list[int | None] = []
    for word in query_words:
        score, position = _word_score(word, row)
        positions.append(position if score else None)
        if score:
            matched += score * len(word)
            long_matches += len(word) >= 3
    coverage = matched / total
    enough = coverage >= MIN_COVERAGE or (long_matches >= 2 and coverage >= MIN_SENTENCE_COVERAGE)
    if not strict and not (enough and long_matches):
        return 0.0, False
    bonus = 0.0
    for first, second in itertools.pairwise(positions):
        if first is not None and second == first + 1:
            bonus += PHRASE_BONUS
    return coverage + bonus - LENGTH_PENALTY * len(row.words), strict


def rank(query: str, texts: Iterable[str]) -> list[Hit]:
    """The hits among `texts` for `query`, best first (ties in the given order).

    When some rows contain every query word as typed, only those are returned.
    """
    words = fold(query).split()
    if not words:
        return [Hit(i, 0.0, True) for i, _ in enumerate(texts)]
    hits = []
    for index, text in enumerate(texts):
        score, strict = score_row(words, text)
        if strict or score > 0:
            hits.append(Hit(index, score, strict))
    if any(hit.strict for hit in hits):
        hits = [hit for hit in hits if hit.strict]
    hits.sort(key=lambda hit: (-hit.score, hit.index))
    return hits
