"""Every HTTP route and every Socket.IO event × every kind of caller (issue 11, item 2).

One app, one SQLite database: the demo centre (centre 1) and a second centre. Every route
of ``app.url_map`` (each method) and every ``on_<event>`` handler of every Socket.IO
namespace is called by each kind of caller, with path ids, bodies and ``centre_id``
queries that all point at **centre 1's** rows. Who may succeed is declared once, in
server/access_policy.py (``POLICY`` per endpoint and method, ``SOCKET_POLICY`` per
namespace and event; docs/security.md's table is generated from it); a route or an event
without a declaration fails the test. Any 2xx (or ``ok: true``) from a caller not
declared is an unauthorised success; the test asserts there are none. Callers of the
second centre reaching centre 1's rows are refused by the same rule: for them every route
but the public ones is "another centre's data".

Bodies are valid where a route's refusal could otherwise hide behind a 422; the figures
printed at the end say how many refusals were 401/403 and how many 4xx of another kind.
Form posts are called with CSRF checks off (no token to forge) and the rate limits off:
what is tested here is who may call, not those guards (tests/server/test_security_headers.py, test_sessions.py,
test_station_least_privilege.py).
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from dataclasses import dataclass

from sqlalchemy import select

from server.access_policy import (
    ADMIN,
    BOX,
    CALLERS,
    COUNTERS,
    DISPLAY,
    EVERYONE,
    KIOSK,
    KIOSK_PAGE,
    NOBODY,
    POLICY,
    SOCKET_POLICY,
    STAFF,
    STAFF_OTHER_CENTRE,
    STAFF_OTHER_COUNTER,
    SUPERVISOR_OTHER_CENTRE,
    VIEWER,
)
from server.domain.clock import utcnow
from server.models import Agency, Centre, Procedure, Station
from server.services.auth import create_user, issue_station_token
from server.services.kiosks import COOKIE_NAME, exchange_code, issue_code
from server.sync.ingest import add_box
from tests.server.factories import create_centre, create_counter, create_service

# --- the world: centre 1 (the demo) and centre 2, one row of each kind -------------------


@dataclass
class World:
    ticket_id: int
    ticket_code: str
    print_job_id: str
    dossier_id: int
    feedback_id: int
    procedure_id: int
    agency_id: int  # a spare row an administrator may delete
    station_id: int  # a spare kiosk station (tokens, codes)
    user_id: int  # a spare user (password reset)
    tokens: dict[str, str]
    kiosk_cookie: str  # KIOSK-1's provisioned page credential (the tthcc_kiosk cookie)


def _token(client, username: str, password: str) -> str:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_world(app, client, database, demo) -> World:
    with database.transaction() as s:
        other = create_centre(s, code="BN-KHAC", name="Trung tâm khác")
        create_counter(s, other, [create_service(s, other)], number=1)
        create_user(
            s, username="canbo-khac", password="khac-12345", role="staff", centre_id=other.id
        )
        create_user(
            s, username="giamsat-khac", password="khac-12345", role="supervisor", centre_id=other.id
        )
        create_user(s, username="tinh", password="tinh-12345", role="viewer", centre_id=None)
        spare_user = create_user(
            s, username="tam", password="tam-123456", role="staff", centre_id=demo.centre_id
        )
        agency = Agency(centre_id=demo.centre_id, name="Cơ quan tạm")
        spare = Station(centre_id=demo.centre_id, code="KIOSK-TAM", kind="kiosk")
        s.add_all([agency, spare])
        s.flush()
        ids = (agency.id, spare.id, spare_user.id)
        stations = {
            code: issue_station_token(
                s, s.execute(select(Station).where(Station.code == code)).scalar_one()
            )
            for code in ("KIOSK-1", "COUNTERS-1", "DISPLAY-1")
        }
        _, box_token = add_box(s, s.get(Centre, demo.centre_id), utcnow())
        kiosk_1 = s.execute(select(Station).where(Station.code == "KIOSK-1")).scalar_one()
        _, kiosk_cookie = exchange_code(s, issue_code(s, kiosk_1, utcnow()), utcnow())
        procedure_id = s.execute(
            select(Procedure.id).where(Procedure.centre_id == demo.centre_id).limit(1)
        ).scalar_one()
    tokens = {
        STAFF: _token(client, "canbo1", "tthcc-canbo"),
        STAFF_OTHER_COUNTER: _token(client, "canbo2", "tthcc-canbo"),
        STAFF_OTHER_CENTRE: _token(client, "canbo-khac", "khac-12345"),
        SUPERVISOR_OTHER_CENTRE: _token(client, "giamsat-khac", "khac-12345"),
        ADMIN: _token(client, "admin", "tthcc-admin"),
        VIEWER: _token(client, "tinh", "tinh-12345"),
        KIOSK: stations["KIOSK-1"],
        COUNTERS: stations["COUNTERS-1"],
        DISPLAY: stations["DISPLAY-1"],
        BOX: box_token,
    }
    staff = _bearer(tokens[STAFF])
    r = client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=staff)
    assert r.status_code == 200, r.get_json()
    r = client.post("/api/v1/tickets", json={"service_id": 1}, headers=_bearer(tokens[KIOSK]))
    ticket = r.get_json()
    r = client.post(
        "/api/v1/dossiers",
        json={
            "procedure_id": procedure_id,
            "applicant_name": "Hoàng Văn Nam",
            "applicant_phone": "0987654321",
            "papers_received": [{"name": "Tờ khai", "originals": 1}],
        },
        headers=staff,
    )
    assert r.status_code == 201, r.get_json()
    dossier_id = r.get_json()["id"]
    r = client.post(
        "/api/v1/feedback",
        json={"about": "staff", "content": "Cán bộ quầy 3 hướng dẫn chưa rõ ràng.", "centre_id": 1},
    )
    assert r.status_code == 201, r.get_json()
    from server.models import Feedback

    with database.transaction() as s:
        feedback_id = s.execute(
            select(Feedback.id).where(Feedback.reference == r.get_json()["reference"])
        ).scalar_one()
    return World(
        ticket_id=ticket["id"],
        ticket_code=ticket["public_code"],
        print_job_id=ticket["print_job_id"],
        dossier_id=dossier_id,
        feedback_id=feedback_id,
        procedure_id=procedure_id,
        agency_id=ids[0],
        station_id=ids[1],
        user_id=ids[2],
        tokens=tokens,
        kiosk_cookie=kiosk_cookie,
    )


# --- how each route is called --------------------------------------------------------------


def path_values(world: World, endpoint: str) -> dict[str, object]:
    """Path arguments, all naming centre 1's rows (spare rows where a call destroys)."""
    values: dict[str, object] = {
        "ticket_id": world.ticket_id,
        "counter_id": 1,
        "dossier_id": world.dossier_id,
        "feedback_id": world.feedback_id,
        "procedure_id": world.procedure_id,
        "centre_id": 1,
        "year": 2031,
        "code": world.ticket_code,
        "entity": "agencies",
        "row_id": world.agency_id,
        "name": "1001.png",
        "filename": "kiosk.css",
        "subscription_id": 1,
        "token": "matrix-no-such-scan",
    }
    if "Station" in endpoint or "station_token" in endpoint or "kiosk_code" in endpoint:
        values["row_id"] = world.station_id
    if endpoint.endswith(("PasswordView", ".password")) and "auth." not in endpoint:
        values["row_id"] = world.user_id
    if endpoint == "web.static":
        values["filename"] = "js/lib/api.js"
    if endpoint == "display.static":
        values["filename"] = "display.css"
    if endpoint == "display.clip":
        values["name"] = "chime"
    return values


