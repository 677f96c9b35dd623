"""Announcements: what the lobby display will say for a call, as words and as clips."""

from __future__ import annotations

import logging

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from display.speech import VoiceSettings, announcement_for, ensure_clips
from display.voice.clips import VoiceError
from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.domain.errors import InvalidRequest
from server.models import Centre, Counter
from server.runtime import db

logger = logging.getLogger(__name__)

blp = Blueprint("announcements", __name__, description="Spoken announcements of the lobby display")

_CODE = validate.Regexp(
    r"^\s*(?:[^\W\d_]{1,4}[\s.\-]?)?\d{1,4}\s*$",
    error="expected a ticket code: optional letters then 1–4 digits (1023, A15, B-7)",
)


class PreviewQuery(BaseSchema):
    number = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=12), _CODE],
        metadata={"description": "Ticket number as displayed, e.g. 1023 or A15"},
    )
    counter = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=12), _CODE],
        metadata={"description": "Counter number, e.g. 3"},
    )
    variant = fields.String(
        load_default=None,
        validate=validate.OneOf(["north", "south"]),
        metadata={"description": "Number reading; default: the centre's setting (north)"},
    )
    repeat = fields.Integer(
        load_default=None,
        strict=False,
        validate=validate.OneOf([1, 2]),
        metadata={"description": "Times the phrase is said; default: the centre's setting (2)"},
    )
    centre_id = fields.Integer(
        load_default=None, metadata={"description": "Default: the configured default centre"}
    )


class CompactOut(BaseSchema):
    text = fields.String(required=True)
    clips = fields.List(fields.String(), required=True)


class AnnouncementOut(BaseSchema):
    text = fields.String(
        required=True, metadata={"description": "Exactly what is said, numbers as words"}
    )
    clips = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Clip names in play order; each is /display/clips/<name>.wav"},
    )
    variant = fields.String(required=True, metadata={"description": "north or south"})
    repeat = fields.Integer(required=True)
    chime = fields.String(required=True, metadata={"description": "The chime's clip"})
    pause = fields.String(required=True, metadata={"description": "The pause between repeats"})
    phrase = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "One saying of the phrase (no chime, no repeat)"},
    )
    compact = fields.Nested(
        CompactOut,
        required=True,
        metadata={"description": "What is said while other calls wait: 'Số …, quầy …'"},
    )


def centre_voice_settings(centre_id: int) -> VoiceSettings:
    """The voice settings of a centre (``Centre.settings["voice"]``, defaults filled in)."""
    centre = db().session.get(Centre, centre_id)
    return VoiceSettings.from_centre_settings(centre.settings if centre else None)


def _counter_name(centre_id: int, counter: str) -> str | None:
    if not counter.strip().isdigit():
        return None
    row = (
        db()
        .session.execute(
            select(Counter).where(Counter.centre_id == centre_id, Counter.number == int(counter))
        )
        .scalar_one_or_none()
    )
    return row.name if row is not None else None


@blp.route("/announcements/preview")
class AnnouncementPreviewView(MethodView):
    @blp.arguments(PreviewQuery, location="query")
    @blp.response(200, AnnouncementOut)
    @blp.alt_response(404, description="Unknown centre")
    @blp.alt_response(422, description="A number or counter that cannot be read aloud")
    def get(self, args: dict) -> dict:
        """What the display will say when `counter` calls ticket `number`.

        Uses the centre's voice settings (template, variant, repeat, counter name).
        Clips the centre lacks are synthesised with espeak-ng before answering, so the
        display can fetch every clip of the answer right away.
        """
        centre_id = resolve_centre_id(args["centre_id"])
        settings = centre_voice_settings(centre_id)
        counter_name = _counter_name(centre_id, args["counter"]) if settings.counter_name else None
        try:
            announcement = announcement_for(
                settings,
                args["number"],
                args["counter"],
                counter_name=counter_name,
                variant=args["variant"],
                repeat=args["repeat"],
            )
        except ValueError as exc:
            raise InvalidRequest(
                f"Không đọc được số này: {exc}", f"cannot announce: {exc}"
            ) from exc
        try:
            ensure_clips(announcement, settings.clip_dirs())
        except (VoiceError, OSError) as exc:
            # The words are still right; the display will report the clips it cannot get.
            logger.warning("voice clips for %s unavailable: %s", announcement.clips, exc)
        return announcement.to_dict()
