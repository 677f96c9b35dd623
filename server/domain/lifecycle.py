"""The lifecycle of a ticket and of the counter serving it: pure decisions, no I/O.

Every operation of the hall is a function of (state, command, now) → `Decision`: the new
state of the counter and of the tickets it touched, and the domain events saying what
happened. The store (`server.services.lifecycle`) loads the state under locks (counter
first, then tickets), asks here, and writes back what this module decided; no other code
decides a transition. docs/lifecycle.md draws the states.

Tickets: waiting → called → serving → done (with an outcome); called → no_show, which is
put back in line (requeue) or called again by number; waiting/called/serving → waiting in
another service's line (transfer). Counters: closed → open ⇄ paused → closed; an open or
paused counter holds at most one current ticket, which is called or serving there.

"Call next" never decides what happened to a citizen who was only called: the counter says
(`Resolution`), except after the recalls (called `Rules.max_calls` times → no-show). A
ticket being served is finished as served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from server.domain.errors import (
    CounterBusy,
    CurrentNotStarted,
    IllegalTransition,
    NotFound,
    NoTicketWaiting,
)


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    #: Taken back before its call: a remote or booked number of a day the centre closed
    #: (server.services.appointment_closures); never a counter's decision.
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How a finished ticket ended: reports and scorecards count from this."""

    SERVED = "served"
    SUPPLEMENT = "supplement"
    REDIRECTED = "redirected"
    LEFT = "left"


class Resolution(StrEnum):
    """What happened to the counter's current ticket when the counter calls another."""

    SERVED = "served"
    SUPPLEMENT = "supplement"
    REDIRECTED = "redirected"
    LEFT = "left"
    NO_SHOW = "no_show"

    @property
    def outcome(self) -> Outcome | None:
        return None if self is Resolution.NO_SHOW else Outcome(self.value)


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class TicketAction(StrEnum):
    ISSUE = "issue"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"
    CANCEL = "cancel"


class CounterAction(StrEnum):
    OPEN = "open"
    PAUSE = "pause"
    CLOSE = "close"
    #: Only the current ticket changed (a call, a finish…): no counter_events row.
    SEAT = "seat"


#: Tickets that hold their number in the hall (a wrapped number must skip these).
ACTIVE_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING})
#: Tickets a counter is dealing with right now.
AT_COUNTER_STATUSES = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})
FINAL_STATUSES = frozenset({TicketStatus.DONE})

STATUS_VI = {
    TicketStatus.WAITING: "đang chờ",
    TicketStatus.CALLED: "đã được gọi",
    TicketStatus.SERVING: "đang được phục vụ",
    TicketStatus.DONE: "đã hoàn thành",
    TicketStatus.NO_SHOW: "vắng mặt",
    TicketStatus.CANCELLED: "đã hủy",
}
OUTCOME_VI = {
    Outcome.SERVED: "Đã giải quyết",
    Outcome.SUPPLEMENT: "Hẹn bổ sung hồ sơ",
    Outcome.REDIRECTED: "Hướng dẫn sang nơi khác",
    Outcome.LEFT: "Công dân đã về",
}
OUTCOME_EN = {
    Outcome.SERVED: "Served",
    Outcome.SUPPLEMENT: "Needs supplement",
    Outcome.REDIRECTED: "Redirected",
    Outcome.LEFT: "Citizen left",
}
_ACTION_VI = {
    TicketAction.CALL: "gọi",
    TicketAction.RECALL: "gọi lại",
    TicketAction.START: "bắt đầu phục vụ",
    TicketAction.FINISH: "kết thúc",
    TicketAction.NO_SHOW: "đánh dấu vắng mặt",
    TicketAction.REQUEUE: "xếp lại hàng",
    TicketAction.TRANSFER: "chuyển dịch vụ",
    TicketAction.CANCEL: "hủy",
}

#: The status each action may start from, and where it leads.
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
    (TicketStatus.WAITING, TicketAction.CANCEL): TicketStatus.CANCELLED,
}
#: Actions the system takes, never offered to a counter.
_SYSTEM_ACTIONS = frozenset({TicketAction.CANCEL})


