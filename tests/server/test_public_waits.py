"""Live waits in public (issue 13, item 4), through the real app: waiting per field with the
hall's estimate, centres nearby ranked by travel + wait, no personal data, rate-limited,
cache-friendly."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from server.models import Centre, Counter

HT = "HT"  # the demo's civil status field (Hộ tịch): service 1 (HT1)
#: Words that would say who a citizen or a staff member is, or which ticket is theirs.
PRIVATE_KEYS = {
    "staff",
    "staff_id",
    "staff_name",
    "full_name",
    "username",
    "applicant_name",
    "applicant_phone",
    "public_code",
    "display_number",
    "number",
    "ticket",
    "tickets",
    "ticket_id",
    "phone",
}


@pytest.fixture(autouse=True)
def _fresh_estimates():
    from server.services import public_waits, wait_estimates

    public_waits.clear_cache()
    wait_estimates.clear_cache()
    yield
    public_waits.clear_cache()


@pytest.fixture
def province(database, demo) -> dict[str, int]:
    """The demo centre (phường Kinh Bắc) and three more around it: the provincial centre
    (~1 km), Vũ Ninh (~1.9 km), Võ Cường (~2.4 km). Codes → ids."""
    from server.demo import load_province_demo

    with database.transaction() as session:
        load_province_demo(session, 3)
        return dict(session.execute(select(Centre.code, Centre.id)).all())


def _admin(client) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _open(client, headers, counter_id: int) -> None:
    r = client.post(
        f"/api/v1/counters/{counter_id}/status", json={"status": "open"}, headers=headers
    )
    assert r.status_code == 200, r.get_json()


def _busy_kinh_bac_and_open_vu_ninh(client, database, demo, province) -> None:
    """Kinh Bắc: 4 people waiting for HT1 at one open counter; Vũ Ninh: nobody waiting, its
    first counter (HT1, CT1) open; the provincial centre: every counter closed."""
    admin = _admin(client)
    _open(client, admin, demo.counters[0][0])
    for _ in range(4):
        assert client.post("/api/v1/tickets", json={"service_id": 1}).status_code == 201
    with database.transaction() as session:
        vu_ninh = session.execute(
            select(Counter.id).where(
                Counter.centre_id == province["BN-VUNINH"], Counter.number == 1
            )
        ).scalar_one()
    _open(client, admin, vu_ninh)


def _keys(value, path="") -> set[str]:
    if isinstance(value, dict):
        return {k for k in value} | {x for k, v in value.items() for x in _keys(v)}
    if isinstance(value, list):
        return {x for v in value for x in _keys(v)}
    return set()


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_a_centres_waits_per_field_with_the_halls_estimate(
    client, database, demo, province, backend
):
    _busy_kinh_bac_and_open_vu_ninh(client, database, demo, province)
    r = client.get(f"/api/v1/public/centres/{demo.centre_id}/waits")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["centre"]["code"] == "BN-KINHBAC"
    assert (body["centre"]["latitude"], body["centre"]["longitude"]) == (21.1861, 106.0763)
    fields = {f["code"]: f for f in body["fields"]}
    assert fields[HT]["waiting"] == 4 and body["waiting"] == 4
    ht1 = next(s for s in fields[HT]["services"] if s["code"] == "HT1")
    # The hall's estimate for a ticket taken now (4 ahead, one counter open).
    assert ht1["waiting"] == 4 and ht1["estimate"]["minutes"] > 0
    assert fields[HT]["estimate"]["minutes"] >= ht1["estimate"]["minutes"]
    # A field no open counter serves says so, in Vietnamese first.
    assert fields["DD"]["estimate"]["minutes"] is None
    assert fields["DD"]["estimate"]["text"] == "Chưa có quầy mở cho dịch vụ này"
    # Nothing personal: no ticket, no staff, no citizen.
    assert not (_keys(body) & PRIVATE_KEYS), _keys(body) & PRIVATE_KEYS
    text = " ".join(_strings(body))
    assert "Nguyễn Thị Hương" not in text and "canbo" not in text and "1001" not in text
    # Cache-friendly: public for 15 s, and an unchanged answer is a 304.
    assert r.headers["Cache-Control"] == "public, max-age=15"
    again = client.get(
        f"/api/v1/public/centres/{demo.centre_id}/waits",
        headers={"If-None-Match": r.headers["ETag"]},
    )
    assert again.status_code == 304
    assert client.get("/api/v1/public/centres/999999/waits").status_code == 404


def test_centres_near_you_with_shorter_waits(client, database, demo, province, backend):
    _busy_kinh_bac_and_open_vu_ninh(client, database, demo, province)
    r = client.get(f"/api/v1/public/waits/near?centre={demo.centre_id}&field={HT}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    codes = [row["centre"]["code"] for row in body["centres"]]
    # Vũ Ninh: ~1.9 km and nobody waiting beats Kinh Bắc: here, but 4 ahead at one counter;
    # the provincial centre and Võ Cường have no counter open for the field: last, however
    # near, nearest first.
    assert codes == ["BN-VUNINH", "BN-KINHBAC", "BN-TINH", "BN-VOCUONG"]
    first = body["centres"][0]
    assert first["shorter_wait"] is True and 1.5 < first["distance_km"] < 2.5
    here = next(row for row in body["centres"] if row["centre"]["code"] == "BN-KINHBAC")
    assert here["is_origin"] and here["distance_km"] == 0 and here["shorter_wait"] is False
    assert here["waiting"] == 4
    last = body["centres"][-1]
    assert last["wait_minutes"] is None and last["visit_minutes"] is None
    assert not (_keys(body) & PRIVATE_KEYS)

    # From a phone's position: used to two decimals (about 1 km), and said so.
    r = client.get("/api/v1/public/waits/near?lat=21.194512&lon=106.088733&limit=2")
    body = r.get_json()
    assert body["from"] == {"latitude": 21.19, "longitude": 106.09, "centre_id": None}
    assert len(body["centres"]) == 2
    assert body["centres"][0]["centre"]["code"] == "BN-VUNINH"  # nearest, short wait

    r = client.get("/api/v1/public/waits/near")
    assert r.status_code == 422 and "lat" in r.get_json()["message_en"]
    assert client.get("/api/v1/public/waits/near?lat=200&lon=1").status_code == 422


def test_the_public_page_vietnamese_first(client, database, demo, province, backend):
    _busy_kinh_bac_and_open_vu_ninh(client, database, demo, province)
    r = client.get(f"/thoi-gian-cho?centre={demo.centre_id}&field={HT}")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=15"
    # this page alone may ask the browser for the position (its own origin only)
    assert "geolocation=(self)" in r.headers["Permissions-Policy"]
    assert "geolocation=()" in client.get("/thu-tuc").headers["Permissions-Policy"]
    html = r.get_data(as_text=True)
    assert '<h1>Thời gian chờ hiện tại<span class="en">Waiting times now</span></h1>' in html
    assert 'data-field="HT"' in html and "Hộ tịch" in html
    near = html[html.index('id="near"') :]
    assert near.index(f'data-centre-id="{province["BN-VUNINH"]}"') < near.index(
        f'data-centre-id="{demo.centre_id}"'
    )
    assert "Chờ ngắn hơn" in near
    assert "Nguyễn Thị Hương" not in html
    # the default centre, and a centre that does not exist
    assert client.get("/thoi-gian-cho").status_code == 200
    assert client.get("/thoi-gian-cho?centre=999999").status_code == 404


@pytest.fixture
def tight_public_limit(monkeypatch):
    monkeypatch.setenv("TTHCC_PUBLIC_RATE_LIMIT", "3 per minute")


def test_public_waits_are_rate_limited_per_address(tight_public_limit, client, demo, backend):
    url = f"/api/v1/public/centres/{demo.centre_id}/waits"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    r = client.get(f"/api/v1/public/waits/near?centre={demo.centre_id}")  # the same budget
    assert r.status_code == 429 and "Too many" in r.get_data(as_text=True)
    other = client.get(url, environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_near_estimates_a_bounded_number_of_centres(client, database, demo, backend):
    """However many centres the province has, only the nearest few are estimated."""
    from server.demo import load_province_demo
    from server.services import public_waits, wait_estimates

    def statements() -> int:
        public_waits.clear_cache()
        wait_estimates.clear_cache()
        seen = [0]

        def count(*_: object) -> None:
            seen[0] += 1

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            r = client.get(f"/api/v1/public/waits/near?centre={demo.centre_id}")
            assert r.status_code == 200
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return seen[0]

    with database.transaction() as session:
        load_province_demo(session, 10)
    ten = statements()
    with database.transaction() as session:
        load_province_demo(session, 40)
    forty = statements()
    assert ten == forty, (ten, forty)


def test_an_administrator_sets_a_centres_position_and_kind(client, demo, backend):
    admin = _admin(client)
    url = f"/api/v1/admin/centres/{demo.centre_id}"
    r = client.patch(
        url, json={"latitude": "21,2001", "longitude": 106.05, "kind": "provincial"}, headers=admin
    )
    assert r.status_code == 200, r.get_json()
    body = client.get(f"/api/v1/public/centres/{demo.centre_id}/waits").get_json()["centre"]
    assert (body["latitude"], body["longitude"], body["kind"]) == (21.2001, 106.05, "provincial")
    for bad in ({"latitude": "abc"}, {"latitude": 91}, {"longitude": "nan"}):
        r = client.patch(url, json=bad, headers=admin)
        assert r.status_code == 422, (bad, r.get_json())
    r = client.patch(url, json={"latitude": "", "longitude": ""}, headers=admin)
    assert r.status_code == 200
    from server.services.public_waits import clear_cache

    clear_cache()  # the public view is kept 15 s
    assert (
        client.get(f"/api/v1/public/centres/{demo.centre_id}/waits").get_json()["centre"][
            "latitude"
        ]
        is None
    )


def test_the_coordinates_migration_goes_down_and_up(database, demo, backend):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    database.session.remove()
    command.downgrade(alembic_config(database.engine), "8b9c0d1e2f3a")
    with database.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT * FROM centres").mappings().first()
    assert "latitude" not in row and "kind" in row
    upgrade(database.engine)
    with database.transaction() as session:
        assert session.get(Centre, demo.centre_id).latitude is None  # `tthcc demo` sets it again
