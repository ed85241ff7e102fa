"""The jobs a schedule can run: each calls cycle steps; the registry maps schedule names to them.

A schedule names a registered job (`job:`, default the schedule's own name) or any module-level
function as "package.module:function" taking (Context, Firing). Jobs run in a worker process, so
they are looked up by reference, never by closure. Steps are read from `sco_monitor.cycle` at call
time: the daemon composes the cycle, it never reimplements a step.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sco_monitor.context import Context
from sco_monitor.errors import NotAvailable
from sco_monitor.registry import Registry, UnknownName
from sco_monitor.timeutil import utcnow


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


def _cycle():  # noqa: ANN202 - the cycle module, read at call time
    from sco_monitor import cycle

    return cycle


@registry.register("collect_market")
def collect_market(ctx: Context, firing: Firing) -> object:
    """Collect the enabled market (non-macro) series, or params.series / params.sources."""
    series = firing.params.get("series") or _enabled_ids(ctx, macro=False)
    return _cycle().step_collect(ctx, series=series, sources=firing.params.get("sources"))


@registry.register("collect_macro")
def collect_macro(ctx: Context, firing: Firing) -> object:
    """Collect the enabled macro series, or params.series / params.sources."""
    series = firing.params.get("series") or _enabled_ids(ctx, macro=True)
    return _cycle().step_collect(ctx, series=series, sources=firing.params.get("sources"))


@registry.register("collect")
def collect_all(ctx: Context, firing: Firing) -> object:
    """Collect every enabled series, or params.series / params.sources."""
    return _cycle().step_collect(ctx, series=firing.params.get("series"), sources=firing.params.get("sources"))


@registry.register("assess")
def assess(ctx: Context, firing: Firing) -> object:
    """Assess as of the fire date (saved), then advance the alerts and fill the outbox."""
    cycle = _cycle()
    assessment = cycle.step_assess(ctx, firing.local_date, save=True)
    alerts = cycle.step_alert(ctx, assessment, utcnow())
    return f"as of {assessment.as_of}: {len(assessment.rules)} rule evaluations; alerts: {alerts}"


@registry.register("deliver")
def deliver(ctx: Context, firing: Firing) -> object:
    """Deliver the due notifications of the outbox."""
    return _cycle().step_deliver(ctx, clock=utcnow)  # the clock, read at each claim and attempt


@registry.register("report")
def report(ctx: Context, firing: Firing) -> object:
    """The daily report for the fire date, from an assessment recomputed (not saved) for it."""
    cycle = _cycle()
    assessment = cycle.step_assess(ctx, firing.local_date, save=False)
    return cycle.step_report(ctx, assessment, utcnow())


@registry.register("heartbeat")
def heartbeat(ctx: Context, firing: Firing) -> object:
    """Queue the watchdog notification that proves the daemon is alive."""
    if importlib.util.find_spec("sco_monitor.alerting") is None:
        raise NotAvailable("heartbeat", 5, "alerting")
    from sco_monitor.alerting.heartbeat import enqueue_heartbeat

    return enqueue_heartbeat(ctx, utcnow())
