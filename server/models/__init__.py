"""SQLAlchemy 2.x typed models. Import from here so every table is registered."""

from server.models.audit import AuditEntry, CounterEvent
from server.models.base import Base, UTCDateTime
from server.models.centre import (
    Agency,
    Centre,
    Counter,
    CounterService,
    Field,
    PriorityCategory,
    Service,
    Station,
)
from server.models.dossier import Dossier, DossierHandoff, DossierSequence
from server.models.feedback import Feedback, FeedbackEvent
from server.models.procedure import CalendarYear, Procedure
from server.models.rating import Rating
from server.models.report import ReportDay, ReportTicketFact
from server.models.ticket import NumberSequence, PrintJob, Ticket, TicketEvent
from server.models.user import ApiToken, Role, User

__all__ = [
    "Agency",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CalendarYear",
    "Centre",
    "Counter",
    "CounterEvent",
    "CounterService",
    "Dossier",
    "DossierHandoff",
    "DossierSequence",
    "Feedback",
    "FeedbackEvent",
    "Field",
    "NumberSequence",
    "PrintJob",
    "PriorityCategory",
    "Procedure",
    "Rating",
    "ReportDay",
    "ReportTicketFact",
    "Role",
    "Service",
    "Station",
    "Ticket",
    "TicketEvent",
    "UTCDateTime",
    "User",
]
