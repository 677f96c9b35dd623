"""The lifecycle decides every transition: each state × command, the calling rules, the
counter's duty, and a property-based run of random commands against a simple model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from server.domain import lifecycle as lc
from server.domain.errors import (
    CounterBusy,
    CurrentNotStarted,
    DomainError,
    IllegalTransition,
    NoTicketWaiting,
)
from server.domain.lifecycle import (
    CounterMoved,
    CounterState,
    CounterStatus,
    Hall,
    Outcome,
    Resolution,
    TicketAction,
    TicketMoved,
    TicketState,
    TicketStatus,
)

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
S = TicketStatus


def counter(status: CounterStatus = CounterStatus.OPEN, **kw) -> CounterState:
    values = {"id": 1, "number": 1, "label": "Quầy 1", "status": status, "staff_id": 7}
    return CounterState(**(values | kw))


def ticket(ident: int = 10, status: S = S.WAITING, **kw) -> TicketState:
    return TicketState(id=ident, number=f"{1000 + ident}", service_id=1, status=status, **kw)


def at_counter(status: S, **kw) -> Hall:
    """A ticket in `status`, the counter's current one when it is called or serving."""
    held = status in lc.AT_COUNTER_STATUSES
    t = ticket(status=status, counter_id=1 if status is not S.WAITING else None, call_count=1, **kw)
    c = counter(current_ticket_id=t.id if held else None)
    return Hall(c, {t.id: t})


# --- every ticket state × every ticket command -------------------------------------------

