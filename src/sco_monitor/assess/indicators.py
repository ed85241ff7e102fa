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

from sco_monitor.catalog import Series
from sco_monitor.registry import Registry
from sco_monitor.vocabulary import STALE_AFTER_DAYS

PERIODS_PER_YEAR: dict[str, float] = {"B": 252, "D": 365, "W": 52, "M": 12, "Q": 4, "A": 1}
RATIO_KINDS = frozenset({"equity", "fx", "commodity", "volatility", "bond"})


@dataclass(frozen=True)
class Panel:
    """Series of one frequency on the rows where at least one of them was observed."""

    levels: pd.DataFrame
    ratio: np.ndarray  # per column: moves are ratios (log returns) rather than differences
    sign: np.ndarray  # per column: +1 when a rise is the risk (up, both), -1 when a fall is (down)
    periods_per_year: float
    up: np.ndarray  # per column: only a rise is the risk (direction up)
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # shared intermediate frames


IndicatorFn = Callable[..., pd.DataFrame]
registry: Registry[IndicatorFn] = Registry("indicator")


def _frame(values: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values, index=like.index, columns=like.columns)


def _observed(out: pd.DataFrame | np.ndarray, p: Panel) -> pd.DataFrame:
    """Keep values on the rows where the series itself was observed (one numpy pass, one block)."""
    values = out.to_numpy(dtype=float) if isinstance(out, pd.DataFrame) else out
    return _frame(np.where(p.levels.notna().to_numpy(), values, np.nan), p.levels)


def _positive(x: np.ndarray) -> np.ndarray:
    """Non-positive values (a negative oil price) have no ratio: NaN. Copies only when needed."""
    with np.errstate(invalid="ignore"):
        if not (x <= 0).any():
            return x
    return np.where(x > 0, x, np.nan)


def _move(x: pd.DataFrame, prev: pd.DataFrame, p: Panel, log: bool) -> np.ndarray:
    """Change from prev to x: log or simple ratio for price-like columns, difference otherwise."""
    xa, pa = x.to_numpy(dtype=float), prev.to_numpy(dtype=float)
    if not p.ratio.any():
        return xa - pa
    every = p.ratio.all()
    a = _positive(xa if every else xa[:, p.ratio])
    b = _positive(pa if every else pa[:, p.ratio])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(a / b) if log else a / b - 1.0
    if every:
        return r
    out = xa - pa
    out[:, p.ratio] = r
    return out


@registry.register("level")
def level(p: Panel) -> pd.DataFrame:
    """The observed value itself."""
    return p.levels


@registry.register("log_return")
def log_return(p: Panel) -> pd.DataFrame:
    """Log return since the previous observation; the first difference for rates, spreads and macro."""
    if "log_return" not in p.memo:
        x = p.levels.ffill()
        p.memo["log_return"] = _observed(_move(x, x.shift(1), p, log=True), p)
    return p.memo["log_return"]


def _ewma_var(p: Panel, lam: float, min_periods: int) -> pd.DataFrame:
    key = ("ewma_var", lam, min_periods)
    if key not in p.memo:
        r = log_return(p)
        p.memo[key] = (r * r).ewm(alpha=1.0 - lam, adjust=True, ignore_na=True, min_periods=min_periods).mean()
    return p.memo[key]


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
    prev_vol = np.sqrt(_ewma_var(p, lam, min_periods)).shift(1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = log_return(p).to_numpy() / np.where(prev_vol > 1e-12, prev_vol, np.nan)
    return _observed(out, p)


@registry.register("drawdown")
def drawdown(p: Panel, window: int = 252, orient: bool = False) -> pd.DataFrame:
    """Fall from the rolling high over `window` observations: x/high - 1 (x - high for differences).

    With orient, series whose risk is a rise (direction up, e.g. USD/KZT) measure the adverse
    move instead: the fall of 1/x from its high, low/x - 1 (low - x for differences). Always <= 0.
    """
    xa = p.levels.to_numpy(dtype=float).copy()
    if p.ratio.any():
        xa[:, p.ratio] = _positive(xa[:, p.ratio])
    x = _frame(xa, p.levels)
    out = _move(x, x.rolling(window, min_periods=1).max(), p, log=False)
    flip = p.up if orient else np.zeros(len(p.up), dtype=bool)
    if flip.any():
        low = x.loc[:, flip].rolling(window, min_periods=1).min().to_numpy()
        xf = xa[:, flip]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, flip] = np.where(p.ratio[flip], low / xf - 1.0, low - xf)
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
    return change(p, window=window, log=True) * p.sign  # one block: a row-vector product


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
    sd = std.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (base.to_numpy() - mean.to_numpy()) / np.where(sd > 1e-12, sd, np.nan)
    return _observed(out, p)


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
    x = p.levels[[a, b]].ffill().to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.log(_positive(x[:, 0]) / _positive(x[:, 1])) if log else x[:, 0] - x[:, 1]
    seen = p.levels[[a, b]].notna().any(axis=1).to_numpy()
    return pd.DataFrame({a: np.where(seen, value, np.nan)}, index=p.levels.index)


