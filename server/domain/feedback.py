"""Feedback and petitions (phản ánh, kiến nghị): states and transitions. Pure Python.

received → assigned (to a civil servant who handles it; may be re-assigned) → answered
→ closed. A case is handled once it is answered: the due date applies until then.
"""

from __future__ import annotations

from enum import StrEnum

from server.domain.errors import IllegalTransition


class FeedbackStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


class FeedbackAction(StrEnum):
    ASSIGN = "assign"
    ANSWER = "answer"
    CLOSE = "close"


class FeedbackAbout(StrEnum):
    PROCEDURE = "procedure"  #: a procedure rule (quy định hành chính)
    STAFF = "staff"  #: a civil servant's conduct (hành vi của cán bộ, công chức)
    OTHER = "other"


_TRANSITIONS: dict[tuple[FeedbackStatus, FeedbackAction], FeedbackStatus] = {
    (FeedbackStatus.RECEIVED, FeedbackAction.ASSIGN): FeedbackStatus.ASSIGNED,
    (FeedbackStatus.ASSIGNED, FeedbackAction.ASSIGN): FeedbackStatus.ASSIGNED,
    (FeedbackStatus.ASSIGNED, FeedbackAction.ANSWER): FeedbackStatus.ANSWERED,
    (FeedbackStatus.ANSWERED, FeedbackAction.CLOSE): FeedbackStatus.CLOSED,
}

#: Not yet answered: the due date still applies.
OPEN = frozenset({FeedbackStatus.RECEIVED, FeedbackStatus.ASSIGNED})

STATUS_LABELS = {
    FeedbackStatus.RECEIVED: "Đã tiếp nhận",
    FeedbackStatus.ASSIGNED: "Đang xử lý",
    FeedbackStatus.ANSWERED: "Đã trả lời",
    FeedbackStatus.CLOSED: "Đã đóng",
}


def next_status(status: FeedbackStatus, action: FeedbackAction) -> FeedbackStatus:
    try:
        return _TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(
            f"Phản ánh đang ở trạng thái «{STATUS_LABELS[status]}», không thể {action.value}.",
            f"cannot {action.value} feedback that is {status.value}",
        ) from None


def allowed_actions(status: FeedbackStatus) -> list[FeedbackAction]:
    return [action for (state, action) in _TRANSITIONS if state is status]