TICKET_COMMANDS = {
    "recall": lambda t: lc.Recall(t),
    "start": lambda t: lc.Start(t),
    "finish": lambda t: lc.Finish(t, Outcome.SUPPLEMENT),
    "no_show": lambda t: lc.MarkNoShow(t),
    "requeue": lambda t: lc.Requeue(t),
    "transfer": lambda t: lc.Transfer(t, 2),
    "call": lambda t: lc.CallTicket(t, actor_staff_id=7),
}
EXPECTED = {
    (S.WAITING, "call"): S.CALLED,
    (S.NO_SHOW, "call"): S.CALLED,
    (S.CALLED, "recall"): S.CALLED,
    (S.CALLED, "start"): S.SERVING,
    (S.CALLED, "finish"): S.DONE,
    (S.SERVING, "finish"): S.DONE,
    (S.CALLED, "no_show"): S.NO_SHOW,
    (S.NO_SHOW, "requeue"): S.WAITING,
    (S.WAITING, "transfer"): S.WAITING,
    (S.CALLED, "transfer"): S.WAITING,
    (S.SERVING, "transfer"): S.WAITING,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("name", list(TICKET_COMMANDS))
def test_every_state_and_command(status, name):
    hall = at_counter(status)
    command = TICKET_COMMANDS[name](10)
    expected = EXPECTED.get((status, name))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            lc.decide(hall, command, NOW)
        assert info.value.message_vi.startswith("Không thể")
        return
    decision = lc.decide(hall, command, NOW)
    after = decision.hall.tickets[10]
    assert after.status is expected
    moves = [e for e in decision.events if isinstance(e, TicketMoved)]
    assert moves[-1].ticket == after and moves[-1].from_status is status
    assert_consistent(decision.hall)


def test_illegal_transition_messages_say_what_and_why():
    with pytest.raises(IllegalTransition) as info:
        lc.next_status(S.DONE, TicketAction.CALL)
    assert info.value.message_vi == "Không thể gọi phiếu đã hoàn thành."
    assert "done" in info.value.message_en


def test_allowed_actions_drive_the_counter_buttons():
    assert set(lc.allowed_actions(S.CALLED)) == {
        TicketAction.RECALL,
        TicketAction.START,
        TicketAction.FINISH,
        TicketAction.NO_SHOW,
        TicketAction.TRANSFER,
    }
    assert lc.allowed_actions(S.DONE) == []


def test_finish_records_the_outcome_and_frees_the_counter():
    decision = lc.decide(at_counter(S.SERVING), lc.Finish(10, Outcome.REDIRECTED), NOW)
    t = decision.hall.tickets[10]
    assert (t.status, t.outcome, t.finished_at) == (S.DONE, Outcome.REDIRECTED, NOW)
    assert decision.hall.counter.current_ticket_id is None
    finish = decision.events[0]
    assert finish.data == {"outcome": Outcome.REDIRECTED}


def test_no_show_keeps_the_counter_on_the_ticket_and_requeue_clears_it():
    absent = lc.decide(at_counter(S.CALLED), lc.MarkNoShow(10), NOW).hall
    assert absent.tickets[10].counter_id == 1 and absent.counter.current_ticket_id is None
    back = lc.decide(absent, lc.Requeue(10), NOW).hall.tickets[10]
    assert (back.status, back.counter_id) == (S.WAITING, None)


def test_transfer_to_the_same_service_is_refused():
    with pytest.raises(IllegalTransition):
        lc.decide(at_counter(S.WAITING), lc.Transfer(10, 1), NOW)


def test_recall_counts_calls_and_moves_the_call_time():
    t = lc.decide(at_counter(S.CALLED), lc.Recall(10), NOW).hall.tickets[10]
    assert (t.call_count, t.called_at) == (2, NOW)


# --- call next: what happens to the ticket still at the counter ----------------------------


def hall_with_current(status: S, call_count: int = 1) -> Hall:
    current = ticket(10, status, counter_id=1, staff_id=7, call_count=call_count)
    waiting = ticket(11)
    return Hall(counter(current_ticket_id=10), {10: current, 11: waiting})


def test_next_after_a_served_ticket_finishes_it_as_served():
    decision = lc.decide(hall_with_current(S.SERVING), lc.CallNext(11, 7), NOW)
    t = decision.hall.tickets
    assert (t[10].status, t[10].outcome) == (S.DONE, Outcome.SERVED)
    assert t[11].status is S.CALLED and decision.hall.counter.current_ticket_id == 11
    assert decision.events[0].data == {"outcome": Outcome.SERVED, "auto": True}


def test_next_after_a_ticket_only_called_asks_what_happened():
    with pytest.raises(CurrentNotStarted) as info:
        lc.decide(hall_with_current(S.CALLED), lc.CallNext(11, 7), NOW)
    assert info.value.message_vi.startswith("Quầy 1 đang gọi số 1010.")
    assert info.value.http_status == 409
    # It names the ticket, so the counter's answer can name it back (resolve_for).
    assert info.value.details == {
        "current_ticket_id": 10,
        "current_number": "1010",
        "call_count": 1,
        "max_calls": 3,
    }


def test_a_centres_rules_come_from_its_settings():
    assert lc.Rules.from_settings(None) == lc.Rules(max_calls=3)
    assert lc.Rules.from_settings({"max_calls": "2", "notice": "x"}) == lc.Rules(max_calls=2)
    assert lc.Rules.from_settings({"max_calls": 0}).max_calls == 1  # at least the call


@pytest.mark.parametrize(
    "resolve,status,outcome",
    [
        (Resolution.SERVED, S.DONE, Outcome.SERVED),
        (Resolution.LEFT, S.DONE, Outcome.LEFT),
        (Resolution.SUPPLEMENT, S.DONE, Outcome.SUPPLEMENT),
        (Resolution.NO_SHOW, S.NO_SHOW, None),
    ],
)
def test_next_with_the_counters_answer(resolve, status, outcome):
    decision = lc.decide(hall_with_current(S.CALLED), lc.CallNext(11, 7, resolve), NOW)
    assert (decision.hall.tickets[10].status, decision.hall.tickets[10].outcome) == (
        status,
        outcome,
    )


def test_an_answer_about_an_earlier_ticket_never_resolves_the_next_one():
    """A second press saying "served" about 1010 arrives after 1010 was let go of and 1011
    called: it must not finish 1011, who has not even reached the counter."""
    hall = hall_with_current(S.CALLED)
    first = lc.decide(hall, lc.CallNext(11, 7, Resolution.SERVED, resolve_for=10), NOW).hall
    late = first.with_ticket(ticket(12))
    with pytest.raises(CurrentNotStarted) as info:
        lc.decide(late, lc.CallNext(12, 7, Resolution.SERVED, resolve_for=10), NOW)
    assert "1011" in info.value.message_vi


def test_next_after_the_recalls_marks_the_absent_citizen_no_show():
    hall = hall_with_current(S.CALLED, call_count=3)
    decision = lc.decide(hall, lc.CallNext(11, 7), NOW, lc.Rules(max_calls=3))
    assert decision.hall.tickets[10].status is S.NO_SHOW
    assert decision.events[0].data == {"auto": True, "after_calls": 3}
    with pytest.raises(CurrentNotStarted):
        lc.decide(hall, lc.CallNext(11, 7), NOW, lc.Rules(max_calls=4))


def test_next_with_nobody_waiting_changes_nothing():
    with pytest.raises(NoTicketWaiting) as info:
        lc.decide(hall_with_current(S.SERVING), lc.CallNext(None, 7), NOW)
    assert "Quầy 1" in info.value.message_vi


def test_a_no_show_cannot_be_claimed_of_a_ticket_being_served():
    with pytest.raises(IllegalTransition):
        lc.decide(hall_with_current(S.SERVING), lc.CallNext(11, 7, Resolution.NO_SHOW), NOW)


def test_calling_the_current_ticket_by_number_is_refused_before_anything_changes():
    with pytest.raises(IllegalTransition):
        lc.decide(hall_with_current(S.SERVING), lc.CallTicket(10, 7), NOW)


def test_a_free_counter_is_taken_by_the_caller_and_opened():
    hall = Hall(counter(CounterStatus.CLOSED, staff_id=None), {11: ticket(11)})
    decision = lc.decide(hall, lc.CallNext(11, 9), NOW)
    c = decision.hall.counter
    assert (c.status, c.staff_id, c.current_ticket_id, c.status_since) == (
        CounterStatus.OPEN,
        9,
        11,
        NOW,
    )
    assert decision.hall.tickets[11].staff_id == 9
    moved = [e for e in decision.events if isinstance(e, CounterMoved)]
    assert moved[0].duty_changed and moved[0].from_status is CounterStatus.CLOSED


def test_a_supervisor_calling_at_a_staff_counter_acts_for_the_staff_member():
    hall = Hall(counter(staff_id=7), {11: ticket(11)})
    decision = lc.decide(hall, lc.CallNext(11, None), NOW)
    assert decision.hall.counter.staff_id == 7 and decision.hall.tickets[11].staff_id == 7
    assert not [e for e in decision.events if isinstance(e, CounterMoved) and e.duty_changed]


def test_a_paused_counter_that_calls_is_open_again():
    hall = Hall(counter(CounterStatus.PAUSED, status_reason="Họp"), {11: ticket(11)})
    c = lc.decide(hall, lc.CallNext(11, 7), NOW).hall.counter
    assert (c.status, c.status_reason) == (CounterStatus.OPEN, "")


# --- the counter's duty -------------------------------------------------------------------


def test_open_by_a_staff_member_takes_a_free_counter():
    hall = Hall(counter(CounterStatus.CLOSED, staff_id=None))
    c = lc.decide(hall, lc.OpenCounter(8), NOW).hall.counter
    assert (c.status, c.staff_id, c.status_since) == (CounterStatus.OPEN, 8, NOW)


def test_open_a_counter_held_by_someone_else_is_refused():
    with pytest.raises(CounterBusy):
        lc.decide(Hall(counter(staff_id=7)), lc.OpenCounter(8), NOW)


def test_open_while_holding_another_counter_is_refused():
    with pytest.raises(CounterBusy) as info:
        lc.decide(Hall(counter(staff_id=None)), lc.OpenCounter(8, "Quầy 3"), NOW)
    assert "Quầy 3" in info.value.message_vi


def test_pause_keeps_the_reason_and_the_time_it_began():
    paused = lc.decide(Hall(counter()), lc.PauseCounter("Nghỉ trưa"), NOW).hall.counter
    assert (paused.status, paused.status_reason) == (CounterStatus.PAUSED, "Nghỉ trưa")
    assert paused.status_since == NOW
    again = lc.decide(Hall(paused), lc.PauseCounter("Họp"), NOW + timedelta(minutes=5))
    assert again.hall.counter.status_since == NOW and not again.events[0].duty_changed


def test_close_with_a_citizen_at_the_counter_is_refused():
    with pytest.raises(CounterBusy) as info:
        lc.decide(hall_with_current(S.SERVING), lc.CloseCounter(), NOW)
    assert "1010" in info.value.message_vi


def test_close_frees_the_counter():
    c = lc.decide(Hall(counter(staff_id=7)), lc.CloseCounter(), NOW).hall.counter
    assert (c.status, c.staff_id, c.current_ticket_id) == (CounterStatus.CLOSED, None, None)


def test_queue_changes_on_calls_requeues_and_transfers_only():
    assert lc.decide(hall_with_current(S.SERVING), lc.CallNext(11, 7), NOW).queue_changed
    assert not lc.decide(at_counter(S.CALLED), lc.Start(10), NOW).queue_changed
    assert lc.decide(at_counter(S.WAITING), lc.Transfer(10, 2), NOW).queue_changed


# --- invariants, and random days against a simple model ------------------------------------


def assert_consistent(hall: Hall, counters: dict[int, CounterState] | None = None) -> None:
    """A current ticket is called or serving at that counter; a done ticket has an outcome."""
    counters = counters or ({hall.counter.id: hall.counter} if hall.counter else {})
    for c in counters.values():
        if c.current_ticket_id is not None and c.current_ticket_id in hall.tickets:
            t = hall.tickets[c.current_ticket_id]
            assert t.status in lc.AT_COUNTER_STATUSES and t.counter_id == c.id
        if c.status is CounterStatus.CLOSED:
            assert c.current_ticket_id is None and c.staff_id is None
    for t in hall.tickets.values():
        assert (t.status is S.DONE) == (t.outcome is not None)
        if t.status in (S.CALLED, S.SERVING):
            assert t.counter_id is not None and t.call_count >= 1


class SimpleModel:
    """The hall as a few dicts, written the obvious way, to hold the domain against."""

    def __init__(self, max_calls: int) -> None:
        self.max_calls = max_calls
        self.status: dict[int, S] = {}
        self.service: dict[int, int] = {}
        self.calls: dict[int, int] = {}
        self.outcome: dict[int, Outcome] = {}
        self.current: dict[int, int | None] = {}
        self.open: dict[int, CounterStatus] = {}
        self.served_without_start: set[int] = set()

    def head(self, counter: int) -> int | None:
        waiting = [t for t, s in self.status.items() if s is S.WAITING]
        return min(waiting) if waiting else None

    def release(self, c: int, resolve: Resolution | None) -> dict[int, tuple[S, Outcome | None]]:
        """What the current ticket becomes, or raise like the domain would."""
        t = self.current[c]
        if t is None:
            return {}
        s = self.status[t]
        if resolve is None:
            if s is S.SERVING:
                return {t: (S.DONE, Outcome.SERVED)}
            if self.calls[t] >= self.max_calls:
                return {t: (S.NO_SHOW, None)}
            raise CurrentNotStarted("", "")
        if resolve is Resolution.NO_SHOW:
            if s is not S.CALLED:
                raise IllegalTransition("", "")
            return {t: (S.NO_SHOW, None)}
        return {t: (S.DONE, resolve.outcome)}


class LifecycleMachine(RuleBasedStateMachine):
    """Random presses at 3 counters over up to 12 tickets; the domain vs the model."""

    def __init__(self) -> None:
        super().__init__()
        self.rules = lc.Rules(max_calls=3)
        self.model = SimpleModel(self.rules.max_calls)
        self.counters = {
            i: CounterState(i, i, f"Quầy {i}", CounterStatus.CLOSED) for i in (1, 2, 3)
        }
        for i in self.counters:
            self.model.current[i] = None
            self.model.open[i] = CounterStatus.CLOSED
        self.tickets: dict[int, TicketState] = {}
        self.clock = NOW

    # -- running a command through the domain
    def _hall(self, c: int | None, *ids: int | None) -> Hall:
        wanted = {i for i in ids if i is not None}
        if c is not None and self.counters[c].current_ticket_id is not None:
            wanted.add(self.counters[c].current_ticket_id)
        return Hall(
            self.counters[c] if c is not None else None, {i: self.tickets[i] for i in wanted}
        )

    def _apply(self, c: int | None, command: lc.Command, *ids: int | None) -> bool:
        self.clock += timedelta(seconds=7)
        try:
            decision = lc.decide(self._hall(c, *ids), command, self.clock, self.rules)
        except DomainError:
            return False
        if decision.hall.counter is not None:
            self.counters[decision.hall.counter.id] = decision.hall.counter
        self.tickets.update(decision.hall.tickets)
        return True

    # -- rules
    @rule()
    def issue(self) -> None:
        if len(self.tickets) < 12:
            ident = len(self.tickets) + 1
            self.tickets[ident] = ticket(ident)
            m = self.model
            m.status[ident], m.service[ident], m.calls[ident] = S.WAITING, 1, 0

    @rule(c=st.sampled_from([1, 2, 3]), resolve=st.sampled_from([None, *Resolution]))
    def call_next(self, c: int, resolve: Resolution | None) -> None:
        m = self.model
        candidate = m.head(c)
        try:
            released = m.release(c, resolve)
            if candidate is None:
                raise NoTicketWaiting("", "")
            expect = True
        except DomainError:
            expect = False
        ok = self._apply(c, lc.CallNext(candidate, actor_staff_id=c, resolve=resolve), candidate)
        assert ok == expect
        if ok:
            for t, (s, outcome) in released.items():
                m.status[t] = s
                if outcome:
                    m.outcome[t] = outcome
            self._model_call(c, candidate)

    def _model_call(self, c: int, t: int) -> None:
        m = self.model
        m.status[t], m.calls[t] = S.CALLED, m.calls[t] + 1
        m.current[c], m.open[c] = t, CounterStatus.OPEN
        for other, held in m.current.items():
            if other != c and held == t:  # pragma: no cover - would be a double call
                raise AssertionError("ticket current at two counters")

    @rule(c=st.sampled_from([1, 2, 3]), t=st.integers(1, 12))
    def call_by_number(self, c: int, t: int) -> None:
        if t not in self.tickets:
            return
        m = self.model
        try:
            if m.status[t] not in (S.WAITING, S.NO_SHOW):
                raise IllegalTransition("", "")
            released = m.release(c, None)
            expect = True
        except DomainError:
            expect = False
        ok = self._apply(c, lc.CallTicket(t, actor_staff_id=c), t)
        assert ok == expect
        if ok:
            for r, (s, outcome) in released.items():
                m.status[r] = s
                if outcome:
                    m.outcome[r] = outcome
            self._model_call(c, t)

    def _ticket_command(self, t: int, command: lc.Command, legal_from: set[S]) -> bool:
        if t not in self.tickets:
            return False
        c = self.tickets[t].counter_id
        ok = self._apply(c, command, t)
        assert ok == (self.model.status[t] in legal_from)
        return ok

    def _leave(self, t: int) -> None:
        for c, held in self.model.current.items():
            if held == t:
                self.model.current[c] = None

    @rule(t=st.integers(1, 12))
    def start(self, t: int) -> None:
        if self._ticket_command(t, lc.Start(t), {S.CALLED}):
            self.model.status[t] = S.SERVING

    @rule(t=st.integers(1, 12), outcome=st.sampled_from(list(Outcome)))
    def finish(self, t: int, outcome: Outcome) -> None:
        if self._ticket_command(t, lc.Finish(t, outcome), {S.CALLED, S.SERVING}):
            self.model.status[t], self.model.outcome[t] = S.DONE, outcome
            self._leave(t)

    @rule(t=st.integers(1, 12))
    def no_show(self, t: int) -> None:
        if self._ticket_command(t, lc.MarkNoShow(t), {S.CALLED}):
            self.model.status[t] = S.NO_SHOW
            self._leave(t)

    @rule(t=st.integers(1, 12))
    def requeue(self, t: int) -> None:
        if self._ticket_command(t, lc.Requeue(t), {S.NO_SHOW}):
            self.model.status[t] = S.WAITING

    @rule(t=st.integers(1, 12))
    def transfer(self, t: int) -> None:
        if t not in self.tickets:
            return
        target = 2 if self.tickets[t].service_id == 1 else 1
        if self._ticket_command(t, lc.Transfer(t, target), {S.WAITING, S.CALLED, S.SERVING}):
            self.model.status[t] = S.WAITING
            self._leave(t)

    @rule(c=st.sampled_from([1, 2, 3]))
    def recall(self, c: int) -> None:
        t = self.model.current[c]
        if t is not None and self._ticket_command(t, lc.Recall(t), {S.CALLED}):
            self.model.calls[t] += 1

    @rule(c=st.sampled_from([1, 2, 3]), what=st.sampled_from(["open", "pause", "close"]))
    def duty(self, c: int, what: str) -> None:
        m = self.model
        command = {
            "open": lc.OpenCounter(None),
            "pause": lc.PauseCounter("Nghỉ"),
            "close": lc.CloseCounter(),
        }[what]
        expect = m.current[c] is None if what == "close" else True
        assert self._apply(c, command) == expect
        if expect:
            m.open[c] = {
                "open": CounterStatus.OPEN,
                "pause": CounterStatus.PAUSED,
                "close": CounterStatus.CLOSED,
            }[what]

    # -- the domain agrees with the model, and never breaks its invariants
    @invariant()
    def agrees_with_the_model(self) -> None:
        m = self.model
        assert {i: t.status for i, t in self.tickets.items()} == m.status
        assert {i: c.current_ticket_id for i, c in self.counters.items()} == m.current
        assert {i: c.status for i, c in self.counters.items()} == m.open
        assert {i: t.outcome for i, t in self.tickets.items() if t.outcome} == m.outcome
        assert {i: t.call_count for i, t in self.tickets.items()} == m.calls

    @invariant()
    def consistent(self) -> None:
        hall = Hall(None, dict(self.tickets))
        assert_consistent(hall, self.counters)
        held = [c.current_ticket_id for c in self.counters.values() if c.current_ticket_id]
        assert len(held) == len(set(held)), "a ticket is current at two counters"


LifecycleMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, derandomize=True
)
TestLifecycleMachine = LifecycleMachine.TestCase


def test_the_counter_label_is_in_every_refusal():
    hall = Hall(replace(counter(), label="Quầy Hộ tịch"), {})
    with pytest.raises(NoTicketWaiting) as info:
        lc.decide(hall, lc.CallNext(None, 7), NOW)
    assert "Quầy Hộ tịch" in info.value.message_vi
