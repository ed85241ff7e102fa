"""SIGKILL mid-run, restart: the missed fire time runs once (no duplicate, none lost), and a job
that missed several fire times while the daemon was down runs once, not once per miss."""

from __future__ import annotations

import time

from datetime import UTC, datetime

import pytest

from .conftest import runs_of, ticks, wait_for, write_config

pytestmark = pytest.mark.slow


def _floor(t: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // seconds * seconds, UTC)


def test_kill_9_mid_run_then_restart_runs_the_missed_fire_time_once(tmp_path, start_daemon) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    cfg = write_config(tmp_path / "config", url, {
        # a 3-second job every 10 seconds (at :00, :10, ...), and a quick one on odd seconds
        "cycle": {"cron": "*/10 * * * * *", "job": "tests.daemon.jobs:tick", "params": {"sleep": 3},
                  "timeout": "30s"},
        "often": {"cron": "1/2 * * * * *", "job": "tests.daemon.jobs:tick"},
    })
    first = start_daemon(cfg, "first")
    first.wait_role("active")
    wait_for(lambda: [r for r in runs_of(url, "often") if r.status == "ok"], 20, "`often` to run once")
    running = wait_for(lambda: [r for r in runs_of(url, "cycle") if r.status == "running"], 20, "`cycle` running")
    interrupted_at = running[0].scheduled_at
    first.kill()  # SIGKILL while `cycle` sleeps in its worker
    killed_at = datetime.now(UTC)
    before = {r.scheduled_at for r in runs_of(url, "often")}
    time.sleep(3)  # stay down past at least one `often` fire time, however fast the restart is

    second = start_daemon(cfg, "second")
    second.wait_role("active")
    wait_for(lambda: [r for r in runs_of(url, "cycle") if r.kind == "catch-up" and r.status == "ok"], 30,
             "the caught-up `cycle`")
    wait_for(lambda: [r for r in runs_of(url, "often") if r.kind == "scheduled" and r.status == "ok"
                      and r.scheduled_at > killed_at], 20, "`often` back on its schedule")
    assert second.terminate() == 0

    planned = {e["job"]: e for e in second.events() if e["event"] == "missed_run_caught_up"}
    assert set(planned) == {"cycle", "often"}
    planned_at = datetime.fromisoformat(planned["cycle"]["timestamp"])

    cycle = runs_of(url, "cycle")
    assert (cycle[0].status, cycle[0].scheduled_at) == ("interrupted", interrupted_at)
    assert "stopped mid-run" in cycle[0].error
    catch_up = [r for r in cycle if r.kind == "catch-up"]
    assert len(catch_up) == 1 and catch_up[0].status == "ok"
    # the latest fire time at restart: the interrupted one, or a later one that also passed meanwhile
    assert catch_up[0].scheduled_at == max(interrupted_at, _floor(planned_at, 10))
    ok = [r.scheduled_at.isoformat() for r in cycle if r.status == "ok"]
    assert [s for s, _ in ticks(url, "cycle")] == ok  # the killed worker never finished; each run once

    after = [r for r in runs_of(url, "often") if r.scheduled_at not in before]
    caught = [r for r in after if r.kind == "catch-up"]
    # several fire times passed while no daemon ran: one run answered them all
    assert len(caught) == 1 and caught[0].status == "ok" and caught[0].scheduled_at > killed_at
    assert all(r.scheduled_at > caught[0].scheduled_at for r in after if r.kind == "scheduled")
    answered = [r.scheduled_at for r in runs_of(url, "often") if r.status == "ok"]
    assert len(answered) == len(set(answered))
    written = [s for s, _ in ticks(url, "often")]
    assert len(written) == len(set(written)) and set(written) >= {t.isoformat() for t in answered}
