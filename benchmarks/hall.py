"""Benchmarks of the real deployment (gunicorn + gevent worker) on this machine.

Run by hand, not by the test suite:

    .venv/bin/python benchmarks/hall.py all            # every figure, SQLite and PostgreSQL
    .venv/bin/python benchmarks/hall.py issue --db postgres
    .venv/bin/python benchmarks/hall.py call-next | rss | display | ticket-bytes

Each figure is printed with the conditions it was measured under. Ticket issue throughput
uses `wrk` (Debian package) as the load generator on loopback; latencies are medians and
p99 measured by the client.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_http  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    from sqlalchemy import create_engine, text

    name = f"tthcc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def app_in_process(db_url: str, name: str) -> Any:
    """The real app in this process on `db_url`, migrated (the Flask test client measures
    the app's own work, no HTTP server in between)."""
    from server.app import create_app
    from server.config import Config
    from server.migrate import upgrade

    config = Config.from_env(
        {},
        instance_path=Path(tempfile.gettempdir()) / f"tthcc-{name}",
        database_url=db_url,
        secret_key="bench",
        testing=True,
        async_mode="threading",
    )
    app = create_app(config)
    upgrade(app.extensions["tthcc_db"].engine)
    return app


#: The checkout whose server is measured (`--code`): this one unless told otherwise.
CODE = ROOT


def _code_python() -> str:
    """The Python of the measured checkout (its own .venv when it has one)."""
    own = CODE / ".venv" / "bin" / "python"
    return str(own) if CODE != ROOT and own.exists() else sys.executable


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU time of the PostgreSQL backends serving `db_url` (from /proc, as root or the
    postgres user): the database's share of a request, which the worker's CPU time does not
    include. Backends that appear meanwhile (the pool growing) count from zero. None for
    SQLite (it runs inside the worker)."""

    def __init__(self, db_url: str) -> None:
        self.name = db_url.rsplit("/", 1)[1] if db_url.startswith("postgresql") else None
        self.before: dict[int, float] = {}

    def _backends(self) -> dict[int, float]:
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN)
        try:
            with admin.connect() as c:
                pids = c.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": self.name}
                ).scalars()
                found = {}
                for pid in pids:
                    with suppress(FileNotFoundError, PermissionError):
                        found[pid] = cpu_seconds(pid)
                return found
        finally:
            admin.dispose()

    def start(self) -> None:
        if self.name:
            self.before = self._backends()

    def ms_per(self, n: int) -> float | None:
        if not self.name:
            return None
        after = self._backends()
        spent = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())
        return round(spent * 1000 / max(1, n), 3)


@contextmanager
def server(db_url: str):
    """Migrate, load the demo, start gunicorn with one gevent worker; yield (url, pid)."""
    instance = Path(tempfile.mkdtemp(prefix="tthcc-bench-"))
    port = free_port()
    env = dict(
        os.environ,
        TTHCC_INSTANCE_PATH=str(instance),
        TTHCC_DATABASE_URL=db_url,
        TTHCC_SECRET_KEY="bench",
        TTHCC_LOG_LEVEL="WARNING",
        TTHCC_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    subprocess.run(
        [_code_python(), "-m", "server.cli", "demo"],
        env=env,
        cwd=CODE,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            _code_python(),
            "-m",
            "gunicorn",
            "--worker-class",
            # gunicorn's own gevent worker in checkouts from before ours existed
            "server.gunicorn_worker.GeventWorker"
            if (CODE / "server" / "gunicorn_worker.py").exists()
            else "gevent",
            "--workers",
            "1",
            "--no-control-socket",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "server.wsgi:app",
        ],
        env=env,
        cwd=CODE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/api/v1/centres")
        worker = _worker_pid(proc.pid)
        yield url, worker
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(instance, ignore_errors=True)


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        if out.strip():
            return int(out.split()[0])
        time.sleep(0.1)
    return master


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def token(url: str, user: str = "admin", password: str = "tthcc-admin") -> str:
    r = requests.post(f"{url}/api/v1/auth/token", json={"username": user, "password": password})
    r.raise_for_status()
    return r.json()["token"]


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The demo's 9 services, 999 numbers each: nobody is called during the run, so about
-- 8,000 tickets fit before a range is exhausted (then the refusal is counted in `errors`
-- and the first one is printed in `first_error`).
local services = {1, 2, 3, 4, 5, 6, 7, 8, 9}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/api/v1/tickets", nil,
    '{"service_id": ' .. services[(i % #services) + 1] .. STATION .. '}')
end
response = function(status, headers, body)
  if status ~= 201 then io.stderr:write(status .. " " .. body .. "\\n") end
end
"""


def _wrk_ms(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


#: The demo's kiosk: a ticket with `station_id` also gets its print job (as at the kiosk).
KIOSK_STATION_ID = 1


def _station_body(station: bool) -> dict:
    return {"station_id": KIOSK_STATION_ID} if station else {}


def bench_issue(db: str, seconds: int, connections: int, station: bool = False) -> dict:
    if shutil.which("wrk") is None:
        sys.exit("the issue benchmark needs wrk (HTTP load generator): apt-get install wrk")
    with (
        database(db) as url_db,
        server(url_db) as (url, worker),
        tempfile.NamedTemporaryFile("w", suffix=".lua") as script,
    ):
        script.write(
            WRK_SCRIPT.replace(
                "STATION", f"', \"station_id\": {KIOSK_STATION_ID}'" if station else "''"
            )
        )
        script.flush()
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", "-s", script.name, url], capture_output=True)
        db_cpu = DatabaseCpu(url_db)
        db_cpu.start()
        cpu_before = cpu_seconds(worker)
        run = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = cpu_seconds(worker) - cpu_before
        refusals = run.stderr.splitlines()
        out = run.stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        requests_done = int(re.search(r"(\d+) requests in", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return {
            "db": db,
            "with_print_job": station,
            "connections": connections,
            "seconds": seconds,
            "tickets_per_s": round(rps, 1),
            "p50_ms": _wrk_ms(out, "50%"),
            "p99_ms": _wrk_ms(out, "99%"),
            "worker_cpu_ms": round(cpu * 1000 / max(1, requests_done), 3),
            "db_cpu_ms": db_cpu.ms_per(requests_done),
            "errors": int(non2xx.group(1)) if non2xx else 0,
            "first_error": refusals[0][:200] if refusals else None,
        }


def _paced_client(
    url: str, rate: float, seconds: float, offset: int, out, station: bool = False
) -> None:
    """One keep-alive HTTP client sending `rate` ticket requests a second; latencies to `out`."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    interval, start, latencies, i = 1.0 / rate, time.perf_counter(), [], 0
    while (now := time.perf_counter()) - start < seconds:
        due = start + i * interval
        if due > now:
            time.sleep(due - now)
        body = json.dumps({"service_id": 1 + (offset + i) % 8, **_station_body(station)})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/tickets", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status == 201, response.status
        i += 1
    out.put(latencies)


def bench_issue_latency(
    db: str, rate: int, clients: int, seconds: int, station: bool = False
) -> dict:
    """Latency of ticket issue at a steady rate (kiosks don't queue up like a load tester)."""
    import multiprocessing

    with database(db) as url_db, server(url_db) as (url, _):
        _issue_many(url, 50)  # warm up the worker
        queue = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=_paced_client,
                args=(url, rate / clients, seconds, k * 1000, queue, station),
            )
            for k in range(clients)
        ]
        for p in procs:
            p.start()
        latencies = [x for _ in procs for x in queue.get(timeout=seconds + 60)]
        for p in procs:
            p.join()
        return {
            "db": db,
            "with_print_job": station,
            "rate_per_s": rate,
            "clients": clients,
            "requests": len(latencies),
            "median_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(pct(latencies, 99), 2),
        }


def call_next(s: requests.Session, url: str, counter: int, headers: dict, current: dict) -> Any:
    """Next at `counter`, saying the citizen still there (as this client saw) was served
    (docs/lifecycle.md: a ticket only called is never assumed served)."""
    body = (
        {"resolve": "served", "current_ticket_id": current[counter]} if counter in current else {}
    )
    r = s.post(f"{url}/api/v1/counters/{counter}/call-next", json=body, headers=headers)
    if r.status_code == 200:
        current[counter] = r.json()["id"]
    return r


def _issue_many(url: str, n: int, *, serve: bool = False) -> None:
    """Issue n tickets round the services; with `serve`, counters call as they go (a real
    day: ranges of 999 numbers would otherwise run out with everyone still waiting)."""
    headers = {"Authorization": f"Bearer {token(url)}"} if serve else {}
    current: dict[int, int] = {}
    with requests.Session() as s:
        for i in range(n):
            s.post(f"{url}/api/v1/tickets", json={"service_id": 1 + i % 9}).raise_for_status()
            if serve:
                r = call_next(s, url, 1 + i % 7, headers, current)
                assert r.status_code in (200, 409), r.text


def bench_call_next(db: str, tickets: int, calls: int) -> dict:
    with database(db) as url_db, server(url_db) as (url, worker):
        _issue_many(url, tickets)
        headers = {"Authorization": f"Bearer {token(url)}"}
        latencies = []
        current: dict[int, int] = {}
        db_cpu = DatabaseCpu(url_db)
        db_cpu.start()
        cpu_before = cpu_seconds(worker)
        with requests.Session() as s:
            for i in range(calls):
                counter = 1 + i % 7
                t0 = time.perf_counter()
                r = call_next(s, url, counter, headers, current)
                latencies.append((time.perf_counter() - t0) * 1000)
                assert r.status_code in (200, 409), r.text
        cpu = cpu_seconds(worker) - cpu_before
        return {
            "db": db,
            "tickets_in_day": tickets,
            "calls": calls,
            "median_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(pct(latencies, 99), 2),
            "worker_cpu_ms": round(cpu * 1000 / calls, 3),
            "db_cpu_ms": db_cpu.ms_per(calls),
        }


def bench_rss(db: str, tickets: int) -> dict:
    with database(db) as url_db, server(url_db) as (url, pid):
        before = rss_mib(pid)
        _issue_many(url, tickets, serve=True)
        return {
            "db": db,
            "tickets": tickets,
            "rss_start_mib": round(before, 1),
            "rss_after_mib": round(rss_mib(pid), 1),
        }


def bench_display(db: str, calls: int) -> dict:
    """Time from the call-next HTTP request leaving the client to the number on the TV page."""
    from playwright.sync_api import sync_playwright

    with database(db) as url_db, server(url_db) as (url, _):
        _issue_many(url, calls * 2)
        headers = {"Authorization": f"Bearer {token(url)}"}
        latencies = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/display/?centre=1&muted=1")
            page.wait_for_timeout(1500)
            current: dict[int, int] = {}
            with requests.Session() as s:
                for i in range(calls):
                    page.evaluate("""() => {
                      window.__seen = {};
                      const obs = new MutationObserver(() => {
                        const text = document.body.innerText;
                        for (const n of window.__want || []) {
                          if (!(n in window.__seen) && text.includes(n)) {
                            window.__seen[n] = performance.timeOrigin + performance.now();
                          }
                        }
                      });
                      obs.observe(document.body, {subtree: true, childList: true, characterData: true});
                      window.__obs && window.__obs.disconnect();
                      window.__obs = obs;
                    }""")
                    counter = 1 + i % 7
                    sent = time.time() * 1000
                    r = call_next(s, url, counter, headers, current)
                    if r.status_code != 200:
                        continue
                    number = r.json()["number"]
                    page.evaluate(
                        "n => { window.__want = [n]; if (document.body.innerText.includes(n) && !(n in window.__seen)) window.__seen[n] = performance.timeOrigin + performance.now(); }",
                        number,
                    )
                    page.wait_for_function("n => n in window.__seen", arg=number, timeout=5000)
                    seen = page.evaluate("n => window.__seen[n]", number)
                    latencies.append(seen - sent)
                    page.wait_for_timeout(150)
            browser.close()
        return {
            "db": db,
            "calls": len(latencies),
            "median_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(pct(latencies, 99), 1),
        }


def bench_ticket_bytes() -> dict:
    from escpos.printer import Dummy

    from devices.printing.layout import draw_ticket
    from devices.printing.ticket import TicketPrint

    payload = {
        "centre_name": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        "centre_subtitle": "PHƯỜNG KINH BẮC",
        "number": "1023",
        "service_name": "Khai sinh, kết hôn, khai tử",
        "field_name": "Hộ tịch",
        "counters": ["Quầy 1", "Quầy 2"],
        "waiting_ahead": 4,
        "issued_at": "2026-11-27T09:15:02+07:00",
        "priority_label": None,
        "qr_url": "http://127.0.0.1:8000/t/1vhx534fxgV7Cx3a",
        "thank_you": "Cảm ơn quý khách!",
        "footer_en": "Please wait for your number to be called",
    }
    sizes = {}
    for mode in ("text", "raster"):
        printer = Dummy()
        draw_ticket(printer, TicketPrint.from_payload(payload), mode)
        sizes[f"{mode}_bytes"] = len(printer.output)
    sizes["text_seconds_at_115200"] = round(sizes["text_bytes"] * 10 / 115200, 3)
    sizes["raster_seconds_at_115200"] = round(sizes["raster_bytes"] * 10 / 115200, 2)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what",
        choices=["issue", "issue-latency", "call-next", "rss", "display", "ticket-bytes", "all"],
    )
    parser.add_argument("--rate", type=int, default=300, help="issue-latency: requests per second")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--station",
        action="store_true",
        help="issue/issue-latency: tickets from the demo kiosk, each with its print job",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="measure the server of another checkout (with its own .venv), e.g. the code "
        "before a change: git worktree add /tmp/before <commit> && (cd /tmp/before && "
        "./scripts/setup)",
    )
    args = parser.parse_args()
    global CODE
    CODE = args.code.resolve()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    jobs = []
    if args.what in ("issue", "all"):
        jobs += [
            ("issue", lambda d=d: bench_issue(d, args.seconds, args.connections, args.station))
            for d in dbs
        ]
    if args.what in ("issue-latency", "all"):
        jobs += [
            (
                "issue-latency",
                lambda d=d: bench_issue_latency(d, args.rate, 4, args.seconds, args.station),
            )
            for d in dbs
        ]
    if args.what in ("call-next", "all"):
        jobs += [("call-next", lambda d=d: bench_call_next(d, 3000, 500)) for d in dbs]
    if args.what in ("rss", "all"):
        jobs += [("rss", lambda d=d: bench_rss(d, 10_000)) for d in dbs]
    if args.what in ("display", "all"):
        jobs += [("display", lambda d=d: bench_display(d, 40)) for d in dbs]
    if args.what in ("ticket-bytes", "all"):
        jobs.append(("ticket-bytes", bench_ticket_bytes))
    for name, job in jobs:
        result = job()
        code = {} if CODE == ROOT else {"code": str(CODE)}
        print(json.dumps({"benchmark": name, **code, **result}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
