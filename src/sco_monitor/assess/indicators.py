"""Indicators per series: causal, vectorised transforms of a wide frame (the assessment's hot path).

Every indicator is a function of a `Panel` (the series of one frequency on their own observation
rows) registered by name. Windows count observations of that frequency, so a 20-window change of a
business-daily series spans 20 sessions and a 1-window change of an annual series spans a year.
All transforms are causal: the value at D uses observations up to D only (expanding or rolling
windows, EWMA recursions, lags), so a history computed once equals the values a daily run would
have seen.

Price-like kinds (equity, fx, commodity, volatility) move in ratios (log returns, percentage
changes); rates, spreads and macro series, which can be zero or negative, move in differences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sco_monitor.catalog import STALE_AFTER_DAYS, Series
from sco_monitor.registry import Registry

PERIODS_PER_YEAR: dict[str, float] = {"B": 252, "D": 365, "W": 52, "M": 12, "Q": 4, "A": 1}
RATIO_KINDS = frozenset({"equity", "fx", "commodity", "volatility"})


@dataclass(frozen=True)
class Panel:
    """Series of one frequency on the rows where at least one of them was observed."""

    levels: pd.DataFrame
    ratio: np.ndarray  # per column: moves are ratios (log returns) rather than differences
    sign: np.ndarray  # per column: +1 when a rise is the risk (up, both), -1 when a fall is (down)
    periods_per_year: float
    up: np.ndarray  # per column: only a rise is the risk (direction up)

    def cols(self, mask: np.ndarray) -> list[str]:
        return list(self.levels.columns[mask])


IndicatorFn = Callable[..., pd.DataFrame]
registry: Registry[IndicatorFn] = Registry("indicator")


def _observed(out: pd.DataFrame, p: Panel) -> pd.DataFrame:
    """Keep values on the rows where the series itself was observed."""
    return out.where(p.levels.notna())


def _positive(x: pd.DataFrame) -> pd.DataFrame:
    return x.where(x > 0)


def _move(x: pd.DataFrame, prev: pd.DataFrame, p: Panel, log: bool) -> pd.DataFrame:
    """Change from prev to x: log or simple ratio for price-like columns, difference otherwise."""
    out = x - prev
    if p.ratio.any():
        r = p.cols(p.ratio)
        a, b = _positive(x[r]), _positive(prev[r])
        out[r] = np.log(a / b) if log else a / b - 1.0
    return out


@registry.register("level")
def level(p: Panel) -> pd.DataFrame:
    """The observed value itself."""
    return p.levels


@registry.register("log_return")
def log_return(p: Panel) -> pd.DataFrame:
    """Log return since the previous observation; the first difference for rates, spreads and macro."""
    x = p.levels.ffill()
    return _observed(_move(x, x.shift(1), p, log=True), p)


def _ewma_var(p: Panel, lam: float, min_periods: int) -> pd.DataFrame:
    r = log_return(p)
    return (r * r).ewm(alpha=1.0 - lam, adjust=True, ignore_na=True, min_periods=min_periods).mean()


@registry.register("ewma_vol")
def ewma_vol(p: Panel, lam: float = 0.94, min_periods: int = 20, annualise: bool = True) -> pd.DataFrame:
    """RiskMetrics EWMA conditional volatility of returns (lambda 0.94), annualised by frequency."""
    vol = np.sqrt(_ewma_var(p, lam, min_periods))
    if annualise:
        vol = vol * np.sqrt(p.periods_per_year)
    return _observed(vol, p)


@registry.register("shock")
def shock(p: Panel, lam: float = 0.94, min_periods: int = 20) -> pd.DataFrame:
    """Standardized shock: today's return over yesterday's EWMA volatility (no look-ahead)."""
    prev_vol = np.sqrt(_ewma_var(p, lam, min_periods)).shift(1)
    prev_vol = prev_vol.where(prev_vol > 1e-12)
    return _observed(log_return(p) / prev_vol, p)


@registry.register("drawdown")
def drawdown(p: Panel, window: int = 252, orient: bool = False) -> pd.DataFrame:
    """Fall from the rolling high over `window` observations: x/high - 1 (x - high for differences).

    With orient, series whose risk is a rise (direction up, e.g. USD/KZT) measure the adverse
    move instead: the fall of 1/x from its high, low/x - 1 (low - x for differences). Always <= 0.
    """
    x = p.levels
    if p.ratio.any():
        r = p.cols(p.ratio)
        x = x.copy()
        x[r] = _positive(x[r])
    out = _move(x, x.rolling(window, min_periods=1).max(), p, log=False)
    flip = p.up if orient else np.zeros(len(p.up), dtype=bool)
    if flip.any():
        cols = p.cols(flip)
        low = x[cols].rolling(window, min_periods=1).min()
        ratio = pd.Series(p.ratio, index=p.levels.columns)[cols].to_numpy()
        out[cols] = np.where(ratio, low / x[cols] - 1.0, low - x[cols])
    return _observed(out, p)


@registry.register("change")
def change(p: Panel, window: int = 20, log: bool = False) -> pd.DataFrame:
    """Change over `window` observations: simple (or log) for price-like series, difference otherwise."""
    x = p.levels.ffill()
    return _observed(_move(x, x.shift(window), p, log=log), p)


@registry.register("fx_depreciation")
def fx_depreciation(p: Panel, window: int = 20) -> pd.DataFrame:
    """Log depreciation of the local currency over `window` observations.

    Signed by the quote: for local-per-USD quotes (direction up) a rise is depreciation, for
    USD-per-local quotes (direction down, e.g. EUR/USD) a fall is.
    """
    return change(p, window=window, log=True) * p.sign


@registry.register("zscore")
def zscore(
    p: Panel,
    of: str = "return",
    window: int = 20,
    min_periods: int = 250,
    method: str = "expanding",
    lam: float = 0.94,
) -> pd.DataFrame:
    """Z-score of the level, the return or the `window` change against its own past.

    method expanding: mean and standard deviation of every earlier observation (at least
    `min_periods`); method ewma: their EWMA estimates up to the previous observation.
    """
    base = _base(p, of, window)
    if method == "ewma":
        ew = base.ewm(alpha=1.0 - lam, adjust=True, ignore_na=True, min_periods=min(min_periods, 20))
        mean, std = ew.mean().shift(1), ew.std().shift(1)
    elif method == "expanding":
        ex = base.expanding(min_periods=min_periods)
        mean, std = ex.mean().shift(1), ex.std().shift(1)
    else:
        raise ValueError(f"zscore method must be expanding or ewma, got {method!r}")
    return _observed((base - mean) / std.where(std > 1e-12), p)


def _base(p: Panel, of: str, window: int) -> pd.DataFrame:
    if of == "level":
        return p.levels
    if of == "return":
        return log_return(p)
    if of == "change":
        return change(p, window=window)
    raise ValueError(f"zscore 'of' must be level, return or change, got {of!r}")


@registry.register("spread")
def spread(p: Panel, a: str, b: str, log: bool = False) -> pd.DataFrame:
    """Spread between two series of the same frequency: a - b, or log(a/b); one column named a."""
    for sid in (a, b):
        if sid not in p.levels.columns:
            raise KeyError(sid)
    x = p.levels[[a, b]].ffill()
    if log:
        value = np.log(_positive(x[a]) / _positive(x[b]))
    else:
        value = x[a] - x[b]
    seen = p.levels[[a, b]].notna().any(axis=1)
    return value.where(seen).to_frame(a)


# --- the engine -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A named indicator: registered function + parameters (+ the kinds it applies to)."""

    name: str
    indicator: str
    params: Mapping[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, obj: Any) -> "Spec":
        """From a config model (assessment.indicators[] or assessment.spreads[]) or a Spec."""
        if isinstance(obj, Spec):
            return obj
        if hasattr(obj, "a") and hasattr(obj, "b"):
            return cls(obj.name, "spread", {"a": obj.a, "b": obj.b, "log": obj.log})
        return cls(obj.name, obj.indicator, dict(obj.params), tuple(obj.kinds))


