"""Who may call what: every HTTP route and Socket.IO event of the app, by audience, in one
place (issue 11, item 1).

- ``AUDIENCES``: the audiences the web is organised by, each with its credential.
- ``BLUEPRINTS``: every blueprint, pages and API, with its audience; the app registers
  them from this one list (server/app.py) and nowhere else. A blueprint's module lives in
  its audience's package, ``server/web/<audience>/`` or ``server/api/<audience>/``.
- ``POLICY`` / ``SOCKET_POLICY``: per endpoint and method (per namespace and event), the
  kinds of caller that may succeed, with path ids naming one centre's rows (a caller of
  another centre reaching them is "another centre's data").

The views enforce access themselves (decorators, per-row checks); these declarations are
what the enforcement is held to: tests/server/test_access_matrix.py calls every route as
every kind of caller and fails on any success outside ``POLICY`` or any route missing from
it. ``tthcc access-table`` writes the route → who table of docs/security.md from here;
tests/server/test_access_policy_doc.py fails when that table is out of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Audience(StrEnum):
    PUBLIC = "public"
    KIOSK = "kiosk"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    PROVINCE = "province"
    STATION = "station"
    HUB = "hub"


#: Who each audience is and what proves it.
AUDIENCES: dict[Audience, str] = {
    Audience.PUBLIC: "citizens, phones, the lobby display: anyone, no credential",
    Audience.KIOSK: "the kiosk page: its centre's catalogue for anyone; printing only with "
    "the provisioned kiosk's cookie (or its agent's token)",
    Audience.STAFF: "counter and dossier-desk staff: a session or bearer token, their centre",
    Audience.SUPERVISOR: "supervisors: a session or bearer token, their centre",
    Audience.ADMIN: "administrators: a session or bearer token, every centre",
    Audience.PROVINCE: "the province: administrators and viewers (role viewer, no centre)",
    Audience.STATION: "station agents: the station's bearer token (Socket.IO /station)",
    Audience.HUB: "centre boxes delivering their hall to the province hub: the box's own "
    "bearer token (and the box's link, for its supervisors and administrator)",
}


@dataclass(frozen=True)
class Mount:
    """A blueprint: ``module`` holds it as ``attr``; mounted at ``url_prefix``. ``api``: a
    flask-smorest blueprint of the API (registered on the API object, in the OpenAPI
    document), else a page blueprint."""

    module: str
    audience: Audience
    url_prefix: str | None = None
    attr: str = "bp"
    api: bool = False


def _api(name: str, audience: Audience) -> Mount:
    """An API blueprint: ``server/api/<audience>/<name>.py``, under /api/v1."""
    return Mount(f"server.api.{audience}.{name}", audience, "/api/v1", "blp", api=True)


def _pages(name: str, audience: Audience) -> Mount:
    """A page blueprint: ``server/web/<audience>/<name>.py``."""
    return Mount(f"server.web.{audience}.{name}", audience)


#: Every blueprint of the app, pages and API, by audience: the app registers these (in this
#: order) and nothing else (server/app.py, register_blueprints). A module's package is its
#: audience (tests/server/test_access_policy_doc.py holds the layout to this list).
BLUEPRINTS: tuple[Mount, ...] = (
    # public: citizens, phones, the lobby display
    _pages("front_door", Audience.PUBLIC),
    _pages("pages", Audience.PUBLIC),
    _pages("appointments", Audience.PUBLIC),
    Mount("display.blueprint", Audience.PUBLIC, "/display"),
    _api("centres", Audience.PUBLIC),
    _api("remote", Audience.PUBLIC),
    _api("phone_checks", Audience.PUBLIC),
    _api("appointments", Audience.PUBLIC),
    _api("notifications", Audience.PUBLIC),
    _api("announcements", Audience.PUBLIC),
    _api("procedures", Audience.PUBLIC),
    _api("calendar", Audience.PUBLIC),
    _api("feedback", Audience.PUBLIC),
    _api("waits", Audience.PUBLIC),
    # kiosk: its pages are the kiosk/ package (templates and static files of its own)
    Mount("kiosk.blueprint", Audience.KIOSK, "/kiosk"),
    _api("tickets", Audience.KIOSK),
    _api("scans", Audience.KIOSK),
    # staff: counter and dossier desk
    _pages("pages", Audience.STAFF),
    _api("auth", Audience.STAFF),
    _api("counters", Audience.STAFF),
    _api("dossiers", Audience.STAFF),
    _api("ratings", Audience.STAFF),
    # supervisor
    _pages("pages", Audience.SUPERVISOR),
    _api("stations", Audience.SUPERVISOR),
    _api("reports", Audience.SUPERVISOR),
    _api("notifications", Audience.SUPERVISOR),
    # admin
    _pages("pages", Audience.ADMIN),
    _pages("procedures", Audience.ADMIN),
    _pages("printed", Audience.ADMIN),
    _pages("closures", Audience.ADMIN),
    _api("entities", Audience.ADMIN),
    _api("procedures", Audience.ADMIN),
    _api("closures", Audience.ADMIN),
    # province
    _pages("pages", Audience.PROVINCE),
    _api("board", Audience.PROVINCE),
    # hub: a centre box and the province hub
    _api("sync", Audience.HUB),
    # station: no blueprint; Socket.IO /station (server/realtime.py, SOCKET_POLICY below)
)


def audience_of(endpoint: str) -> Audience | None:
    """The audience of the blueprint an endpoint belongs to (None: the app's own)."""
    blueprint = endpoint.rpartition(".")[0]
    for mount in BLUEPRINTS:
        if blueprint == _blueprint_names().get(mount.module):
            return mount.audience
    return None


def _blueprint_names() -> dict[str, str]:
    import importlib

    return {
        mount.module: getattr(importlib.import_module(mount.module), mount.attr).name
        for mount in BLUEPRINTS
    }


# --- the kinds of caller ------------------------------------------------------------------

ANONYMOUS = "anonymous"
STAFF = "staff"  # canbo1, holding counter 1 of centre 1
STAFF_OTHER_COUNTER = "staff_other_counter"  # canbo2, centre 1, not holding counter 1
STAFF_OTHER_CENTRE = "staff_other_centre"
SUPERVISOR_OTHER_CENTRE = "supervisor_other_centre"
ADMIN = "admin"
VIEWER = "viewer"  # a province viewer: every centre, reads only
KIOSK = "kiosk"  # KIOSK-1's agent token
KIOSK_PAGE = "kiosk_page"  # KIOSK-1's provisioned page: its tthcc_kiosk cookie, no token
COUNTERS = "counters"  # COUNTERS-1's agent token (counter 1 bound to it)
DISPLAY = "display"  # DISPLAY-1's token
BOX = "box"  # centre 1's box token (a centre box delivering its hall to the hub)
CALLERS = (
    ANONYMOUS,
    STAFF,
    STAFF_OTHER_COUNTER,
    STAFF_OTHER_CENTRE,
    SUPERVISOR_OTHER_CENTRE,
    ADMIN,
    VIEWER,
    KIOSK,
    KIOSK_PAGE,
    COUNTERS,
    DISPLAY,
    BOX,
)

EVERYONE = frozenset(CALLERS)
NOBODY: frozenset[str] = frozenset()
ADMINS = frozenset({ADMIN})
#: Reads of centre 1's reports and live hall: its supervisor (none among the callers),
#: the administrator and the province viewer.
READERS = frozenset({ADMIN, VIEWER})
#: Centre 1's operators.
OPERATORS = frozenset({STAFF, STAFF_OTHER_COUNTER, ADMIN})
#: Anyone logged in, of any centre (their own account, their own session).
USERS = frozenset(
    {STAFF, STAFF_OTHER_COUNTER, STAFF_OTHER_CENTRE, SUPERVISOR_OTHER_CENTRE, ADMIN, VIEWER}
)
#: Centre 1's people (staff of any counter, the admin, the province viewer).
CENTRE_1_USERS = frozenset({STAFF, STAFF_OTHER_COUNTER, ADMIN, VIEWER})


# --- who may call what ---------------------------------------------------------------------

POLICY: dict[tuple[str, str], frozenset[str]] = {}
SOCKET_POLICY: dict[tuple[str, str], frozenset[str]] = {}

STATIONS = frozenset({KIOSK, COUNTERS, DISPLAY})
#: Everyone but a counters or display station (which issue nothing): a ticket on screen
#: for anyone, printed only for a kiosk (test_station_least_privilege.py).
ISSUERS = EVERYONE - {COUNTERS, DISPLAY}
#: Public pages and data: the hall, the kiosk, the procedures, a ticket by its code. Pages
#: of staff, supervisors and the counter are shells whose data comes from the API under
#: that API's policy below.
PUBLIC = EVERYONE

_PUBLIC_ENDPOINTS = (
    "web.home",
    "web.static",
    "static",
    "web_staff.counter_page",
    "web.ticket_status",
    "web_supervisor.devices_page",
    "web_supervisor.login",
    "public.procedures_page",
    "public.procedure_page",
    "public.feedback_page",
    "web_staff.counter_dossiers_page",
    "web_supervisor.dossiers_page",
    "web_supervisor.feedback_page",
    "kiosk.kiosk_page",
    "kiosk.procedures_page",
    "kiosk.dossier_lookup_page",
    "kiosk.feedback_page",
    "kiosk.provision",
    "kiosk.ticket_qr",
    "kiosk.static",
    "display.display_page",
    "display.audio_page",
    "display.clip",
    "display.static",
    "api-docs.openapi_json",
    "centres.CentresView",
    "centres.CatalogView",
    "centres.DefaultCatalogView",
    "centres.ServicesView",
    "centres.SnapshotView",
    "counters.CountersView",
    "counters.CounterView",
    "procedures.ProceduresView",
    "procedures.ProcedureView",
    "procedures.ExportView",
    "calendar.WorkingDaysView",
    "calendar.DueDateView",
    "tickets.PublicTicketView",
    "dossiers.LookupView",
    "announcements.AnnouncementPreviewView",
    "public.waits_page",
    "public.remote_page",
    "public_waits.CentreWaitsView",
    "public_waits.NearView",
    "kiosk.procedure_qr",
    "notifications.ChannelsView",
    "notifications.TicketNotificationsView",
    "appointments_pages.appointments_page",
    "appointments_pages.appointment_qr",
    "appointments.SlotsView",
)

POLICY.update({(endpoint, "GET"): PUBLIC for endpoint in _PUBLIC_ENDPOINTS})
POLICY.update(
    {
        # --- citizens and the kiosk
        ("tickets.TicketsView", "POST"): ISSUERS,
        ("feedback.FeedbackListView", "POST"): EVERYONE,
        # A phone takes today's number; a citizen checks in with its code (printed only
        # at a provisioned kiosk: test_station_least_privilege.py, test_remote.py).
        ("remote.RemoteTicketsView", "POST"): EVERYONE,
        ("remote.CheckInView", "POST"): EVERYONE,
        # Anyone may have a code texted to a phone to prove it is theirs (docs/remote.md);
        # limited per number and per address. Without an SMS gateway it is 409.
        ("phone_checks.PhoneVerificationsView", "POST"): EVERYONE,
        # A citizen turns notifications on or off for their ticket: its public code is
        # the key, as for its /t/ page (the test's body gives no consent: 422 for all).
        ("notifications.TicketNotificationsView", "POST"): NOBODY,
        ("notifications.TicketNotificationView", "DELETE"): EVERYONE,
        ("notification_reports.ReportView", "GET"): READERS,
        # Appointments: anyone books; the ten-digit code is the booking's only key.
        ("appointments.HoldsView", "POST"): EVERYONE,
        ("appointments.AppointmentsView", "POST"): EVERYONE,
        ("appointments.AppointmentView", "GET"): EVERYONE,
        ("appointments.AppointmentView", "PATCH"): EVERYONE,
        ("appointments.AppointmentView", "DELETE"): EVERYONE,
        # A centre's closed days: the administrator closes; its supervisors read.
        ("closures.ClosuresView", "GET"): ADMINS,
        ("closures.ClosuresView", "POST"): ADMINS,
        # What a kiosk's scanner read (a chip ID card): that kiosk only (docs/privacy.md).
        ("scans.ScansView", "POST"): frozenset({KIOSK, KIOSK_PAGE}),
        ("scans.DeclineView", "POST"): frozenset({KIOSK, KIOSK_PAGE}),
        # A centre box's batches carry the box's own token (the matrix's body is no valid
        # batch: test_sync.py); the box's link to the hub is the box's state, for its
        # supervisors and admin.
        ("sync.SyncBatchView", "POST"): frozenset({BOX}),
        ("sync.SyncConfigView", "GET"): frozenset({BOX}),  # its own centre's configuration
        ("sync.SyncLinkView", "GET"): frozenset({ADMIN, SUPERVISOR_OTHER_CENTRE}),
        # --- one's own account
        ("auth.TokenView", "POST"): NOBODY,  # the body's password is wrong on purpose
        ("auth.LoginView", "POST"): NOBODY,
        ("web_supervisor.login", "POST"): NOBODY,
        ("auth.MeView", "GET"): USERS,
        ("auth.LogoutView", "POST"): EVERYONE,  # ends the caller's own session, if any
        ("web_supervisor.logout", "POST"): EVERYONE,
        ("auth.PasswordView", "POST"): NOBODY,  # the current password is wrong on purpose
        # --- centre 1's counters and tickets: its operators (the counter's holder, or a
        # free counter's), the counters station bound to the counter for keypad operations
        ("counters.CallNextView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("counters.CallTicketView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("counters.CounterStatusView", "POST"): frozenset({STAFF, ADMIN}),
        # The ID card read for the ticket at the counter: staff who may operate it.
        ("counters.CounterCitizenView", "GET"): frozenset({STAFF, ADMIN}),
        ("tickets.TicketView", "GET"): CENTRE_1_USERS | {KIOSK, KIOSK_PAGE},  # KIOSK-1 printed it
        ("tickets.TicketListView", "GET"): CENTRE_1_USERS,
        ("tickets.TicketRecallView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("tickets.TicketStartView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("tickets.TicketNoShowView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("tickets.TicketRequeueView", "POST"): OPERATORS | {COUNTERS},
        ("tickets.TicketFinishView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("tickets.TransferView", "POST"): OPERATORS | {COUNTERS},
        ("tickets.ReprintView", "POST"): OPERATORS,
        ("ratings.RatingsView", "POST"): frozenset({STAFF, ADMIN, COUNTERS}),
        ("ratings.RatingsView", "GET"): READERS,
        # --- dossiers (the dossier desk) and feedback cases
        ("dossiers.DossiersView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.DossiersView", "POST"): OPERATORS,
        ("dossiers.DossierView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.DueSoonView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.OverdueView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.TransitionView", "POST"): OPERATORS,
        ("dossiers.ApologyView", "POST"): OPERATORS,
        ("dossiers.ApologyPdfView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.ApologyTxtView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.SlipView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.SlipPdfView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.SlipPngView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.SlipTxtView", "GET"): OPERATORS | {VIEWER},
        ("dossiers.SlipPrintView", "POST"): OPERATORS,
        ("feedback.FeedbackListView", "GET"): READERS,
        ("feedback.FeedbackView", "GET"): READERS,
        ("feedback.OverdueView", "GET"): READERS,
        ("feedback.AssigneesView", "GET"): READERS,
        ("feedback.AssignView", "POST"): ADMINS,
        ("feedback.AnswerView", "POST"): ADMINS | {STAFF, STAFF_OTHER_COUNTER},
        ("feedback.CloseView", "POST"): ADMINS,
        # --- supervisors' reading (centre 1's supervisor is not among the callers)
        ("reports.OverviewView", "GET"): READERS,
        ("reports.ReportView", "GET"): READERS,
        ("reports.ReportExportView", "GET"): READERS,
        ("reports.ScorecardsView", "GET"): READERS,
        ("stations.StationsView", "GET"): ADMINS,
        ("web_supervisor.live", "GET"): READERS,
        ("web_supervisor.reports", "GET"): READERS,
        ("web_supervisor.staff", "GET"): READERS,
        ("web_supervisor.ticket_trail", "GET"): READERS,
        ("web_supervisor.notifications_page", "GET"): READERS,  # counts, no numbers
        # --- the calendar and the procedure catalogue: administrators write
        ("calendar.YearView", "GET"): ADMINS,
        ("calendar.YearView", "PUT"): ADMINS,
        ("calendar.YearView", "DELETE"): ADMINS,
        ("procedures.ImportView", "POST"): ADMINS,
        # A papers list prints on the calling kiosk's own printer only.
        ("procedures.ProcedurePrintView", "POST"): frozenset({KIOSK, KIOSK_PAGE}),
        # The province: its administrator and viewers.
        ("province.BoardView", "GET"): READERS,
        ("province.ProvinceReportView", "GET"): READERS,
        ("province.ProvinceExportView", "GET"): READERS,
        ("web_province.board", "GET"): READERS,
        ("web_province.reports", "GET"): READERS,
    }
)
#: Everything under /admin and /api/v1/admin: the administrator only.
for _endpoint, _methods in (
    ("admin.EntityListView", ("GET", "POST")),
    ("admin.EntityView", ("GET", "PATCH", "DELETE")),
    ("admin.AuditView", ("GET",)),
    ("admin.ConfigExportView", ("GET",)),
    ("admin.ConfigImportView", ("POST",)),
    ("admin.KioskCodeView", ("POST",)),
    ("admin.StationTokenView", ("POST", "DELETE")),
    ("admin.PasswordView", ("POST",)),
    ("admin_procedures.AdminProceduresView", ("GET", "POST")),
    ("admin_procedures.AdminProcedureView", ("GET", "PATCH", "PUT", "DELETE")),
    ("web_admin.printed_tickets", ("GET",)),
    ("web_admin.printed_file", ("GET",)),
    ("web_admin_pages.admin_index", ("GET",)),
    ("web_admin_pages.listing", ("GET",)),
    ("web_admin_pages.edit", ("GET", "POST")),
    ("web_admin_pages.remove", ("POST",)),
    ("web_admin_pages.new", ("GET", "POST")),
    ("web_admin_pages.audit_page", ("GET",)),
    ("web_admin_pages.calendar_page", ("GET", "POST")),
    ("web_admin_closures.closures_page", ("GET", "POST")),
    ("web_admin_pages.config_page", ("GET",)),
    ("web_admin_pages.config_download", ("GET",)),
    ("web_admin_pages.config_import", ("POST",)),
    ("web_admin_pages.kiosk_code", ("POST",)),
    ("web_admin_pages.station_token", ("POST",)),
    ("web_admin_pages.password", ("POST",)),
    ("web_admin_procedures.procedures_list", ("GET",)),
    ("web_admin_procedures.procedure_edit", ("GET", "POST")),
    ("web_admin_procedures.procedure_deactivate", ("POST",)),
    ("web_admin_procedures.procedure_new", ("GET", "POST")),
):
    for _method in _methods:
        POLICY[(_endpoint, _method)] = ADMINS

SOCKET_POLICY.update(
    {
        # The hall is public (the lobby TV); a station's room needs its provisioned kiosk
        # page's cookie (test_station_least_privilege.py), which is watched from the
        # connect: revoking it drops the connection (realtime_tokens.py).
        ("/hall", "connect"): EVERYONE,
        ("/hall", "subscribe"): EVERYONE,
        ("/hall", "subscribe:station"): frozenset({KIOSK_PAGE}),
        ("/hall", "disconnect"): EVERYONE,
        ("/station", "connect"): STATIONS,
        ("/station", "disconnect"): STATIONS,
        ("/station", "station_heartbeat"): STATIONS,
        ("/station", "device_status"): STATIONS,  # its own devices
        ("/station", "print_ack"): frozenset({KIOSK}),  # its own print jobs
        ("/station", "counter_command"): frozenset({COUNTERS}),  # bound counters only
        ("/station", "rating_submit"): frozenset({COUNTERS}),
        ("/station", "scanner_scan"): frozenset({KIOSK}),  # its own kiosk's page
    }
)


# --- the route → who table of docs/security.md -----------------------------------------------

#: Names for the sets above, in the table.
_SET_NAMES: dict[frozenset[str], str] = {
    EVERYONE: "anyone",
    NOBODY: "nobody of these (see the route)",
    ADMINS: "admin",
    READERS: "the centre's supervisors, admin, province viewer",
    OPERATORS: "the centre's staff and supervisors, admin",
    USERS: "any logged-in user",
    CENTRE_1_USERS: "the centre's staff and supervisors, admin, province viewer",
    STATIONS: "any station",
    ISSUERS: "anyone but a counters or display station",
}
TABLE_START = "<!-- access-table:start (generated by `tthcc access-table`; do not edit) -->"
TABLE_END = "<!-- access-table:end -->"


_CALLER_NAMES = {
    ANONYMOUS: "anonymous",
    STAFF: "staff holding the counter",
    STAFF_OTHER_COUNTER: "staff of another counter",
    STAFF_OTHER_CENTRE: "staff of another centre",
    SUPERVISOR_OTHER_CENTRE: "a supervisor of another centre",
    ADMIN: "admin",
    VIEWER: "province viewer",
    KIOSK: "the kiosk station (its own)",
    KIOSK_PAGE: "the kiosk's provisioned page (its own)",
    COUNTERS: "the counters station it is bound to",
    DISPLAY: "a display station",
    BOX: "the centre's box (its sync token)",
}


def who(callers: frozenset[str]) -> str:
    """The callers of a declaration, in words."""
    if callers in _SET_NAMES:
        return _SET_NAMES[callers]
    return ", ".join(_CALLER_NAMES[caller] for caller in CALLERS if caller in callers)


def _source(module: str) -> str:
    return "`" + module.replace(".", "/") + ".py`"


def audience_table() -> list[str]:
    """Markdown lines: each audience, what proves it, and the modules of its pages and API."""
    lines = ["| audience | who, and what proves it | pages | API |", "|---|---|---|---|"]
    for audience, credential in AUDIENCES.items():
        mounts = [m for m in BLUEPRINTS if m.audience == audience]
        pages = ", ".join(_source(m.module) for m in mounts if not m.api) or "none"
        api = ", ".join(_source(m.module) for m in mounts if m.api) or "none"
        lines.append(f"| {audience} | {credential} | {pages} | {api} |")
    return lines


def access_table(app) -> str:
    """The markdown table of every route and Socket.IO event with its audience and who may
    call it, as declared above (between TABLE_START and TABLE_END in docs/security.md)."""
    rows: dict[tuple[str, str], list[str]] = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (rule.rule, rule.endpoint)
            rows.setdefault(key, []).append(method)
    lines = [TABLE_START, "", *audience_table(), ""]
    lines += [
        "| route | methods | audience | who may succeed (on a centre's rows) |",
        "|---|---|---|---|",
    ]
    for (path, endpoint), methods in sorted(rows.items()):
        audience = audience_of(endpoint)
        groups: dict[str, list[str]] = {}
        for method in methods:
            declared = POLICY.get((endpoint, method))
            groups.setdefault(who(declared) if declared is not None else "UNDECLARED", []).append(
                method
            )
        text = "; ".join(
            f"{'/'.join(ms)}: {w}" if len(groups) > 1 else w for w, ms in groups.items()
        )
        lines.append(f"| `{path}` | {' '.join(methods)} | {audience or 'app'} | {text} |")
    lines += ["", "| Socket.IO namespace | event | who may succeed |", "|---|---|---|"]
    for (namespace, event), callers in sorted(SOCKET_POLICY.items()):
        lines.append(f"| `{namespace}` | `{event}` | {who(callers)} |")
    lines += ["", TABLE_END]
    return "\n".join(lines)


def with_table(document: str, table: str) -> str:
    """`document` with the text between the table's markers replaced by `table`."""
    start, end = document.index(TABLE_START), document.index(TABLE_END) + len(TABLE_END)
    return document[:start] + table + document[end:]
