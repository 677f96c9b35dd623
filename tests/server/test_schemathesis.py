"""Schemathesis over every operation of /api/v1/openapi.json: 0 server errors.

The real app on a fresh database with the demo centre (SQLite, and PostgreSQL with --pg),
called by an anonymous client and by an administrator (bearer token), through every phase
schemathesis has (examples, coverage: boundary values, NUL, huge integers; fuzzing; stateful
sequences). The seed is fixed and generation deterministic, so a run is repeatable and its
time bounded. Every request the app answers is counted by a WSGI wrapper, so the count and
the server errors are the app's own, not the tool's bookkeeping. The figures are written to
test-artifacts/schemathesis-<database>-<caller>.json.
"""

from __future__ import annotations

import json
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import got_request_exception

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: Examples per operation and phase: ~5,700 requests per caller and database, most of them
#: from the coverage phase (boundary values, NUL, huge integers), which does not depend on it.
MAX_EXAMPLES = 8
#: Operations that end the caller's own session.
LOGS_OUT = r"/auth/logout$|/password$"


def _run_schemathesis(app: Any, headers: dict[str, str]) -> dict[str, Any]:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema

    seen: Counter[str] = Counter()
    server_errors: list[str] = []
    inner = app.wsgi_app

    def counting(environ: dict, start_response: Any) -> Any:
        def record(status: str, response_headers: list, exc_info: Any = None) -> Any:
            seen[status[:3]] += 1
            if status.startswith("5"):
                query = environ.get("QUERY_STRING", "")
                server_errors.append(
                    f"{status} {environ['REQUEST_METHOD']} {environ['PATH_INFO'][:120]}"
                    + (f"?{query[:120]}" if query else "")
                )
            return start_response(status, response_headers, exc_info)

        return inner(environ, record)

    tracebacks: Counter[str] = Counter()

    def on_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
        frames = traceback.extract_tb(exception.__traceback__)
        ours = [f"{Path(f.filename).name}:{f.lineno}" for f in frames if "/server/" in f.filename]
        tracebacks[f"{type(exception).__name__}: {str(exception)[:160]} at {ours[-3:]}"] += 1

    app.wsgi_app = counting
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer to count, not a crash
    app.extensions["tthcc_limiter"].enabled = False  # explore, do not get throttled
    got_request_exception.connect(on_exception, app)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261205,
            "headers": headers,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True},
            },
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    if headers:
        # Logging out or resetting a password would end the caller's own token midway: the
        # rest of the run would be anonymous. The anonymous run covers these operations.
        schema = schema.exclude(path_regex=LOGS_OUT)
    operations = sum(1 for _ in schema.get_all_operations())
    fatal: list[str] = []
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.FatalError):
                fatal.append(repr(event.exception))
    finally:
        got_request_exception.disconnect(on_exception, app)
        app.wsgi_app = inner
    return {
        "operations": operations,
        "requests": sum(seen.values()),
        "statuses": dict(sorted(seen.items())),
        "server_errors": server_errors,
        "tracebacks": dict(tracebacks),
        "fatal": fatal,
    }


@pytest.mark.parametrize("caller", ["anonymous", "admin"])
def test_schemathesis_finds_no_server_error(app, demo, client, backend: str, caller: str):
    headers: dict[str, str] = {}
    if caller == "admin":
        response = client.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
        )
        headers["Authorization"] = f"Bearer {response.get_json()['token']}"
    result = _run_schemathesis(app, headers)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{backend}-{caller}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False)
    )
    print(
        f"schemathesis {backend}/{caller}: {result['operations']} operations, "
        f"{result['requests']} requests {result['statuses']}"
    )
    assert not result["fatal"], result["fatal"]
    assert result["operations"] >= 80  # every documented operation, not a subset
    assert result["requests"] > 20 * result["operations"]
    assert result["server_errors"] == [], json.dumps(
        {"first": result["server_errors"][:20], "tracebacks": result["tracebacks"]},
        indent=1,
        ensure_ascii=False,
    )