def status_label_vi(status: TicketStatus) -> str:
    return STATUS_VI[status]


def next_status(current: TicketStatus, action: TicketAction) -> TicketStatus:
    """The status after `action`, or IllegalTransition with a message staff can act on."""
    try:
        return _TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(
            f"Không thể {_ACTION_VI.get(action, action)} phiếu {STATUS_VI[current]}.",
            f"cannot {action.value} a ticket that is {current.value}",
        ) from None


def allowed_actions(current: TicketStatus) -> list[TicketAction]:
    """Actions a counter may take on a ticket in `current` (drives the counter page buttons)."""
    return [
        action
        for (status, action) in _TRANSITIONS
        if status == current and action not in _SYSTEM_ACTIONS
    ]


# --- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketState:
    """What the lifecycle knows of a ticket."""

    id: int
    number: str
    service_id: int
    status: TicketStatus
    counter_id: int | None = None
    staff_id: int | None = None
    call_count: int = 0
    transfer_count: int = 0
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True)
class CounterState:
    """What the lifecycle knows of a counter."""

    id: int
    number: int
    label: str
    status: CounterStatus
    staff_id: int | None = None
    current_ticket_id: int | None = None
    status_reason: str = ""
    status_since: datetime | None = None


@dataclass(frozen=True)
class Hall:
    """The part of the hall a command touches: one counter (or none) and some tickets."""

    counter: CounterState | None = None
    tickets: Mapping[int, TicketState] = field(default_factory=dict)

    def ticket(self, ticket_id: int) -> TicketState:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise NotFound(
                f"Không tìm thấy phiếu số {ticket_id}.", f"ticket {ticket_id} not found"
            ) from None

    def with_ticket(self, ticket: TicketState) -> Hall:
        return Hall(self.counter, {**self.tickets, ticket.id: ticket})

    def with_counter(self, counter: CounterState) -> Hall:
        return Hall(counter, self.tickets)


@dataclass(frozen=True)
class Rules:
    """A centre's lifecycle settings."""

    #: A ticket called this many times (the call and its recalls) and still not started
    #: is absent: "call next" marks it no-show without asking.
    max_calls: int = 3

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Rules:
        """The rules of a centre from its `settings` (missing keys: the defaults)."""
        settings = settings or {}
        return cls(max_calls=max(1, int(settings.get("max_calls", cls.max_calls))))


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketMoved:
    """A ticket changed: `ticket` is its state after `action`."""

    action: TicketAction
    ticket: TicketState
    from_status: TicketStatus | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterMoved:
    """A counter changed: `counter` is its state after `action`."""

    action: CounterAction
    counter: CounterState
    from_status: CounterStatus
    from_staff_id: int | None
    #: Status or staff changed (an on-duty record); SEAT alone only moves the current ticket.
    duty_changed: bool


Event = TicketMoved | CounterMoved


@dataclass(frozen=True)
class Decision:
    """The hall after a command, and what happened, in order."""

    hall: Hall
    events: tuple[Event, ...] = ()

    def then(self, other: Decision) -> Decision:
        return Decision(other.hall, self.events + other.events)

    @property
    def queue_changed(self) -> bool:
        """Someone joined or left a line: the displays' waiting counts change."""
        return any(
            isinstance(e, TicketMoved)
            and e.action
            in (TicketAction.CALL, TicketAction.REQUEUE, TicketAction.TRANSFER, TicketAction.CANCEL)
            for e in self.events
        )


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallNext:
    """Give the counter `candidate`, the head of its lines (None: nobody waits).

    `resolve` says what happened to the ticket still at the counter, if the counter knows;
    `resolve_for` names that ticket: an answer about a ticket that is no longer the
    counter's (another press got there first) is ignored, never applied to the next one.
    """

    candidate_id: int | None
    actor_staff_id: int | None = None
    resolve: Resolution | None = None
    resolve_for: int | None = None


@dataclass(frozen=True)
class CallTicket:
    """Call a specific ticket (a waiting one out of turn, or a no-show who came back)."""

    ticket_id: int
    actor_staff_id: int | None = None
    resolve: Resolution | None = None
    resolve_for: int | None = None


