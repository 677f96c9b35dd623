"""The shared ES modules (server/static/js/lib/) in headless Chromium against the real server.

Each test imports the modules into a served page (the front page, whose template renders
the common labels) and drives them: DOM helpers, labels from the server, API errors with the
server's {error, message, message_en}, the centre clock, and the hall connection (snapshot
then changes, held events, resync, reconnect after a server restart, the watchdog).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server.services import events
from tests.e2e.conftest import running_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LIB = "/assets/js/lib"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with running_server(tmp_path_factory.mktemp("lib") / "instance") as live:
        yield live


@pytest.fixture
def page(browser, server) -> Iterator:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    yield page
    context.close()
    assert not errors, errors


def run(page, body: str, arg=None):
    """Evaluate an async function body with the lib modules imported as dom/api/labels/…"""
    script = f"""async (arg) => {{
      const dom = await import("{LIB}/dom.js");
      const labels = await import("{LIB}/labels.js");
      const api = await import("{LIB}/api.js");
      const clock = await import("{LIB}/clock.js");
      const hall = await import("{LIB}/hall.js");
      {body}
    }}"""
    return page.evaluate(script, arg)


# --- dom.js ----------------------------------------------------------------------------------


def test_el_builds_text_not_html_and_skips_empty_children(page):
    html = run(
        page,
        """
        let clicked = 0;
        const node = dom.el("ul", {class: "list", "data-id": 7, hidden: false, title: null},
          dom.el("li", {text: "<b>1023</b>", onclick: () => clicked++}),
          ["a", 5, null, undefined, false],
          dom.el("li", {style: {"--fit": "0.8"}, dataset: {counter: "3"}, disabled: true}));
        node.firstChild.click();
        return {html: node.outerHTML, clicked};
        """,
    )
    assert html["clicked"] == 1
    assert html["html"] == (
        '<ul class="list" data-id="7"><li>&lt;b&gt;1023&lt;/b&gt;</li>a5'
        '<li data-counter="3" disabled="" style="--fit: 0.8;"></li></ul>'
    )


def test_esc_set_text_and_json_block(page):
    out = run(
        page,
        """
        const p = dom.el("p", null, "old");
        dom.setText(p, null);
        const block = dom.el("script", {type: "application/json", id: "cfg"}, '{"a": 1}');
        document.body.append(block);
        return {esc: dom.esc(`<a href="x">'&'</a>`), text: p.textContent,
                cfg: dom.jsonBlock("cfg"), none: dom.jsonBlock("nope", 5), pad: dom.pad2(7),
                kids: dom.setChildren(dom.el("div", null, "x"), "y", ["z"]).textContent};
        """,
    )
    assert out == {
        "esc": "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
        "text": "",
        "cfg": {"a": 1},
        "none": 5,
        "pad": "07",
        "kids": "yz",
    }


def test_by_id_names_a_missing_element(page):
    message = run(page, 'try { dom.byId("no-such"); } catch (e) { return e.message; }')
    assert message == "#no-such is missing from the page"


# --- labels.js -------------------------------------------------------------------------------


def test_labels_come_from_the_server_block_with_placeholders(page):
    from server.labels import label

    out = run(
        page,
        """
        return {vi: labels.t("common.network_error"), en: labels.en("common.network_error"),
                has: labels.has("common.connected"), missing: labels.t("common.nope"),
                filled: labels.t("common.connected", {unused: 1})};
        """,
    )
    assert out["vi"] == label("common.network_error")
    assert out["en"] == label("common.network_error", "en")
    assert out["has"] is True
    assert out["missing"] == "common.nope"  # visible on screen, and in the console
    assert out["filled"] == "đã kết nối"


def test_display_page_carries_the_display_labels(browser, server):
    from server.labels import label

    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/display/?muted=1")
    out = run(
        page,
        """return {next: labels.t("display.next", {numbers: "1023, 1024"}),
                   days: labels.list("display.weekdays"), en: labels.en("display.call")};""",
    )
    context.close()
    assert out["next"] == label("display.next", numbers="1023, 1024") == "Tiếp theo: 1023, 1024"
    assert out["days"][0] == "Chủ nhật" and len(out["days"]) == 7
    assert out["en"] == "NOW SERVING"


# --- api.js ----------------------------------------------------------------------------------


def test_api_returns_json_and_relative_paths_go_under_api_v1(page, server):
    out = run(
        page,
        """return {a: await api.get("centres"), b: await api.get("/api/v1/centres")};""",
    )
    expected = requests.get(server.url + "/api/v1/centres", timeout=5).json()
    assert out["a"] == out["b"] == expected


def test_api_error_carries_the_servers_vietnamese_and_english_messages(page):
    out = run(
        page,
        """
        try { await api.post("tickets", {service_id: "x"}); }
        catch (e) { return {name: e.name, kind: e.kind, status: e.status, code: e.code,
                            vi: e.message, en: e.messageEn, isApi: e instanceof api.ApiError}; }
        """,
    )
    assert out["isApi"] and out["name"] == "ApiError"
    assert (out["kind"], out["status"], out["code"]) == ("client", 422, "invalid_input")
    assert out["vi"].startswith("Dữ liệu không hợp lệ") and "service_id" in out["vi"]
    assert out["en"].startswith("Invalid input")


def test_api_network_failure_timeout_and_server_error_use_the_common_labels(page, server):
    from server.labels import label

    page.route("**/api/v1/hang", lambda route: None)  # never answered
    page.route(
        "**/api/v1/boom",
        lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>"),
    )
    out = run(
        page,
        """
        const catchIt = async (p) => { try { await p; } catch (e) { return [e.kind, e.status, e.message, e.messageEn]; } };
        return {
          network: await catchIt(api.get("http://127.0.0.1:9/nothing")),
          timeout: await catchIt(api.get("hang", {timeoutMs: 300})),
          server: await catchIt(api.get("boom")),
        };
        """,
    )
    assert out["network"] == [
        "network",
        0,
        label("common.network_error"),
        label("common.network_error", "en"),
    ]
    assert out["timeout"][:3] == ["timeout", 0, label("common.timeout")]
    assert out["server"] == [
        "server",
        502,
        label("common.server_error"),
        label("common.server_error", "en"),
    ]


def test_api_sends_a_bearer_token(page, server):
    token = server.token()
    me = run(page, 'return await api.get("auth/me", {token: arg});', token)
    assert me["user"]["username"] == "canbo1"


# --- clock.js --------------------------------------------------------------------------------


def test_centre_clock_reads_the_centres_zone_and_corrects_the_pc_clock(page):
    out = run(
        page,
        """
        const c = new clock.CentreClock();
        c.sync(new Date(Date.now() + 5 * 3600e3).toISOString());  // a PC five hours slow, UTC
        const skewHours = Math.round(c.skewMs / 3600e3);
        const utcOffset = c.offsetMin;
        c.sync("2026-11-25T08:58:03.000+07:00");  // the server says 08:58 in Vietnam
        return {ok: c.synced, offset: c.offsetMin, time: c.time(null, {seconds: true}).slice(0, 5),
                date: c.date(), iso: c.isoDate(), at: c.time("2026-11-25T01:05:00Z"),
                weekday: c.parts().weekday, skewHours, utcOffset};
        """,
    )
    assert out["ok"] and out["offset"] == 420
    assert out["time"] in ("08:58", "08:59")
    assert out["date"] == "25/11/2026" and out["iso"] == "2026-11-25"
    assert out["at"] == "08:05"
    assert out["weekday"] == 3  # Wednesday
    assert (out["skewHours"], out["utcOffset"]) == (5, 0)


# --- hall.js ---------------------------------------------------------------------------------


def test_hall_event_names_are_the_servers():
    text = (ROOT / "server/static/js/lib/hall.js").read_text()
    block = re.search(r"EVENTS = Object\.freeze\(\{(.*?)\}\)", text, re.S).group(1)
    js = dict(re.findall(r'(\w+): "([\w.]+)"', block))
    for name, value in js.items():
        assert getattr(events, name) == value, name


START_HALL = """
  window.hallLog = [];
  window.hall = new hall.HallConnection({
    centreId: 1,
    onSnapshot: (s, {first}) => hallLog.push(["snapshot", first, s.centre.id]),
    onEvent: (name, p) => hallLog.push([name, p.ticket ? p.ticket.number : null]),
    onStatus: (status) => hallLog.push(["status", status]),
    watchdog: arg,
  }).start();
