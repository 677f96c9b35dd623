"""Satisfaction scales and the key-repeat filter: pure, no I/O.

The ministries' survey has five levels; many pads have three or four keys. Every rating
is stored as the raw key *and* a level on the 5-level scale, so reports can compare
counters whatever pad they have.

Levels on the 5-level scale (higher is more satisfied)::

    5 Rất hài lòng   4 Hài lòng   3 Bình thường   2 Không hài lòng   1 Rất không hài lòng

Normalisation keeps the meaning of the label, it does not stretch the scale. A 3-key pad
(Không hài lòng / Bình thường / Hài lòng) gives 2 / 3 / 4, not 1 / 3 / 5: a linear stretch
would turn every "Hài lòng" into "Rất hài lòng" and inflate the centre's satisfaction
score. A 4-key pad (Không hài lòng … Rất hài lòng) gives 2 / 3 / 4 / 5. A pad whose
buttons carry other labels is configured with an explicit key -> level map.

Default keys are ``1`` … ``n`` from least to most satisfied, so on the default 5-key pad
the key is the level (``5`` = Rất hài lòng).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

#: Labels of the 5-level scale, by level.
LABELS: Mapping[int, str] = {
    5: "Rất hài lòng",
    4: "Hài lòng",
    3: "Bình thường",
    2: "Không hài lòng",
    1: "Rất không hài lòng",
}

#: Which 5-level levels a pad with n keys covers, from its least to most satisfied key.
SCALE_LEVELS: Mapping[int, tuple[int, ...]] = {
    3: (2, 3, 4),
    4: (2, 3, 4, 5),
    5: (1, 2, 3, 4, 5),
}

#: Default debounce window in seconds (see :class:`Debouncer`).
DEBOUNCE_WINDOW = 0.3


@dataclass(frozen=True, slots=True)
class Rating:
    """A decoded key press: the key as pressed, its 5-level level and that level's label."""

    raw_key: str
    level: int
    label: str


class RatingScale:
    """Maps a pad's keys to :class:`Rating` values.

    ``RatingScale()`` is the 5-key default; ``RatingScale(3)`` a 3-key pad; ``keys``
    renames the keys (least satisfied first), e.g. ``RatingScale(4, keys="DCBA")``.
    ``RatingScale.from_map({"A": 5, "B": 3, "C": 1})`` covers any other layout.
    """

    def __init__(self, levels: int = 5, *, keys: Sequence[str] | None = None) -> None:
        if levels not in SCALE_LEVELS:
            raise ValueError(f"a rating scale has 3, 4 or 5 levels, not {levels}")
        keys = [str(n) for n in range(1, levels + 1)] if keys is None else list(keys)
        if len(keys) != levels:
            raise ValueError(f"a {levels}-level scale needs {levels} keys, got {len(keys)}")
        self._init(dict(zip(keys, SCALE_LEVELS[levels], strict=True)))

    @classmethod
    def from_map(cls, key_levels: Mapping[str, int]) -> RatingScale:
        """A scale from an explicit key -> 5-level level map (3 to 5 distinct levels)."""
        scale = cls.__new__(cls)
        if not 3 <= len(key_levels) <= 5:
            raise ValueError("a rating scale has 3, 4 or 5 keys")
        if len(set(key_levels.values())) != len(key_levels):
            raise ValueError("two keys of a rating scale have the same level")
        scale._init({str(k): int(v) for k, v in key_levels.items()})
        return scale

    def _init(self, key_levels: dict[str, int]) -> None:
        for key, level in key_levels.items():
            if level not in LABELS:
                raise ValueError(f"key {key!r}: level {level} is not on the 5-level scale")
        self._levels = key_levels

    @property
    def levels(self) -> int:
        """How many keys (levels) this pad has."""
        return len(self._levels)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._levels)

    def rate(self, key: str) -> Rating | None:
        """The rating for ``key``, or None if the key is not on this scale."""
        level = self._levels.get(key)
        if level is None:
            return None
        return Rating(key, level, LABELS[level])

    def __repr__(self) -> str:
        return f"RatingScale.from_map({self._levels!r})"


class Debouncer:
    """Drops an identical key from the same source within ``window`` seconds.

    The window runs from the last time that key was *seen*, accepted or not, so a held
    key that auto-repeats counts once however long it is held. A different key is always
    accepted (the citizen changed their mind); deciding which rating wins is the
    server's business.
    """

    def __init__(
        self, window: float = DEBOUNCE_WINDOW, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if window < 0:
            raise ValueError("debounce window must not be negative")
        self.window = window
        self._clock = clock
        self._last: dict[Hashable, tuple[str, float]] = {}

    def accept(self, source: Hashable, key: str, now: float | None = None) -> bool:
        """True if this press counts; ``source`` identifies the pad (e.g. its address)."""
        now = self._clock() if now is None else now
        previous = self._last.get(source)
        self._last[source] = (key, now)
        if previous is None:
            return True
        last_key, last_seen = previous
        return not (key == last_key and now - last_seen < self.window)
