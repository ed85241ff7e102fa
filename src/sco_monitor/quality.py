"""Data-quality checks on collected values, and the quality summary the assessment and report read.

`check` is pure: it cleans what cannot be stored (duplicate dates keep the last value;
non-finite values and impossible non-positive prices are dropped) and flags what a reader should
know (spikes, gaps against the expected calendar) without dropping it. Rules differ per kind:
a negative WTI print or a negative spread is real, a negative equity index is not.

Staleness is judged against an `as_of` argument, never the clock: a stale series means
"no data", not a risk signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from sco_monitor.assess.model import QualityFlag
from sco_monitor.catalog import Series
from sco_monitor.store import Store, collection
from sco_monitor.vocabulary import COLLECTION_FLAGS, STALE_AFTER_DAYS

FLAG_KINDS = ("spike", "gap", "duplicate", "non_finite", "non_positive", "disagreement", "stale", "failed", "partial")


@dataclass(frozen=True)
class KindRules:
    """Checks that depend on what the numbers are."""

    positive: bool  # values <= 0 are impossible: dropped and flagged
    spike_basis: Literal["log", "diff"]  # log changes for positive prices, differences otherwise


RULES: dict[str, KindRules] = {
    "equity": KindRules(positive=True, spike_basis="log"),
    "fx": KindRules(positive=True, spike_basis="log"),
    "volatility": KindRules(positive=True, spike_basis="log"),
    "commodity": KindRules(positive=False, spike_basis="diff"),  # WTI closed at -36.98 on 2020-04-20
    "rate": KindRules(positive=False, spike_basis="diff"),
    "spread": KindRules(positive=False, spike_basis="diff"),
    "bond": KindRules(positive=True, spike_basis="log"),  # a bond price index
    "macro": KindRules(positive=False, spike_basis="diff"),
}

#: |robust z| above which a change is a spike, over a trailing window of changes.
SPIKE_Z = 8.0
SPIKE_WINDOW = 250
SPIKE_MIN_OBS = 30
#: Smallest spread of changes the z-score divides by, so a pegged or flat series' first small
#: moves are not spikes: 0.05% for log changes (a spike is then at least a 0.4% move), 0.005
#: units for differences.
SPIKE_SCALE_FLOOR = {"log": 5e-4, "diff": 5e-3}
#: Missing observations (business days for B, days for D) before a hole counts as a gap;
#: for W/M/Q/A any missing period counts.
GAP_ALLOWED = {"B": 7, "D": 3}


@dataclass
class Checked:
    """Cleaned values ready for the store, and the flags raised on the way."""

    values: pd.Series
    flags: list[QualityFlag] = field(default_factory=list)

    def flag_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.flags:
            counts[f.flag] = counts.get(f.flag, 0) + 1
        return counts


def check(values: pd.Series, series: Series, history: pd.Series | None = None) -> Checked:
    """Clean and flag freshly collected values; `history` (stored values before them) gives context.

    Works on plain arrays: a daily run checks hundreds of short series, so per-call overhead counts.
    """
    rules = RULES[series.kind]
    flags: list[QualityFlag] = []
    sid = series.id
    d = values.index.to_numpy(dtype="datetime64[ns]")
    x = values.to_numpy(dtype=float)
    if len(d) > 1 and not (d[1:] >= d[:-1]).all():
        order = np.argsort(d, kind="stable")
        d, x = d[order], x[order]

    if len(d) > 1:
        dup = np.zeros(len(d), dtype=bool)
        dup[:-1] = d[1:] == d[:-1]  # an earlier value for the same date: the last one wins
        if dup.any():
            for day in np.unique(d[dup]):
                same = d == day
                flags.append(QualityFlag(series_id=sid, flag="duplicate", date=_day(day),
                                         detail=f"{int(same.sum())} values for one date; kept the last ({x[same][-1]:g})"))
            d, x = d[~dup], x[~dup]

    keep = ~np.isnan(x)  # NaN is a missing observation, not a defect
    inf = np.isinf(x)
    for day, val in zip(d[inf], x[inf]):
        flags.append(QualityFlag(series_id=sid, flag="non_finite", date=_day(day), detail=f"value {val}; dropped"))
    keep &= ~inf
    if rules.positive:
        bad = keep & (x <= 0)
        for day, val in zip(d[bad], x[bad]):
            flags.append(QualityFlag(series_id=sid, flag="non_positive", date=_day(day),
                                     detail=f"{series.kind} value {val:g} cannot be <= 0; dropped"))
        keep &= ~bad
    d, x = d[keep], x[keep]

    hd, hx = _clean_history(history, rules, d[0] if len(d) else None)
    flags += _spikes(sid, d, x, hd, hx, rules.spike_basis)
    flags += _gaps(sid, d, hd, series.frequency)
    return Checked(values=pd.Series(x, index=pd.DatetimeIndex(d, name="date"), name="value"), flags=flags)


def _day(value: np.datetime64) -> date:
    return pd.Timestamp(value).date()


def _clean_history(history: pd.Series | None, rules: KindRules,
                   before: np.datetime64 | None) -> tuple[np.ndarray, np.ndarray]:
    """Usable stored values dated before the new ones (at most the spike window's worth)."""
    if history is None or history.empty or before is None:
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype=float)
    hd = history.index.to_numpy(dtype="datetime64[ns]")
    hx = history.to_numpy(dtype=float)
    ok = np.isfinite(hx) & (hd < before)
    if rules.positive:
        ok &= hx > 0
    return hd[ok][-SPIKE_WINDOW - 1:], hx[ok][-SPIKE_WINDOW - 1:]


