"""Health of a scheduled job: a pure function of its schedule, its run history and the clock.

A job is *overdue* when a fire time passed more than `stale_after` ago and no run since has
succeeded. Measuring from the fire time, not from the last success, keeps a Tuesday-to-Saturday
job healthy over the weekend and still flags a daily job that has failed for a day and a half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from sco_monitor.config.cron import first_fire_after, next_fire
from sco_monitor.daemon.runs import JobHistory, JobRun


@dataclass(frozen=True)
class JobHealth:
    job_id: str
    state: str  # ok | running | partial | failing | overdue | waiting | disabled
    healthy: bool  # False only when overdue: /healthz answers 503
    reason: str
    next_run: datetime | None
    due_since: datetime | None
    last: JobRun | None
    last_ok: JobRun | None
    problem: str = ""  # how the last finished run went when it was not ok: the job is degraded
    last_done: JobRun | None = None  # the last run that ran and is over

    @property
    def degraded(self) -> bool:
        """The last finished run lost work (partial, failed, timeout, ...): not ok, though maybe not overdue."""
        return bool(self.problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "healthy": self.healthy,
            "degraded": self.degraded,
            "reason": self.reason,
            "next_run": _iso(self.next_run),
            "due_since": _iso(self.due_since),
            "last_run": _run_dict(self.last),
            "last_success": _run_dict(self.last_ok),
        }


def evaluate(job_id: str, trigger: BaseTrigger | None, history: JobHistory, now: datetime,
             stale_after: timedelta, since: datetime | None = None) -> JobHealth:
    """`since`: when the daemon became active, the start of the wait for a job that never succeeded."""
    if trigger is None:
        return JobHealth(job_id, "disabled", True, "not scheduled", None, None, history.last, history.last_ok)
    upcoming = next_fire(trigger, now)
    last, last_ok = history.last, history.last_ok
    success = history.last_success or last_ok
    if success is not None and success.scheduled_at is not None:
        due = first_fire_after(trigger, success.scheduled_at)
    else:
        starts = [s for s in (history.first_scheduled, since) if s is not None]
        due = next_fire(trigger, min(starts)) if starts else None
    due = due if due is not None and due <= now else None
    done = history.last_done
    outcome = _outcome(done) if done else ""
    problem = outcome if done is not None and done.status != "ok" else ""

    def health(state: str, healthy: bool, reason: str) -> JobHealth:
        return JobHealth(job_id, state, healthy, reason, upcoming, due, last, last_ok, problem, done)

    if due is not None and now - due > stale_after:
        why = f"due since {_iso(due)} without a successful run (stale after {_fmt(stale_after)})"
        if problem:
            why += f"; {outcome}"
        return health("overdue", False, why)
    if last is None:
        return health("waiting", True, "no run yet")
    # a fire time that never started (skipped, missed) says nothing about how the job goes
    ref = done if last.status in ("skipped", "missed") and done is not None else last
    if ref.status == "running":
        return health("running", True, f"running since {_iso(ref.started_at)}" + (f"; {outcome}" if problem else ""))
    if ref.status == "partial":
        return health("partial", True, outcome)
    if ref.status != "ok":
        return health("failing", True, outcome)
    return health("ok", True, "last run ok")


def _outcome(run: JobRun) -> str:
    """'last run partial: 1 of 2 series not collected: ...' (the error, else the detail)."""
    why = run.error or (run.detail if run.status != "ok" else None)
    return f"last run {run.status}" + (f": {why}" if why else "")


def _fmt(td: timedelta) -> str:
    from sco_monitor.config.types import format_duration

    return format_duration(td)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _run_dict(run: JobRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "kind": run.kind,
        "scheduled_at": _iso(run.scheduled_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": run.duration.total_seconds() if run.duration else None,
        "error": run.error,
        "detail": run.detail,
        "instance": run.instance,
    }