#: Bodies that pass validation, so a refusal is about the caller, not the body.
BODIES: dict[str, dict] = {
    "tickets.TicketsView": {"service_id": 1},
    "tickets.TransferView": {"service_id": 2},
    "tickets.TicketFinishView": {"outcome": "served"},
    "counters.CounterStatusView": {"status": "paused", "reason": "Nghỉ"},
    "counters.CallTicketView": {"ticket_id": 0},
    "ratings.RatingsView": {"counter_id": 1, "level": 5, "key": "matrix-0000000"},
    "feedback.FeedbackListView": {
        "about": "other",
        "content": "Nhà vệ sinh cần sạch hơn ạ.",
        "centre_id": 1,
    },
    "feedback.AnswerView": {"answer": "Trung tâm đã chấn chỉnh, xin cảm ơn."},
    "feedback.AssignView": {"assignee_id": 2},
    "feedback.CloseView": {"resolution": "Đã xử lý."},
    "dossiers.TransitionView": {"action": "forward"},
    "dossiers.ApologyView": {
        "reason": "Cần thêm thời gian thẩm định.",
        "new_due_date": "2031-01-10",
    },
    "dossiers.DossiersView": {
        "applicant_name": "Trần Thị Bình",
        "papers_received": [{"name": "Tờ khai", "originals": 1}],
    },
    "dossiers.SlipPrintView": {},
    "admin.EntityListView": {"centre_id": 1, "name": "Cơ quan mới"},
    "admin.EntityView": {"name": "Cơ quan đổi tên"},
    "admin.PasswordView": {"password": "mat-khau-moi-123"},
    "auth.PasswordView": {"current_password": "sai-mat-khau", "new_password": "mat-khau-moi-123"},
    "auth.TokenView": {"username": "khong-co", "password": "sai-mat-khau"},
    "auth.LoginView": {"username": "khong-co", "password": "sai-mat-khau"},
    "calendar.YearView": {"holidays": [], "makeup_days": []},
    "procedures.ProcedurePrintView": {"station_id": 1},
    "scans.ScansView": {"text": "123456"},
}


