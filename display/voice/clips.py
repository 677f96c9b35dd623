"""Offline voice clips: generate the default set with espeak-ng, resolve, render.

Two folders are searched per clip, in order: a drop-in folder of recorded clips (a
natural voice, optional) and the generated folder (espeak-ng, robotic but clear). A
centre can therefore record only the clips it cares about (say the chime and the two
phrases) and keep espeak-ng for the rest.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import string
import subprocess
import tempfile
import wave
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from display.voice.announcement import (
    COMPACT_TEMPLATE,
    DEFAULT_TEMPLATE,
    EDGE_PUNCTUATION,
    LETTER_NAMES,
    Announcement,
)
from display.voice.clipnames import (
    CHIME,
    PAUSE,
    check_clip_name,
    clip_file,
    letter_clip,
    number_clip,
    phrase_clip,
)
from display.voice.numbers import all_number_words
from display.voice.wav import (
    CLIP_FORMAT,
    Clip,
    chime,
    concatenate,
    read_wav,
    silence,
    trim_silence,
    write_wav,
)

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
DEFAULT_VOICE = "vi"  # Northern; espeak-ng also has vi-vn-x-central and vi-vn-x-south
DEFAULT_SPEED = 150  # words per minute; espeak-ng's 175 is hurried for a noisy hall
PAUSE_SECONDS = 0.7
# Clips espeak-ng cannot say from their displayed text: "gi" alone is read as a bare
# consonant, so the letter J is synthesised from how it sounds in Northern speech.
_ESPEAK_SPELLING = {"gi": "di"}


class VoiceError(Exception):
    """Base class of voice clip errors."""


class EspeakError(VoiceError):
    """espeak-ng is missing or failed."""


class ClipNotFound(VoiceError, FileNotFoundError):
    """No folder holds the clip."""


class ClipFormatError(VoiceError):
    """A clip is not PCM WAV, or not in the clip format and cannot be converted."""


def default_generated_dir() -> Path:
    """Generated clips: ``$TTHCC_VOICE_CACHE_DIR`` or ``$XDG_CACHE_HOME/tthcc/voice``."""
    if env := os.environ.get("TTHCC_VOICE_CACHE_DIR"):
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "tthcc" / "voice"


def default_custom_dir() -> Path | None:
    """Recorded clips that override generated ones: ``$TTHCC_VOICE_CLIPS_DIR`` if set."""
    env = os.environ.get("TTHCC_VOICE_CLIPS_DIR")
    return Path(env) if env else None


def default_clip_texts() -> dict[str, str]:
    """Every clip espeak-ng says by default, name → text.

    All number words of both variants, the ticket prefix letters and the phrase parts
    of the default template. ``chime`` and ``pause`` are synthesised, not spoken.
    """
    texts = {number_clip(w): w for w in all_number_words()}
    texts |= {letter_clip(letter): name for letter, name in LETTER_NAMES.items()}
    for template in (DEFAULT_TEMPLATE, COMPACT_TEMPLATE):
        for literal, *_ in string.Formatter().parse(template):
            words = " ".join(literal.split()).strip(EDGE_PUNCTUATION)
            if words:
                texts[phrase_clip(literal)] = words
    return dict(sorted(texts.items()))


def default_clip_names() -> list[str]:
    """Every clip name of the default set, including ``chime`` and ``pause``."""
    return [CHIME, PAUSE, *default_clip_texts()]


def espeak_version(espeak: str = "espeak-ng") -> str:
    """espeak-ng's version line (recorded in the manifest)."""
    if shutil.which(espeak) is None:
        raise EspeakError(f"{espeak} not found: install it with 'apt-get install espeak-ng'")
    out = subprocess.run([espeak, "--version"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise EspeakError(f"{espeak} --version failed: {out.stderr.strip()}")
    # "eSpeak NG text-to-speech: 1.51  Data at: …": the data path is noise here.
    return out.stdout.split("Data at:")[0].strip()


def synthesise(text: str, *, voice: str, speed: int, espeak: str = "espeak-ng") -> Clip:
    """``text`` spoken by espeak-ng, trimmed, in ``CLIP_FORMAT``."""
    with tempfile.TemporaryDirectory(prefix="tthcc-voice-") as tmp:
        out = Path(tmp, "clip.wav")
        # Text on stdin as UTF-8 (-b 1): an argument starting with "-" would be an option.
        cmd = [espeak, "-v", voice, "-s", str(speed), "-b", "1", "--stdin", "-w", str(out)]
        spelled = _ESPEAK_SPELLING.get(text, text)
        try:
            run = subprocess.run(cmd, input=spelled.encode(), capture_output=True, check=False)
        except FileNotFoundError as exc:
            raise EspeakError(
                f"{espeak} not found: install it with 'apt-get install espeak-ng'"
            ) from exc
        if run.returncode != 0 or not out.exists():
            raise EspeakError(f"{espeak} failed on {text!r}: {run.stderr.decode().strip()}")
        clip = read_wav(out)
    if clip.fmt != CLIP_FORMAT:
        raise EspeakError(
            f"{espeak} wrote {clip.fmt.describe()}, expected {CLIP_FORMAT.describe()}"
        )
    return trim_silence(clip)


@dataclass
class BuildReport:
    """What ``build_clips`` did, clip names per outcome."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _load_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        logger.warning("unreadable clip manifest %s: rebuilding every clip", path)
        return {}


def _save_manifest(path: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def build_clips(
    out_dir: Path,
    force: bool = False,
    *,
    names: Iterable[str] | None = None,
    texts: Mapping[str, str] | None = None,
    voice: str = DEFAULT_VOICE,
    speed: int = DEFAULT_SPEED,
    espeak: str = "espeak-ng",
) -> BuildReport:
    """Generate clips into ``out_dir`` (one WAV per clip name, ``CLIP_FORMAT``).

    Idempotent: a clip whose file exists and whose manifest entry matches (same text,
    voice, speed) is skipped; ``force`` rebuilds. ``names`` limits the work to some
    clips (default: all of ``default_clip_names()``); ``texts`` adds clips the default
    set lacks, e.g. ``dict(announcement.clip_texts)`` for a custom template.
    """
    out_dir = Path(out_dir)
    all_texts = default_clip_texts() | dict(texts or {})
    wanted = list(dict.fromkeys(names)) if names is not None else [CHIME, PAUSE, *all_texts]
    unknown = [n for n in wanted if n not in all_texts and n not in (CHIME, PAUSE)]
    if unknown:
        raise ValueError(f"no text known for clip(s): {', '.join(unknown)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest = _load_manifest(manifest_path)
    if manifest.get("format") != vars(CLIP_FORMAT):
        manifest = {}  # another format: nothing on disk can be joined with new clips
    entries: dict[str, dict] = manifest.setdefault("clips", {})
    manifest["format"] = vars(CLIP_FORMAT)
    version = None

    report = BuildReport()
    for name in wanted:
        path = clip_file(out_dir, check_clip_name(name))
        if name == CHIME:
            entry = {"source": "synthesised", "text": None}
        elif name == PAUSE:
            entry = {"source": "silence", "text": None, "seconds": PAUSE_SECONDS}
        else:
            entry = {"source": "espeak-ng", "text": all_texts[name], "voice": voice, "speed": speed}
        old = {k: v for k, v in entries.get(name, {}).items() if k != "espeak_ng"}
        if not force and path.exists() and old == entry:
            report.skipped.append(name)
            continue
        if name == CHIME:
            clip = chime()
        elif name == PAUSE:
            clip = silence(PAUSE_SECONDS)
        else:
            # Asked only when something must be spoken: an up-to-date folder needs no espeak-ng.
            version = version or espeak_version(espeak)
            clip = synthesise(all_texts[name], voice=voice, speed=speed, espeak=espeak)
            entry["espeak_ng"] = version
        write_wav(path, clip)
        entries[name] = entry
        report.built.append(name)
    if report.built or not manifest_path.exists():
        _save_manifest(manifest_path, manifest)
    logger.info(
        "voice clips in %s: %d built, %d up to date",
        out_dir,
        len(report.built),
        len(report.skipped),
    )
    return report


def ensure_announcement_clips(
    announcement: Announcement,
    out_dir: Path,
    *,
    voice: str = DEFAULT_VOICE,
    speed: int = DEFAULT_SPEED,
) -> BuildReport:
    """Generate the clips ``announcement`` needs that ``out_dir`` lacks.

    Unlike ``build_clips`` this leaves an existing clip alone even if it was made with
    another voice or speed (the folder's owner chose them); it only adds missing clips
    and replaces a clip whose recorded text differs (a custom phrase sharing a slug).
    """
    out_dir = Path(out_dir)
    recorded = _load_manifest(out_dir / MANIFEST).get("clips", {})
    texts = dict(announcement.clip_texts)
    needed = [
        name
        for name in announcement.all_clips
        if not clip_file(out_dir, name).is_file()
        or (name in texts and recorded.get(name, {}).get("text") != texts[name])
    ]
    return build_clips(out_dir, force=True, names=needed, texts=texts, voice=voice, speed=speed)


def resolve_clip(name: str, dirs: Sequence[Path | None]) -> Path:
    """The file of clip ``name`` from the first folder in ``dirs`` that has it.

    Put the recorded clips folder first and the generated folder last: each clip
    falls back on its own. ``None`` entries (an unset custom folder) are skipped.
    """
    check_clip_name(name)
    searched = [Path(d) for d in dirs if d is not None]
    for folder in searched:
        path = clip_file(folder, name)
        if path.is_file():
            return path
    where = ", ".join(str(d) for d in searched) or "no folder"
    raise ClipNotFound(f"clip {name!r} not found in {where}: run 'tthcc voice build'")


def _load_clip(path: Path) -> Clip:
    """Read a clip, converting a recorded one with sox when its format differs."""
    try:
        clip = read_wav(path)
    except (wave.Error, EOFError) as exc:
        raise ClipFormatError(f"{path} is not a PCM WAV file: {exc}") from exc
    if clip.fmt == CLIP_FORMAT:
        return clip
    sox = shutil.which("sox")
    if sox is None:
        raise ClipFormatError(
            f"{path} is {clip.fmt.describe()}, clips must be {CLIP_FORMAT.describe()}; "
            "convert it or install sox ('apt-get install sox') to convert on the fly"
        )
    with tempfile.TemporaryDirectory(prefix="tthcc-voice-") as tmp:
        out = Path(tmp, "converted.wav")
        fmt = CLIP_FORMAT
        cmd = [sox, str(path), "-r", str(fmt.rate), "-c", str(fmt.channels)]
        cmd += ["-b", str(8 * fmt.sample_width), "-e", "signed-integer", str(out)]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise ClipFormatError(f"sox could not convert {path}: {run.stderr.strip()}")
        return read_wav(out)


def render_announcement_wav(
    announcement: Announcement, dirs: Sequence[Path | None], out_path: Path
) -> Path:
    """Join the announcement's clips into one WAV at ``out_path`` (``CLIP_FORMAT``)."""
    cache: dict[str, Clip] = {}
    for name in announcement.clips:
        if name not in cache:
            cache[name] = _load_clip(resolve_clip(name, dirs))
    write_wav(Path(out_path), concatenate(cache[n] for n in announcement.clips))
    return Path(out_path)