def validate_params(name: str, params: Mapping[str, Any]) -> None:
    """Check a configured indicator's name and params against its registered function, when the config
    loads (a `{lamda: 0.9}` typo is a one-line config error, not a traceback in `assess`): ValueError."""
    import inspect

    try:
        fn = registry.get(name)
    except KeyError as e:
        raise ValueError(str(e)) from None
    signature = inspect.signature(fn)
    takes = [n for n in list(signature.parameters)[1:]]
    try:
        signature.bind(None, **dict(params))
    except TypeError as e:
        raise ValueError(f"indicator {name!r}: {e}; it takes: {', '.join(takes) or 'no parameters'}") from None


# --- the engine -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A named indicator: registered function + parameters (+ the kinds it applies to)."""

    name: str
    indicator: str
    params: Mapping[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, obj: Any) -> Spec:
        """From a config model (assessment.indicators[] or assessment.spreads[]) or a Spec."""
        if isinstance(obj, Spec):
            return obj
        if hasattr(obj, "a") and hasattr(obj, "b"):
            return cls(obj.name, "spread", {"a": obj.a, "b": obj.b, "log": obj.log})
        return cls(obj.name, obj.indicator, dict(obj.params), tuple(obj.kinds))


def _last_valid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: row of the last non-NaN value, and whether there is one."""
    ok = ~np.isnan(values)
    if values.shape[0] == 0:
        return np.zeros(values.shape[1], dtype=int), np.zeros(values.shape[1], dtype=bool)
    return values.shape[0] - 1 - np.argmax(ok[::-1], axis=0), ok.any(axis=0)


def _key(name: str, params: Mapping[str, Any]) -> tuple:
    return (name, tuple(sorted((k, repr(v)) for k, v in params.items())))


def _observed_columns(frame: pd.DataFrame) -> frozenset[str]:
    """The columns of a frame of numbers with at least one value: `frame.notna().any()` on its array
    (pandas' reduction costs a millisecond on a window's frame, and a replay asks for it every day)."""
    return frozenset(frame.columns[~np.isnan(frame.to_numpy(dtype=float)).all(axis=0)])


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
        self.observed = _observed_columns(self.frame)
        self._raw: dict[tuple, pd.DataFrame] = {}
        self._aligned: dict[tuple, pd.DataFrame] = {}
        self._fresh: dict[int, pd.DataFrame] = {}
        self._rows_cache: dict[tuple, SpecRows] = {}
        self._last: dict[str, date] | None = None

    def at(self, day: date | pd.Timestamp) -> Indicators:
        """What these indicators were as of an earlier `day`: the same cached frames cut at `day`, and
        observations inside their publication lag at `day` hidden again.

        Every transform is causal, so the view equals `Indicators` built on the point-in-time frame
        of `day` (the replay computes a window once and reads each of its days from it)."""
        return IndicatorsAt(self, pd.Timestamp(day))

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
        for lag, cols in self._lag_groups(raw.columns).items():
            part = raw[cols].dropna(how="all")
            if lag:
                part = part.set_axis(part.index + pd.Timedelta(days=lag))
            both = self.calendar.union(part.index)
            parts.append(part.reindex(both).ffill().reindex(self.calendar))
        return pd.concat(parts, axis=1)[list(raw.columns)]

    def _lag_groups(self, columns: Sequence[str]) -> dict[int, list[str]]:
        lags: dict[int, list[str]] = {}
        for col in columns:
            s = self.series.get(col)
            lags.setdefault(s.publication_lag_days if s else 0, []).append(col)
        return lags

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
        if self._last is None:
            pos, valid = _last_valid(self.frame.to_numpy(dtype=float))
            days = self.frame.index[pos]
            self._last = {sid: days[i].date() for i, sid in enumerate(self.frame.columns) if valid[i]}
        return self._last

    # --- summaries -----------------------------------------------------------------------------------
    def latest(self, specs: Sequence[Spec]) -> dict[str, dict[str, float]]:
        """Series → indicator → value at as_of (the last knowable value), for reports."""
        out: dict[str, dict[str, float]] = {}
        for spec in [Spec("level", "level"), *specs]:
            rows = self._rows(spec)
            for lag, cols in rows.lag_groups:
                cut = len(rows.dates) if self.as_of is None else int(np.searchsorted(
                    rows.dates, (self.as_of - pd.Timedelta(days=lag)).to_datetime64(), side="right"))
                if cut == 0:
                    continue
                pos = rows.last[cut - 1, cols]
                values = rows.values[np.clip(pos, 0, None), cols]
                for sid, ok, v in zip(rows.columns[cols], pos >= 0, values):
                    if ok and np.isfinite(v):
                        out.setdefault(str(sid), {})[spec.name] = float(v)
        return out

    def recent(self, specs: Sequence[Spec], days: int) -> pd.DataFrame:
        """Long frame (series_id, indicator, date, value) of observation-dated values in the last `days`."""
        if self.as_of is None:
            return pd.DataFrame(columns=["series_id", "indicator", "date", "value"])
        start = (self.as_of - pd.Timedelta(days=days)).to_datetime64()
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for spec in specs:
            rows = self._rows(spec)
            a = int(np.searchsorted(rows.dates, start, side="left"))
            b = int(np.searchsorted(rows.dates, self.as_of.to_datetime64(), side="right"))
            if b <= a or not len(rows.columns):
                continue
            values, dates = self._hidden(rows, rows.values[a:b], rows.dates[a:b])
            cols, at = np.nonzero(np.isfinite(values.T))  # series by series, as a melt orders them
            parts.append((rows.columns[cols], np.full(len(cols), spec.name, dtype=object), dates[at],
                          values[at, cols]))
        if not parts:
            return pd.DataFrame(columns=["series_id", "indicator", "date", "value"])
        # one frame from the joined columns (a frame per indicator and their concatenation cost more)
        series_id, indicator, date_, value = (np.concatenate(cells) for cells in zip(*parts))
        return pd.DataFrame({"series_id": series_id, "indicator": indicator, "date": date_, "value": value})

    def _rows(self, spec: Spec) -> SpecRows:
        """A configured indicator's observation-dated rows as arrays, computed once (views read their root's)."""
        key = (spec.kinds, *_key(spec.indicator, spec.params))
        if key not in self._rows_cache:
            frame = self.spec(spec, aligned=False)
            self._rows_cache[key] = SpecRows.of(frame, self._lag_groups(frame.columns))
        return self._rows_cache[key]

    def _hidden(self, rows: SpecRows, values: np.ndarray, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of values as this object saw them (a point-in-time frame holds nothing unpublished)."""
        return values, dates