def request_args(world: World, rule, method: str, centre_queries: set) -> tuple[str, dict]:
    values = path_values(world, rule.endpoint)
    url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
    kwargs: dict = {}
    if rule.rule.startswith("/api/"):
        if method in ("POST", "PUT", "PATCH"):
            body = dict(BODIES.get(rule.endpoint, {}))
            if rule.endpoint == "dossiers.DossiersView":
                body["procedure_id"] = world.procedure_id
            if "key" in body:
                body["key"] = f"matrix-{len(world.tokens)}-{id(body)}"
            kwargs["json"] = body
        if (rule_key(rule), method) in centre_queries:
            url += ("&" if "?" in url else "?") + "centre_id=1"
    elif method == "GET":
        url += ("&" if "?" in url else "?") + "centre=1"
    elif method == "POST":
        kwargs["data"] = {}
    return url, kwargs


def centre_queries(client) -> set[tuple[str, str]]:
    """(rule, method) of every API operation that takes ``centre_id`` in its query."""
    spec = client.get("/api/v1/openapi.json").get_json()
    found = set()
    for path, operations in spec["paths"].items():
        rule = re.sub(r"\{(\w+)\}", lambda m: f"<{m.group(1)}>", path)
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue  # the path's own "parameters"
            names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "centre_id" in names:
                found.add((rule, method.upper()))
    return found


def rule_key(rule) -> str:
    """A rule's path with the converters dropped, as the OpenAPI document writes it."""
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"<\1>", rule.rule)


def routes(app) -> list[tuple[object, str]]:
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def socket_events(app) -> list[tuple[str, str]]:
    """(namespace, handler name without on_) of every Socket.IO handler."""
    server = app.extensions["socketio"].server
    return sorted(
        (namespace, name[3:])
        for namespace, handler in server.namespace_handlers.items()
        for name in dir(handler)
        if name.startswith("on_") and callable(getattr(handler, name))
    )


def call_sockets(app, world: World, caller: str) -> dict[tuple[str, str], bool]:
    """Each Socket.IO event as `caller`: did it succeed?"""
    socketio = app.extensions["socketio"]
    token = world.tokens.get(caller)
    done: dict[tuple[str, str], bool] = {}
    hall = socketio.test_client(
        app, namespace="/hall", flask_test_client=clients(app, caller, world)
    )
    done[("/hall", "connect")] = hall.is_connected("/hall")
    ack = hall.emit("subscribe", {"centre_id": 1}, namespace="/hall", callback=True)
    done[("/hall", "subscribe")] = bool(ack and ack.get("ok"))
    ack = hall.emit(
        "subscribe", {"centre_id": 1, "station_id": 1}, namespace="/hall", callback=True
    )
    done[("/hall", "subscribe:station")] = bool(ack and ack.get("ok"))
    hall.disconnect(namespace="/hall")
    done[("/hall", "disconnect")] = True  # the hall's own bookkeeping, nothing to refuse
    agent = socketio.test_client(
        app, namespace="/station", auth={"token": token} if token else None
    )
    connected = agent.is_connected("/station")
    done[("/station", "connect")] = connected
    payloads = {
        "station.heartbeat": {},
        "device.status": {"device": "printer", "kind": "printer", "state": "ready"},
        "print.ack": {"job_id": world.print_job_id, "status": "printed"},
        "counter.command": {"counter_id": 1, "operation": "recall"},
        "scanner.scan": {"text": "123456"},
        "rating.submit": {
            "key": f"matrix-socket-{caller}",
            "counter_id": 1,
            "raw_key": "5",
            "level": 5,
            "pressed_at": "2026-12-05T02:00:00+00:00",
        },
    }
    for event, payload in payloads.items():
        name = event.replace(".", "_")
        if not connected:
            done[("/station", name)] = False
            continue
        ack = agent.emit(event, payload, namespace="/station", callback=True)
        done[("/station", name)] = bool(isinstance(ack, dict) and ack.get("ok"))
    if connected:
        agent.disconnect(namespace="/station")
    done[("/station", "disconnect")] = connected
    return done


