"""The watchdog: a notification that proves the service is alive (its absence is the alarm).

The daemon schedules `enqueue_heartbeat`; the receiver's side (a dead-man's switch, a chat
channel) notices when they stop. It goes through the outbox like any other notification, with a
short give-up time: a heartbeat delivered hours late proves nothing.
"""

from __future__ import annotations

import socket
from datetime import datetime

from sqlalchemy import func, select

from sco_monitor import __version__
from sco_monitor.alerting import outbox
from sco_monitor.alerting.db import write_txn
from sco_monitor.context import Context
from sco_monitor.store import schema


def enqueue_heartbeat(ctx: Context, now: datetime) -> int | None:
    """Queue one heartbeat to `alerting.heartbeat.receiver`; None when disabled or already queued this minute."""
    hb = ctx.config.settings.alerting.heartbeat
    if hb.receiver is None:
        return None
    a, n = schema.alerts, schema.notifications
    with write_txn(ctx.store.engine) as conn:
        firing = conn.execute(select(func.count()).where(a.c.state == "firing")).scalar() or 0
        counts = outbox.counts(conn)
        payload = {
            "status": "alive", "at": now.isoformat(), "host": socket.gethostname(), "version": __version__,
            "firing_alerts": int(firing), "outbox_pending": counts["pending"], "outbox_failed": counts["failed"],
            "oldest_pending": _iso(conn.execute(select(func.min(n.c.created_at)).where(n.c.status == "pending")).scalar()),
        }
        key = f"heartbeat_{hb.receiver}_{now:%Y%m%dT%H%M}"
        return outbox.enqueue(conn, hb.receiver, "heartbeat", payload, key, now, give_up_after=hb.give_up_after)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None