@dataclass(frozen=True)
class SpecRows:
    """One indicator's observation-dated values as arrays, with the row of each column's last value
    up to every row: a day's latest value and recent rows are then slices, not frame copies."""

    dates: np.ndarray  # datetime64[ns], ascending
    values: np.ndarray  # rows x columns
    columns: np.ndarray  # series ids
    last: np.ndarray  # rows x columns: row of the last non-NaN value up to this row, -1 before the first
    lag_groups: tuple[tuple[int, np.ndarray], ...]  # (publication lag in days, column positions)

    @classmethod
    def of(cls, frame: pd.DataFrame, lags: Mapping[int, list[str]]) -> SpecRows:
        values = frame.to_numpy(dtype=float)
        rows = np.arange(len(values))[:, None]
        last = np.maximum.accumulate(np.where(np.isnan(values), -1, rows), axis=0) if len(values) else \
            np.zeros(values.shape, dtype=int)
        columns = frame.columns.to_numpy()
        groups = tuple((lag, frame.columns.get_indexer(cols)) for lag, cols in lags.items())
        return cls(frame.index.to_numpy(dtype="datetime64[ns]"), values, columns, last, groups)


class IndicatorsAt(Indicators):
    """`Indicators.at(day)`: a view that reads its parent's cached frames up to `day`."""

    def __init__(self, parent: Indicators, day: pd.Timestamp) -> None:  # noqa: D107 - a view, no recomputation
        root = parent._root if isinstance(parent, IndicatorsAt) else parent
        self._root = root
        self.series = root.series
        self.as_of = day
        self.calendar = root.calendar[root.calendar <= day]
        if len(self.calendar) and self.calendar[-1] != day and len(root.calendar) and root.calendar[0] <= day:
            self.calendar = self.calendar.union(pd.DatetimeIndex([day]))
        self.frame = self._hide(root.frame.loc[:day])
        self.observed = _observed_columns(self.frame)
        self._raw, self._aligned, self._fresh = {}, {}, {}
        self._last = None

    def _rows(self, spec: Spec) -> SpecRows:
        return self._root._rows(spec)

    def _hidden(self, rows: SpecRows, values: np.ndarray, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What was still inside its publication lag at as_of removed, cell by cell (so hiding a slice
        equals slicing the hidden frame)."""
        lagged = [(lag, cols) for lag, cols in rows.lag_groups if lag]
        if not lagged:
            return values, dates
        values = values.copy()
        self._blank_unpublished(values, dates, lagged)
        return values, dates

    def _blank_unpublished(self, values: np.ndarray, dates: np.ndarray | pd.DatetimeIndex,
                           lagged: Sequence[tuple[int, np.ndarray]]) -> None:
        """In place: the cells (rows x column positions of each lag group) observed on dates still
        inside their publication lag at as_of."""
        for lag, cols in lagged:
            inside = np.asarray(dates > (self.as_of - pd.Timedelta(days=lag)).to_datetime64())
            values[np.ix_(np.flatnonzero(inside), cols)] = np.nan

    def _hide(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Observation-dated values with what was still inside its publication lag at as_of removed."""
        raw = raw.loc[: self.as_of]
        lagged = {lag: cols for lag, cols in self._lag_groups(raw.columns).items() if lag}
        if not lagged:
            return raw
        # only the rows inside the longest lag can hold something to hide
        pos = int(raw.index.searchsorted(self.as_of - pd.Timedelta(days=max(lagged)), side="right"))
        if pos >= len(raw):
            return raw
        values = raw.to_numpy(dtype=float, copy=True)  # numbers only (indicator frames): cells, not pandas' setitem
        self._blank_unpublished(values[pos:], raw.index[pos:],
                                [(lag, raw.columns.get_indexer(cols)) for lag, cols in lagged.items()])
        return pd.DataFrame(values, index=raw.index, columns=raw.columns)

    def raw(self, indicator: str, columns: Sequence[str] | None = None, **params: Any) -> pd.DataFrame:
        key = _key(indicator, params)
        if key not in self._raw:
            self._raw[key] = self._hide(self._root.raw(indicator, **params))
        out = self._raw[key]
        return out if columns is None else out.reindex(columns=list(columns))

    def aligned(self, indicator: str, columns: Sequence[str] | None = None, **params: Any) -> pd.DataFrame:
        key = _key(indicator, params)
        if key not in self._aligned:
            self._aligned[key] = self._cut(self._root.aligned(indicator, **params))
        out = self._aligned[key]
        return out if columns is None else out.reindex(columns=list(columns))

    def align(self, raw: pd.DataFrame) -> pd.DataFrame:
        return self._cut(self._root.align(raw))

    def fresh(self, grace_days: int = 0) -> pd.DataFrame:
        if grace_days not in self._fresh:
            self._fresh[grace_days] = self._cut(self._root.fresh(grace_days))
        return self._fresh[grace_days]

    def _cut(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A calendar frame of the root cut to this view's calendar (values at knowable dates: no hiding);
        where that calendar is the root's first rows, their slice (no copy of the years before)."""
        n = len(self.calendar)
        if n == len(frame):
            return frame
        if n and n <= len(frame) and frame.index[n - 1] == self.calendar[-1] and frame.index[0] == self.calendar[0]:
            return frame.iloc[:n]
        return frame.reindex(self.calendar)
