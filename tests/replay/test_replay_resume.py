"""A replay that stopped inside a year, or was killed there, and was run again equals one that never stopped.

The stop is a real failure a user meets: the report of a day cannot be written (its folder is
taken by a file), so the replay stops at that day, resumably, after the day was assessed, alerted
and delivered. Run again once the file is gone, it starts from that day with the models saved at the
stop. Everything it stores, and every notification the file receiver got, must equal an
uninterrupted replay of the same days on a copy of the same history. A replay killed (SIGKILL)
wherever it is saves nothing at the stop: run again, its models start from the states saved before,
and the rest must still hold (the model-based values within what a cold cycle may differ by).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from sco_monitor import cycle
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed
from sco_monitor.replay.driver import business_days, run_replay
from sco_monitor.store import Store
from sco_monitor.store import schema as t

from .test_replay_e2e import MODEL_KINDS, _results

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

START, END = date(2008, 9, 1), date(2008, 10, 31)  # the demo store of tests/replay/conftest.py
EVERY = 5  # a report every 5th business day
STOP = date(2008, 10, 6)  # a report day inside a block of forecasts (the blocks of 20 days start on 09-01 and 09-29)


def _notifications(path: Path) -> list[tuple]:
    """What the file receiver got, without the clock time it was written at (the rest is simulated time)."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [json.dumps({k: v for k, v in n.items() if k != "written_at"}, sort_keys=True) for n in lines]


def test_a_replay_stopped_inside_a_year_and_resumed_equals_one_that_never_stopped(demo_config: Path,
                                                                                    tmp_path: Path) -> None:
    ctx = Context(config_path=demo_config)
    days = business_days(START, END)
    assert STOP in days[::EVERY] and days.index(STOP) % cycle.FORECAST_DAYS not in (0, cycle.FORECAST_DAYS - 1)
    whole, parts = f"sqlite:///{tmp_path / 'whole.db'}", f"sqlite:///{tmp_path / 'parts.db'}"
    run_replay(ctx, START, END, tmp_path / "whole", report_every=EVERY, into=whole, progress=False)

    blocker = tmp_path / "parts" / "reports" / STOP.isoformat()
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # the day's report cannot be written
    with pytest.raises(RunFailed, match=f"replay stopped at {STOP}.*run the same command again to resume"):
        run_replay(ctx, START, END, tmp_path / "parts", report_every=EVERY, into=parts, progress=False)
    stopped = Store(parts)
    with stopped.engine.connect() as conn:
        done = sorted(r[0] for r in conn.execute(select(t.replay_days.c.date)).all())
    assert done == [d for d in days if d < STOP]  # the failed day is not done
    assert _results(stopped, STOP)["rules"]  # though it was assessed before its report failed
    stopped.dispose()

    blocker.unlink()
    summary = run_replay(ctx, START, END, tmp_path / "parts", report_every=EVERY, into=parts, progress=False)
    assert summary.ran == [d for d in days if d >= STOP] and summary.skipped == len(days) - len(summary.ran)

    a, b = Store(whole), Store(parts)
    worst = 0.0
    for d in days:
        x, y = _results(a, d), _results(b, d)
        assert x["stress"] and x["rules"], d
        assert x["stress"] == y["stress"] and x["probability"] == y["probability"], d
        assert len(x["rules"]) == len(y["rules"]), d
        for u, v in zip(x["rules"], y["rules"]):
            assert (u[0], u[2], u[3]) == (v[0], v[2], v[3]), (d, u, v)  # fingerprint, severity, kind
            if u[3] in MODEL_KINDS and u[1] is not None and v[1] is not None:
                worst = max(worst, abs(u[1] - v[1]))
            else:
                assert u[1] == v[1], (d, u, v)
    print(f"\nmodel-based rule values, stopped-and-resumed against uninterrupted: largest difference {worst:.2e}")
    assert worst < 1e-6  # the resumed models continue from the states saved at the stop
    with a.engine.connect() as ca, b.engine.connect() as cb:
        for table in (t.alert_history, t.reports):
            assert len(ca.execute(select(table)).all()) == len(cb.execute(select(table)).all()), table.name
    sent = _notifications(tmp_path / "whole" / "alerts.jsonl")
    assert sent and _notifications(tmp_path / "parts" / "alerts.jsonl") == sent  # none lost, none sent twice
    assert (tmp_path / "parts" / "reports" / STOP.isoformat() / "report.html").is_file()
    a.dispose()
    b.dispose()
    ctx.store.dispose()


def _done_days(path: Path) -> int:
    """Days the replay in another process has marked done (0 until its store has the table)."""
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("select count(*) from replay_days").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_replay_killed_mid_year_and_run_again_loses_nothing_and_sends_nothing_twice(
        demo_config: Path, tmp_path: Path) -> None:
    """The process is killed (SIGKILL) wherever it is once 25 days are done: inside a day, a delivery or
    a report, with the year's model states not saved. Run again, the replay goes on from the first day
    not done: every day's data-based results equal an uninterrupted replay's, the model-based ones
    (restored from the states saved before the year, re-estimated warm on their calendar) within the
    0.05 a cold cycle may differ by, and the file receiver holds every notification once."""
    import signal
    import subprocess
    import sys
    import time

    from ..conftest import cli_env

    ctx = Context(config_path=demo_config)
    days = business_days(START, END)
    whole, db = f"sqlite:///{tmp_path / 'whole.db'}", tmp_path / "killed.db"
    run_replay(ctx, START, END, tmp_path / "whole", report_every=EVERY, into=whole, progress=False)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sco_monitor", "--config", str(demo_config), "--log-format", "json", "replay",
         "--from", START.isoformat(), "--to", END.isoformat(), "--out", str(out), "--report-every", str(EVERY),
         "--into", f"sqlite:///{db}"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _done_days(db) < 25 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the replay ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    killed_at = _done_days(db)
    assert 25 <= killed_at < len(days)

    summary = run_replay(ctx, START, END, out, report_every=EVERY, into=f"sqlite:///{db}", progress=False)
    assert summary.ran == days[killed_at:]
    a, b = Store(whole), Store(f"sqlite:///{db}")
    worst = 0.0
    for d in days:
        x, y = _results(a, d), _results(b, d)
        assert x["stress"] == y["stress"] and x["probability"] == y["probability"], d
        assert [u[0] for u in x["rules"]] == [v[0] for v in y["rules"]], d
        for u, v in zip(x["rules"], y["rules"]):
            if u[3] in MODEL_KINDS:
                if u[1] is not None and v[1] is not None:
                    worst = max(worst, abs(u[1] - v[1]))
            else:
                assert (u[1], u[2]) == (v[1], v[2]), (d, u, v)
    print(f"\nkilled after {killed_at} days; model-based rule values against uninterrupted: largest difference "
          f"{worst:.2e}")
    assert worst < 0.05
    ids = [json.loads(line)["id"] for line in (out / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids))  # none twice
    with b.engine.connect() as conn:  # none lost: every notification the resumed store holds was written
        queued = {r[0] for r in conn.execute(select(t.notifications.c.idempotency_key)).all()}
    assert queued and queued <= set(ids)
    a.dispose()
    b.dispose()
    ctx.store.dispose()