def _spikes(sid: str, d: np.ndarray, x: np.ndarray, hd: np.ndarray, hx: np.ndarray, basis: str,
            z_limit: float = SPIKE_Z, window: int = SPIKE_WINDOW) -> list[QualityFlag]:
    """Changes whose robust z-score against the trailing window exceeds `z_limit` (causal).

    z = (change - median) / max(IQR / 1.349, floor), over the `window` changes before each one.
    """
    if len(d) == 0 or len(hx) + len(x) < SPIKE_MIN_OBS + 1:
        return []
    both_d = np.concatenate([hd, d])
    both_x = np.concatenate([hx, x])
    change = np.diff(np.log(both_x)) if basis == "log" else np.diff(both_x)
    first_new = max(len(change) - len(x), SPIKE_MIN_OBS)  # changes dated at a new value
    if first_new >= len(change):
        return []
    med, q25, q75 = trailing_quantiles(change, window, first_new)
    scale = np.maximum((q75 - q25) / 1.349, SPIKE_SCALE_FLOOR[basis])
    z = (change[first_new:] - med) / scale
    label = "log change" if basis == "log" else "change"
    out = []
    for i in np.flatnonzero(np.abs(z) > z_limit):
        j = first_new + i
        out.append(QualityFlag(
            series_id=sid, flag="spike", date=_day(both_d[j + 1]),
            detail=f"{label} {change[j]:+.4g} is {abs(z[i]):.1f} robust SDs from the trailing "
                   f"{window}-observation median ({med[i]:+.3g}); kept"))
    return out


