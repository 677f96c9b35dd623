"""What the lobby display says for one call at one centre, and where its clips come from.

A centre keeps its voice settings in ``Centre.settings["voice"]`` (all optional)::

    {"template": "Xin mời công dân có số thứ tự {number} đến quầy số {counter}",
     "variant": "north",          # or "south" (ngàn, lẻ, bốn)
     "repeat": 2,                 # 1 or 2
     "counter_name": false,       # also say the counter's name ("…, Hộ tịch")
     "clips_dir": "/srv/tthcc/clips/kinh-bac"}   # recorded clips of this centre only

A bad value is logged and replaced by its default: a typo in the settings must not
silence the hall. Pure Python (no Flask, no database), so it is tested on its own.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from display.voice.announcement import (
    DEFAULT_TEMPLATE,
    TEMPLATE_WITH_COUNTER_NAME,
    Announcement,
    build_announcement,
)
from display.voice.clipnames import check_clip_name
from display.voice.clips import (
    ClipNotFound,
    build_clips,
    default_clip_names,
    default_custom_dir,
    default_generated_dir,
    ensure_announcement_clips,
    resolve_clip,
)
from display.voice.numbers import VARIANTS, Variant

logger = logging.getLogger(__name__)

# "{number} đến quầy số {counter}, {counter_name}" without a name: drop the separator too.
_COUNTER_NAME_RE = re.compile(r"[\s,;:–-]*\{counter_name\}")


@dataclass(frozen=True)
class VoiceSettings:
    """One centre's announcement settings (defaults per DOMAIN.md)."""

    #: The phrase; must use ``{number}``, may use ``{counter}`` and ``{counter_name}``.
    template: str = DEFAULT_TEMPLATE
    #: Number reading: "north" (nghìn, linh, tư) or "south" (ngàn, lẻ, bốn).
    variant: Variant = "north"
    #: How many times the phrase is said after the chime (1 or 2).
    repeat: int = 2
    #: Also say the counter's name (its ``Counter.name``), e.g. "…quầy số ba, Hộ tịch".
    counter_name: bool = False
    #: Recorded clips of this centre, searched before ``TTHCC_VOICE_CLIPS_DIR``.
    clips_dir: Path | None = None

    @classmethod
    def from_centre_settings(cls, settings: Mapping[str, Any] | None) -> VoiceSettings:
        """Read ``settings["voice"]``; each bad value is logged and falls back to its default."""
        raw = (settings or {}).get("voice") or {}
        if not isinstance(raw, Mapping):
            logger.warning("centre voice settings are not an object: %r; using defaults", raw)
            raw = {}
        values: dict[str, Any] = {}
        template = raw.get("template")
        if template is not None:
            try:
                build_announcement(1, 1, template=_without_counter_name(str(template)))
                values["template"] = str(template)
            except ValueError as exc:
                logger.warning("voice template %r unusable (%s); using the default", template, exc)
        if (variant := raw.get("variant")) is not None:
            if variant in VARIANTS:
                values["variant"] = variant
            else:
                logger.warning("voice variant %r unknown; using north", variant)
        if (repeat := raw.get("repeat")) is not None:
            if repeat in (1, 2) and not isinstance(repeat, bool):
                values["repeat"] = int(repeat)
            else:
                logger.warning("voice repeat %r must be 1 or 2; using 2", repeat)
        if (use_name := raw.get("counter_name")) is not None:
            values["counter_name"] = bool(use_name)
        if clips_dir := raw.get("clips_dir"):
            values["clips_dir"] = Path(str(clips_dir))
        return cls(**values)

    def clip_dirs(self) -> list[Path | None]:
        """Folders searched for a clip, in order: this centre's, the deployment's, generated."""
        return [self.clips_dir, default_custom_dir(), default_generated_dir()]


def _without_counter_name(template: str) -> str:
    return _COUNTER_NAME_RE.sub("", template)


def speakable_counter_name(name: str | None, counter: int | str) -> str | None:
    """The counter's name if it is worth saying: not empty, no digits, not "Quầy 3" again."""
    if not name or not name.strip():
        return None
    if any(ch.isdigit() for ch in name):
        # "Quầy 3" repeats the number, and digits would be read by espeak-ng wrongly.
        logger.debug("counter %s: name %r has digits, not spoken", counter, name)
        return None
    return name.strip()


def announcement_for(
    settings: VoiceSettings,
    number: int | str,
    counter: int | str,
    *,
    counter_name: str | None = None,
    variant: Variant | None = None,
    repeat: int | None = None,
) -> Announcement:
    """The announcement of ticket ``number`` at ``counter`` under the centre's settings.

    ``variant`` and ``repeat`` override the settings (the preview API's parameters).
    Raises ``ValueError`` for a number or counter that cannot be read aloud.
    """
    template = settings.template
    name = speakable_counter_name(counter_name, counter) if settings.counter_name else None
    if name is None:
        template = _without_counter_name(template)
    elif "{counter_name}" not in template:
        template = (
            TEMPLATE_WITH_COUNTER_NAME
            if template == DEFAULT_TEMPLATE
            else template + ", {counter_name}"
        )
    return build_announcement(
        number,
        counter,
        template=template,
        variant=variant or settings.variant,
        repeat=repeat or settings.repeat,
        counter_name=name,
    )


# One generation at a time per process: concurrent manifest updates would lose entries.
_generate_lock = threading.Lock()


def ensure_clips(announcement: Announcement, dirs: Sequence[Path | None]) -> list[str]:
    """Synthesise (espeak-ng) the clips of ``announcement`` that no recorded folder has.

    ``dirs`` ends with the generated cache, where new clips go; a clip found in an
    earlier (recorded) folder is never synthesised. Returns the names built.
    """
    generated = _generated(dirs)
    recorded = dirs[:-1]
    needed = tuple(n for n in announcement.all_clips if not _exists(n, recorded))
    if not needed:
        return []
    with _generate_lock:
        report = ensure_announcement_clips(replace(announcement, clips=needed), generated)
    if report.built:
        logger.info("voice: generated %d clip(s) in %s", len(report.built), generated)
    return report.built


def find_clip(name: str, dirs: Sequence[Path | None]) -> Path:
    """The file of clip ``name``; a missing clip of the default set is generated first.

    Raises ``ValueError`` for a malformed name (nothing outside the clip folders can be
    named) and ``ClipNotFound`` for an unknown clip no folder has.
    """
    check_clip_name(name)
    try:
        return resolve_clip(name, dirs)
    except ClipNotFound:
        if name not in _default_names():
            raise
    with _generate_lock:
        try:
            return resolve_clip(name, dirs)  # another request made it meanwhile
        except ClipNotFound:
            build_clips(_generated(dirs), names=[name])
    return resolve_clip(name, dirs)


def _generated(dirs: Sequence[Path | None]) -> Path:
    folder = dirs[-1]
    if folder is None:
        raise ValueError("the last clip folder must be the generated cache")
    return Path(folder)


def _exists(name: str, dirs: Sequence[Path | None]) -> bool:
    try:
        resolve_clip(name, dirs)
    except ClipNotFound:
        return False
    return True


@cache
def _default_names() -> frozenset[str]:
    return frozenset(default_clip_names())
