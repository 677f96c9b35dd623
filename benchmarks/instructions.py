"""Machine instructions per request (valgrind's callgrind), in process: a figure that other
load on the machine does not change, unlike CPU time and latencies.

Run by hand (needs `valgrind`, Debian package):

    .venv/bin/python benchmarks/instructions.py [--db sqlite|postgres] [--code DIR ...]

One database is prepared natively (the demo and 3,000 tickets, with the first `--code`'s
migrations); then, for each checkout in turn, a Python process under callgrind runs the real
app (Flask test client) on a copy of it: 30 requests of warm-up uninstrumented, then
`--requests` call-next (round the 7 counters, answering "served" for the citizen at the
counter, as `hall.py call-next`) and as many ticket issues, counted. Prints one JSON line per
checkout and figure: instructions per request (the worker's only: PostgreSQL's own work is
in `hall.py`'s `db_cpu_ms`). Compare two versions of the code with the same database:
`--code /tmp/before --code .`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _python(code: Path) -> str:
    own = code / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def _child(code: Path, args: list[str]) -> list[str]:
    return [_python(code), str(Path(__file__).resolve()), "--child", str(code), *args]


def prepare(code: Path, url: str, token_file: Path) -> None:
    subprocess.run(_child(code, ["prepare", url, str(token_file)]), cwd=code, check=True)


def measure(code: Path, url: str, token_file: Path, what: str, requests: int) -> int:
    """Instructions per request of `what` (call-next or issue) for the checkout `code`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                *_child(code, ["measure", url, str(token_file), what, str(requests)]),
            ],
            cwd=code,
            env=dict(os.environ, PYTHONMALLOC="malloc"),
            check=True,
            capture_output=True,
        )
        totals = next(line for line in out.read_text().splitlines() if line.startswith("totals:"))
        return int(totals.split()[1]) // requests


def run_child(code: Path, action: str, url: str, token_file: Path, rest: list[str]) -> None:
    """In the measured checkout's own interpreter: prepare the database, or measure."""
    sys.path.insert(0, str(code))
    os.chdir(code)
    from benchmarks.hall import app_in_process

    app = app_in_process(url, f"instructions-{os.getpid()}")
    db = app.extensions["tthcc_db"]
    client = app.test_client()

    def issue(i: int) -> None:
        response = client.post("/api/v1/tickets", json={"service_id": 1 + i % 9})
        assert response.status_code == 201, response.get_json()

    if action == "prepare":
        from server.demo import load_demo

        with db.transaction() as s:
            load_demo(s)
        login = {"username": "admin", "password": "tthcc-admin"}
        token_file.write_text(client.post("/api/v1/auth/token", json=login).get_json()["token"])
        for i in range(3000):
            issue(i)
        db.dispose()
        return
    what, requests = rest[0], int(rest[1])
    headers = {"Authorization": f"Bearer {token_file.read_text()}"}
    current: dict[int, int] = {}

    def call(i: int) -> None:
        counter = 1 + i % 7
        body = (
            {"resolve": "served", "current_ticket_id": current[counter]}
            if counter in current
            else {}
        )
        response = client.post(f"/api/v1/counters/{counter}/call-next", json=body, headers=headers)
        assert response.status_code in (200, 409), response.get_json()
        if response.status_code == 200:
            current[counter] = response.get_json()["id"]

    send = call if what == "call-next" else issue
    # Under valgrind a request takes ~50x as long: the wait estimate's recent service times
    # (kept 30 s per process) would be read again within the count, which at full speed
    # happens once in thousands of tickets. Kept for the whole run instead.
    from server.services import wait_estimates

    wait_estimates.SERVICE_TIMES_TTL = float("inf")
    for i in range(30):
        send(i)
    # callgrind counts only between these two commands (--instr-atstart=no)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)
    for i in range(30, 30 + requests):
        send(i)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True)
    db.dispose()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        code, action, url, token_file, *rest = sys.argv[2:]
        run_child(Path(code), action, url, Path(token_file), rest)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--code", type=Path, action="append", help="checkout(s) to measure")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("needs valgrind: apt-get install valgrind")
    codes = [c.resolve() for c in args.code or [ROOT]]
    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "token"
        if args.db == "sqlite":
            base = Path(tmp) / "base.sqlite3"
            prepare(codes[0], f"sqlite:///{base}", token_file)
        else:
            from sqlalchemy import create_engine, text

            admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
            base_name = f"tthcc_instr_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{base_name}"'))
            prepare(codes[0], f"{PG_SERVER}/{base_name}", token_file)
        try:
            for code in codes:
                for what in ("call-next", "issue"):
                    if args.db == "sqlite":
                        copy = Path(tmp) / f"{uuid.uuid4().hex[:8]}.sqlite3"
                        shutil.copy(base, copy)
                        url = f"sqlite:///{copy}"
                    else:
                        name = f"tthcc_instr_{uuid.uuid4().hex[:8]}"
                        with admin.connect() as c:
                            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base_name}"'))
                        url = f"{PG_SERVER}/{name}"
                    try:
                        per = measure(code, url, token_file, what, args.requests)
                    finally:
                        if args.db == "postgres":
                            with admin.connect() as c:
                                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    line = {"figure": "instructions_per_request", "db": args.db, "what": what}
                    line |= {"code": str(code), "instructions": per, "requests": args.requests}
                    print(json.dumps(line), flush=True)
        finally:
            if args.db == "postgres":
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{base_name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
