"""Period labels of statistical providers → the last day of the period they cover.

One home for this fact: a monthly or quarterly value is dated at the end of its period, so a
publication lag counts from when the period is over (World Bank, SDMX, BIS files, DBnomics).
Labels seen in the wild: `2023`, `2023-Q2` / `2023Q2`, `2023-S1`, `2023-04` / `2023M04` /
`2023-M04`, `2023-W05`, `2023-04-30` (and SDMX date-times, whose time part is dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from sco_monitor.sources.base import SourceError

_YEAR = re.compile(r"^(\d{4})(?:-?A1?)?$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")
_SEMESTER = re.compile(r"^(\d{4})-?[SH]([12])$")
_MONTH = re.compile(r"^(\d{4})-?M?(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")


def period_end(label: str, what: str) -> pd.Timestamp:
    """'2023' / '2023Q2' / '2023-04' / '2023M04' / '2023-04-30' → the last day of that period."""
    text = str(label).strip()
    try:
        if m := _DAY.match(text):
            return pd.Timestamp(m.group(1))
        if m := _MONTH.match(text):
            return pd.Period(f"{m.group(1)}-{m.group(2)}", freq="M").end_time.normalize()
        if m := _QUARTER.match(text):
            return pd.Period(f"{m.group(1)}Q{m.group(2)}", freq="Q").end_time.normalize()
        if m := _YEAR.match(text):
            return pd.Timestamp(f"{m.group(1)}-12-31")
        if m := _SEMESTER.match(text):
            return pd.Timestamp(f"{m.group(1)}-{'06-30' if m.group(2) == '1' else '12-31'}")
        if m := _WEEK.match(text):
            return pd.Timestamp.fromisocalendar(int(m.group(1)), int(m.group(2)), 7)
    except ValueError:
        pass
    raise SourceError(f"{what}: cannot read the period {label!r}")


def period_ends(labels: Iterable[str], what: str) -> pd.DatetimeIndex:
    """Many labels at once; the repeated shapes of one series are parsed once each."""
    cache: dict[str, pd.Timestamp] = {}
    out = []
    for label in labels:
        if label not in cache:
            cache[label] = period_end(label, what)
        out.append(cache[label])
    return pd.DatetimeIndex(out, name="date")


def period_label(day: pd.Timestamp | str, frequency: str) -> str:
    """The SDMX period a date falls in, for startPeriod/endPeriod in the series' own frequency."""
    ts = pd.Timestamp(day)
    if frequency == "A":
        return f"{ts.year}"
    if frequency == "Q":
        return f"{ts.year}-Q{ts.quarter}"
    if frequency == "M":
        return f"{ts.year}-{ts.month:02d}"
    return ts.strftime("%Y-%m-%d")
