"""A producer job for the fault-injection test: each run queues notifications through the real outbox.

Schedules name it as "tests.status.jobs:enqueue"; it runs in the daemon's worker processes.
"""

from __future__ import annotations

from pathlib import Path

from sco_monitor.alerting import outbox
from sco_monitor.alerting.db import write_txn
from sco_monitor.context import Context
from sco_monitor.daemon.jobs import Firing
from sco_monitor.timeutil import utcnow


def enqueue(ctx: Context, firing: Firing) -> str:
    """params.n notifications to each of params.receivers, keyed by the fire time (a re-run queues none);
    nothing once the file params.stop exists."""
    if Path(firing.params["stop"]).exists():
        return "stopped"
    now = utcnow()
    stamp = firing.scheduled_at.strftime("%Y%m%dT%H%M%S")
    with write_txn(ctx.store.engine) as conn:
        ids = [outbox.enqueue(conn, r, "test", {"text": f"fault injection {stamp} #{i}"}, f"fi-{stamp}-{i}-{r}", now)
               for r in firing.params["receivers"] for i in range(int(firing.params.get("n", 1)))]
    return f"queued {sum(1 for i in ids if i is not None)}"
