"""The announcement preview API, the centre's voice settings and the clip route.

Through the real app on a fresh database with the demo centre; clips are made by the real
espeak-ng into a per-test cache folder.
"""

from __future__ import annotations

import io
import re
import shutil
import wave
from pathlib import Path

import pytest

from display.speech import VoiceSettings, announcement_for
from display.voice.announcement import TEMPLATE_WITH_COUNTER_NAME
from display.voice.clips import MANIFEST
from display.voice.wav import chime, write_wav

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

PREVIEW = "/api/v1/announcements/preview"
PHRASE = "phrase/xin_moi_cong_dan_co_so_thu_tu"
TO_COUNTER = "phrase/den_quay_so"


@pytest.fixture
def voice_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty generated cache and no recorded folder: every clip is made on demand."""
    generated = tmp_path / "voice-cache"
    recorded = tmp_path / "recorded"
    monkeypatch.setenv("TTHCC_VOICE_CACHE_DIR", str(generated))
    monkeypatch.delenv("TTHCC_VOICE_CLIPS_DIR", raising=False)
    return {"generated": generated, "recorded": recorded}


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory):
    """One app with the demo centre for the read-only tests below (setting up costs ~2 s)."""
    from server.app import create_app
    from server.config import Config
    from server.demo import load_demo
    from server.migrate import upgrade

    tmp = tmp_path_factory.mktemp("display-api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TTHCC_VOICE_CACHE_DIR", str(tmp / "voice-cache"))
        mp.delenv("TTHCC_VOICE_CLIPS_DIR", raising=False)
        config = Config.from_env(
            {},
            instance_path=tmp / "instance",
            database_url=f"sqlite:///{tmp / 'test.sqlite3'}",
            secret_key="test-secret",
            testing=True,
            async_mode="threading",
        )
        app = create_app(config)
        database = app.extensions["tthcc_db"]
        upgrade(database.engine)
        with database.transaction() as session:
            load_demo(session)
        yield app.test_client()
        database.dispose()


def set_voice(database, centre_id: int, voice: dict) -> None:
    from server.models import Centre

    with database.transaction() as session:
        centre = session.get(Centre, centre_id)
        centre.settings = {**(centre.settings or {}), "voice": voice}


def rename_counter(database, number: int, name: str) -> None:
    from server.models import Counter

    with database.transaction() as session:
        counter = session.query(Counter).filter_by(number=number).one()
        counter.name = name


def preview(client, **params):
    response = client.get(PREVIEW, query_string=params)
    return response.status_code, response.get_json()


# --- preview -------------------------------------------------------------------------------


def test_preview_says_numbers_as_words_in_clip_order(shared_client):
    status, body = preview(shared_client, number="1023", counter="3")
    assert status == 200
    assert set(body) == {
        "text",
        "clips",
        "variant",
        "repeat",
        "chime",
        "pause",
        "phrase",
        "compact",
    }
    sentence = "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba đến quầy số ba."
    assert body["text"] == f"{sentence} {sentence}"
    assert not re.search(r"\d", body["text"])
    once = [PHRASE, "num/mot_nang", "num/nghin_huyen", "num/khong", "num/tram", "num/hai"]
    once += ["num/muoi", "num/ba", TO_COUNTER, "num/ba"]
    assert body["clips"] == ["chime", *once, "pause", *once]
    assert (body["variant"], body["repeat"]) == ("north", 2)
    assert (body["chime"], body["pause"], body["phrase"]) == ("chime", "pause", once)
    assert body["compact"] == {
        "text": "Số một nghìn không trăm hai mươi ba, quầy ba",
        "clips": ["phrase/so", *once[1:8], "phrase/quay", "num/ba"],
    }


def test_preview_southern_variant_and_single_repeat(shared_client):
    status, body = preview(shared_client, number="2004", counter="12", variant="south", repeat=1)
    assert status == 200
    assert body["text"] == (
        "Xin mời công dân có số thứ tự hai ngàn không trăm lẻ bốn đến quầy số mười hai"
    )
    assert body["clips"] == [
        "chime",
        PHRASE,
        "num/hai",
        "num/ngan_huyen",
        "num/khong",
        "num/tram",
        "num/le_hoi",
        "num/bon_sac",
        TO_COUNTER,
        "num/muoi_huyen",
        "num/hai",
    ]
    assert (body["variant"], body["repeat"]) == ("south", 1)


def test_preview_reads_a_letter_prefix_by_name(shared_client):
    status, body = preview(shared_client, number="A015", counter="2", repeat=1)
    assert status == 200
    assert body["text"].endswith("số thứ tự a mười lăm đến quầy số hai")
    assert body["clips"][2:5] == ["letter/a", "num/muoi_huyen", "num/lam"]


@pytest.mark.parametrize(
    "params,needle",
    [
        ({"counter": "3"}, "number"),
        ({"number": "1023"}, "counter"),
        ({"number": "", "counter": "3"}, "number"),
        ({"number": "12345", "counter": "3"}, "number"),
        ({"number": "mười", "counter": "3"}, "number"),
        ({"number": "1/../2", "counter": "3"}, "number"),
        ({"number": "1023", "counter": "-1"}, "counter"),
        ({"number": "1023", "counter": "3", "variant": "west"}, "variant"),
        ({"number": "1023", "counter": "3", "repeat": "3"}, "repeat"),
        ({"number": "1023", "counter": "3", "repeat": "hai"}, "repeat"),
        ({"number": "1023", "counter": "3", "centre_id": "x"}, "centre_id"),
    ],
)
def test_preview_refuses_bad_input_with_422_and_a_clear_message(shared_client, params, needle):
    status, body = preview(shared_client, **params)
    assert status == 422
    assert needle in body["message"]
    assert body["message"].startswith("Dữ liệu không hợp lệ")


def test_preview_of_a_letter_without_spoken_name_is_422(shared_client):
    status, body = preview(shared_client, number="Ω12", counter="3")
    assert status == 422
    assert "Ω" in body["message"] and "message_en" in body


def test_preview_of_unknown_centre_is_404(shared_client):
    status, body = preview(shared_client, number="1", counter="1", centre_id=999)
    assert status == 404
    assert "999" in body["message"]


def test_preview_follows_the_centres_voice_settings(client, demo, database, voice_dirs):
    set_voice(database, demo.centre_id, {"variant": "south", "repeat": 1})
    status, body = preview(client, number="1004", counter="1")
    assert status == 200
    assert body["text"] == (
        "Xin mời công dân có số thứ tự một ngàn không trăm lẻ bốn đến quầy số một"
    )
    assert (body["variant"], body["repeat"]) == ("south", 1)
    # Query parameters still win over the settings.
    status, body = preview(client, number="1004", counter="1", variant="north", repeat=2)
    assert (body["variant"], body["repeat"]) == ("north", 2)
    assert "một nghìn không trăm linh bốn" in body["text"]


def test_custom_template_phrases_are_synthesised_before_the_answer(
    client, demo, database, voice_dirs
):
    template = "Mời số {number} tới quầy {counter}"
    set_voice(database, demo.centre_id, {"template": template, "repeat": 1})
    status, body = preview(client, number="7", counter="2")
    assert status == 200
    assert body["text"] == "Mời số bảy tới quầy hai"
    assert body["clips"] == ["chime", "phrase/moi_so", "num/bay_hoi", "phrase/toi_quay", "num/hai"]
    if shutil.which("espeak-ng"):
        for name in body["clips"]:
            assert (voice_dirs["generated"] / f"{name}.wav").is_file(), name


def test_counter_name_is_said_when_the_centre_wants_it(client, demo, database, voice_dirs):
    set_voice(database, demo.centre_id, {"counter_name": True, "repeat": 1})
    rename_counter(database, 3, "Chứng thực")
    status, body = preview(client, number="1", counter="3")
    assert body["text"].endswith("đến quầy số ba, Chứng thực")
    assert body["clips"][-1] == "phrase/chung_thuc"
    # "Quầy 1" only repeats the number (and has a digit): it is not said.
    status, body = preview(client, number="1", counter="1")
    assert (status, body["text"][-15:]) == (200, "đến quầy số một")


def test_bad_voice_settings_fall_back_to_defaults_not_to_silence(
    client, demo, database, voice_dirs
):
    set_voice(
        database,
        demo.centre_id,
        {"template": "Số {number} quầy 3", "variant": "east", "repeat": 5},
    )
    status, body = preview(client, number="15", counter="3")
    assert status == 200
    assert body["text"].startswith("Xin mời công dân có số thứ tự mười lăm đến quầy số ba.")
    assert (body["variant"], body["repeat"]) == ("north", 2)


def test_preview_is_in_the_openapi_document(shared_client):
    spec = shared_client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/announcements/preview"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"number", "counter", "variant", "repeat", "centre_id"} <= names
    assert {p["name"] for p in operation["parameters"] if p.get("required")} == {
        "number",
        "counter",
    }
    assert "200" in operation["responses"] and "422" in operation["responses"]
    schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {
        "text",
        "clips",
        "variant",
        "repeat",
        "chime",
        "pause",
        "phrase",
        "compact",
    }


# --- voice settings (pure) -----------------------------------------------------------------


def test_voice_settings_defaults_follow_the_domain():
    settings = VoiceSettings.from_centre_settings({})
    assert (settings.variant, settings.repeat, settings.counter_name) == ("north", 2, False)
    ann = announcement_for(settings, 21, 4)
    assert ann.text.count("hai mươi mốt đến quầy số bốn") == 2


def test_template_with_counter_name_without_a_usable_name_drops_the_placeholder():
    settings = VoiceSettings(template=TEMPLATE_WITH_COUNTER_NAME, counter_name=True, repeat=1)
    assert announcement_for(settings, 5, 2, counter_name="Quầy 2").text.endswith("đến quầy số hai")
    assert announcement_for(settings, 5, 2, counter_name="Đất đai").text.endswith(
        "đến quầy số hai, Đất đai"
    )


# --- clips ---------------------------------------------------------------------------------


@needs_espeak
def test_clip_route_serves_a_wav_made_on_demand_with_cache_headers(client, demo, voice_dirs):
    response = client.get("/display/clips/num/muoi_huyen.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] in ("public, max-age=600", "max-age=600, public")
    assert response.headers.get("ETag")
    with wave.open(io.BytesIO(response.data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
        assert 0.1 < wav.getnframes() / wav.getframerate() < 2
    assert (voice_dirs["generated"] / "num" / "muoi_huyen.wav").is_file()
    assert (voice_dirs["generated"] / MANIFEST).is_file()
    again = client.get(
        "/display/clips/num/muoi_huyen.wav",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


@needs_espeak
def test_every_clip_of_a_preview_is_served(shared_client):
    _, body = preview(shared_client, number="A1023", counter="7", variant="south")
    for name in dict.fromkeys(body["clips"]):
        response = shared_client.get(f"/display/clips/{name}.wav")
        assert response.status_code == 200, name
        assert response.data[:4] == b"RIFF"


def test_recorded_clip_overrides_the_generated_one(client, demo, voice_dirs, monkeypatch):
    recorded = voice_dirs["recorded"]
    write_wav(recorded / "chime.wav", chime())
    monkeypatch.setenv("TTHCC_VOICE_CLIPS_DIR", str(recorded))
    response = client.get("/display/clips/chime.wav")
    assert response.status_code == 200
    assert response.data == (recorded / "chime.wav").read_bytes()
    assert not (voice_dirs["generated"] / "chime.wav").exists()


def test_a_centres_own_clip_folder_comes_first(client, demo, database, voice_dirs, tmp_path):
    own = tmp_path / "kinh-bac"
    write_wav(own / "phrase" / "den_quay_so.wav", chime())
    set_voice(database, demo.centre_id, {"clips_dir": str(own)})
    response = client.get(f"/display/clips/phrase/den_quay_so.wav?centre={demo.centre_id}")
    assert response.status_code == 200
    assert response.data == (own / "phrase" / "den_quay_so.wav").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/display/clips/../../etc/passwd.wav",
        "/display/clips/..%2F..%2Fetc%2Fpasswd.wav",
        "/display/clips/num/%2e%2e/%2e%2e/secret.wav",
        "/display/clips/num/..%5C..%5Cx.wav",
        "/display/clips/%2Fetc%2Fpasswd.wav",
        "/display/clips/num/muoi_huyen%00.wav",
        "/display/clips/NUM/MUOI.wav",
        "/display/clips/num/mười.wav",
        "/display/clips/manifest.wav",
        "/display/clips/num/not_a_word.wav",
        "/display/clips/num/muoi_huyen.mp3",
        "/display/clips/" + "a" * 200 + ".wav",
    ],
)
def test_clip_route_refuses_anything_but_a_known_clip_name(shared_client, path):
    # "//etc" is first redirected to "/etc" (merged slashes), which is then refused; a NUL
    # anywhere in a request is refused before routing (422, server/input_guard.py).
    response = shared_client.get(path, follow_redirects=True)
    assert response.status_code in ((422,) if "%00" in path else (400, 404))
    assert response.mimetype != "audio/wav"
    assert b"root:" not in response.data


def test_clip_route_without_espeak_is_503_with_a_message(client, demo, voice_dirs, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    response = client.get("/display/clips/num/hai.wav")
    assert response.status_code == 503
    assert "espeak-ng" in response.get_json()["message"]


def test_display_pages_render_with_their_settings(shared_client):
    page = shared_client.get("/display/?zone=A&muted=1").get_data(as_text=True)
    assert '"zone": "A"' in page and '"muted": true' in page
    assert '"centre_id": 1' in page
    audio = shared_client.get("/display/audio").get_data(as_text=True)
    assert 'id="status"' in audio and "js/audio.js" in audio
