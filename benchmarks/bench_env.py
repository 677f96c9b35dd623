"""The conditions every benchmark runs under, set before the app is made (in this process
and in the servers it starts, which inherit the environment).

A benchmark measures the hall's work, not its guards: the demo centre is open at any hour
(no opening hours, cut-offs or caps, which would refuse at night and at weekends), and the
per-kiosk and per-address issuing limits (docs/security.md) are lifted, since the load
generator is one address issuing hundreds of tickets a second.
"""

from __future__ import annotations

import os

BENCH_ENV = {
    "TTHCC_DEMO_HOURS": "0",
    "TTHCC_ISSUE_RATE_LIMIT": "10000000 per minute",
    "TTHCC_KIOSK_ISSUE_RATE_LIMIT": "10000000 per minute",
    "TTHCC_PUBLIC_RATE_LIMIT": "10000000 per minute",
    "TTHCC_LOOKUP_RATE_LIMIT": "10000000 per minute",
}

for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)
