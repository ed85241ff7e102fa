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
from sco_monitor.catalog import STALE_AFTER_DAYS, Series
from sco_monitor.store import Store

FLAG_KINDS = ("spike", "gap", "duplicate", "non_finite", "non_positive", "stale", "failed")


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
    "macro": KindRules(positive=False, spike_basis="diff"),
}

#: |robust z| above which a change is a spike, over a trailing window of changes.
SPIKE_Z = 8.0
SPIKE_WINDOW = 250
SPIKE_MIN_OBS = 30
#: Smallest spread of changes the z-score divides by, so a peg's first wiggles are not spikes:
#: 0.05% for log changes (a spike is then at least a 0.4% move), 0.005 units for differences.
SPIKE_SCALE_FLOOR = {"log": 5e-4, "diff": 5e-3}
#: Missing observations (business days for B, days for D) before a hole counts as a gap;
#: for W/M/Q/A any missing period counts.
GAP_ALLOWED = {"B": 7, "D": 3}
#: Trailing history the spike check wants before the new values.
HISTORY_OBS = SPIKE_WINDOW + 1


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
    """Clean and flag freshly collected values; `history` (stored values before them) gives context."""
    rules = RULES[series.kind]
    flags: list[QualityFlag] = []
    sid = series.id
    v = values.sort_index(kind="stable")

    dup = v.index.duplicated(keep="last")
    if dup.any():
        counts = v.index[v.index.duplicated(keep=False)].value_counts()
        for d, n in counts.sort_index().items():
            flags.append(QualityFlag(series_id=sid, flag="duplicate", date=d.date(),
                                     detail=f"{n} values for one date; kept the last ({v[d].iloc[-1]:g})"))
        v = v[~dup]

    v = v[v.notna()]  # NaN is a missing observation, not a defect
    inf = ~np.isfinite(v.to_numpy())
    for d, x in v[inf].items():
        flags.append(QualityFlag(series_id=sid, flag="non_finite", date=d.date(), detail=f"value {x}; dropped"))
    v = v[~inf]

    if rules.positive:
        bad = v <= 0
        for d, x in v[bad].items():
            flags.append(QualityFlag(series_id=sid, flag="non_positive", date=d.date(),
                                     detail=f"{series.kind} value {x:g} cannot be <= 0; dropped"))
        v = v[~bad]

    context = _clean_history(history, rules)
    flags += spikes(v, context, rules, sid)
    flags += gaps(v, context, series.frequency, sid)
    return Checked(values=v.astype(float), flags=flags)


def _clean_history(history: pd.Series | None, rules: KindRules) -> pd.Series:
    if history is None or history.empty:
        return pd.Series([], index=pd.DatetimeIndex([]), dtype=float)
    h = history.dropna()
    h = h[np.isfinite(h.to_numpy())]
    return h[h > 0] if rules.positive else h


def spikes(values: pd.Series, history: pd.Series, rules: KindRules, sid: str,
           z_limit: float = SPIKE_Z, window: int = SPIKE_WINDOW) -> list[QualityFlag]:
    """Changes whose robust z-score against the trailing window exceeds `z_limit` (causal)."""
    if values.empty:
        return []
    both = pd.concat([history[history.index < values.index[0]].iloc[-window - 1:], values])
    if len(both) < SPIKE_MIN_OBS + 1:
        return []
    x = both.to_numpy(dtype=float)
    if rules.spike_basis == "log":
        change = pd.Series(np.diff(np.log(x)), index=both.index[1:])
        label = "log change"
    else:
        change = pd.Series(np.diff(x), index=both.index[1:])
        label = "change"
    past = change.shift(1).rolling(window, min_periods=SPIKE_MIN_OBS)
    med = past.median()
    iqr = past.quantile(0.75) - past.quantile(0.25)
    scale = iqr / 1.349
    # flat stretches (pegs, stale quotes) have no spread; fall back to the mean absolute deviation
    mad = (change - med).abs().shift(1).rolling(window, min_periods=SPIKE_MIN_OBS).mean() * 1.2533
    scale = scale.where(scale > 0, mad).clip(lower=SPIKE_SCALE_FLOOR[rules.spike_basis])
    z = (change - med) / scale
    hits = z[(z.abs() > z_limit) & (z.index >= values.index[0])]
    return [
        QualityFlag(series_id=sid, flag="spike", date=d.date(),
                    detail=f"{label} {change[d]:+.4g} is {abs(z[d]):.1f} robust SDs from the trailing "
                           f"{window}-observation median ({med[d]:+.3g}); kept")
        for d in hits.index
    ]


def gaps(values: pd.Series, history: pd.Series, frequency: str, sid: str) -> list[QualityFlag]:
    """Holes between consecutive observations longer than the series' calendar allows."""
    if values.empty:
        return []
    prev = history[history.index < values.index[0]]
    idx = values.index if prev.empty else prev.index[-1:].append(values.index)
    if len(idx) < 2:
        return []
    before, after = idx[:-1], idx[1:]
    if frequency == "B":
        missing = np.busday_count(before.values.astype("datetime64[D]") + 1, after.values.astype("datetime64[D]"))
        unit, allowed = "business days", GAP_ALLOWED["B"]
    elif frequency == "D":
        missing = (after - before).days.to_numpy() - 1
        unit, allowed = "days", GAP_ALLOWED["D"]
    else:
        freq = {"W": "W", "M": "M", "Q": "Q", "A": "Y"}[frequency]
        b, a = before.to_period(freq), after.to_period(freq)
        missing = np.array([x.n for x in (a - b)]) - 1
        unit, allowed = {"W": "weeks", "M": "months", "Q": "quarters", "A": "years"}[frequency], 0
    out = []
    for i in np.flatnonzero(missing > allowed):
        out.append(QualityFlag(series_id=sid, flag="gap", date=after[i].date(),
                               detail=f"{int(missing[i])} {unit} without observations after {before[i].date()}"))
    return out


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
    from sco_monitor.store import collection

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
    from sco_monitor.store import collection

    out = stale_series(store, as_of)
    enabled = {c["id"] for c in collection.catalog(store)}
    for sid, run in sorted(collection.last_runs(store, as_of).items()):
        if sid in enabled and run["status"] in collection.FAILED_STATUSES:
            started = run["started_at"]
            out.append(QualityFlag(series_id=sid, flag="failed", date=started.date() if started else None,
                                   detail=run["error"] or run["status"]))
    start = as_of - timedelta(days=recent_days - 1)
    kinds = [k for k in FLAG_KINDS if k not in ("stale", "failed")]
    out += [f for f in collection.flags_between(store, start, as_of, kinds) if f.series_id in enabled]
    return out