@dataclass(frozen=True)
class Recall:
    ticket_id: int


@dataclass(frozen=True)
class Start:
    ticket_id: int


@dataclass(frozen=True)
class Finish:
    ticket_id: int
    outcome: Outcome = Outcome.SERVED


@dataclass(frozen=True)
class MarkNoShow:
    ticket_id: int


@dataclass(frozen=True)
class Requeue:
    ticket_id: int


@dataclass(frozen=True)
class Cancel:
    """A waiting number taken back (a closed day): it leaves its line, never called."""

    ticket_id: int


@dataclass(frozen=True)
class Transfer:
    ticket_id: int
    service_id: int


@dataclass(frozen=True)
class OpenCounter:
    """Open (or resume) the counter; `staff_id` takes it (None: a supervisor acting)."""

    staff_id: int | None = None
    #: The label of another counter of the centre this staff member holds, if any.
    holds_other: str | None = None


@dataclass(frozen=True)
class PauseCounter:
    reason: str = ""


@dataclass(frozen=True)
class CloseCounter:
    pass


Command = (
    CallNext
    | CallTicket
    | Recall
    | Start
    | Finish
    | MarkNoShow
    | Requeue
    | Cancel
    | Transfer
    | OpenCounter
    | PauseCounter
    | CloseCounter
)


def decide(hall: Hall, command: Command, now: datetime, rules: Rules = Rules()) -> Decision:
    """The hall after `command` at `now`, or a DomainError saying why it is refused."""
    match command:
        case CallNext() | CallTicket():
            return _call(hall, command, now, rules)
        case Recall(ticket_id):
            ticket = hall.ticket(ticket_id)
            moved = _move(ticket, TicketAction.RECALL, call_count=ticket.call_count + 1)
            moved = replace(moved, called_at=now)
            return _ticket_decision(hall, ticket, moved, TicketAction.RECALL)
        case Start(ticket_id):
            ticket = hall.ticket(ticket_id)
            moved = replace(_move(ticket, TicketAction.START), started_at=now)
            return _ticket_decision(hall, ticket, moved, TicketAction.START)
        case Finish(ticket_id, outcome):
            return _finish(hall, hall.ticket(ticket_id), outcome, now)
        case MarkNoShow(ticket_id):
            return _no_show(hall, hall.ticket(ticket_id), now)
        case Requeue(ticket_id):
            ticket = hall.ticket(ticket_id)
            moved = _move(ticket, TicketAction.REQUEUE, counter_id=None)
            return _ticket_decision(hall, ticket, moved, TicketAction.REQUEUE)
        case Cancel(ticket_id):
            ticket = hall.ticket(ticket_id)
            moved = _move(ticket, TicketAction.CANCEL, counter_id=None)
            return _ticket_decision(hall, ticket, moved, TicketAction.CANCEL)
        case Transfer(ticket_id, service_id):
            return _transfer(hall, hall.ticket(ticket_id), service_id, now)
        case OpenCounter():
            return _open(hall, command, now)
        case PauseCounter(reason):
            return _pause(hall, reason, now)
        case CloseCounter():
            return _close(hall, now)
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover


# --- tickets -----------------------------------------------------------------------------


def _move(ticket: TicketState, action: TicketAction, **changes: Any) -> TicketState:
    return replace(ticket, status=next_status(ticket.status, action), **changes)


def _ticket_decision(
    hall: Hall, before: TicketState, after: TicketState, action: TicketAction, **data: Any
) -> Decision:
    return Decision(hall.with_ticket(after), (TicketMoved(action, after, before.status, data),))


def _leave_counter(hall: Hall, ticket: TicketState, now: datetime) -> Decision:
    """The counter lets go of `ticket` if it is the counter's current one."""
    counter = hall.counter
    if counter is None or counter.current_ticket_id != ticket.id:
        return Decision(hall)
    after = replace(counter, current_ticket_id=None)
    return Decision(
        hall.with_counter(after),
        (CounterMoved(CounterAction.SEAT, after, counter.status, counter.staff_id, False),),
    )


