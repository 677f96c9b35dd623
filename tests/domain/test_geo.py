"""Distances for "centres near you" (server/domain/geo.py)."""

import math

import pytest

from server.domain.geo import EARTH_RADIUS_KM, haversine_km, valid_position, visit_minutes


def test_one_degree_of_latitude_is_the_arc_of_one_degree():
    assert haversine_km(21.0, 106.0, 22.0, 106.0) == pytest.approx(
        EARTH_RADIUS_KM * math.pi / 180, rel=1e-9
    )


def test_a_degree_of_longitude_shrinks_with_the_cosine_of_the_latitude():
    # short distance: the arc is close to R · Δλ · cos φ
    d = haversine_km(21.0, 106.0, 21.0, 106.01)
    assert d == pytest.approx(
        EARTH_RADIUS_KM * math.radians(0.01) * math.cos(math.radians(21)), rel=1e-4
    )


def test_distance_is_symmetric_and_zero_at_the_same_point():
    a, b = (21.1861, 106.0763), (21.0285, 105.8542)  # Kinh Bắc, Hoàn Kiếm
    assert haversine_km(*a, *b) == pytest.approx(haversine_km(*b, *a))
    assert haversine_km(*a, *a) == 0
    assert 28 < haversine_km(*a, *b) < 30  # Bắc Ninh to Hà Nội's centre, about 29 km


def test_valid_positions_and_the_visit_time():
    assert valid_position(21.1, 106.0)
    assert not valid_position(None, 106.0)
    assert not valid_position(91, 0) and not valid_position(0, 181)
    assert not valid_position(float("nan"), 0)
    assert visit_minutes(2.0, 10) == 16.0
