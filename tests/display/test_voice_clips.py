"""Voice clips: espeak-ng generation, drop-in fallback, rendering one call to a WAV."""

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from display.voice.announcement import build_announcement
from display.voice.cli import voice_command
from display.voice.clipnames import CHIME, PAUSE, clip_file, number_clip
from display.voice.clips import (
    MANIFEST,
    ClipFormatError,
    ClipNotFound,
    build_clips,
    default_clip_names,
    default_clip_texts,
    ensure_announcement_clips,
    render_announcement_wav,
    resolve_clip,
)
from display.voice.numbers import all_number_words
from display.voice.wav import CLIP_FORMAT, Clip, WavFormat, chime, peak, read_wav, silence
from display.voice.wav import write_wav as write_clip

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")

SUBSET = [CHIME, PAUSE, "num/muoi_huyen", "num/muoi", "num/tu", "letter/a", "phrase/den_quay_so"]


def wav_params(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getcomptype() == "NONE"
        return w.getframerate(), w.getnchannels(), w.getsampwidth()


def tone(seconds: float, fmt: WavFormat = CLIP_FORMAT, level: int = 8000) -> Clip:
    """A square wave: an audible stand-in for a recorded clip."""
    period = 50
    frame = [level if (i // (period // 2)) % 2 else -level for i in range(period)]
    n = round(seconds * fmt.rate)
    samples = (frame[i % period] for i in range(n) for _ in range(fmt.channels))
    return Clip(fmt, b"".join(s.to_bytes(2, "little", signed=True) for s in samples))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The clips of one call built once with the real espeak-ng, shared by tests below."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng")
    out = tmp_path_factory.mktemp("generated")
    build_clips(out, names=build_announcement("A1023", 24).clips)
    return out


def test_default_set_has_every_number_word_phrase_chime_and_pause():
    names = default_clip_names()
    assert len(names) == len(set(names))
    assert {number_clip(w) for w in all_number_words()} <= set(names)
    assert {CHIME, PAUSE, "phrase/xin_moi_cong_dan_co_so_thu_tu", "phrase/den_quay_so"} <= set(
        names
    )
    # Every clip any default call can play is in the set.
    for variant in ("north", "south"):
        for n in (0, 15, 21, 24, 105, 1001, 2004, 9999):
            assert set(build_announcement(f"Z{n}", n, variant=variant).clips) <= set(names)
    assert default_clip_texts()["num/muoi_huyen"] == "mười"


@needs_espeak
def test_build_subset_writes_valid_nonsilent_clips_of_one_format(tmp_path):
    report = build_clips(tmp_path, names=SUBSET)
    assert report.built == SUBSET and report.skipped == []
    for name in SUBSET:
        path = clip_file(tmp_path, name)
        assert wav_params(path) == (
            CLIP_FORMAT.rate,
            CLIP_FORMAT.channels,
            CLIP_FORMAT.sample_width,
        )
        clip = read_wav(path)
        assert 0.1 < clip.duration < 3.5, name
        if name == PAUSE:
            assert peak(clip) == 0
        else:
            assert peak(clip) > 3000, f"{name} is silent"
    # "mười" and "mươi" are different words, so different sounds.
    assert read_wav(clip_file(tmp_path, "num/muoi_huyen")) != read_wav(
        clip_file(tmp_path, "num/muoi")
    )
    # espeak-ng's ~0.3 s padding is trimmed to keep words close together.
    assert read_wav(clip_file(tmp_path, "num/tu")).duration < 0.6


@needs_espeak
def test_manifest_records_espeak_version_and_text(tmp_path):
    build_clips(tmp_path, names=SUBSET)
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == {"rate": 22050, "channels": 1, "sample_width": 2}
    entry = manifest["clips"]["num/muoi_huyen"]
    assert entry["text"] == "mười" and entry["voice"] == "vi"
    assert entry["espeak_ng"].startswith("eSpeak NG")
    assert manifest["clips"][CHIME]["source"] == "synthesised"


@needs_espeak
def test_build_is_idempotent_and_force_rebuilds(tmp_path):
    build_clips(tmp_path, names=SUBSET)
    mtime = clip_file(tmp_path, "num/tu").stat().st_mtime_ns
    again = build_clips(tmp_path, names=SUBSET)
    assert again.built == [] and again.skipped == SUBSET
    assert clip_file(tmp_path, "num/tu").stat().st_mtime_ns == mtime
    forced = build_clips(tmp_path, force=True, names=["num/tu"])
    assert forced.built == ["num/tu"]


@needs_espeak
def test_build_regenerates_a_clip_whose_file_or_text_changed(tmp_path):
    build_clips(tmp_path, names=["num/tu", "phrase/den_quay_so"])
    clip_file(tmp_path, "num/tu").unlink()
    report = build_clips(tmp_path, names=["num/tu", "phrase/den_quay_so"])
    assert report.built == ["num/tu"]
    # Same slug, new words (e.g. a template edit): the manifest text tells them apart.
    report = build_clips(
        tmp_path, names=["phrase/den_quay_so"], texts={"phrase/den_quay_so": "Đến quầy số"}
    )
    assert report.built == ["phrase/den_quay_so"]


def test_build_refuses_a_clip_it_has_no_text_for(tmp_path):
    with pytest.raises(ValueError, match="no text known for clip"):
        build_clips(tmp_path, names=["phrase/moi_ban"])


@needs_espeak
def test_ensure_announcement_clips_synthesises_custom_template_phrases(tmp_path):
    ann = build_announcement(5, 1, template="Mời số {number} tới quầy {counter}")
    ensure_announcement_clips(ann, tmp_path)
    for name in set(ann.clips):
        assert resolve_clip(name, [tmp_path]).is_file()
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["clips"]["phrase/toi_quay"]["text"] == "tới quầy"


@needs_espeak
def test_ensure_announcement_clips_keeps_clips_made_with_another_voice(tmp_path):
    ann = build_announcement(3, 3, repeat=1)
    build_clips(tmp_path, names=ann.all_clips, voice="vi-vn-x-south", speed=140)
    assert ensure_announcement_clips(ann, tmp_path).built == []
    clip_file(tmp_path, "num/ba").unlink()
    assert ensure_announcement_clips(ann, tmp_path).built == ["num/ba"]


def test_chime_is_about_a_second_and_audible():
    clip = chime()
    assert 0.9 <= clip.duration <= 1.5
    assert peak(clip) > 10000
    assert peak(silence(0.5)) == 0


def test_resolve_prefers_recorded_clip_and_falls_back_per_clip(tmp_path):
    custom, generated = tmp_path / "custom", tmp_path / "generated"
    write_clip(clip_file(custom, CHIME), tone(0.2))
    write_clip(clip_file(generated, CHIME), chime())
    write_clip(clip_file(generated, "num/ba"), tone(0.3))
    assert resolve_clip(CHIME, [custom, generated]) == custom / "chime.wav"
    assert resolve_clip("num/ba", [custom, generated]) == generated / "num" / "ba.wav"
    assert resolve_clip("num/ba", [None, generated]) == generated / "num" / "ba.wav"
    with pytest.raises(ClipNotFound, match=r"'num/hai' not found in .*custom.*generated"):
        resolve_clip("num/hai", [custom, generated])
    with pytest.raises(FileNotFoundError):  # ClipNotFound is also a FileNotFoundError
        resolve_clip("num/hai", [])


def test_render_joins_clips_in_order_with_duration_of_their_sum(tmp_path, generated):
    ann = build_announcement("A1023", 24)
    out = render_announcement_wav(ann, [None, generated], tmp_path / "call.wav")
    expected = sum(read_wav(resolve_clip(n, [generated])).duration for n in ann.clips)
    rendered = read_wav(out)
    assert rendered.fmt == CLIP_FORMAT
    assert rendered.duration == pytest.approx(expected, abs=0.01)
    assert 8 < rendered.duration < 30


def test_render_uses_recorded_clips_where_present(tmp_path, generated):
    custom = tmp_path / "custom"
    write_clip(clip_file(custom, CHIME), tone(0.25))
    ann = build_announcement(1023, 24, repeat=1)
    out = render_announcement_wav(ann, [custom, generated], tmp_path / "call.wav")
    generated_only = render_announcement_wav(ann, [generated], tmp_path / "gen.wav")
    chime_delta = read_wav(clip_file(generated, CHIME)).duration - 0.25
    assert read_wav(generated_only).duration - read_wav(out).duration == pytest.approx(
        chime_delta, abs=0.001
    )
    assert read_wav(out).frames.startswith(tone(0.25).frames)


@needs_sox
def test_render_converts_a_recorded_clip_in_another_format(tmp_path, generated):
    custom = tmp_path / "custom"
    write_clip(clip_file(custom, CHIME), tone(0.5, WavFormat(44100, 2, 2)))
    ann = build_announcement(3, 3, repeat=1)
    out = render_announcement_wav(ann, [custom, generated], tmp_path / "call.wav")
    assert read_wav(out).fmt == CLIP_FORMAT
    expected = 0.5 + sum(read_wav(resolve_clip(n, [generated])).duration for n in ann.clips[1:])
    assert read_wav(out).duration == pytest.approx(expected, abs=0.01)


def test_render_rejects_a_clip_that_is_not_wav(tmp_path):
    custom = tmp_path / "custom"
    clip_file(custom, CHIME).parent.mkdir(parents=True)
    clip_file(custom, CHIME).write_bytes(b"ID3 not a wav")
    ann = build_announcement(3, 3, repeat=1)
    with pytest.raises(ClipFormatError, match="not a PCM WAV"):
        render_announcement_wav(ann, [custom], tmp_path / "call.wav")


@needs_espeak
def test_cli_build_then_say_to_a_file(tmp_path):
    runner = CliRunner()
    cache = tmp_path / "cache"
    result = runner.invoke(voice_command, ["build", "--out", str(cache)])
    assert result.exit_code == 0, result.output
    total = len(default_clip_names())
    assert f"{total} clips in {cache}: {total} built, 0 up to date" in result.output
    result = runner.invoke(voice_command, ["build", "--out", str(cache)])
    assert f"0 built, {total} up to date" in result.output

    out = tmp_path / "call.wav"
    result = runner.invoke(
        voice_command,
        ["say", "1023", "3", "--out", str(out), "--cache", str(cache), "--repeat", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba" in result.output
    assert read_wav(out).duration > 3


def test_cli_say_rejects_an_out_of_range_number(tmp_path):
    result = CliRunner().invoke(voice_command, ["say", "10000", "3", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "out of range" in result.output


def test_cli_say_lists_the_clips_to_record_for_a_custom_template():
    result = CliRunner().invoke(
        voice_command,
        ["say", "21", "3", "--template", "Mời số {number} tới quầy {counter}", "--list-clips"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Mời số hai mươi mốt tới quầy ba. Mời số hai mươi mốt tới quầy ba.",
        "chime",
        "phrase/moi_so\tMời số",
        "num/hai\thai",
        "num/muoi\tmươi",
        "num/mot_sac\tmốt",
        "phrase/toi_quay\ttới quầy",
        "num/ba\tba",
        "pause",
    ]


def test_voice_package_does_not_import_flask():
    code = "import sys, display.voice.cli, display.voice.clips; print('flask' in sys.modules)"
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