# --- the test ------------------------------------------------------------------------------


def _success(status: int) -> bool:
    return 200 <= status < 300


def test_no_caller_succeeds_where_it_is_not_allowed(
    app, client, database, demo, backend, monkeypatch
):
    import os

    monkeypatch.setattr("flask_wtf.csrf.CSRFProtect.protect", lambda self: None)
    app.extensions["tthcc_limiter"].enabled = False
    world = build_world(app, client, database, demo)
    queries = centre_queries(client)
    observe = os.environ.get("TTHCC_MATRIX_OBSERVE") == "1"

    all_routes = routes(app)
    events = socket_events(app)
    undeclared = [
        f"{m} {r.rule} ({r.endpoint})" for r, m in all_routes if (r.endpoint, m) not in POLICY
    ]
    undeclared += [f"{ns} {name}" for ns, name in events if (ns, name) not in SOCKET_POLICY]
    if not observe:
        assert not undeclared, (
            "declare who may call these in POLICY / SOCKET_POLICY:\n" + "\n".join(undeclared)
        )

    # Sockets first: the HTTP calls below move the ticket along.
    socket_results = {caller: call_sockets(app, world, caller) for caller in CALLERS}
    successes: dict[tuple[str, str], set[str]] = {}
    refusals = Tally()
    #: Per route, the statuses its callers not allowed got (to show which refusals were
    #: about the caller: 401, 403 or a redirect to the login page).
    statuses: dict[tuple[str, str], set[int]] = {}
    # Calls that end the caller's own session or token, last.
    order = sorted(all_routes, key=lambda rm: rm[0].endpoint in LAST)
    for rule, method in order:
        for caller in CALLERS:
            url, kwargs = request_args(world, rule, method, queries)
            headers = {}
            token = world.tokens.get(caller)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            caller_client = clients(app, caller, world)
            response = caller_client.open(url, method=method, headers=headers, **kwargs)
            if _success(response.status_code):
                successes.setdefault((rule.endpoint, method), set()).add(caller)
            else:
                refusals[response.status_code] += 1
                if caller not in POLICY.get((rule.endpoint, method), EVERYONE):
                    statuses.setdefault((rule.endpoint, method), set()).add(response.status_code)
    for caller, results in socket_results.items():
        for key, ok in results.items():
            if ok:
                successes.setdefault(key, set()).add(caller)

    if observe:
        for key in sorted(successes, key=str):
            print("OBSERVED", key, sorted(successes[key]))
        for key in undeclared:
            print("UNDECLARED", key)
        return

    unauthorised = []
    for (endpoint, method), callers in successes.items():
        allowed = POLICY.get((endpoint, method), SOCKET_POLICY.get((endpoint, method), NOBODY))
        for caller in sorted(callers - allowed):
            unauthorised.append(f"{caller}: {method} {endpoint}")
    size = (len(all_routes) + len(SOCKET_POLICY)) * len(CALLERS)
    allowed_total = sum(len(POLICY[k]) for k in POLICY) + sum(
        len(v) for v in SOCKET_POLICY.values()
    )
    print(
        f"\naccess matrix: {len(all_routes)} HTTP route×method + {len(SOCKET_POLICY)} Socket.IO "
        f"events × {len(CALLERS)} callers = {size} calls; declared allowed {allowed_total}, "
        f"succeeded {sum(len(v) for v in successes.values())}; unauthorised successes "
        f"{len(unauthorised)}; refusals by status {dict(sorted(refusals.items()))}"
    )
    unproven = sorted(
        f"{method} {endpoint} {sorted(codes)}"
        for (endpoint, method), codes in statuses.items()
        if not codes & {302, 401, 403}
    )
    print(
        f"routes whose refusals were never 401/403/login ({len(unproven)}):", *unproven, sep="\n  "
    )
    assert not unauthorised, "\n".join(unauthorised)


_clients: dict = {}


def clients(app, caller: str, world: World):
    """One test client per caller and app, so cookies never cross callers; the kiosk page's
    carries its provisioned cookie."""
    key = (id(app), caller)
    if key not in _clients:
        _clients[key] = app.test_client()
        if caller == KIOSK_PAGE:
            _clients[key].set_cookie(COOKIE_NAME, world.kiosk_cookie)
    return _clients[key]


#: Routes that end the caller's own session or token: called after every other route.
LAST = frozenset({"auth.LogoutView", "web_supervisor.logout", "auth.PasswordView"})