def trailing_quantiles(change: np.ndarray, window: int, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 25th and 75th percentile of the `window` values before each index from `start` on.

    A few points (a daily run) are computed directly; a long history with pandas' rolling windows.
    """
    n = len(change) - start
    if n <= 64 and start >= window:  # full windows: one vectorised call over k x window values
        rows = np.lib.stride_tricks.sliding_window_view(change, window)[start - window:len(change) - window]
        med, q25, q75 = np.percentile(rows, [50, 25, 75], axis=1)
        return med, q25, q75
    if n <= 64:
        q = np.array([np.percentile(change[max(0, j - window):j], [50, 25, 75]) for j in range(start, len(change))])
        return q[:, 0], q[:, 1], q[:, 2]
    past = pd.Series(change).shift(1).rolling(window, min_periods=SPIKE_MIN_OBS)
    med, q25, q75 = (past.median(), past.quantile(0.25), past.quantile(0.75))
    return med.to_numpy()[start:], q25.to_numpy()[start:], q75.to_numpy()[start:]


def _gaps(sid: str, d: np.ndarray, hd: np.ndarray, frequency: str) -> list[QualityFlag]:
    """Holes between consecutive observations longer than the series' calendar allows."""
    if len(d) == 0:
        return []
    idx = np.concatenate([hd[-1:], d])
    if len(idx) < 2:
        return []
    days = idx.astype("datetime64[D]")
    before, after = days[:-1], days[1:]
    if frequency == "B":
        missing = np.busday_count(before + 1, after)
        unit, allowed = "business days", GAP_ALLOWED["B"]
    elif frequency == "D":
        missing = (after - before).astype(int) - 1
        unit, allowed = "days", GAP_ALLOWED["D"]
    else:
        step = {"W": "W", "M": "M", "Q": "M", "A": "Y"}[frequency]
        periods = days.astype(f"datetime64[{step}]").astype(int)
        if frequency == "Q":
            periods = periods // 3
        missing = np.diff(periods) - 1
        unit, allowed = {"W": "weeks", "M": "months", "Q": "quarters", "A": "years"}[frequency], 0
    return [QualityFlag(series_id=sid, flag="gap", date=after[i].astype(date),
                        detail=f"{int(missing[i])} {unit} without observations after {before[i].astype(date)}")
            for i in np.flatnonzero(missing > allowed)]


def disagreements(official: pd.Series, market: pd.Series, series_id: str, market_id: str,
                  tolerance: float) -> list[QualityFlag]:
    """Days an official rate and its market quote differ by more than `tolerance` (relative).

    Compared only on days both have a value; the gap is |official / market - 1|. The values are
    kept: a wide gap is news (a managed official rate, a stale quote), not a reason to drop either.
    """
    both = pd.concat([official.rename("a"), market.rename("b")], axis=1).dropna()
    both = both[(both["a"] > 0) & (both["b"] > 0)]
    gap = (both["a"] / both["b"] - 1.0).abs()
    bad = gap[gap > tolerance]
    return [QualityFlag(series_id=series_id, flag="disagreement", date=pd.Timestamp(d).date(),
                        detail=f"official {both.at[d, 'a']:.6g} vs {market_id} {both.at[d, 'b']:.6g}: "
                               f"{g:.1%} apart (tolerance {tolerance:.1%})")
            for d, g in bad.items()]


def stale_flag(series_id: str, frequency: str, publication_lag_days: int, last: date | None,
               as_of: date) -> QualityFlag | None:
    """'stale' when the newest knowable observation is older than the frequency allows (plus the lag)."""
    allowed = STALE_AFTER_DAYS[frequency] + publication_lag_days
    if last is None:
        return QualityFlag(series_id=series_id, flag="stale", date=None, detail="no observations stored")
    age = (as_of - last).days
    if age <= allowed:
        return None
    return QualityFlag(series_id=series_id, flag="stale", date=last,
                       detail=f"last observation {last} is {age} days old at {as_of}; "
                              f"{frequency} data allows {allowed}")


def stale_series(store: Store, as_of: date) -> list[QualityFlag]:
    """Stale flags of every enabled series, judged at `as_of` on what was knowable then."""
    cat = collection.catalog(store)
    lags = {c["id"]: int(c["publication_lag_days"]) for c in cat}
    last = collection.last_knowable(store, lags, as_of)
    out = []
    for c in cat:
        flag = stale_flag(c["id"], c["frequency"], lags[c["id"]], last.get(c["id"]), as_of)
        if flag is not None:
            out.append(flag)
    return out


def quality_summary(store: Store, as_of: date, recent_days: int = 7) -> list[QualityFlag]:
    """What the assessment and the report show under data quality at `as_of`.

    Stale series (no data state), series whose last collection (started by as_of) failed, and
    the spikes, gaps and dropped values flagged on observations of the last `recent_days` days.
    """
    out = stale_series(store, as_of)
    enabled = {c["id"] for c in collection.catalog(store)}
    for sid, run in sorted(collection.last_runs(store, as_of).items()):
        if sid in enabled and (run["status"] in collection.FAILED_STATUSES or run["status"] == "partial"):
            started = run["started_at"]
            flag = "partial" if run["status"] == "partial" else "failed"
            out.append(QualityFlag(series_id=sid, flag=flag, date=started.date() if started else None,
                                   detail=run["error"] or run["status"]))
    start = as_of - timedelta(days=recent_days - 1)
    kinds = [k for k in FLAG_KINDS if k not in COLLECTION_FLAGS]
    out += [QualityFlag(**f) for f in collection.flags_between(store, start, as_of, kinds) if f["series_id"] in enabled]
    return out
