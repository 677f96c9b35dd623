"""``tthcc voice …``: build the offline clip set, or render one call to a WAV.

A plain click group (no Flask app needed); the server mounts it as ``tthcc voice``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import click

from display.voice.announcement import DEFAULT_TEMPLATE, build_announcement
from display.voice.clips import (
    DEFAULT_SPEED,
    DEFAULT_VOICE,
    VoiceError,
    build_clips,
    default_custom_dir,
    default_generated_dir,
    ensure_announcement_clips,
    render_announcement_wav,
)

# Players tried in order when `say` has no --out: ALSA first, it is what a kiosk box has.
_PLAYERS = (["aplay", "-q"], ["paplay"], ["play", "-q"])


def _code(value: str) -> int | str:
    return int(value) if value.isdigit() else value


@click.group("voice")
def voice_command() -> None:
    """Offline voice clips for lobby announcements."""


@voice_command.command("build")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of generated clips [default: $TTHCC_VOICE_CACHE_DIR or ~/.cache/tthcc/voice].",
)
@click.option("--force", is_flag=True, help="Regenerate clips that are up to date.")
@click.option("--voice", default=DEFAULT_VOICE, show_default=True, help="espeak-ng voice.")
@click.option("--speed", default=DEFAULT_SPEED, show_default=True, help="Words per minute.")
def build_command(out_dir: Path | None, force: bool, voice: str, speed: int) -> None:
    """Generate every default clip with espeak-ng (skips clips already built)."""
    out_dir = out_dir or default_generated_dir()
    try:
        report = build_clips(out_dir, force=force, voice=voice, speed=speed)
    except VoiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{len(report.built) + len(report.skipped)} clips in {out_dir}: "
        f"{len(report.built)} built, {len(report.skipped)} up to date"
    )


@voice_command.command("say")
@click.argument("number")
@click.argument("counter")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write a WAV instead of playing."
)
@click.option(
    "--variant", type=click.Choice(["north", "south"]), default="north", show_default=True
)
@click.option("--repeat", type=click.IntRange(1, 2), default=2, show_default=True)
@click.option("--template", default=DEFAULT_TEMPLATE, show_default=True)
@click.option("--counter-name", default=None, help="Fills {counter_name} in the template.")
@click.option(
    "--clips",
    "custom_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Recorded clips that override generated ones [default: $TTHCC_VOICE_CLIPS_DIR].",
)
@click.option(
    "--cache",
    "generated_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of generated clips [default: as for build].",
)
@click.option(
    "--list-clips", is_flag=True, help="Print the clips this call plays (to record) and stop."
)
def say_command(
    number: str,
    counter: str,
    out: Path | None,
    variant: str,
    repeat: int,
    template: str,
    counter_name: str | None,
    custom_dir: Path | None,
    generated_dir: Path | None,
    list_clips: bool,
) -> None:
    """Announce ticket NUMBER (e.g. 1023 or A12) at COUNTER: print the text, play or save it."""
    generated_dir = generated_dir or default_generated_dir()
    custom_dir = custom_dir or default_custom_dir()
    try:
        announcement = build_announcement(
            _code(number),
            _code(counter),
            template=template,
            variant=variant,  # type: ignore[arg-type]  # click.Choice guarantees it
            repeat=repeat,
            counter_name=counter_name,
        )
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(announcement.text)
    if list_clips:
        texts = dict(announcement.clip_texts)
        for name in dict.fromkeys(announcement.clips):
            click.echo(f"{name}\t{texts.get(name, '')}".rstrip())
        return
    try:
        # Only the clips this call lacks are synthesised, so `say` works before `build`.
        ensure_announcement_clips(announcement, generated_dir)
        if out is not None:
            render_announcement_wav(announcement, [custom_dir, generated_dir], out)
            click.echo(f"wrote {out}")
            return
        player = next((p for p in _PLAYERS if shutil.which(p[0])), None)
        if player is None:
            raise click.ClickException("no audio player found (aplay, paplay, play): use --out")
        with tempfile.TemporaryDirectory(prefix="tthcc-say-") as tmp:
            wav = render_announcement_wav(
                announcement, [custom_dir, generated_dir], Path(tmp, "say.wav")
            )
            subprocess.run([*player, str(wav)], check=False)
    except VoiceError as exc:
        raise click.ClickException(str(exc)) from exc
