"""The centre and its configuration: fields, services, counters, priority categories, stations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from server.models.user import User

from server.models.base import Base, UTCDateTime


class Centre(Base):
    """One physical service centre (Trung tâm). A deployment may run many (a province)."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Weekly opening hours ({"mon": [["07:30", "11:30"], …]}, server.domain.hours);
    #: None: the centre's services issue at any time.
    opening_hours: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: commune (a commune or ward centre, cấp xã) or provincial (a provincial unit, cấp
    #: tỉnh): the province's reports rank each kind apart.
    kind: Mapped[str] = mapped_column(String(20), default="commune", server_default="commune")
    #: Where the centre is (decimal degrees, WGS 84): "centres near you" on the public page.
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)

    fields: Mapped[list[Field]] = relationship(
        back_populates="centre", order_by="Field.position", cascade="all, delete-orphan"
    )
    services: Mapped[list[Service]] = relationship(
        back_populates="centre", order_by="Service.position", cascade="all, delete-orphan"
    )
    counters: Mapped[list[Counter]] = relationship(
        back_populates="centre", order_by="Counter.number", cascade="all, delete-orphan"
    )


#: Centre kinds, with their Vietnamese names.
CENTRE_KINDS = {"commune": "Trung tâm cấp xã, phường", "provincial": "Đơn vị cấp tỉnh"}


class Agency(Base):
    """A department that seconds civil servants to the centre (Cơ quan cử đến)."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Field(Base):
    """A group of procedures (Lĩnh vực): the kiosk's first screen."""

    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    centre: Mapped[Centre] = relationship(back_populates="fields")
    services: Mapped[list[Service]] = relationship(
        back_populates="field", order_by="Service.position"
    )


class Service(Base):
    """What a ticket queues for; has its own number range and priority policy."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(4), default="")
    range_start: Mapped[int] = mapped_column(Integer, default=1)
    range_end: Mapped[int] = mapped_column(Integer, default=999)
    priority_policy: Mapped[str] = mapped_column(String(20), default="interleave")
    interleave_every: Mapped[int] = mapped_column(Integer, default=3)
    wait_threshold_minutes: Mapped[int] = mapped_column(Integer, default=30)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Its own weekly hours, replacing the centre's (None: the centre's).
    opening_hours: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: No tickets from this local time on ("HH:MM", e.g. "15:00"; None: until closing).
    issue_cutoff: Mapped[str | None] = mapped_column(String(5), nullable=True)
    #: At most this many tickets a local day (None: no cap).
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Today's number may be taken from a phone (server.services.remote).
    remote_issuing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Remote numbers one phone may take for this service in a local day.
    remote_per_phone: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: The lane of people filing many dossiers (organisations, businesses, agents): its
    #: numbers come from its own range and are called only at the counters assigned to it,
    #: also out of turn (docs/remote.md, "Bulk filers' lane").
    bulk_lane: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Citizens may book a time (server.services.appointments).
    appointments: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Minutes per citizen for the slots (None: the centre's setting, else 15).
    appointment_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)

    centre: Mapped[Centre] = relationship(back_populates="services")
    field: Mapped[Field] = relationship(back_populates="services")
    counter_links: Mapped[list[CounterService]] = relationship(back_populates="service")


class PriorityCategory(Base):
    """Who may use the priority line (người cao tuổi, người khuyết tật, …): data, not code."""

    __tablename__ = "priority_categories"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


def counter_label(number: int, name: str | None) -> str:
    """What citizens read for a counter: its name, or "Quầy <number>" when it has none."""
    return name or f"Quầy {number}"


class Counter(Base):
    """A service desk (Quầy), serving several services in a set order."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("centre_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    zone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="closed")
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    status_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    current_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", use_alter=True), nullable=True
    )
    #: The station whose printer prints this counter's dossier slips (None: PDF only).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), nullable=True)

    centre: Mapped[Centre] = relationship(back_populates="counters")
    staff: Mapped[User | None] = relationship("User", foreign_keys=[staff_id], lazy="selectin")
    service_links: Mapped[list[CounterService]] = relationship(
        back_populates="counter", order_by="CounterService.position", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return counter_label(self.number, self.name)


class CounterService(Base):
    """A service a counter serves, with its place in the counter's order."""

    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    counter: Mapped[Counter] = relationship(back_populates="service_links")
    service: Mapped[Service] = relationship(back_populates="counter_links")


class Station(Base):
    """A PC with attached devices (kiosk, counter, display); its agent holds a token."""

    __tablename__ = "stations"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    zone: Mapped[str] = mapped_column(String(40), default="")
    has_printer: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    token_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    device_states: Mapped[dict] = mapped_column(JSON, default=dict)


class KioskCredential(Base):
    """What proves a kiosk page runs on a provisioned kiosk PC (docs/security.md).

    A ``code`` is issued by an administrator and exchanged once, on the kiosk PC, for a
    ``page`` credential kept there in an HttpOnly cookie. Only SHA-256 hashes are stored.
    A ``reusable`` code (the demo's, documented in the README) may be exchanged again.
    """

    __tablename__ = "kiosk_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # "code" or "page"
    secret_hash: Mapped[str] = mapped_column(String(128), unique=True)
    reusable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
