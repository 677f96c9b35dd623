"""Ticket states and the transitions between them.

waiting → called → serving → done; called → no_show (can be put back in line); recall keeps
a ticket called; transfer moves it to another service's line keeping its issue time.
"""

from __future__ import annotations

from enum import StrEnum

from server.domain.errors import IllegalTransition


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"


class TicketAction(StrEnum):
    ISSUE = "issue"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"


#: Tickets that hold their number in the hall (a wrapped number must skip these).
ACTIVE_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING})
#: Tickets a counter is dealing with right now.
AT_COUNTER_STATUSES = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})
FINAL_STATUSES = frozenset({TicketStatus.DONE})

_TRANSITIONS: dict[tuple[TicketStatus, TicketAction], TicketStatus] = {
    (TicketStatus.WAITING, TicketAction.CALL): TicketStatus.CALLED,
    (TicketStatus.NO_SHOW, TicketAction.CALL): TicketStatus.CALLED,
    (TicketStatus.CALLED, TicketAction.RECALL): TicketStatus.CALLED,
    (TicketStatus.CALLED, TicketAction.START): TicketStatus.SERVING,
    (TicketStatus.CALLED, TicketAction.FINISH): TicketStatus.DONE,
    (TicketStatus.SERVING, TicketAction.FINISH): TicketStatus.DONE,
    (TicketStatus.CALLED, TicketAction.NO_SHOW): TicketStatus.NO_SHOW,
    (TicketStatus.NO_SHOW, TicketAction.REQUEUE): TicketStatus.WAITING,
    (TicketStatus.WAITING, TicketAction.TRANSFER): TicketStatus.WAITING,
    (TicketStatus.CALLED, TicketAction.TRANSFER): TicketStatus.WAITING,
    (TicketStatus.SERVING, TicketAction.TRANSFER): TicketStatus.WAITING,
}

_STATUS_VI = {
    TicketStatus.WAITING: "đang chờ",
    TicketStatus.CALLED: "đã được gọi",
    TicketStatus.SERVING: "đang được phục vụ",
    TicketStatus.DONE: "đã hoàn thành",
    TicketStatus.NO_SHOW: "vắng mặt",
}

_ACTION_VI = {
    TicketAction.CALL: "gọi",
    TicketAction.RECALL: "gọi lại",
    TicketAction.START: "bắt đầu phục vụ",
    TicketAction.FINISH: "kết thúc",
    TicketAction.NO_SHOW: "đánh dấu vắng mặt",
    TicketAction.REQUEUE: "xếp lại hàng",
    TicketAction.TRANSFER: "chuyển dịch vụ",
}


def status_label_vi(status: TicketStatus) -> str:
    return _STATUS_VI[status]


def next_status(current: TicketStatus, action: TicketAction) -> TicketStatus:
    """The status after `action`, or IllegalTransition with a message staff can act on."""
    try:
        return _TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(
            f"Không thể {_ACTION_VI.get(action, action)} phiếu {_STATUS_VI[current]}.",
            f"cannot {action.value} a ticket that is {current.value}",
        ) from None


def allowed_actions(current: TicketStatus) -> list[TicketAction]:
    """Actions a counter may take on a ticket in `current` (drives the counter page buttons)."""
    return [action for (status, action) in _TRANSITIONS if status == current]