def _key(name: str, params: Mapping[str, Any]) -> tuple:
    return (name, tuple(sorted((k, repr(v)) for k, v in params.items())))


class Indicators:
    """Lazily computed, cached indicator frames for every series of a wide frame.

    `raw(...)`: values on observation dates. `aligned(...)`: values on the business-day calendar up
    to as_of, each placed at the date it became knowable (observation date + publication lag) and
    carried forward; `fresh()` says where a series is not stale.
    """

    def __init__(self, frame: pd.DataFrame, series: Mapping[str, Series], as_of: date | None = None) -> None:
        frame = frame.sort_index()
        if as_of is not None:
            frame = frame.loc[: pd.Timestamp(as_of)]
        known = [c for c in frame.columns if c in series]
        self.frame = frame[known].astype(float)
        self.series = {sid: series[sid] for sid in known}
        last = pd.Timestamp(as_of) if as_of is not None else (frame.index.max() if len(frame) else None)
        first = frame.index.min() if len(frame) else last
        self.as_of = last
        self.calendar = (
            pd.bdate_range(first, last).union(pd.DatetimeIndex([last])) if last is not None else pd.DatetimeIndex([])
        )
        self._panels: dict[str, Panel] = {}
        by_freq: dict[str, list[str]] = {}
        for sid in known:
            by_freq.setdefault(self.series[sid].frequency, []).append(sid)
        for freq, cols in by_freq.items():
            levels = self.frame[cols].dropna(how="all")
            meta = [self.series[c] for c in cols]
            self._panels[freq] = Panel(
                levels=levels,
                ratio=np.array([s.kind in RATIO_KINDS for s in meta]),
                sign=np.array([-1.0 if s.direction == "down" else 1.0 for s in meta]),
                periods_per_year=PERIODS_PER_YEAR[freq],
                up=np.array([s.direction == "up" for s in meta]),
            )
        self.observed = frozenset(self.frame.columns[self.frame.notna().any()])
        self._raw: dict[tuple, pd.DataFrame] = {}
        self._aligned: dict[tuple, pd.DataFrame] = {}
        self._fresh: dict[int, pd.DataFrame] = {}

    # --- computing ----------------------------------------------------------------------------------
    def raw(self, indicator: str, columns: Sequence[str] | None = None, **params: Any) -> pd.DataFrame:
        """The indicator on observation dates (NaN where a series was not observed)."""
        key = _key(indicator, params)
        if key not in self._raw:
            fn = registry.get(indicator)
            if indicator == "spread":
                panel = next((p for p in self._panels.values() if params["a"] in p.levels.columns), None)
                if panel is None or params["b"] not in panel.levels.columns:
                    out = pd.DataFrame(index=pd.DatetimeIndex([]), columns=[params["a"]], dtype=float)
                else:
                    out = fn(panel, **params)
            else:
                parts = [fn(p, **params) for p in self._panels.values()]
                out = pd.concat(parts, axis=1).sort_index() if parts else pd.DataFrame(dtype=float)
            self._raw[key] = out
        out = self._raw[key]
        if columns is not None:
            out = out.reindex(columns=list(columns))
        return out

    def aligned(self, indicator: str, columns: Sequence[str] | None = None, **params: Any) -> pd.DataFrame:
        """The indicator on the calendar, at knowable dates, carried forward (see `fresh`)."""
        key = _key(indicator, params)
        if key not in self._aligned:
            self._aligned[key] = self.align(self.raw(indicator, **params))
        out = self._aligned[key]
        if columns is not None:
            out = out.reindex(columns=list(columns))
        return out

    def spec(self, spec: Spec, aligned: bool = True) -> pd.DataFrame:
        """A configured indicator, restricted to the kinds it applies to."""
        cols = None
        if spec.kinds:
            cols = [sid for sid, s in self.series.items() if s.kind in spec.kinds]
        get = self.aligned if aligned else self.raw
        out = get(spec.indicator, **dict(spec.params))
        return out if cols is None else out.reindex(columns=[c for c in cols if c in out.columns])

    def align(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Observation-dated values → the calendar at knowable dates, carried forward."""
        if raw.empty:
            return pd.DataFrame(index=self.calendar, columns=raw.columns, dtype=float)
        parts = []
        lags: dict[int, list[str]] = {}
        for col in raw.columns:
            s = self.series.get(col)
            lags.setdefault(s.publication_lag_days if s else 0, []).append(col)
        for lag, cols in lags.items():
            part = raw[cols].dropna(how="all")
            if lag:
                part = part.set_axis(part.index + pd.Timedelta(days=lag))
            both = self.calendar.union(part.index)
            parts.append(part.reindex(both).ffill().reindex(self.calendar))
        return pd.concat(parts, axis=1)[list(raw.columns)]

    def fresh(self, grace_days: int = 0) -> pd.DataFrame:
        """Calendar × series: True where the last knowable observation is recent enough.

        Recent enough: within the frequency's STALE_AFTER_DAYS (plus `grace_days`, which the
        stress index uses to ride out market holidays such as China's Golden Week).
        """
        if grace_days not in self._fresh:
            idx = self.calendar.values.astype("datetime64[D]").astype(np.int64)
            cols = {}
            for sid, s in self.series.items():
                obs = self.frame[sid].dropna().index
                known = (obs + pd.Timedelta(days=s.publication_lag_days)).values.astype("datetime64[D]").astype(np.int64)
                if len(known) == 0:
                    cols[sid] = np.zeros(len(idx), dtype=bool)
                    continue
                pos = np.searchsorted(known, idx, side="right") - 1
                age = idx - known[np.clip(pos, 0, None)]
                cols[sid] = (pos >= 0) & (age <= STALE_AFTER_DAYS[s.frequency] + grace_days)
            self._fresh[grace_days] = pd.DataFrame(cols, index=self.calendar, columns=list(self.series))
        return self._fresh[grace_days]

    def last_known(self) -> dict[str, date]:
        """Series → date of its last observation (the observation date, not the knowable date)."""
        out: dict[str, date] = {}
        for sid in self.series:
            idx = self.frame[sid].last_valid_index()
            if idx is not None:
                out[sid] = idx.date()
        return out

    # --- summaries -----------------------------------------------------------------------------------
    def latest(self, specs: Sequence[Spec]) -> dict[str, dict[str, float]]:
        """Series → indicator → value at as_of (the last knowable value), for reports."""
        out: dict[str, dict[str, float]] = {}
        for spec in [Spec("level", "level"), *specs]:
            frame = self.spec(spec)
            if frame.empty:
                continue
            row = frame.iloc[-1]
            for sid, v in row.items():
                if pd.notna(v) and np.isfinite(v):
                    out.setdefault(str(sid), {})[spec.name] = float(v)
        return out

    def recent(self, specs: Sequence[Spec], days: int) -> pd.DataFrame:
        """Long frame (series_id, indicator, date, value) of observation-dated values in the last `days`."""
        if self.as_of is None:
            return pd.DataFrame(columns=["series_id", "indicator", "date", "value"])
        start = self.as_of - pd.Timedelta(days=days)
        parts = []
        for spec in specs:
            frame = self.spec(spec, aligned=False)
            frame = frame.loc[frame.index >= start]
            if frame.empty:
                continue
            long = frame.rename_axis("date").reset_index().melt(id_vars="date", var_name="series_id", value_name="value")
            long = long[np.isfinite(long["value"].to_numpy(dtype=float))]
            long["indicator"] = spec.name
            parts.append(long)
        if not parts:
            return pd.DataFrame(columns=["series_id", "indicator", "date", "value"])
        return pd.concat(parts, ignore_index=True)[["series_id", "indicator", "date", "value"]]
