"""`sco-monitor run` for real: jobs on a seconds schedule, job_runs, /healthz, /metrics, status, SIGTERM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import TEST_JOBS_ENV, http_get, runs_of, ticks, wait_for, write_config

pytestmark = pytest.mark.slow


def test_daemon_runs_records_serves_health_and_metrics_and_stops_on_sigterm(
        tmp_path: Path, start_daemon, run_cli) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'store.db'}"
    cfg = write_config(tmp_path / "config", url, {
        "tick": {"cron": "* * * * * *", "job": "tests.daemon.jobs:tick", "timeout": "10s"},
        "deliver": {"cron": "*/2 * * * * *", "timeout": "10s"},
        "hang": {"cron": "*/2 * * * * *", "job": "tests.daemon.jobs:hang", "timeout": "1s"},
        "nope": {"cron": "*/2 * * * * *", "job": "tests.daemon.jobs:broken"},
        "slow": {"cron": "*/2 * * * * *", "job": "tests.daemon.jobs:tick", "params": {"sleep": 60}, "timeout": "2m"},
        "off": {"cron": "* * * * * *", "job": "tests.daemon.jobs:broken", "enabled": False},
    }, http={"stale_after": "1h"})
    d = start_daemon(cfg)
    d.wait_role("active")

    def settled() -> bool:
        by = {}
        for r in runs_of(url):
            by.setdefault(r.job_id, []).append(r)
        return (sum(r.status == "ok" for r in by.get("tick", [])) >= 2
                and any(r.status == "timeout" for r in by.get("hang", []))
                and any(r.status == "failed" for r in by.get("nope", []))
                and any(r.status != "running" for r in by.get("deliver", []))
                and any(r.status == "running" for r in by.get("slow", []))
                and any(r.status == "skipped" for r in by.get("slow", [])))

    wait_for(settled, 30, "runs of every job", every=0.3)

    code, health = d.health()
    assert code == 200, health
    # `hang` timed out and `nope` failed: the daemon is up (200) but says so
    assert health["role"] == "active" and health["status"] == "degraded"
    assert {p.split(":")[0] for p in health["problems"]} >= {"hang", "nope"}
    assert set(health["jobs"]) == {"tick", "deliver", "hang", "nope", "slow"}  # `off` is disabled
    assert health["jobs"]["tick"]["last_success"]["status"] == "ok"
    assert health["jobs"]["hang"]["state"] in ("failing", "running")

    code, metrics = http_get(f"{d.url}/metrics")
    assert code == 200
    assert 'sco_monitor_job_runs_total{job="tick",status="ok"}' in metrics
    assert 'sco_monitor_job_runs_total{job="hang",status="timeout"}' in metrics
    assert 'sco_monitor_job_duration_seconds_count{job="tick"}' in metrics
    assert 'sco_monitor_role{role="active"} 1.0' in metrics
    assert "sco_monitor_series_enabled 6.0" in metrics
    assert "sco_monitor_outbox_depth 0.0" in metrics
    assert 'sco_monitor_job_last_success_timestamp_seconds{job="tick"}' in metrics

    status = run_cli("--config", str(cfg), "status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith(f"daemon    running: {health['instance']} since ")
    assert lines[4].split() == ["JOB", "SCHEDULE", "TIMEOUT", "LAST", "RUN", "STATUS", "TOOK", "NEXT", "RUN", "HEALTH"]
    assert next(x for x in lines if x.startswith("tick (tests.daemon.jobs:tick)")).split()[2:9] == [
        "*", "*", "*", "*", "*", "*", "10s"]
    assert next(x for x in lines if x.startswith("off ")).endswith("disabled")

    second = run_cli("--config", str(cfg), "run", "--listen", "127.0.0.1:0", env=TEST_JOBS_ENV)
    assert second.returncode == 1
    assert f"another daemon is running on this store: {health['instance']} holds the lock file" in second.stderr

    assert d.terminate() == 0
    runs = runs_of(url)
    assert not [r for r in runs if r.status == "running"]
    slow = [r for r in runs if r.job_id == "slow" and r.status not in ("skipped",)]
    assert slow[-1].status == "cancelled" and "stopping" in slow[-1].error
    assert ticks(url, "slow") == []  # the cancelled worker never got to write
    oks = [r for r in runs if r.job_id == "tick" and r.status == "ok"]
    assert [s for s, _ in ticks(url, "tick")] == sorted(r.scheduled_at.isoformat() for r in oks)
    nope = [r for r in runs if r.job_id == "nope" and r.status != "skipped"]
    assert all(r.status == "failed" and r.error == "RuntimeError: the provider sent garbage" for r in nope)
    hang = [r for r in runs if r.job_id == "hang" and r.status != "skipped"]
    assert any(r.status == "timeout" and r.error == "no result after 1s; the worker was stopped" for r in hang)
    deliver = [r for r in runs if r.job_id == "deliver" and r.status != "skipped"]
    assert all(r.status == "ok" for r in deliver), deliver
    events = [e["event"] for e in d.events()]
    assert events[-1] == "daemon_stopped" and "stopping" in events


def test_a_job_due_longer_than_stale_after_turns_healthz_503_and_status_exit_1(
        tmp_path: Path, start_daemon, run_cli) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    cfg = write_config(tmp_path / "config", url, {
        "tick": {"cron": "* * * * * *", "job": "tests.daemon.jobs:tick"},
        "broken": {"cron": "* * * * * *", "job": "tests.daemon.jobs:broken"},
    }, http={"stale_after": "5s"})
    d = start_daemon(cfg)
    assert d.wait_role("active")["status"] == "ok"

    def broken_overdue() -> tuple[int, dict] | None:
        h = d.health()
        return h if h and h[0] == 503 and [r.split(":")[0] for r in h[1].get("reasons", [])] == ["broken"] \
            and "last run failed" in h[1]["reasons"][0] else None

    _, doc = wait_for(broken_overdue, 30, "a 503 naming the broken job")
    assert doc["status"] == "failing"
    assert doc["reasons"][0].startswith("broken: due since ")
    assert doc["reasons"][0].endswith(
        "without a successful run (stale after 5s); last run failed: RuntimeError: the provider sent garbage")
    assert doc["jobs"]["tick"]["healthy"] is True
    status = run_cli("--config", str(cfg), "status", "--json")
    assert status.returncode == 1
    report = json.loads(status.stdout)
    assert report["daemon"]["running"] is True and report["healthy"] is False
    assert report["jobs"]["broken"]["state"] == "overdue" and report["jobs"]["broken"]["healthy"] is False
    assert report["jobs"]["broken"]["job"] == "tests.daemon.jobs:broken"
    assert report["jobs"]["tick"]["last_success"]["status"] == "ok"
    assert d.terminate() == 0
