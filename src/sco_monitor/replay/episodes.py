"""Crisis episodes: dated in the config, or derived from the data with causal statistics only.

A derived episode starts on the first day a market's stress measure lies beyond k standard
deviations of its own past (a rolling window that ends the day before) and above a small
absolute floor, and runs while such days keep coming within `merge_gap` trading days of each
other. Two measures, as in the
early-warning literature:

- drawdown: the fall from the rolling one-year high (equity; the currency's value for FX);
- emp: exchange-market pressure, here the 20-day log depreciation of the currency against USD
  (reserves and policy rates are not in the store, so the FX leg carries the pressure).

Pure functions of a price series; the same data up to D always gives the same episodes up to D.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from sco_monitor.config.settings import Episode
from sco_monitor.timeutil import to_date

Method = Literal["drawdown", "emp"]


@dataclass(frozen=True)
class Span:
    """A crisis episode in one country: onset and last crisis day (inclusive)."""

    name: str
    country: str
    start: date
    end: date | None
    source: str  # "config" or "derived: <method> <series>"


@dataclass(frozen=True)
class DerivationRule:
    """How episodes are read from the data; defaults follow the signals-approach literature."""

    k: float = 2.0  # standard deviations beyond the past mean
    window: int = 750  # trading days of past the mean and deviation are taken over
    min_periods: int = 250  # no episode before this much history
    high_window: int = 250  # rolling high of the drawdown measure
    change_window: int = 20  # depreciation horizon of the pressure measure
    merge_gap: int = 60  # crisis days closer than this belong to one episode
    min_days: int = 3  # an episode needs at least this many crisis days
    floor: float = 0.03  # and a measure of at least this (a 3% fall): a peg's tiny moves are no crisis


DEFAULT_RULE = DerivationRule()


def stress_measure(prices: pd.Series, method: Method, rising_is_risk: bool, rule: DerivationRule) -> pd.Series:
    """The measure whose extreme values mark crisis days; larger = worse."""
    p = prices.astype(float).where(lambda s: s > 0).dropna().sort_index()
    if rising_is_risk:
        p = 1.0 / p  # the value of the currency: a rise in local units per USD is a fall here
    if method == "drawdown":
        high = p.rolling(rule.high_window, min_periods=1).max()
        return -(p / high - 1.0)  # 0 at a high, positive below it
    if method == "emp":
        return -np.log(p / p.shift(rule.change_window))
    raise ValueError(f"unknown episode method {method!r}; expected drawdown or emp")


def crisis_days(prices: pd.Series, method: Method, rising_is_risk: bool, rule: DerivationRule) -> pd.Series:
    """Boolean per date: the measure beyond k deviations of its strictly past window."""
    m = stress_measure(prices, method, rising_is_risk, rule)
    past = m.shift(1).rolling(rule.window, min_periods=rule.min_periods)
    mu, sd = past.mean(), past.std()
    flag = (m > mu + rule.k * sd) & (m >= rule.floor) & sd.gt(0)
    return flag.fillna(False).astype(bool)


def spans_from_flags(flags: pd.Series, rule: DerivationRule) -> list[tuple[date, date]]:
    """Group crisis days into (onset, last day) spans; gaps shorter than merge_gap join spans."""
    idx = np.flatnonzero(flags.to_numpy())
    if idx.size == 0:
        return []
    dates = flags.index
    out: list[tuple[int, int, int]] = []  # first pos, last pos, crisis-day count
    first = last = int(idx[0])
    count = 1
    for pos in idx[1:]:
        pos = int(pos)
        if pos - last <= rule.merge_gap:
            last, count = pos, count + 1
        else:
            out.append((first, last, count))
            first = last = pos
            count = 1
    out.append((first, last, count))
    return [(to_date(dates[a]), to_date(dates[b])) for a, b, n in out if n >= rule.min_days]


def derive(
    prices: pd.Series,
    country: str,
    series_id: str,
    method: Method,
    rising_is_risk: bool,
    rule: DerivationRule = DEFAULT_RULE,
) -> list[Span]:
    """Episodes of one series."""
    return episodes_from_flags(crisis_days(prices, method, rising_is_risk, rule), country, series_id, method, rule)


def episodes_from_flags(flags: pd.Series, country: str, series_id: str, method: Method,
                        rule: DerivationRule = DEFAULT_RULE) -> list[Span]:
    """Named episodes from a series' crisis days."""
    return [
        Span(name=f"{country} {method} {a:%Y-%m}", country=country, start=a, end=b,
             source=f"derived: {method} {series_id}")
        for a, b in spans_from_flags(flags, rule)
    ]


def bday(d: date | pd.Timestamp | np.datetime64) -> int:
    """Trading-day (Monday to Friday) position of a date; weekends roll forward."""
    return int(np.busday_count(_ORIGIN, np.datetime64(pd.Timestamp(d).date(), "D")))


def bdays(dates: pd.DatetimeIndex) -> np.ndarray:
    return np.busday_count(_ORIGIN, dates.values.astype("datetime64[D]"))


_ORIGIN = np.datetime64("1970-01-05", "D")  # a Monday


def merge(spans: Iterable[Span], gap: int) -> list[Span]:
    """Union of one country's episodes: overlapping or near (within `gap` trading days) ones join."""
    ordered = sorted(spans, key=lambda s: s.start)
    if not ordered:
        return []
    out = [ordered[0]]
    for s in ordered[1:]:
        cur = out[-1]
        cur_end = cur.end or cur.start
        if bday(s.start) - bday(cur_end) <= gap:
            end = max(cur_end, s.end or s.start)
            sources = cur.source if s.source in cur.source else f"{cur.source}; {s.source.removeprefix('derived: ')}"
            out[-1] = replace(cur, end=end, source=sources)
        else:
            out.append(s)
    return out


def from_config(episodes: Sequence[Episode], countries: Iterable[str]) -> dict[str, list[Span]]:
    """Configured episodes per country; an episode naming no country applies to every one."""
    countries = list(countries)
    out: dict[str, list[Span]] = {c: [] for c in countries}
    for ep in episodes:
        targets = list(ep.countries) or countries
        for c in targets:
            out.setdefault(c, []).append(
                Span(name=ep.name, country=c, start=to_date(ep.start), end=to_date(ep.end), source="config")
            )
    for spans in out.values():
        spans.sort(key=lambda s: s.start)
    return out
