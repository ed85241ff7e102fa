"""Clock helpers. Only the edges (CLI, daemon) read the clock; everything else takes `as_of`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd


#: Day 0 of every re-estimation and refit calendar (a Monday): periods are counted from it, so every
#: run, cold or replayed from any start, re-estimates on the same dates.
CALENDAR_EPOCH = date(2000, 1, 3)


def period_start(day: date, every: timedelta) -> date:
    """First day of the calendar period of length `every` that holds `day` (periods from CALENDAR_EPOCH)."""
    n = max(1, every.days)
    return CALENDAR_EPOCH + timedelta(days=((day - CALENDAR_EPOCH).days // n) * n)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_date(value: str | date | datetime | pd.Timestamp | None) -> date | None:
    """'2008-10-08', a datetime or a Timestamp → date (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()
