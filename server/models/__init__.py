"""SQLAlchemy 2.x typed models. Import from here so every table is registered."""

from server.models.appointment import Appointment, AppointmentNotice, CentreClosure
from server.models.audit import AuditEntry, CounterEvent
from server.models.base import Base, UTCDateTime
from server.models.centre import (
    Agency,
    Centre,
    Counter,
    CounterService,
    Field,
    KioskCredential,
    PriorityCategory,
    Service,
    Station,
)
from server.models.citizen import CitizenScan
from server.models.dossier import Dossier, DossierHandoff, DossierSequence
from server.models.feedback import Feedback, FeedbackEvent
from server.models.notify import NotifyMessage, NotifySubscription
from server.models.phone_check import PhoneVerification
from server.models.procedure import CalendarYear, Procedure
from server.models.rating import Rating
from server.models.remote import RemoteNumber
from server.models.report import (
    ReportDay,
    ReportLiveRollup,
    ReportLiveTicket,
    ReportRollup,
    ReportRollupDay,
    ReportRollupMonth,
    ReportTicketFact,
)
from server.models.sync import SyncBox, SyncId, SyncInboxEvent, SyncLink, SyncOutbox
from server.models.ticket import NumberSequence, PrintJob, Ticket, TicketEvent
from server.models.user import ApiToken, Role, User

__all__ = [
    "Agency",
    "ApiToken",
    "Appointment",
    "AppointmentNotice",
    "AuditEntry",
    "Base",
    "CalendarYear",
    "Centre",
    "CentreClosure",
    "CitizenScan",
    "Counter",
    "CounterEvent",
    "CounterService",
    "Dossier",
    "DossierHandoff",
    "DossierSequence",
    "Feedback",
    "FeedbackEvent",
    "Field",
    "KioskCredential",
    "NotifyMessage",
    "NotifySubscription",
    "NumberSequence",
    "PhoneVerification",
    "PrintJob",
    "PriorityCategory",
    "Procedure",
    "Rating",
    "RemoteNumber",
    "ReportDay",
    "ReportLiveRollup",
    "ReportLiveTicket",
    "ReportRollup",
    "ReportRollupDay",
    "ReportRollupMonth",
    "ReportTicketFact",
    "Role",
    "Service",
    "Station",
    "SyncBox",
    "SyncId",
    "SyncInboxEvent",
    "SyncLink",
    "SyncOutbox",
    "Ticket",
    "TicketEvent",
    "UTCDateTime",
    "User",
]
