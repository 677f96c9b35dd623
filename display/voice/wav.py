"""PCM WAV helpers for voice clips: one format, trimming, a synthesised chime, joining.

Only the standard library (``wave``, ``array``, ``math``): ``audioop`` is gone from
Python 3.13, and a lobby box should not need numpy to say "mười lăm".
"""

from __future__ import annotations

import array
import math
import os
import sys
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WavFormat:
    """What every clip must be for clips to be joined without resampling."""

    rate: int
    channels: int
    sample_width: int  # bytes per sample

    def describe(self) -> str:
        return f"{self.rate} Hz, {self.channels} channel(s), {8 * self.sample_width}-bit PCM"


# espeak-ng's native output: keeping it avoids a resampling step (and sox) for the
# default clips. Recorded clips in another format are converted when rendered.
CLIP_FORMAT = WavFormat(rate=22050, channels=1, sample_width=2)

_FULL_SCALE = 32767
# Below 1 % of full scale counts as silence when trimming espeak-ng's padding.
_SILENCE_THRESHOLD = 328


@dataclass(frozen=True)
class Clip:
    """Decoded PCM frames of one clip."""

    fmt: WavFormat
    frames: bytes

    @property
    def duration(self) -> float:
        return len(self.frames) / (self.fmt.rate * self.fmt.channels * self.fmt.sample_width)


def read_wav(path: Path) -> Clip:
    """Read a PCM WAV file (``wave.Error`` if it is not one)."""
    with wave.open(str(path), "rb") as w:
        fmt = WavFormat(w.getframerate(), w.getnchannels(), w.getsampwidth())
        return Clip(fmt, w.readframes(w.getnframes()))


def write_wav(path: Path, clip: Clip) -> None:
    """Write ``clip`` atomically, so a reader never sees half a clip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
            w.setframerate(clip.fmt.rate)
            w.setnchannels(clip.fmt.channels)
            w.setsampwidth(clip.fmt.sample_width)
            w.writeframes(clip.frames)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _samples(clip: Clip) -> array.array:
    if clip.fmt.sample_width != 2:
        raise ValueError(f"expected 16-bit samples, got {clip.fmt.describe()}")
    samples = array.array("h", clip.frames)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    return samples


def _to_bytes(samples: array.array) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def peak(clip: Clip) -> int:
    """Largest absolute sample value (0 means silence)."""
    samples = _samples(clip)
    return max((abs(s) for s in samples), default=0)


def trim_silence(clip: Clip, *, lead: float = 0.01, tail: float = 0.09) -> Clip:
    """Cut silence around the sound, keeping ``lead``/``tail`` seconds.

    espeak-ng pads each word with ~0.3 s of silence; words joined with that padding
    sound like a countdown. A short fixed tail gives every word the same rhythm.
    """
    samples = _samples(clip)
    ch = clip.fmt.channels
    loud = [i for i, s in enumerate(samples) if abs(s) > _SILENCE_THRESHOLD]
    if not loud:
        return clip
    start = max(0, loud[0] // ch - round(lead * clip.fmt.rate))
    end = min(len(samples) // ch, loud[-1] // ch + 1 + round(tail * clip.fmt.rate))
    return Clip(clip.fmt, _to_bytes(samples[start * ch : end * ch]))


def silence(seconds: float, fmt: WavFormat = CLIP_FORMAT) -> Clip:
    """A clip of digital silence."""
    n = round(seconds * fmt.rate) * fmt.channels * fmt.sample_width
    return Clip(fmt, bytes(n))


def chime(fmt: WavFormat = CLIP_FORMAT) -> Clip:
    """A two-tone "ding-dong" (E5 then C5, ~1.2 s), like a public-address gong.

    Each note is a few bell-like partials under a fast attack and an exponential
    decay; the second note starts while the first still rings, which is what makes
    it sound like a chime rather than two beeps.
    """
    if fmt.channels != 1 or fmt.sample_width != 2:
        raise ValueError(f"chime is synthesised as mono 16-bit, not {fmt.describe()}")
    rate = fmt.rate
    total = round(1.2 * rate)
    mix = [0.0] * total
    # (start s, fundamental Hz); partials (ratio, gain) give a soft bell timbre.
    notes = [(0.0, 659.25), (0.42, 523.25)]
    partials = [(1.0, 1.0), (2.0, 0.35), (3.0, 0.12), (4.2, 0.05)]
    attack, decay = 0.01, 0.28
    for start_s, freq in notes:
        start = round(start_s * rate)
        for i in range(total - start):
            t = i / rate
            env = min(1.0, t / attack) * math.exp(-t / decay)
            if t > attack and env < 1e-4:
                break
            value = sum(g * math.sin(2 * math.pi * freq * r * t) for r, g in partials)
            mix[start + i] += env * value
    # The second note still rings at the end: fade it out instead of clicking.
    fade = round(0.1 * rate)
    for i in range(fade):
        mix[total - fade + i] *= 1 - i / fade
    top = max(abs(v) for v in mix)
    gain = 0.6 * _FULL_SCALE / top  # headroom: a recorded voice at full scale follows
    samples = array.array("h", (round(v * gain) for v in mix))
    return Clip(fmt, _to_bytes(samples))


def concatenate(clips: Iterable[Clip], fmt: WavFormat = CLIP_FORMAT) -> Clip:
    """Join clips that are all in ``fmt`` (``ValueError`` otherwise)."""
    parts = []
    for clip in clips:
        if clip.fmt != fmt:
            raise ValueError(f"cannot join {clip.fmt.describe()} with {fmt.describe()}")
        parts.append(clip.frames)
    return Clip(fmt, b"".join(parts))
