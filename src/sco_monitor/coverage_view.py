"""`sco-monitor coverage`: the store's last dates read once, the pure table built and printed."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import typer

from sco_monitor.context import Context
from sco_monitor.coverage import Coverage, build, text
from sco_monitor.timeutil import utcnow


def coverage_now(ctx: Context, now: datetime | None = None) -> Coverage:
    """The coverage of the configured universe against what the store holds today (config timezone)."""
    config = ctx.config
    today = (now or utcnow()).astimezone(ZoneInfo(config.settings.timezone)).date()
    ids = [s.id for s in config.universe.series]
    return build(config.universe, ctx.store.last_dates(ids), today)


def show_coverage(ctx: Context, as_json: bool) -> None:
    cov = coverage_now(ctx)
    typer.echo(json.dumps(cov.to_dict(), indent=2) if as_json else text(cov), nl=as_json)