def _finish(
    hall: Hall, ticket: TicketState, outcome: Outcome, now: datetime, **data: Any
) -> Decision:
    moved = replace(_move(ticket, TicketAction.FINISH), finished_at=now, outcome=outcome)
    decision = _ticket_decision(hall, ticket, moved, TicketAction.FINISH, outcome=outcome, **data)
    return decision.then(_leave_counter(decision.hall, moved, now))


def _no_show(hall: Hall, ticket: TicketState, now: datetime, **data: Any) -> Decision:
    moved = _move(ticket, TicketAction.NO_SHOW)
    decision = _ticket_decision(hall, ticket, moved, TicketAction.NO_SHOW, **data)
    return decision.then(_leave_counter(decision.hall, moved, now))


def _transfer(hall: Hall, ticket: TicketState, service_id: int, now: datetime) -> Decision:
    if service_id == ticket.service_id:
        raise IllegalTransition(
            "Phiếu đã ở dịch vụ này.", f"ticket is already in service {service_id}"
        )
    moved = _move(
        ticket,
        TicketAction.TRANSFER,
        service_id=service_id,
        counter_id=None,
        transfer_count=ticket.transfer_count + 1,
    )
    decision = _ticket_decision(
        hall,
        ticket,
        moved,
        TicketAction.TRANSFER,
        from_service_id=ticket.service_id,
        to_service_id=service_id,
    )
    return decision.then(_leave_counter(decision.hall, moved, now))


# --- calling -----------------------------------------------------------------------------


def _counter(hall: Hall) -> CounterState:
    if hall.counter is None:
        raise NotFound("Không tìm thấy quầy.", "counter not found")
    return hall.counter


def release_current(
    hall: Hall,
    resolve: Resolution | None,
    now: datetime,
    rules: Rules = Rules(),
    resolve_for: int | None = None,
) -> Decision:
    """Let go of the counter's current ticket before it calls another (or refuse)."""
    counter = _counter(hall)
    if counter.current_ticket_id is None:
        return Decision(hall)
    if resolve_for is not None and resolve_for != counter.current_ticket_id:
        resolve = None  # an answer about an earlier ticket, already let go of
    current = hall.tickets.get(counter.current_ticket_id)
    if current is None or current.status not in AT_COUNTER_STATUSES:
        # The current ticket moved on elsewhere (e.g. a transfer by a supervisor).
        return _leave_counter(hall, current or _ghost(counter), now)
    if resolve is None:
        if current.status is TicketStatus.SERVING:
            return _finish(hall, current, Outcome.SERVED, now, auto=True)
        if current.call_count >= rules.max_calls:
            return _no_show(hall, current, now, auto=True, after_calls=current.call_count)
        raise CurrentNotStarted(
            f"{counter.label} đang gọi số {current.number}. Công dân đã đến chưa? "
            "Chọn «Đã phục vụ» hoặc «Vắng mặt» rồi gọi tiếp.",
            f"counter {counter.number} is calling {current.number}, which was not started: "
            "say whether it was served or absent (resolve) before calling the next ticket",
            # The ticket the question is about: the answer names it (current_ticket_id).
            details={
                "current_ticket_id": current.id,
                "current_number": current.number,
                "call_count": current.call_count,
                "max_calls": rules.max_calls,
            },
        )
    if resolve is Resolution.NO_SHOW:
        return _no_show(hall, current, now)
    return _finish(hall, current, resolve.outcome or Outcome.SERVED, now)


def _ghost(counter: CounterState) -> TicketState:
    """A stand-in for a current ticket that no longer exists."""
    return TicketState(
        id=counter.current_ticket_id or 0, number="", service_id=0, status=TicketStatus.DONE
    )


