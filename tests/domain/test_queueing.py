import pytest

from server.domain.queueing import Line, PriorityPolicy, ServiceQueueState, after_call, choose_line


def state(policy="interleave", every=3, since=0, prio=True, normal=True):
    return ServiceQueueState(PriorityPolicy(policy), every, since, prio, normal)


def test_nobody_waiting_gives_no_line():
    assert choose_line(state(prio=False, normal=False)) is None


def test_only_one_line_waiting_is_taken_whatever_the_policy():
    assert choose_line(state(prio=False)) is Line.NORMAL
    assert choose_line(state(normal=False, since=0)) is Line.PRIORITY


def test_strict_policy_always_prefers_priority():
    assert choose_line(state("strict", since=0)) is Line.PRIORITY


def test_first_priority_ticket_of_the_day_is_due_at_once():
    assert choose_line(state(since=None)) is Line.PRIORITY


@pytest.mark.parametrize("since,expected", [(0, Line.NORMAL), (2, Line.NORMAL), (3, Line.PRIORITY)])
def test_interleave_gives_one_priority_after_n_normal(since, expected):
    assert choose_line(state(every=3, since=since)) is expected


def test_interleave_sequence_over_a_busy_morning():
    # 3 normal, 1 priority, repeated, while both lines have people.
    since = 0
    taken = []
    for _ in range(8):
        line = choose_line(state(every=3, since=since))
        taken.append(line)
        since = after_call(since, line)
    assert taken == [Line.NORMAL] * 3 + [Line.PRIORITY] + [Line.NORMAL] * 3 + [Line.PRIORITY]


def test_after_call_counts_normals_and_resets_on_priority():
    assert after_call(2, Line.NORMAL) == 3
    assert after_call(5, Line.PRIORITY) == 0
    assert after_call(None, Line.NORMAL) is None
