"""The one place where a cycle is composed: collect → assess → alert → deliver → report.

The daemon, the CLI `cycle` command and the replay all call these steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sco_monitor.assess.model import Assessment
from sco_monitor.context import Context
from sco_monitor.errors import NotAvailable, RunFailed, UsageError
from sco_monitor.logs import get_logger
from sco_monitor.timeutil import utcnow


def step_collect(ctx: Context, series: list[str] | None = None, sources: list[str] | None = None) -> object:
    """Collect into the store (enabled series only); returns the `collect.CollectSummary`."""
    from sco_monitor.collect import collect_context

    return collect_context(ctx, series_ids=series, sources=sources)


def step_assess(ctx: Context, as_of: date, save: bool = True) -> Assessment:
    """Assess what the store knew at as_of; saves the results when asked."""
    from sco_monitor.assess.forecast.layer import forecast_layer
    from sco_monitor.assess.pipeline import run_assessment

    return run_assessment(ctx, as_of, save=save, forecaster=forecast_layer)


def step_alert(ctx: Context, assessment: Assessment, now: datetime) -> object:
    """Advance the alert state machine and write due notifications to the outbox."""
    from sco_monitor.alerting.engine import process

    return process(ctx.store.engine, ctx.config.settings, assessment, now)


def step_deliver(ctx: Context, now: datetime | None = None, clock: Callable[[], datetime] | None = None) -> object:
    """Deliver due notifications from the outbox on `clock` (read at each claim, attempt and record);
    `now` freezes it (the replay's simulated day)."""
    from sco_monitor.alerting.commands import deliver

    return deliver(ctx, now, clock)


def step_report(
    ctx: Context, assessment: Assessment, now: datetime, track_record: dict | None = None
) -> object:
    """Write the daily report for assessment.as_of and queue its digest; returns a reports.daily.ReportRun."""
    from sco_monitor.reports.daily import write_report

    return write_report(ctx, assessment, now, track_record=track_record)


# --- one whole cycle ------------------------------------------------------------------------------
@dataclass
class StepOutcome:
    step: str
    status: Literal["ok", "partial", "skipped", "failed"]
    detail: str = ""
    result: object = None

    def line(self) -> str:
        return f"{self.step}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class CycleResult:
    as_of: date
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[StepOutcome]:
        return [s for s in self.steps if s.status == "failed"]

    @property
    def problems(self) -> list[StepOutcome]:
        """Steps that lost work: failed, or partial (a step's result says so)."""
        return [s for s in self.steps if s.status in ("failed", "partial")]

    def lines(self) -> list[str]:
        return [f"cycle as of {self.as_of}"] + [s.line() for s in self.steps]


def _describe(result: object) -> str:
    summary = getattr(result, "summary", None)
    return summary() if callable(summary) else ""


def result_status(result: object) -> Literal["ok", "partial", "failed"]:
    """A step's own verdict on its result: a collection that lost series is partial or failed, never ok."""
    status = getattr(result, "status", None)
    return status if status in ("partial", "failed") else "ok"


def _step(out: CycleResult, name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one step: a step not available yet is skipped with a clear line, a failure is logged, never raised."""
    log = get_logger("sco_monitor.cycle")
    try:
        result = fn(*args)
    except NotAvailable as e:
        log.warning("step_skipped", step=name, reason=str(e))
        out.steps.append(StepOutcome(name, "skipped", str(e)))
        return None
    except (RunFailed, UsageError) as e:  # an expected failure with its own clear line: no traceback
        log.error("step_failed", step=name, error=str(e))
        out.steps.append(StepOutcome(name, "failed", str(e)))
        return None
    except Exception as e:  # noqa: BLE001 - one failing step never stops the independent ones
        log.exception("step_failed", step=name)
        out.steps.append(StepOutcome(name, "failed", f"{type(e).__name__}: {e}"))
        return None
    status = result_status(result)
    out.steps.append(StepOutcome(name, status, _describe(result), result))
    (log.info if status == "ok" else log.warning)("step_done", step=name, status=status)
    return result


def run_cycle(ctx: Context, as_of: date | None = None, collect: bool = True, now: datetime | None = None,
              clock: Callable[[], datetime] | None = None) -> CycleResult:
    """collect → assess → alert → deliver → report, once. Alerting and the report need the assessment;
    delivery runs regardless (the outbox may hold older notifications). Each step reads `clock`
    (default: the real one) when it starts, and delivery at each claim and attempt; `now` freezes it."""
    clock = clock or ((lambda: now) if now is not None else utcnow)
    now = clock()
    as_of = as_of or now.astimezone(ZoneInfo(ctx.config.settings.timezone)).date()
    out = CycleResult(as_of)
    if collect:
        _step(out, "collect", step_collect, ctx)
    else:
        out.steps.append(StepOutcome("collect", "skipped", "--no-collect"))
    assessment = _step(out, "assess", step_assess, ctx, as_of)
    if assessment is not None:
        _step(out, "alert", step_alert, ctx, assessment, clock())
    else:
        out.steps.append(StepOutcome("alert", "skipped", "needs the assessment"))
    _step(out, "deliver", step_deliver, ctx, None, clock)
    if assessment is not None:
        _step(out, "report", step_report, ctx, assessment, clock())
    else:
        out.steps.append(StepOutcome("report", "skipped", "needs the assessment"))
    return out