def _call(hall: Hall, command: CallNext | CallTicket, now: datetime, rules: Rules) -> Decision:
    counter = _counter(hall)
    target_id = command.candidate_id if isinstance(command, CallNext) else command.ticket_id
    if isinstance(command, CallTicket):
        target = hall.ticket(target_id)
        next_status(target.status, TicketAction.CALL)  # refuse before anything changes
    decision = release_current(hall, command.resolve, now, rules, command.resolve_for)
    if target_id is None:
        raise NoTicketWaiting(
            f"Không có công dân nào đang chờ các dịch vụ của {counter.label}.",
            f"nobody is waiting for the services of counter {counter.number}",
        )
    hall = decision.hall
    counter = _counter(hall)
    ticket = hall.ticket(target_id)
    # A free counter is taken by whoever calls; a supervisor calling at a staff member's
    # counter acts for them and does not take the counter away.
    staff_id = counter.staff_id if counter.staff_id is not None else command.actor_staff_id
    called = _move(
        ticket,
        TicketAction.CALL,
        counter_id=counter.id,
        staff_id=staff_id,
        call_count=ticket.call_count + 1,
        called_at=now,
    )
    seated = replace(counter, current_ticket_id=called.id, staff_id=staff_id)
    duty_changed = seated.staff_id != counter.staff_id or counter.status is not CounterStatus.OPEN
    if counter.status is not CounterStatus.OPEN:
        seated = replace(seated, status=CounterStatus.OPEN, status_reason="", status_since=now)
    action = CounterAction.OPEN if duty_changed else CounterAction.SEAT
    return decision.then(
        Decision(
            hall.with_ticket(called).with_counter(seated),
            (
                TicketMoved(TicketAction.CALL, called, ticket.status),
                CounterMoved(action, seated, counter.status, counter.staff_id, duty_changed),
            ),
        )
    )


# --- counters ----------------------------------------------------------------------------


def _counter_decision(
    counter: CounterState, after: CounterState, hall: Hall, action: CounterAction
) -> Decision:
    duty_changed = after.status != counter.status or after.staff_id != counter.staff_id
    return Decision(
        hall.with_counter(after),
        (CounterMoved(action, after, counter.status, counter.staff_id, duty_changed),),
    )


def _open(hall: Hall, command: OpenCounter, now: datetime) -> Decision:
    counter = _counter(hall)
    staff_id = command.staff_id
    if staff_id is not None and counter.staff_id not in (None, staff_id):
        raise CounterBusy(
            f"{counter.label} đang do cán bộ khác phụ trách.",
            f"counter {counter.number} is held by another staff member",
        )
    if staff_id is not None and command.holds_other:
        raise CounterBusy(
            f"Bạn đang phụ trách {command.holds_other}: hãy đóng quầy đó trước khi mở "
            f"{counter.label}.",
            "staff member already holds another counter",
        )
    after = replace(
        counter,
        status=CounterStatus.OPEN,
        status_reason="",
        staff_id=staff_id if staff_id is not None else counter.staff_id,
        status_since=now if counter.status is not CounterStatus.OPEN else counter.status_since,
    )
    return _counter_decision(counter, after, hall, CounterAction.OPEN)


def _pause(hall: Hall, reason: str, now: datetime) -> Decision:
    counter = _counter(hall)
    # A closed counter may be marked paused too (a supervisor noting "Họp" for a desk
    # whose staff member is away): it serves nobody either way.
    after = replace(
        counter,
        status=CounterStatus.PAUSED,
        status_reason=reason,
        status_since=now if counter.status is not CounterStatus.PAUSED else counter.status_since,
    )
    return _counter_decision(counter, after, hall, CounterAction.PAUSE)


def _close(hall: Hall, now: datetime) -> Decision:
    counter = _counter(hall)
    if counter.current_ticket_id is not None:
        current = hall.tickets.get(counter.current_ticket_id)
        if current is not None and current.status in AT_COUNTER_STATUSES:
            raise CounterBusy(
                f"{counter.label} đang phục vụ phiếu {current.number}: hãy kết thúc trước "
                "khi đóng quầy.",
                f"counter {counter.number} still has ticket {current.number}",
            )
    after = replace(
        counter,
        status=CounterStatus.CLOSED,
        status_reason="",
        staff_id=None,
        current_ticket_id=None,
        status_since=now if counter.status is not CounterStatus.CLOSED else counter.status_since,
    )
    return _counter_decision(counter, after, hall, CounterAction.CLOSE)