"""


def wait_snapshots(page, n: int, timeout: float = 15_000) -> None:
    page.wait_for_function(f"() => window.hall && hall.snapshots >= {n}", timeout=timeout)


def test_hall_connection_gives_a_snapshot_then_changes(page, server):
    run(page, START_HALL, None)
    wait_snapshots(page, 1)
    ticket = requests.post(f"{server.url}/api/v1/tickets", json={"service_id": 1}, timeout=5).json()
    page.wait_for_function(
        "n => hallLog.some(e => e[0] === 'ticket.issued' && e[1] === n)", arg=ticket["number"]
    )
    log = page.evaluate("() => hallLog")
    assert log[:2] == [["status", "connected"], ["snapshot", True, 1]]
    assert page.evaluate("() => hall.status") == "connected"


def test_events_before_the_snapshot_are_held_until_after_it(page):
    # The order "connect, event, snapshot" cannot be made on demand over the network, so a
    # stand-in socket delivers it; the connection code under test is the real one.
    log = run(
        page,
        """
        const handlers = {}; let anyHandler = null; let ack = null;
        const fake = {
          connected: false, io: {on: () => {}},
          on: (name, fn) => { handlers[name] = fn; },
          onAny: (fn) => { anyHandler = fn; },
          timeout: () => ({emit: (name, data, cb) => { ack = [name, data]; cb(null, {ok: true}); }}),
        };
        const out = [];
        const conn = new hall.HallConnection({
          centreId: 4, stationId: 9, watchdog: null,
          onSnapshot: (s, {first}) => out.push(["snapshot", s.n, first]),
          onEvent: (name, p) => out.push([name, p.n]),
        });
        conn.connect(() => fake);
        fake.connected = true;
        handlers.connect();
        anyHandler("ticket.called", {n: 1});      // before the snapshot: held
        handlers.snapshot({n: 0});
        anyHandler("snapshot", {n: 0});            // onAny sees it too: ignored
        anyHandler("ticket.updated", {n: 2});      // after: straight through
        handlers.disconnect("transport close");
        fake.connected = true;
        handlers.connect();                        // a reconnect: held again until its snapshot
        anyHandler("counter.updated", {n: 3});
        handlers.snapshot({n: 10});
        return {out, ack, status: conn.status, statuses: conn.statusLog.map(s => s.status)};
        """,
    )
    assert log["ack"] == ["subscribe", {"centre_id": 4, "station_id": 9}]
    assert log["out"] == [
        ["snapshot", 0, True],
        ["ticket.called", 1],
        ["ticket.updated", 2],
        ["snapshot", 10, False],
        ["counter.updated", 3],
    ]
    assert log["statuses"] == ["connected", "disconnected", "connected"]


def test_hall_connection_resyncs_after_a_server_restart(browser, tmp_path):
    with running_server(tmp_path / "instance") as live:
        context = browser.new_context()
        page = context.new_page()
        page.goto(live.url + "/")
        run(page, START_HALL, None)
        wait_snapshots(page, 1)
        live.stop()
        page.wait_for_function("() => hall.status === 'disconnected'", timeout=10_000)
        live.start()
        wait_snapshots(page, 2, timeout=20_000)
        ticket = requests.post(f"{live.url}/api/v1/tickets", json={"service_id": 1}, timeout=5)
        page.wait_for_function(
            "n => hallLog.some(e => e[0] === 'ticket.issued' && e[1] === n)",
            arg=ticket.json()["number"],
        )
        statuses = [e[1] for e in page.evaluate("() => hallLog") if e[0] == "status"]
        assert statuses[:3] == ["connected", "disconnected", "connected"]
        snaps = [e for e in page.evaluate("() => hallLog") if e[0] == "snapshot"]
        assert snaps == [["snapshot", True, 1], ["snapshot", False, 1]]
        context.close()


def test_watchdog_restarts_a_silent_socket_then_reloads_and_never_while_the_server_is_down(
    browser, tmp_path
):
    with running_server(tmp_path / "instance") as live:
        context = browser.new_context()
        page = context.new_page()
        page.goto(live.url + "/")
        run(page, START_HALL, {"silenceMs": 2000, "graceMs": 2000})
        wait_snapshots(page, 1)
        page.evaluate("() => { window.sameDocument = true; }")

        # Server down and the socket silent: the watchdog probes, finds nothing, keeps the page.
        live.stop()
        page.evaluate("() => { hall.watchdog.lastContact = -1e9; }")
        page.wait_for_timeout(2500)
        assert page.evaluate("() => window.sameDocument") is True
        assert page.evaluate("() => hall.watchdog.log") == []
        live.start()
        wait_snapshots(page, 2, timeout=20_000)

        # Server up, socket wedged (contact never registers): restart the socket, then reload.
        page.evaluate(
            "() => { hall.watchdog.contact = () => {}; hall.watchdog.lastContact = -1e9; }"
        )
        page.wait_for_function("() => window.sameDocument === undefined", timeout=15_000)
        context.close()


def test_socket_library_missing_leaves_the_page_working(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.route("**/socket.io.esm.min.js", lambda route: route.abort())
    page.goto(server.url + "/")
    run(page, START_HALL, None)
    page.wait_for_function("() => hall.status === 'unavailable'")
    assert page.evaluate("() => hallLog") == [["status", "unavailable"]]
    context.close()
