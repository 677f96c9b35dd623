"""Which ticket a rating press rates, and which press counts: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.ratings import (
    Outcome,
    RatingPolicy,
    ServedTicket,
    outcome,
    rated_ticket,
    valid_criterion,
)

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_press_after_finish_rates_the_finished_ticket():
    done = ServedTicket(1, called_at=s(0), finished_at=s(300))
    assert rated_ticket([done], s(305), 120) == 1


def test_a_press_long_after_the_finish_rates_nothing():
    done = ServedTicket(1, called_at=s(0), finished_at=s(300))
    assert rated_ticket([done], s(300 + 121), 120) is None


def test_next_finishes_and_calls_at_once_the_leaving_citizen_rates():
    previous = ServedTicket(1, called_at=s(0), finished_at=s(300))
    called = ServedTicket(2, called_at=s(300))
    assert rated_ticket([previous, called], s(305), 120) == 1


def test_a_ticket_started_after_the_last_finish_is_rated_while_served():
    previous = ServedTicket(1, called_at=s(0), finished_at=s(300))
    serving = ServedTicket(2, called_at=s(300), started_at=s(320))
    assert rated_ticket([previous, serving], s(330), 120) == 2


def test_the_ticket_at_the_counter_is_rated_once_the_window_has_passed():
    previous = ServedTicket(1, called_at=s(0), finished_at=s(300))
    called = ServedTicket(2, called_at=s(300))
    assert rated_ticket([previous, called], s(300 + 200), 120) == 2


def test_history_counts_not_the_present_a_spooled_press_rates_the_ticket_of_its_time():
    first = ServedTicket(1, called_at=s(0), finished_at=s(300))
    second = ServedTicket(2, called_at=s(300), finished_at=s(900))
    third = ServedTicket(3, called_at=s(900))
    assert rated_ticket([first, second, third], s(310), 120) == 1
    assert rated_ticket([first, second, third], s(600), 120) == 2
    assert rated_ticket([first, second, third], s(1200), 120) == 3
    assert rated_ticket([first, second, third], s(-5), 120) is None  # before any call


def test_the_latest_finished_ticket_wins():
    a = ServedTicket(1, called_at=s(0), finished_at=s(100))
    b = ServedTicket(2, called_at=s(100), finished_at=s(110))
    assert rated_ticket([b, a], s(115), 120) == 2


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (s(5), Outcome.REPLACES),
        (s(10), Outcome.REPLACES),
        (s(10.5), Outcome.UNATTACHED),
        (s(-3), Outcome.REPLACED),  # delivered late, pressed before the counted one
    ],
)
def test_second_press_within_the_window_replaces_later_ones_are_unattached(at, expected):
    assert (
        outcome(at, first_pressed_at=s(0), counted_pressed_at=s(0), replace_seconds=10) is expected
    )


def test_the_replace_window_runs_from_the_first_press_not_the_last():
    # 0 s: first, 8 s: replaces it; 16 s is within 10 s of the 8 s press but not the first.
    assert (
        outcome(s(16), first_pressed_at=s(0), counted_pressed_at=s(8), replace_seconds=10)
        is Outcome.UNATTACHED
    )


def test_a_ticket_without_ratings_gets_its_first():
    assert (
        outcome(s(0), first_pressed_at=None, counted_pressed_at=None, replace_seconds=10)
        is Outcome.ATTACHED
    )


def test_policy_from_centre_settings_with_defaults_for_junk():
    assert RatingPolicy.from_settings(None) == RatingPolicy(5, 10.0, 120.0)
    assert RatingPolicy.from_settings(
        {"rating_scale": 3, "rating_replace_seconds": 5, "rating_window_seconds": 60}
    ) == RatingPolicy(3, 5.0, 60.0)
    assert (
        RatingPolicy.from_settings(
            {"rating_scale": 7, "rating_replace_seconds": "x", "rating_window_seconds": -1}
        )
        == RatingPolicy()
    )
    assert RatingPolicy.from_settings({"rating_scale": True}).scale == 5


def test_criteria_are_lowercase_identifiers():
    assert valid_criterion("overall") and valid_criterion("on_time")
    assert not valid_criterion("Overall") and not valid_criterion("") and not valid_criterion("a b")
