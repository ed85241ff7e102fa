"""The one place where a cycle is composed: collect → assess → alert → deliver → report.

The daemon, the CLI `cycle` command and the replay all call these steps.
"""

from __future__ import annotations

from datetime import date, datetime

from sco_monitor.assess.model import Assessment
from sco_monitor.context import Context
from sco_monitor.errors import NotAvailable


def step_collect(ctx: Context, series: list[str] | None = None, sources: list[str] | None = None) -> object:
    """Collect into the store (enabled series only); returns the `collect.CollectSummary`."""
    from sco_monitor.collect import collect_context

    return collect_context(ctx, series_ids=series, sources=sources)


def step_assess(ctx: Context, as_of: date, save: bool = True) -> Assessment:
    """Assess what the store knew at as_of; saves the results when asked."""
    from sco_monitor.assess.pipeline import run_assessment

    return run_assessment(ctx, as_of, save=save, forecaster=None)


def step_alert(ctx: Context, assessment: Assessment, now: datetime) -> object:
    """Advance the alert state machine and write due notifications to the outbox."""
    raise NotAvailable("alerts", 5, "alerting")


def step_deliver(ctx: Context, now: datetime) -> object:
    """Deliver due notifications from the outbox."""
    raise NotAvailable("deliver", 5, "alerting")


def step_report(
    ctx: Context, assessment: Assessment, now: datetime, track_record: dict | None = None
) -> object:
    """Write the daily report for assessment.as_of and queue its digest; returns a reports.daily.ReportRun."""
    from sco_monitor.reports.daily import write_report

    return write_report(ctx, assessment, now, track_record=track_record)
