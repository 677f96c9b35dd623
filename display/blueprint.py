"""The lobby TV page, the audio-only page, and the voice clips both of them play."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, send_file

from display.speech import VoiceSettings, find_clip
from display.voice.clips import ClipNotFound, VoiceError

logger = logging.getLogger(__name__)

bp = Blueprint(
    "display",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Browsers and proxies may keep a clip this long; after that they revalidate (ETag), so a
#: recorded clip dropped into the folder is heard within ten minutes.
CLIP_MAX_AGE = 600
_MAX_CLIP_NAME = 120


def _seconds(name: str, default: float, *, zero: bool = False) -> float:
    """A query parameter in seconds; a missing, bad or out-of-range value is the default."""
    value = request.args.get(name, type=float)
    if value is None or value != value or value < 0 or (value == 0 and not zero) or value > 86400:
        return default
    return value


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _page_args() -> dict[str, Any]:
    """The page's settings (docs/display.md, "Page parameters"), for its config block."""
    from server.api.public.centres import resolve_centre_id

    config = {
        "centre_id": resolve_centre_id(request.args.get("centre", type=int)),
        "zone": request.args.get("zone", default="").strip()[:40],
        "muted": _flag("muted", False),
        # A call not begun this many seconds after it was made is shown, not said (0: never).
        "deadline": _seconds("deadline", 8.0, zero=True),
        "watchdog": max(10.0, _seconds("watchdog", 60.0)),
        "slides": _flag("slides", True),
        "slide_idle": max(1.0, _seconds("slide_idle", 20.0)),
        "slide_seconds": max(1.0, _seconds("slide_seconds", 12.0)),
    }
    # Not "config": that name is Flask's app.config in every template.
    return {"page_config": config, "zone": config["zone"]}


@bp.get("/")
def display_page() -> str:
    """The TV page. ?centre=ID binds it to a centre; ?zone=Z to a subset of counters."""
    return render_template("display/display.html", **_page_args())


@bp.get("/audio")
def audio_page() -> str:
    """Announcements only, for a PC wired to the hall's speakers (no picture)."""
    return render_template("display/audio.html", **_page_args())


@bp.get("/clips/<path:name>.wav")
def clip(name: str) -> Any:
    """One voice clip: the centre's recorded one, else the generated one (made if missing)."""
    if len(name) > _MAX_CLIP_NAME:
        abort(404)
    centre_id = request.args.get("centre", type=int)
    if centre_id is not None:
        from server.api.public.announcements import centre_voice_settings

        settings = centre_voice_settings(centre_id)
    else:
        settings = VoiceSettings()
    try:
        path = find_clip(name, settings.clip_dirs())
    except ValueError:
        abort(404)  # not a clip name: "..", "%2e", absolute paths never reach the disk
    except ClipNotFound:
        abort(404)
    except (VoiceError, OSError) as exc:
        logger.warning("voice clip %s unavailable: %s", name, exc)
        response = jsonify(
            message="Không tạo được âm thanh (espeak-ng). / Clip could not be generated.",
            message_en=str(exc),
        )
        response.status_code = 503
        return response
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=CLIP_MAX_AGE)
    response.cache_control.public = True
    return response
