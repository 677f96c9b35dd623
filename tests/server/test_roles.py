"""Every route × every role: anonymous, staff, supervisor, admin, province viewer.

`POLICY` classifies every (endpoint, method) of the app; a route nobody classified fails
`test_every_route_is_classified`, so a new page or endpoint must say who may use it. Each
role then calls every route once (ids of real demo rows, `{}` as the JSON body, a valid
CSRF token on HTML forms) and the status must match the class:

- ``ok``: the role passes the access check (any status but 401/403/redirect-to-login; 4xx
  for a body or id that is not valid is still "passed"), never a 500;
- ``401`` / ``403``: refused; ``login``: a page redirects to the login page.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from server.services import issuing
from server.services import lifecycle as ops
from server.services.auth import create_user

ROLES = ("anonymous", "staff", "supervisor", "admin", "viewer")
CREDENTIALS = {
    "staff": ("canbo1", "tthcc-canbo"),
    "supervisor": ("giamsat", "tthcc-giamsat"),
    "admin": ("admin", "tthcc-admin"),
    "viewer": ("tinh", "xem-bao-cao-tinh"),
}

OK = "ok"
PUBLIC = (OK, OK, OK, OK, OK)
USER = ("401", OK, OK, OK, OK)
OPERATOR = ("401", OK, OK, OK, "403")  # acts on counters/tickets; a viewer only reads
READER = ("401", "403", OK, OK, OK)  # reports, scorecards, live supervision
SUPERVISOR_ADMIN = ("401", "403", OK, OK, "403")
ADMIN = ("401", "403", "403", OK, "403")
PAGE_READER = ("login", "403", OK, OK, OK)
#: The province board and reports across centres: administrators and province viewers.
PROVINCE = ("401", "403", "403", OK, OK)
PAGE_PROVINCE = ("login", "403", "403", OK, OK)
PAGE_ADMIN = ("login", "403", "403", OK, "403")
#: Validates the body before checking who calls: `{}` gets 422 from everyone. The real
#: check follows validation (see the report: decorators to reorder).
VALIDATED_FIRST = ("422", "422", "422", "422", "422")
#: A centre box's own token only: no user is one.
BOX_ONLY = ("401", "401", "401", "401", "401")

POLICY: dict[tuple[str, str], tuple[str, ...]] = {
    # Public pages: kiosk, display, ticket status, published procedures, page shells that
    # log in through the JSON API (their data is role-checked there).
    **{
        (e, "GET"): PUBLIC
        for e in (
            "web.home",
            "web_staff.counter_page",
            "web.ticket_status",
            "web.static",
            "static",
            "web_supervisor.devices_page",
            "web_supervisor.dossiers_page",
            "web_supervisor.feedback_page",
            "web_staff.counter_dossiers_page",
            "public.feedback_page",
            "public.procedures_page",
            "public.procedure_page",
            "kiosk.kiosk_page",
            "kiosk.ticket_qr",
            "kiosk.static",
            "kiosk.procedures_page",
            "kiosk.dossier_lookup_page",
            "kiosk.feedback_page",
            "display.display_page",
            "display.audio_page",
            "display.clip",
            "display.static",
            "web_supervisor.login",
            "api-docs.openapi_json",
            "announcements.AnnouncementPreviewView",
            "centres.CentresView",
            "centres.ServicesView",
            "centres.CatalogView",
            "centres.DefaultCatalogView",
            "centres.SnapshotView",
            "counters.CountersView",
            "counters.CounterView",
            "tickets.PublicTicketView",
            "procedures.ProceduresView",
            "procedures.ProcedureView",
            "procedures.ExportView",
            "calendar.WorkingDaysView",
            "calendar.DueDateView",
            "dossiers.LookupView",
            "public.waits_page",
            "public_waits.CentreWaitsView",
            "public_waits.NearView",
        )
    },
    ("kiosk.procedure_qr", "GET"): PUBLIC,
    ("public.remote_page", "GET"): PUBLIC,
    # A phone's number and its check-in: public; `{}` is refused (422) first.
    ("remote.RemoteTicketsView", "POST"): VALIDATED_FIRST,
    ("remote.CheckInView", "POST"): VALIDATED_FIRST,
    # Appointments: public pages and slots; bodies and codes are validated first (422).
    ("appointments_pages.appointments_page", "GET"): PUBLIC,
    ("appointments_pages.appointment_qr", "GET"): PUBLIC,  # 404 for "x": not a code
    ("appointments.SlotsView", "GET"): VALIDATED_FIRST,
    ("appointments.HoldsView", "POST"): VALIDATED_FIRST,
    ("appointments.AppointmentsView", "POST"): VALIDATED_FIRST,
    ("appointments.AppointmentView", "GET"): VALIDATED_FIRST,
    ("appointments.AppointmentView", "PATCH"): VALIDATED_FIRST,
    ("appointments.AppointmentView", "DELETE"): VALIDATED_FIRST,
    # Notifications: a citizen turns them on or off for a ticket by its public code ("x"
    # is no code: a 404, which is no refusal; a body is validated first); the report is for
    # readers.
    ("notifications.ChannelsView", "GET"): PUBLIC,
    ("notifications.TicketNotificationsView", "GET"): PUBLIC,
    ("notifications.TicketNotificationsView", "POST"): VALIDATED_FIRST,
    ("notifications.TicketNotificationView", "DELETE"): PUBLIC,
    ("notification_reports.ReportView", "GET"): READER,
    # Anyone may ask a code for a phone (docs/remote.md); the empty body is 422 for all.
    ("phone_checks.PhoneVerificationsView", "POST"): VALIDATED_FIRST,
    # A centre's closed days: read by its supervisors, set by the administrator.
    ("closures.ClosuresView", "GET"): SUPERVISOR_ADMIN,
    ("closures.ClosuresView", "POST"): ("401", "403", "403", "422", "403"),
    # A kiosk's scan: only a provisioned kiosk (none of these users), after validation.
    ("scans.ScansView", "POST"): VALIDATED_FIRST,
    ("scans.DeclineView", "POST"): ("403", "403", "403", "403", "403"),
    ("web_admin_closures.closures_page", "GET"): PAGE_ADMIN,
    ("web_admin_closures.closures_page", "POST"): ("login", "403", "403", "422", "403"),
    # A centre box's batch needs the box's token; its link is for supervisors and admins.
    ("sync.SyncBatchView", "POST"): VALIDATED_FIRST,
    ("sync.SyncConfigView", "GET"): BOX_ONLY,
    ("sync.SyncLinkView", "GET"): SUPERVISOR_ADMIN,
    # Prints on the calling kiosk's own printer only; `{}` is refused (422) first.
    ("procedures.ProcedurePrintView", "POST"): VALIDATED_FIRST,
    # Provisioning a kiosk without a valid code: the refusal page, for everyone.
    ("kiosk.provision", "GET"): ("403",) * 5,
    ("admin.KioskCodeView", "POST"): ADMIN,
    ("web_admin_pages.kiosk_code", "POST"): PAGE_ADMIN,
    # The login form answers 401 to the empty credentials sent here; logout goes to login.
    ("web_supervisor.login", "POST"): ("401",) * 5,
    ("web_supervisor.logout", "POST"): ("login",) * 5,
    ("auth.TokenView", "POST"): PUBLIC,
    ("auth.LoginView", "POST"): PUBLIC,
    ("auth.LogoutView", "POST"): PUBLIC,
    ("tickets.TicketsView", "POST"): PUBLIC,  # the kiosk issues tickets
    ("auth.MeView", "GET"): USER,
    ("auth.PasswordView", "POST"): USER,  # the body sent here is refused (422) once past 401
    ("tickets.TicketListView", "GET"): USER,
    # A ticket by its sequential id holds its public code: its centre's users (and the
    # kiosk that printed it, tests/server/test_access_matrix.py), not anyone.
    ("tickets.TicketView", "GET"): USER,
    # Counter and ticket operations.
    ("counters.CallNextView", "POST"): OPERATOR,
    ("counters.CallTicketView", "POST"): OPERATOR,
    ("counters.CounterStatusView", "POST"): OPERATOR,
    ("counters.CounterCitizenView", "GET"): OPERATOR,  # the card of the served ticket
    ("tickets.TransferView", "POST"): OPERATOR,
    ("tickets.ReprintView", "POST"): OPERATOR,
    **{
        (f"tickets.Ticket{n}View", "POST"): OPERATOR
        for n in ("Recall", "Start", "Finish", "NoShow", "Requeue")
    },
    # Reports, scorecards, live supervision: supervisors, admins, province viewers.
    ("reports.ReportView", "GET"): READER,
    ("reports.ReportExportView", "GET"): READER,
    ("reports.ScorecardsView", "GET"): READER,
    ("reports.OverviewView", "GET"): READER,
    ("province.BoardView", "GET"): PROVINCE,
    ("province.ProvinceReportView", "GET"): PROVINCE,
    ("province.ProvinceExportView", "GET"): PROVINCE,
    ("web_province.board", "GET"): PAGE_PROVINCE,
    ("web_province.reports", "GET"): PAGE_PROVINCE,
    ("web_supervisor.live", "GET"): PAGE_READER,
    ("web_supervisor.reports", "GET"): PAGE_READER,
    ("web_supervisor.staff", "GET"): PAGE_READER,
    ("web_supervisor.ticket_trail", "GET"): PAGE_READER,
    ("web_supervisor.notifications_page", "GET"): PAGE_READER,
    # Administration.
    **{
        (f"admin.{view}", method): ADMIN
        for view, methods in (
            ("EntityListView", ("GET", "POST")),
            ("EntityView", ("GET", "PATCH", "DELETE")),
            ("PasswordView", ("POST",)),
            ("StationTokenView", ("POST", "DELETE")),
            ("AuditView", ("GET",)),
            ("ConfigExportView", ("GET",)),
            ("ConfigImportView", ("POST",)),
        )
        for method in methods
    },
    **{
        (f"web_admin_pages.{view}", method): PAGE_ADMIN
        for view, methods in (
            ("admin_index", ("GET",)),
            ("listing", ("GET",)),
            ("new", ("GET", "POST")),
            ("edit", ("GET", "POST")),
            ("remove", ("POST",)),
            ("password", ("POST",)),
            ("station_token", ("POST",)),
            ("audit_page", ("GET",)),
            ("config_page", ("GET",)),
            ("config_download", ("GET",)),
            ("config_import", ("POST",)),
            ("calendar_page", ("GET", "POST")),
        )
        for method in methods
    },
    ("admin_procedures.AdminProceduresView", "GET"): ADMIN,
    ("admin_procedures.AdminProceduresView", "POST"): ADMIN,
    **{
        ("admin_procedures.AdminProcedureView", m): ADMIN for m in ("GET", "PUT", "PATCH", "DELETE")
    },
    **{
        (f"web_admin_procedures.{view}", method): PAGE_ADMIN
        for view, methods in (
            ("procedures_list", ("GET",)),
            ("procedure_new", ("GET", "POST")),
            ("procedure_edit", ("GET", "POST")),
            ("procedure_deactivate", ("POST",)),
        )
        for method in methods
    },
    ("web_admin.printed_tickets", "GET"): PAGE_ADMIN,
    ("web_admin.printed_file", "GET"): PAGE_ADMIN,
    # Other parts of the system, as they stand (see docs/reports.md, "Roles").
    ("calendar.YearView", "GET"): ADMIN,
    ("calendar.YearView", "PUT"): ADMIN,
    ("calendar.YearView", "DELETE"): ADMIN,
    ("procedures.ImportView", "POST"): ADMIN,
    ("ratings.RatingsView", "GET"): SUPERVISOR_ADMIN,
    ("ratings.RatingsView", "POST"): VALIDATED_FIRST,
    ("stations.StationsView", "GET"): SUPERVISOR_ADMIN,
    ("dossiers.DossiersView", "GET"): OPERATOR,
    ("dossiers.DossiersView", "POST"): VALIDATED_FIRST,
    ("dossiers.DueSoonView", "GET"): OPERATOR,
    ("dossiers.OverdueView", "GET"): OPERATOR,
    **{
        (f"dossiers.{v}", "GET"): OPERATOR
        for v in (
            "DossierView",
            "SlipView",
            "SlipPdfView",
            "SlipPngView",
            "SlipTxtView",
            "ApologyPdfView",
            "ApologyTxtView",
        )
    },
    ("dossiers.TransitionView", "POST"): VALIDATED_FIRST,
    ("dossiers.ApologyView", "POST"): VALIDATED_FIRST,
    ("dossiers.SlipPrintView", "POST"): OPERATOR,
    ("feedback.FeedbackListView", "GET"): SUPERVISOR_ADMIN,
    ("feedback.FeedbackListView", "POST"): VALIDATED_FIRST,  # citizens send feedback
    ("feedback.FeedbackView", "GET"): USER,
    ("feedback.AnswerView", "POST"): VALIDATED_FIRST,
    ("feedback.AssignView", "POST"): VALIDATED_FIRST,
    ("feedback.CloseView", "POST"): SUPERVISOR_ADMIN,
    ("feedback.AssigneesView", "GET"): SUPERVISOR_ADMIN,
    ("feedback.OverdueView", "GET"): SUPERVISOR_ADMIN,
}

#: Logging out ends the bearer token: called last, separately.
LAST = {("auth.LogoutView", "POST"), ("web_supervisor.logout", "POST")}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_classified(app):
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in _routes(app)
        if (rule.endpoint, method) not in POLICY
    )
    assert not missing, "routes without a role policy in tests/server/test_roles.py:\n" + "\n".join(
        missing
    )


def _url(rule, method: str) -> str:
    url = rule.rule
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            value = "999999" if method == "DELETE" else "1"
        elif name == "entity":
            value = "services"
        else:
            value = "x.png" if ".png" in rule.rule else "x"
        url = re.sub(rf"<[^>]*\b{name}>", value, url)
    return url


@pytest.fixture
def hall(app, database, demo, now):
    with database.transaction() as session:
        create_user(session, username="tinh", password="xem-bao-cao-tinh", role="viewer")
        services = [s for s in session.query(ops.Service).order_by(ops.Service.id)]
        issuing.issue_ticket(session, service_id=services[0].id, now=now)
    return app


def _login(client, role: str) -> dict[str, str]:
    """Log `role` in both ways: session cookie (pages) and bearer token (API)."""
    if role == "anonymous":
        client.get("/supervisor/login")  # a session with a CSRF token, nobody logged in
        return {}
    username, password = CREDENTIALS[role]
    page = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/supervisor/login",
        data={"username": username, "password": password, "csrf_token": token},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _csrf(client) -> str:
    page = client.get("/supervisor/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _outcome(response) -> str:
    if response.status_code in (301, 302, 303) and "/supervisor/login" in response.headers.get(
        "Location", ""
    ):
        return "login"
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code == 422:
        return "422"
    return OK


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(hall, role):
    client = hall.test_client()
    headers = _login(client, role)
    csrf = _csrf(client)
    index = ROLES.index(role)
    wrong = []
    routes = sorted(
        _routes(hall),
        key=lambda rm: (
            (rm[0].endpoint, rm[1]) in LAST,
            ["GET", "POST", "PUT", "PATCH", "DELETE"].index(rm[1]),
            rm[0].rule,
        ),
    )
    for rule, method in routes:
        policy = POLICY.get((rule.endpoint, method))
        if policy is None:
            continue  # reported by test_every_route_is_classified
        url = _url(rule, method)
        if rule.rule.startswith("/api/"):
            response = client.open(
                url, method=method, headers=headers, json=None if method == "GET" else {}
            )
        else:
            data = None if method == "GET" else {"csrf_token": csrf}
            response = client.open(url, method=method, data=data)
        assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"
        expected = policy[index]
        got = _outcome(response)
        if expected == OK and got in ("422", OK):
            continue
        if got != expected:
            wrong.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)


def test_a_page_form_without_csrf_token_is_refused(hall):
    client = hall.test_client()
    _login(client, "admin")
    r = client.post("/admin/fields/new", data={"code": "X", "name": "X", "centre_id": "1"})
    assert r.status_code == 400
    r = client.post(
        "/admin/fields/new",
        data={"code": "X", "name": "X", "centre_id": "1", "csrf_token": _csrf(client)},
    )
    assert r.status_code == 302


def test_cookie_json_writes_from_another_site_are_refused(hall):
    client = hall.test_client()
    client.post("/api/v1/auth/login", json={"username": "giamsat", "password": "tthcc-giamsat"})
    r = client.post(
        "/api/v1/counters/1/status",
        json={"status": "paused", "reason": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/counters/1/status",
        json={"status": "paused", "reason": "Họp"},
        headers={"Origin": "http://localhost"},
    )
    assert r.status_code == 200, r.get_json()


def test_failed_logins_are_rate_limited(hall):
    client = hall.test_client()
    for _ in range(10):
        r = client.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "sai-mat-khau"}
        )
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
    assert r.status_code == 429
    assert "quá nhiều" in r.get_json()["message"]


def test_successful_logins_are_not_counted(hall):
    client = hall.test_client()
    for _ in range(15):
        r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
        assert r.status_code == 200


def test_a_page_session_is_permanent_and_expires(hall):
    client = hall.test_client()
    _login(client, "supervisor")
    assert hall.permanent_session_lifetime.total_seconds() == 8 * 3600
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
