"""job_runs on both backends (orphans, catch-up anchors) and job health computed from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sco_monitor.config.cron import cron_trigger
from sco_monitor.daemon.health import evaluate
from sco_monitor.daemon.runs import JobHistory, JobRuns

ALMATY = ZoneInfo("Asia/Almaty")
SAT_0630 = datetime(2025, 5, 31, 1, 30, tzinfo=UTC)  # Saturday 06:30 in Almaty


def test_job_runs_record_orphans_and_anchor_the_catch_up(store) -> None:
    runs = JobRuns(store.engine)
    t1, t2, t3 = (datetime(2025, 6, 1, 10, m, tzinfo=UTC) for m in (0, 1, 2))
    assert runs.catch_up_anchor("deliver") is None  # never ran: nothing to catch up
    a = runs.start("deliver", t1, "host:1")
    runs.finish(a, "ok", detail="3 delivered")
    b = runs.start("deliver", t2, "host:1")
    runs.finish(b, "failed", error="SMTP down")
    runs.start("deliver", t3, "host:1")  # the daemon dies here
    assert runs.catch_up_anchor("deliver") == t2  # a failed run answered its fire time; t3 did not

    orphans = runs.interrupt_orphans("host:2")
    assert [(o.job_id, o.scheduled_at) for o in orphans] == [("deliver", t3)]
    listed = runs.list("deliver")
    assert [(r.status, r.scheduled_at) for r in listed] == [("ok", t1), ("failed", t2), ("interrupted", t3)]
    assert listed[0].detail == "3 delivered" and listed[0].duration is not None
    assert "noticed by host:2" in listed[2].error
    assert runs.interrupt_orphans("host:2") == []

    only_interrupted = runs.start("report", t3, "host:1")
    runs.finish(only_interrupted, "interrupted")
    assert runs.catch_up_anchor("report") < t3  # its only fire time still counts as missed

    runs.start("heartbeat", t1, "host:1")  # running: never pruned
    assert runs.prune(datetime.now(UTC) + timedelta(days=1)) == 4
    assert [(r.job_id, r.status) for r in runs.list()] == [("heartbeat", "running")]


def test_history_names_the_last_run_the_last_success_and_the_last_finished_run(store) -> None:
    runs = JobRuns(store.engine)
    t1, t2, t3 = (datetime(2025, 6, 1, 10, m, tzinfo=UTC) for m in (0, 1, 2))
    _run(runs, "deliver", t1, "ok")
    _run(runs, "deliver", t2, "failed", "SMTP down")
    runs.start("deliver", t3, "host:1")
    h = runs.history(["deliver", "report", "heartbeat"])
    assert h["deliver"].last.status == "running" and h["deliver"].last_ok.scheduled_at == t1
    assert h["deliver"].last_done.status == "failed" and h["deliver"].first_scheduled == t1
    assert h["report"] == h["heartbeat"] == JobHistory(None, None, None, None)


def _run(runs: JobRuns, job: str, at: datetime, status: str, error: str | None = None) -> None:
    runs.finish(runs.start(job, at, "host:1"), status, error=error)


def test_health_is_measured_from_the_first_fire_time_without_success(store) -> None:
    runs = JobRuns(store.engine)
    market = cron_trigger("30 6 * * tue-sat", ALMATY)
    _run(runs, "collect_market", SAT_0630, "ok")
    stale = timedelta(hours=36)

    # Monday evening: three days since the last success, but nothing was due since: healthy
    monday = datetime(2025, 6, 2, 15, tzinfo=UTC)
    h = evaluate("collect_market", market, runs.history(["collect_market"])["collect_market"], monday, stale)
    assert (h.state, h.healthy, h.due_since) == ("ok", True, None)
    assert h.next_run == datetime(2025, 6, 3, 6, 30, tzinfo=ALMATY)

    # Tuesday's run fails: failing, still healthy until it has been due for 36 h
    tue = datetime(2025, 6, 3, 1, 30, tzinfo=UTC)
    _run(runs, "collect_market", tue, "failed", "yahoo: 503")
    h = evaluate("collect_market", market, runs.history(["collect_market"])["collect_market"],
                 tue + timedelta(hours=30), stale)
    assert (h.state, h.healthy, h.reason) == ("failing", True, "last run failed: yahoo: 503")
    h = evaluate("collect_market", market, runs.history(["collect_market"])["collect_market"],
                 tue + timedelta(hours=37), stale)
    assert (h.state, h.healthy) == ("overdue", False)
    assert h.reason == ("due since 2025-06-03T06:30:00+05:00 without a successful run (stale after 36h); "
                        "last run failed: yahoo: 503")


def test_a_job_that_never_ran_is_waiting_then_overdue_from_the_daemon_start() -> None:
    every_minute = cron_trigger("* * * * *", ALMATY)
    since = datetime(2025, 6, 1, 10, 0, 30, tzinfo=UTC)
    empty = JobHistory(None, None, None, None)
    h = evaluate("deliver", every_minute, empty, since + timedelta(minutes=2), timedelta(minutes=5), since)
    assert (h.state, h.healthy) == ("waiting", True)
    h = evaluate("deliver", every_minute, empty, since + timedelta(minutes=7), timedelta(minutes=5), since)
    assert (h.state, h.healthy, h.due_since) == ("overdue", False, datetime(2025, 6, 1, 10, 1, tzinfo=UTC))
    assert evaluate("deliver", None, empty, since, timedelta(minutes=5)).state == "disabled"
