"""Contagion links of the crisis probability: trade weights from the stored bilateral trade.

A crisis in a member weighs on the members that sell most to it: its imports fall, and with them
their exports (the trade channel of Glick and Rose 1999; Forbes 2012). The weight of neighbour n
for member m is n's share of m's exports to the world over the last 12 months:

    w(m, n) = sum_12m X(m -> n) / sum_12m X(m -> world)

from the IMF DOT series the cooperation indices use (`cooperation.trade_inputs`). Each weight is
dated when its last month became knowable (the month's end plus the series' publication lag),
so at any day it uses published flows only. Where a member has no stored trade (no bilateral
series, no world total, or before its first 12 months), its links are the documented defaults
of `assessment.contagion` (judgment weights standing for trade and remittance ties).

The contagion feature is the trade-weighted sum of the neighbours' stress in excess of their
median, sum_n w(m, n) * max(0, 2 * rank_n - 1) (rank_n: the neighbour's stress index as an
expanding percentile), so it is 0 while every neighbour is calmer than usual, and a neighbour at
the top of its history adds its full weight; the logit multiplies it by one coefficient, so a
neighbour's crisis raises the member's log-odds in proportion to the trade weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sco_monitor.assess.cooperation import WORLD_AREA, trade_inputs, trade_pair
from sco_monitor.catalog import Series

#: Months of flows summed into one weight (a year smooths seasonality and lumpy shipments).
WEIGHT_MONTHS = 12
#: Neighbours below this share of a member's exports are left out (noise, not a channel).
MIN_WEIGHT = 0.01


def imf_to_scope(series: Sequence[Series]) -> dict[str, str]:
    """IMF area codes of the DOT reporters → the scopes (alpha-3) their series belong to."""
    out = {}
    for s in series:
        pair = trade_pair(s)
        if pair is not None and s.country:
            out.setdefault(pair[0], s.country)
    return out


def trade_weights(levels: pd.DataFrame, series: Sequence[Series]) -> dict[str, pd.DataFrame]:
    """Member (alpha-3) → knowable date × neighbour (alpha-3) export-share weights.

    `levels` holds the DOT series on their observation (period-end) dates; each row of the result
    is dated when its latest month became knowable (period end plus the largest publication lag).
    """
    series = list(series)
    table, totals, _ = trade_inputs(levels, series)
    if table.empty or totals.empty:
        return {}
    scope_of = imf_to_scope(series)
    lag = max((s.publication_lag_days for s in series if trade_pair(s) is not None), default=0)
    flows = table[(table["partner"] != WORLD_AREA) & table["partner"].isin(scope_of)]
    out = {}
    for reporter, rows in flows.groupby("reporter"):
        if reporter not in totals or reporter not in scope_of:
            continue
        wide = rows.pivot_table(index="period", columns="partner", values="value", aggfunc="sum").sort_index()
        total = totals[reporter].dropna().sort_index()
        periods = wide.index.intersection(total.index)
        if len(periods) < WEIGHT_MONTHS:
            continue
        wide, total = wide.loc[periods], total.loc[periods]
        num = wide.rolling(WEIGHT_MONTHS, min_periods=WEIGHT_MONTHS).sum()
        den = total.rolling(WEIGHT_MONTHS, min_periods=WEIGHT_MONTHS).sum()
        w = num.div(den.where(den > 0), axis=0).dropna(how="all")
        w = w.where(w >= MIN_WEIGHT, 0.0).clip(upper=1.0)
        w.columns = [scope_of[c] for c in w.columns]
        w = w.T.groupby(level=0).sum().T
        w.index = pd.DatetimeIndex(w.index) + pd.Timedelta(days=lag)
        out[scope_of[reporter]] = w.drop(columns=[scope_of[reporter]], errors="ignore")
    return out


def link_weights(calendar: pd.DatetimeIndex, scope: str, trade: Mapping[str, pd.DataFrame],
                 defaults: Mapping[str, Mapping[str, float]]) -> pd.DataFrame | None:
    """Calendar × neighbour weights of one member: trade weights where known at the day, else the defaults."""
    default = {n: float(w) for n, w in (defaults.get(scope) or {}).items() if w > 0 and n != scope}
    w = trade.get(scope)
    if w is None or w.empty:
        if not default:
            return None
        return pd.DataFrame({n: np.full(len(calendar), v) for n, v in default.items()}, index=calendar)
    known = w.reindex(calendar.union(w.index)).ffill().reindex(calendar)
    before = known.isna().all(axis=1)
    cols = sorted(set(known.columns) | set(default))
    known = known.reindex(columns=cols)
    if default and before.any():
        known.loc[before, :] = 0.0
        for n, v in default.items():
            known.loc[before, n] = v
    return known.fillna(0.0)


def stress_excess(rank: pd.Series) -> pd.Series:
    """A neighbour's stress above its median, 0 to 1: max(0, 2 * rank - 1)."""
    return (2.0 * rank - 1.0).clip(lower=0.0)


def contagion(stress_ranks: Mapping[str, pd.Series], weights: pd.DataFrame | None) -> pd.Series | None:
    """Trade-weighted sum of the neighbours' stress excess (neighbours without a stress index count 0)."""
    if weights is None:
        return None
    cols = [n for n in weights.columns if n in stress_ranks and (weights[n] > 0).any()]
    if not cols:
        return None
    excess = pd.concat({n: stress_excess(stress_ranks[n]).reindex(weights.index) for n in cols}, axis=1)
    return excess.fillna(0.0).mul(weights[cols]).sum(axis=1).rename("contagion")
