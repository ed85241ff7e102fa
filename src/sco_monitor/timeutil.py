"""Clock helpers. Only the edges (CLI, daemon) read the clock; everything else takes `as_of`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd


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
