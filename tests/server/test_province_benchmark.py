"""benchmarks/province.py is run by hand; here only what keeps its figures honest: the
command parses, and the report facts it writes by SQL are the rows the app's own folding
makes from the same tickets' events (PostgreSQL: the benchmark's SQL is PostgreSQL's)."""

from __future__ import annotations

import pytest

from benchmarks import province


def test_the_command_answers_help(capsys):
    with pytest.raises(SystemExit) as stop:
        province.main(["report", "--help"])
    assert stop.value.code == 0
    assert "--tickets" in capsys.readouterr().out


@pytest.mark.postgres  # the benchmark's SQL is PostgreSQL's
def test_sql_facts_equal_the_apps_folding_of_the_events(backend, database_url):
    result = province.check_folding_on(database_url, per_day=3, centres=3)
    # 3 centres x 10 working days x 3 tickets, no row on one side only
    assert result == {"app_rows": 90, "sql_rows": 90, "only_app": 0, "only_sql": 0}
