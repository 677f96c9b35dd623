"""The announcement a call produces: spoken text and the exact clip sequence."""

import dataclasses
import json

import pytest

from display.voice.announcement import (
    LETTER_NAMES,
    TEMPLATE_WITH_COUNTER_NAME,
    build_announcement,
)
from display.voice.clipnames import (
    check_clip_name,
    clip_file,
    letter_clip,
    phrase_clip,
    word_slug,
)

PHRASE_1 = "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba đến quầy số ba"
CALL_1023_TO_3 = [
    "phrase/xin_moi_cong_dan_co_so_thu_tu",
    "num/mot_nang",
    "num/nghin_huyen",
    "num/khong",
    "num/tram",
    "num/hai",
    "num/muoi",
    "num/ba",
    "phrase/den_quay_so",
    "num/ba",
]


def test_call_said_twice_plays_chime_phrase_pause_phrase():
    ann = build_announcement(1023, 3)
    assert ann.clips == ("chime", *CALL_1023_TO_3, "pause", *CALL_1023_TO_3)
    assert ann.text == f"{PHRASE_1}. {PHRASE_1}."
    assert ann.repeat == 2
    assert ann.variant == "north"


def test_call_said_once_has_no_pause():
    ann = build_announcement(1023, 3, repeat=1)
    assert ann.clips == ("chime", *CALL_1023_TO_3)
    assert ann.text == PHRASE_1


def test_to_dict_is_the_preview_payload_and_json_serialisable():
    payload = build_announcement(21, 12, variant="south", repeat=1).to_dict()
    assert payload == {
        "text": "Xin mời công dân có số thứ tự hai mươi mốt đến quầy số mười hai",
        "clips": [
            "chime",
            "phrase/xin_moi_cong_dan_co_so_thu_tu",
            "num/hai",
            "num/muoi",
            "num/mot_sac",
            "phrase/den_quay_so",
            "num/muoi_huyen",
            "num/hai",
        ],
        "variant": "south",
        "repeat": 1,
        "chime": "chime",
        "pause": "pause",
        "phrase": payload["clips"][1:],
        "compact": {
            "text": "Số hai mươi mốt, quầy mười hai",
            "clips": [
                "phrase/so",
                "num/hai",
                "num/muoi",
                "num/mot_sac",
                "phrase/quay",
                "num/muoi_huyen",
                "num/hai",
            ],
        },
    }
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload


def test_compact_form_names_the_ticket_and_counter_in_the_fewest_words():
    ann = build_announcement("A1023", 3, repeat=2, counter_name="Hộ tịch")
    assert ann.compact_text == "Số a một nghìn không trăm hai mươi ba, quầy ba"
    assert ann.compact[0] == "phrase/so" and ann.compact[-2:] == ("phrase/quay", "num/ba")
    assert "chime" not in ann.compact and "pause" not in ann.compact
    # One saying of the full phrase: what the display repeats when the line is idle.
    assert ann.clips == ("chime", *ann.phrase, "pause", *ann.phrase)
    assert ann.all_clips == tuple(dict.fromkeys((*ann.clips, *ann.compact)))


def test_text_never_contains_digits():
    for number in (0, 7, 105, 1001, 2004, 9999, "A12", "B0007"):
        ann = build_announcement(number, "12")
        assert not any(ch.isdigit() for ch in ann.text), ann.text


def test_southern_variant_changes_the_words_and_clips():
    ann = build_announcement(2004, 4, variant="south", repeat=1)
    assert ann.text.endswith("hai ngàn không trăm lẻ bốn đến quầy số bốn")
    assert "num/ngan_huyen" in ann.clips and "num/le_hoi" in ann.clips


def test_letter_prefix_is_spelled_by_name():
    ann = build_announcement("A1023", 3, repeat=1)
    assert ann.text == PHRASE_1.replace("thứ tự một", "thứ tự a một")
    assert ann.clips[1:3] == ("phrase/xin_moi_cong_dan_co_so_thu_tu", "letter/a")
    b = build_announcement("b-007", "C2", repeat=1)
    assert "số thứ tự bê bảy đến quầy số xê hai" in b.text
    assert b.clips[2:4] == ("letter/b", "num/bay_hoi")


