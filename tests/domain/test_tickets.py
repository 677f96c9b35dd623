import pytest

from server.domain.errors import IllegalTransition
from server.domain.tickets import TicketAction as A
from server.domain.tickets import TicketStatus as S
from server.domain.tickets import allowed_actions, next_status


@pytest.mark.parametrize(
    "status,action,expected",
    [
        (S.WAITING, A.CALL, S.CALLED),
        (S.CALLED, A.RECALL, S.CALLED),
        (S.CALLED, A.START, S.SERVING),
        (S.SERVING, A.FINISH, S.DONE),
        (S.CALLED, A.FINISH, S.DONE),
        (S.CALLED, A.NO_SHOW, S.NO_SHOW),
        (S.NO_SHOW, A.REQUEUE, S.WAITING),
        (S.NO_SHOW, A.CALL, S.CALLED),
        (S.WAITING, A.TRANSFER, S.WAITING),
        (S.CALLED, A.TRANSFER, S.WAITING),
        (S.SERVING, A.TRANSFER, S.WAITING),
    ],
)
def test_legal_transitions(status, action, expected):
    assert next_status(status, action) is expected


@pytest.mark.parametrize(
    "status,action",
    [
        (S.WAITING, A.START),
        (S.WAITING, A.FINISH),
        (S.WAITING, A.RECALL),
        (S.WAITING, A.NO_SHOW),
        (S.SERVING, A.NO_SHOW),
        (S.SERVING, A.CALL),
        (S.DONE, A.CALL),
        (S.DONE, A.RECALL),
        (S.DONE, A.TRANSFER),
        (S.NO_SHOW, A.START),
        (S.CALLED, A.CALL),
    ],
)
def test_illegal_transitions_are_refused_with_a_message(status, action):
    with pytest.raises(IllegalTransition) as info:
        next_status(status, action)
    assert info.value.message_vi.startswith("Không thể")
    assert status.value in info.value.message_en


def test_allowed_actions_drive_the_counter_buttons():
    assert set(allowed_actions(S.CALLED)) == {A.RECALL, A.START, A.FINISH, A.NO_SHOW, A.TRANSFER}
    assert allowed_actions(S.DONE) == []
