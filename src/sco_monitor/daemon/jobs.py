"""The jobs a schedule can run: each is one `cycle.run_day` with its steps; the registry maps
schedule names to them.

A schedule names a registered job (`job:`, default the schedule's own name) or any module-level
function as "package.module:function" taking (Context, Firing). Jobs run in a worker process, so
they are looked up by reference, never by closure. The daemon never composes steps itself: a job
says which steps of the day it runs, and a failed step fails the job's run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sco_monitor.context import Context
from sco_monitor.registry import Registry, UnknownName
from sco_monitor.timeutil import utcnow

if TYPE_CHECKING:
    from sco_monitor.cycle import CycleResult, StepName


@dataclass(frozen=True)
class Firing:
    """One run of a scheduled job: which schedule, the fire time it answers, its options."""

    job_id: str
    scheduled_at: datetime
    timezone: str
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None

    @property
    def local_date(self) -> date:
        """The date of the fire time in the configured timezone: the as_of of the run."""
        return self.scheduled_at.astimezone(ZoneInfo(self.timezone)).date()


JobFn = Callable[[Context, Firing], object]
registry: Registry[JobFn] = Registry("job")


def resolve_job(name: str) -> JobFn:
    """A registered job, or a module-level function named "package.module:function"."""
    if name in registry:
        return registry.get(name)
    module, sep, attr = name.partition(":")
    if not sep or not module or not attr:
        raise UnknownName("job", name, registry.names())
    fn = getattr(importlib.import_module(module), attr, None)
    if not callable(fn):
        raise ValueError(f"{module} has no function {attr!r}")
    return fn


def job_name(schedule_id: str, job: str | None) -> str:
    return job or schedule_id


def _enabled_ids(ctx: Context, macro: bool) -> list[str]:
    return [s.id for s in ctx.config.universe.series if s.enabled and (s.kind == "macro") == macro]


def _run(ctx: Context, firing: Firing, *steps: StepName, **options: Any) -> CycleResult:
    """The day of the fire date through the given steps; a failed step fails the run."""
    # Imported here, in the worker that runs the job: the config check reads this registry's names
    # on every command, and the cycle brings the whole engine (statsmodels, arch, matplotlib) along.
    from sco_monitor.cycle import run_day

    result = run_day(ctx, firing.local_date, clock=utcnow, steps=steps, **options)  # the clock, never a fixed time
    result.raise_for_failure()
    return result


@registry.register("collect_market")
def collect_market(ctx: Context, firing: Firing) -> CycleResult:
    """Collect the enabled market (non-macro) series, or params.series / params.sources."""
    series = firing.params.get("series") or _enabled_ids(ctx, macro=False)
    return _run(ctx, firing, "collect", series=series, sources=firing.params.get("sources"))


@registry.register("collect_macro")
def collect_macro(ctx: Context, firing: Firing) -> CycleResult:
    """Collect the enabled macro series, or params.series / params.sources."""
    series = firing.params.get("series") or _enabled_ids(ctx, macro=True)
    return _run(ctx, firing, "collect", series=series, sources=firing.params.get("sources"))


@registry.register("collect")
def collect_all(ctx: Context, firing: Firing) -> CycleResult:
    """Collect every enabled series, or params.series / params.sources."""
    return _run(ctx, firing, "collect", series=firing.params.get("series"), sources=firing.params.get("sources"))


@registry.register("assess")
def assess(ctx: Context, firing: Firing) -> CycleResult:
    """Assess as of the fire date (saved), advance the alerts, fill the outbox and record the alert history."""
    return _run(ctx, firing, "assess", "alert", save=True, record_history=True)


@registry.register("deliver")
def deliver(ctx: Context, firing: Firing) -> CycleResult:
    """Deliver the due notifications of the outbox."""
    return _run(ctx, firing, "deliver")


@registry.register("report")
def report(ctx: Context, firing: Firing) -> CycleResult:
    """The daily report for the fire date, from the assessment the `assess` job saved for it (assessed
    and saved here when there is none yet)."""
    return _run(ctx, firing, "report")


@registry.register("heartbeat")
def heartbeat(ctx: Context, firing: Firing) -> CycleResult:
    """Queue the watchdog notification that proves the daemon is alive."""
    return _run(ctx, firing, "heartbeat")
