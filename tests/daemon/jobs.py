"""Quick real jobs for the daemon tests: they write rows, sleep, hang or fail.

Schedules name them as "tests.daemon.jobs:<function>"; they run in the daemon's worker processes.
"""

from __future__ import annotations

import time

from sqlalchemy import text

from sco_monitor.context import Context
from sco_monitor.daemon.jobs import Firing

TICKS = "CREATE TABLE IF NOT EXISTS test_ticks (job VARCHAR(64), scheduled_at VARCHAR(40), run INTEGER)"


def tick(ctx: Context, firing: Firing) -> str:
    """Sleep params.sleep seconds, then write one row for this fire time: proof the run finished."""
    time.sleep(float(firing.params.get("sleep", 0)))
    with ctx.store.engine.begin() as conn:
        conn.execute(text(TICKS))
        conn.execute(text("INSERT INTO test_ticks (job, scheduled_at, run) VALUES (:j, :s, :r)"),
                     {"j": firing.job_id, "s": firing.scheduled_at.isoformat(), "r": firing.run_id})
    return f"tick for {firing.scheduled_at.isoformat()} as of {firing.local_date}"


def hang(ctx: Context, firing: Firing) -> None:
    """A provider that never answers."""
    time.sleep(3600)


def broken(ctx: Context, firing: Firing) -> None:
    raise RuntimeError("the provider sent garbage")
