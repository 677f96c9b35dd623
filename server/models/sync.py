"""Centre box → hub delivery (issue 13, item 2; docs/sync.md).

On a centre box: `sync_link` (one row: which box this database is, the hub's acknowledged
high-water mark, the link state) and `sync_outbox` (one row per captured change, numbered by
a monotonically increasing `seq`, written by database triggers in the same transaction as
the change). On the hub: `sync_boxes` (the boxes allowed to deliver, each for one centre,
with its token and the highest sequence stored) and `sync_inbox` (what the boxes delivered,
unique per (box, seq): a replayed batch cannot store an event twice).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class SyncLink(Base):
    """This database is centre box `box_id`: while the row exists, changes are captured."""

    __tablename__ = "sync_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[str] = mapped_column(String(40))
    #: The code of the centre whose hall this box runs (the hub checks it against the box).
    centre_code: Mapped[str] = mapped_column(String(40))
    #: The highest `sync_outbox.seq` the hub acknowledged as stored.
    acked_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: The version (SHA-256 of the document) of the hub's configuration last applied.
    config_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    #: SHA-256 of the box's own configuration right after applying the hub's: when it
    #: differs now, hub-owned configuration was edited here and the next pull overwrites it.
    config_local: Mapped[str] = mapped_column(String(64), default="", server_default="")
    config_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    config_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class SyncOutbox(Base):
    """One captured change of a delivered table (written by triggers, never by code)."""

    __tablename__ = "sync_outbox"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}  # a seq is never reused

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The table changed (ticket_events, ratings, …) and how (insert | update).
    table_name: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(10))
    row_id: Mapped[int] = mapped_column(Integer)
    #: When the change was captured, as text (CURRENT_TIMESTAMP in the trigger, UTC).
    captured_at: Mapped[str] = mapped_column(String(32))


class SyncBox(Base):
    """A centre box allowed to deliver to this hub, for one centre only."""

    __tablename__ = "sync_boxes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    #: Highest sequence stored from this box: the next batch must start right after it.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Highest sequence projected into the hub's own tables (tickets, ratings …).
    projected_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Why projection stopped at `projected_seq` ("" while it keeps up).
    project_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class SyncInboxEvent(Base):
    """One change delivered by a box, stored exactly once."""

    __tablename__ = "sync_inbox"
    __table_args__ = (UniqueConstraint("box_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[str] = mapped_column(ForeignKey("sync_boxes.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    table_name: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(10))
    #: Unique across centres: "<box id>/<table>/<row id on the box>".
    ref: Mapped[str] = mapped_column(String(120))
    captured_at: Mapped[str] = mapped_column(String(32))
    #: The row as the box had it when it pushed (None: the row was deleted since).
    payload: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: Natural keys of the configuration the row refers to ({"service_id": "HT", …}).
    keys: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def row_id(self) -> int:
        """The row's id on the box (the last part of `ref`)."""
        return int(self.ref.rsplit("/", 1)[1])


class SyncId(Base):
    """A box's row id → the hub's row id for the same row (the hub's own sequence)."""

    __tablename__ = "sync_ids"

    box_id: Mapped[str] = mapped_column(
        ForeignKey("sync_boxes.id", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    box_row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hub_id: Mapped[int] = mapped_column(Integer)
