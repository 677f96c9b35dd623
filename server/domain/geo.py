"""Distances between centres and a citizen, and the ranking of "centres near you".

Pure: no I/O. A citizen may file at any centre of the province (Decree 118/2025), so the
public page ranks nearby centres by the time to get there plus the wait there.
"""

from __future__ import annotations

import math

#: Mean Earth radius (km), as the haversine formula is usually given.
EARTH_RADIUS_KM = 6371.0088
#: Minutes per kilometre to get to a centre: ~20 km/h by motorbike in town, lights and
#: parking included. Only the ranking uses it; the page shows distances in km.
TRAVEL_MINUTES_PER_KM = 3.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in decimal degrees, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def valid_position(lat: float | None, lon: float | None) -> bool:
    """Both given, finite and on the globe."""
    if lat is None or lon is None:
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def visit_minutes(distance_km: float, wait_minutes: float) -> float:
    """What the ranking sorts by: minutes to get there plus minutes waiting there."""
    return distance_km * TRAVEL_MINUTES_PER_KM + wait_minutes
