"""Bug 1: a collection that lost series is `partial` (or `failed` when nothing was collected), never `ok`:
in `cycle`'s lines and exit code, in job_runs, /healthz and /metrics, with a readable detail line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..daemon.conftest import http_get, runs_of, wait_for
from .support import csv_series, history, today, write_config


def _two_series(root: Path, broken: int) -> Path:
    """Two CSV series; the first `broken` of them point at files that do not exist."""
    names = ["a.csv", "b.csv"]
    files = {n: history(today(), seed=i, jump=True) for i, n in enumerate(names) if i >= broken}
    series = [csv_series("fx.a", "missing-a.csv" if broken >= 1 else "a.csv"),
              csv_series("fx.b", "missing-b.csv" if broken >= 2 else "b.csv")]
    return write_config(root, series, files=files)


def test_cycle_with_a_failed_series_says_partial_and_exits_1(tmp_path: Path, run_cli) -> None:
    cfg = _two_series(tmp_path, broken=1)
    r = run_cli("--config", str(cfg), "cycle")
    lines = r.stdout.splitlines()
    collect = next(x for x in lines if x.startswith("collect:"))
    assert collect.startswith("collect: partial (2 series: 1 ok, 1 failed (csv: fx.a)"), r.stdout
    assert "CollectSummary" not in r.stdout
    assert r.returncode == 1, r.stdout + r.stderr
    assert "collect partial" in r.stderr
    assert next(x for x in lines if x.startswith("assess:")).startswith("assess: ok")


def test_cycle_that_collected_nothing_says_failed(tmp_path: Path, run_cli) -> None:
    cfg = _two_series(tmp_path, broken=2)
    r = run_cli("--config", str(cfg), "cycle")
    collect = next(x for x in r.stdout.splitlines() if x.startswith("collect:"))
    assert collect.startswith("collect: failed (2 series: 2 failed (csv: fx.a, fx.b)"), r.stdout
    assert r.returncode == 1


@pytest.mark.slow
def test_daemon_collect_with_a_failed_series_is_partial_in_job_runs_healthz_and_metrics(
        tmp_path: Path, start_daemon) -> None:
    cfg = _two_series(tmp_path, broken=1)
    import yaml

    data = yaml.safe_load(cfg.read_text())
    data["schedules"] = {"collect": {"cron": "*/2 * * * * *", "timeout": "1m"}}
    data["http"] = {"stale_after": "1h"}
    data["daemon"] = {"standby_poll": "1s", "shutdown_grace": "1s"}
    cfg.write_text(yaml.safe_dump(data))
    url = data["store"]["url"]
    d = start_daemon(cfg)
    d.wait_role("active", timeout=60)
    run = wait_for(lambda: next((r for r in runs_of(url, "collect") if r.status not in ("running", "skipped")), None),
                   60, "a finished collect run")
    assert run.status == "partial", run
    assert run.detail.startswith("collect: partial (2 series: 1 ok, 1 failed (csv: fx.a)"), run.detail
    assert "CollectSummary" not in run.detail and "CycleResult" not in run.detail
    assert run.error is None or "fx.a" in run.error
    # collect fires every 2 s: read health between two runs (while one runs, its state is "running")
    def between_runs() -> tuple[int, dict] | None:
        got = d.health()
        return got if got is not None and got[1]["jobs"]["collect"]["state"] != "running" else None

    code, health = wait_for(between_runs, 30, "health between two collect runs")
    assert code == 200, health
    assert health["status"] == "degraded"
    assert health["jobs"]["collect"]["state"] == "partial"
    assert "fx.a" in health["jobs"]["collect"]["reason"]
    code, metrics = http_get(f"{d.url}/metrics")
    assert 'sco_monitor_series_failed{source="csv"} 1.0' in metrics
    assert 'sco_monitor_job_healthy{job="collect"} 0.0' in metrics
    assert 'sco_monitor_job_last_status{job="collect",status="partial"} 1.0' in metrics
    assert 'sco_monitor_job_runs_total{job="collect",status="partial"}' in metrics
    assert d.terminate() == 0
