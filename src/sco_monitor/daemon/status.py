"""`sco-monitor status`: the schedule, each job's last and next run and health, and who is active."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from sco_monitor.config import AppConfig
from sco_monitor.config.cron import cron_trigger
from sco_monitor.config.types import format_duration
from sco_monitor.context import Context
from sco_monitor.daemon.health import evaluate
from sco_monitor.daemon.jobs import job_name
from sco_monitor.daemon.lock import Holder, instance_name, store_lock
from sco_monitor.daemon.runs import JobRuns
from sco_monitor.store import Store
from sco_monitor.timeutil import utcnow


def unscheduled_defaults(config: AppConfig) -> list[str]:
    """Default jobs a `schedules:` block left out: the block replaces the defaults, it does not merge."""
    from sco_monitor.config.settings import Settings

    s = config.settings
    if "schedules" not in s.model_fields_set:
        return []
    defaults = Settings.model_fields["schedules"].default_factory()  # type: ignore[misc]
    return [name for name in defaults if name not in s.schedules]


def collect_status(config: AppConfig, store: Store, now: datetime) -> dict[str, Any]:
    """Everything `status` shows, as data (also its --json output)."""
    s = config.settings
    tz = ZoneInfo(s.timezone)
    lock = store_lock(store, instance_name())
    try:
        holder: Holder | None = lock.holder()
    finally:
        lock.release()  # closes the lock's own connection; this process never took the lock
    history = JobRuns(store.engine).history(s.schedules)
    jobs: dict[str, Any] = {}
    for sid, schedule in s.schedules.items():
        trigger = cron_trigger(schedule.cron, tz) if schedule.enabled else None
        h = evaluate(sid, trigger, history[sid], now, s.http.stale_after, holder.since if holder else None)
        jobs[sid] = {"job": job_name(sid, schedule.job), "cron": schedule.cron, "enabled": schedule.enabled,
                     "timeout": format_duration(schedule.timeout), **h.to_dict()}
    healthy = holder is not None and all(j["healthy"] for j in jobs.values())
    return {
        "healthy": healthy,
        "degraded": [sid for sid, j in jobs.items() if j["degraded"]],
        "daemon": {"running": holder is not None, "instance": holder.instance if holder else None,
                   "since": holder.since.isoformat() if holder and holder.since else None, "lock": lock.where},
        "store": store.display_url,
        "timezone": s.timezone,
        "now": now.isoformat(),
        "jobs": jobs,
        "config": config.path.name,
        "unscheduled_defaults": unscheduled_defaults(config),
    }


def render(report: dict[str, Any]) -> str:
    tz = ZoneInfo(report["timezone"])
    d = report["daemon"]
    if d["running"]:
        since = f" since {_local(d['since'], tz)}" if d["since"] else ""
        daemon = f"running: {d['instance']}{since} ({d['lock']})"
    else:
        daemon = f"not running (nobody holds the {d['lock']})"
    lines = [
        f"daemon    {daemon}",
        f"store     {report['store']}",
        f"timezone  {report['timezone']} (now {_local(report['now'], tz)})",
        "",
    ]
    header = ["JOB", "SCHEDULE", "TIMEOUT", "LAST RUN", "STATUS", "TOOK", "NEXT RUN", "HEALTH"]
    rows = [header]
    notes: list[str] = []
    for sid, j in report["jobs"].items():
        last = j["last_run"]
        took = last["duration_seconds"] if last else None
        rows.append([
            sid if j["job"] == sid else f"{sid} ({j['job']})",
            j["cron"],
            j["timeout"],
            _local(last["scheduled_at"] or last["started_at"], tz) if last else "-",
            (last["status"] + (" (catch-up)" if last["kind"] == "catch-up" else "")) if last else "-",
            f"{took:.1f}s" if took is not None else "-",
            _local(j["next_run"], tz) if j["next_run"] else "-",
            j["state"],
        ])
        if j["state"] in ("overdue", "failing", "partial"):
            notes.append(f"  {sid}: {j['reason']}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if notes:
        lines += ["", *notes]
    if report["unscheduled_defaults"]:
        lines += ["", (f"note: `schedules:` in {report['config']} replaces the defaults; not scheduled: "
                       f"{', '.join(report['unscheduled_defaults'])} (list them to run them)")]
    return "\n".join(lines)


def _local(iso: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")


def show_status(ctx: Context, as_json: bool) -> int:
    """Print the status; exit code 0 when a daemon runs and every job is healthy, else 1."""
    report = collect_status(ctx.config, ctx.store, utcnow())
    typer.echo(json.dumps(report, indent=2) if as_json else render(report))
    return 0 if report["healthy"] else 1