def test_string_number_is_read_like_the_int():
    assert build_announcement("0105", "3") == build_announcement(105, 3)


def test_counter_name_template_adds_the_name_as_a_phrase_clip():
    ann = build_announcement(
        15, 2, template=TEMPLATE_WITH_COUNTER_NAME, counter_name="Hộ tịch", repeat=1
    )
    assert ann.text == "Xin mời công dân có số thứ tự mười lăm đến quầy số hai, Hộ tịch"
    assert ann.clips[-2:] == ("num/hai", "phrase/ho_tich")
    assert dict(ann.clip_texts)["phrase/ho_tich"] == "Hộ tịch"


def test_custom_template_literals_become_phrase_clips():
    ann = build_announcement(5, 1, template="Mời số {number} tới quầy {counter}.", repeat=2)
    assert ann.text == "Mời số năm tới quầy một. Mời số năm tới quầy một."
    assert ann.clips == (
        "chime",
        "phrase/moi_so",
        "num/nam",
        "phrase/toi_quay",
        "num/mot_nang",
        "pause",
        "phrase/moi_so",
        "num/nam",
        "phrase/toi_quay",
        "num/mot_nang",
    )


def test_template_punctuation_stays_in_text_but_not_in_clip_texts():
    ann = build_announcement(5, 1, template="Số {number}, mời đến quầy {counter}!", repeat=2)
    assert ann.text == "Số năm, mời đến quầy một! Số năm, mời đến quầy một!"
    assert dict(ann.clip_texts)["phrase/moi_den_quay"] == "mời đến quầy"


def test_clip_texts_cover_every_clip_but_chime_and_pause():
    ann = build_announcement("A24", 1, variant="north")
    texts = dict(ann.clip_texts)
    assert set(texts) == set(ann.all_clips) - {"chime", "pause"}
    assert texts["num/tu"] == "tư"
    assert texts["letter/a"] == "a"
    assert texts["phrase/den_quay_so"] == "đến quầy số"


def test_announcement_is_frozen():
    ann = build_announcement(1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ann.text = "x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": 10000, "counter": 1}, "out of range"),
        ({"number": 1, "counter": -1}, "out of range"),
        ({"number": "A12345", "counter": 1}, "not a ticket code"),
        ({"number": "Ä1", "counter": 1}, "no spoken name for letter"),
        ({"number": 1, "counter": 1, "repeat": 3}, "repeat must be 1 or 2"),
        ({"number": 1, "counter": 1, "template": "Số {number} quầy {desk}"}, "unknown placeholder"),
        ({"number": 1, "counter": 1, "template": "Quầy {counter}"}, r"must contain \{number\}"),
        ({"number": 1, "counter": 1, "template": "Số {number} quầy 3"}, "has digits"),
        ({"number": 1, "counter": 1, "template": TEMPLATE_WITH_COUNTER_NAME}, "no counter_name"),
        ({"number": 1, "counter": 1, "variant": "central"}, "unknown variant"),
    ],
)
def test_bad_input_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_announcement(**kwargs)


def test_every_letter_name_has_a_distinct_clip():
    names = [letter_clip(letter) for letter in LETTER_NAMES]
    assert len(set(names)) == len(names)
    assert letter_clip("Đ") == "letter/dd" and letter_clip("d") == "letter/d"


def test_slugs_keep_tones_for_words_and_drop_them_for_phrases():
    assert word_slug("nghìn") == "nghin_huyen"
    assert word_slug("lẻ") == "le_hoi"
    assert phrase_clip("  Xin mời công dân có số thứ tự ") == "phrase/xin_moi_cong_dan_co_so_thu_tu"
    long = phrase_clip("rất " * 40)
    assert len(long) <= len("phrase/") + 80 and check_clip_name(long)


@pytest.mark.parametrize("name", ["../etc/passwd", "num/Muoi", "num/", "/chime", "num/a b"])
def test_clip_names_that_could_escape_the_folder_are_refused(name, tmp_path):
    with pytest.raises(ValueError, match="invalid clip name"):
        clip_file(tmp_path, name)
