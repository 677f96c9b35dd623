"""The durable record of printed jobs: at most once, across restarts."""

from __future__ import annotations

from pathlib import Path

from devices.agent.printed import Claim, PrintedJobs


def test_printed_job_stays_printed_after_a_restart(tmp_path: Path) -> None:
    jobs = PrintedJobs(tmp_path)
    assert jobs.lookup("j1") is None
    assert jobs.claim("j1") is Claim.NEW
    jobs.mark_printed("j1")
    jobs.close()

    reopened = PrintedJobs(tmp_path)
    assert reopened.lookup("j1") is Claim.PRINTED
    assert reopened.claim("j1") is Claim.PRINTED
    reopened.close()


def test_released_claim_may_print_again(tmp_path: Path) -> None:
    jobs = PrintedJobs(tmp_path)
    assert jobs.claim("j1") is Claim.NEW
    jobs.release("j1")  # e.g. paper out before a byte was sent
    assert jobs.claim("j1") is Claim.NEW
    jobs.close()


def test_claim_left_by_a_crash_is_never_printed_again(tmp_path: Path) -> None:
    jobs = PrintedJobs(tmp_path)
    assert jobs.claim("j1") is Claim.NEW
    jobs.close()  # the process died between claim and mark_printed

    reopened = PrintedJobs(tmp_path)
    assert reopened.lookup("j1") is Claim.INTERRUPTED
    assert reopened.claim("j1") is Claim.INTERRUPTED
    reopened.release("j1")  # release only undoes a claim, never a printed job
    jobs_printed = PrintedJobs(tmp_path / "other")
    jobs_printed.claim("j2")
    jobs_printed.mark_printed("j2")
    jobs_printed.release("j2")
    assert jobs_printed.lookup("j2") is Claim.PRINTED
    reopened.close()
    jobs_printed.close()
