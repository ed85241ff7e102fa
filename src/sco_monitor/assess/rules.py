"""Rule kinds: evaluate the rules of alerts/rules.yaml against series and scopes.

Each kind (registered by name) turns a rule into a `RuleFrame`: the rule's value for every target
over the calendar (or only at as_of for kinds fed by point-in-time inputs: forecasts, regime
probabilities, crisis probabilities), with its thresholds. Severity is then one vectorised
comparison, so the same code gives the evaluation at as_of and the whole history of severities
(for evaluation and replay) without re-running anything per day.

Direction is respected per series: with `orient` (the default for change, zscore, drawdown and
forecast changes) a move is measured in the series' risk direction, so a depreciation rule
reads USD/KZT rising and EUR/USD falling the same way, and an equity fall reads as a positive
change. See docs/methods.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from sco_monitor.assess.indicators import RATIO_KINDS, Indicators, Spec
from sco_monitor.assess.model import CrisisProbability, Forecast, RuleEvaluation, Severity
from sco_monitor.assess.stress import LEVELS, StressResult
from sco_monitor.catalog import Series
from sco_monitor.config.rules import Rule
from sco_monitor.config.template import TemplateError, render
from sco_monitor.logs import get_logger
from sco_monitor.registry import Registry
from sco_monitor.vocabulary import SEVERITY_CODE

log = get_logger(__name__)

NO_DATA, OK, WARN, CRITICAL = (SEVERITY_CODE[s] for s in ("no_data", "ok", "warn", "critical"))
SEVERITY: dict[int, Severity] = {code: name for name, code in SEVERITY_CODE.items()}  # type: ignore[misc]


@dataclass
class RuleInputs:
    """Everything rules are evaluated against; built by the pipeline, or directly by tests."""

    series: Mapping[str, Series]
    indicators: Indicators
    specs: Mapping[str, Spec] = field(default_factory=dict)
    stress: StressResult | None = None
    probability: Mapping[str, CrisisProbability] = field(default_factory=dict)
    probability_history: pd.DataFrame | None = None  # calendar × country, for severity histories
    cutoff_history: pd.DataFrame | None = None  # calendar × country: the estimated warning cut-off in force
    forecasts: Sequence[Forecast] = ()
    regime_prob: Mapping[str, float] = field(default_factory=dict)
    unavailable: Mapping[str, str] = field(default_factory=dict)  # series → why (quality flags)
    whole_calendar: bool = True  # False: rule frames hold as_of's row only (all a day's evaluation reads)

    @property
    def as_of(self) -> pd.Timestamp:
        return self.indicators.as_of

    @property
    def calendar(self) -> pd.DatetimeIndex:
        """The rows a rule frame covers: the whole calendar for severity histories, the as_of row for a
        day's evaluation (every value of a row depends on that row's inputs only, so it is the same row)."""
        cal = self.indicators.calendar
        return cal if self.whole_calendar or not len(cal) else cal[-1:]


@dataclass
class Target:
    """What one evaluation is about: a series (possibly for an exposed country) or a scope."""

    key: str
    labels: dict[str, str]
    series: Series | None = None
    scope: str | None = None


Threshold = float | pd.DataFrame | None


@dataclass
class RuleFrame:
    targets: list[Target]
    values: pd.DataFrame  # dates × target keys
    fresh: pd.DataFrame | None = None  # dates × target keys; None = always fresh
    warn: Threshold = None
    critical: Threshold = None
    clear: Threshold = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → template values at as_of
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → details at as_of
    reasons: dict[str, str] = field(default_factory=dict)  # key → why there is no value


#: Rule kinds whose values come from fitted forecast models (regime probabilities, forecast
#: breaches): a replay warm-starts their re-estimation and a cold cycle does not, so the two agree
#: on these to the estimator's tolerance, and exactly on every other kind.
MODEL_KINDS = frozenset({"vol_regime", "forecast_breach"})

#: Rule kinds on indicators alone: their frame over a window's whole calendar, read on a day's row,
#: is that day's own (a row's values and freshness depend on that row's inputs only); the day's quality
#: flags then make its flagged series' targets no data. `CalendarRules` computes them once per window.
CALENDAR_KINDS = frozenset({"level", "change", "zscore", "drawdown"})

RuleKindFn = Callable[[Rule, RuleInputs], RuleFrame]
registry: Registry[RuleKindFn] = Registry("rule kind")


# --- selection ----------------------------------------------------------------------------------------


def select_series(rule: Rule, series: Mapping[str, Series]) -> list[Series]:
    """Series ids when listed; else enabled series by kind, country and tags (alternatives only by tag)."""
    sel = rule.select
    if sel.series:
        return [series[i] for i in sel.series if i in series]
    out = []
    for s in series.values():
        if not s.enabled or (sel.kind and s.kind != sel.kind) or (sel.country and s.country not in sel.country):
            continue
        if not set(sel.tags) <= set(s.tags) or ("alternative" in s.tags and "alternative" not in sel.tags):
            continue
        out.append(s)
    return out


def series_targets(rule: Rule, inputs: RuleInputs) -> list[Target]:
    out = []
    for s in select_series(rule, inputs.series):
        for country in rule.select.exposed or [s.country]:
            key = f"{s.id}@{country}" if rule.select.exposed else s.id
            labels = {**rule.labels, "category": rule.category, "country": country, "series": s.id}
            out.append(Target(key, labels, series=s))
    return out


def scope_targets(rule: Rule, known: Sequence[str]) -> list[Target]:
    wanted = rule.select.scope or rule.select.country or list(known)
    return [Target(scope, {**rule.labels, "category": rule.category, "country": scope, "scope": scope}, scope=scope)
            for scope in wanted]


def _sign(s: Series) -> float:
    return -1.0 if s.direction == "down" else 1.0


def _series_frame(targets: list[Target], inputs: RuleInputs, frame: pd.DataFrame, orient: bool) -> RuleFrame:
    """Expand a calendar × series frame to calendar × target keys (oriented when asked)."""
    cal = inputs.calendar
    ids = [t.series.id for t in targets]
    keys = [t.key for t in targets]
    values = _reindexed(frame, cal, ids, float, np.nan)
    if orient:
        values = values * np.array([_sign(t.series) for t in targets])
    fresh = _reindexed(inputs.indicators.fresh(), cal, ids, bool, False)
    reasons = {}
    for i, t in enumerate(targets):
        if t.series.id in inputs.unavailable:
            fresh[:, i] &= cal < inputs.as_of
            reasons[t.key] = inputs.unavailable[t.series.id]
    columns = pd.Index(keys)
    return RuleFrame(targets, pd.DataFrame(values, index=cal, columns=columns),
                     pd.DataFrame(fresh, index=cal, columns=columns), reasons=reasons)


def _reindexed(frame: pd.DataFrame, rows: pd.Index, columns: Sequence[str], dtype: type, fill: Any) -> np.ndarray:
    """`frame.reindex(index=rows, columns=columns, fill_value=fill).to_numpy(dtype=dtype)` without building
    the reindexed frame: the cells are taken from the frame's array at looked-up positions (a day's
    evaluation asks for one row of a whole-calendar frame, per rule per day, and pandas' reindex of
    that one row costs more than the rule)."""
    if not (frame.index.is_unique and frame.columns.is_unique):  # reindex's own error, or its own answer
        return frame.reindex(index=rows, columns=list(columns), fill_value=fill).to_numpy(dtype=dtype)
    row_at = _row_positions(frame.index, rows)
    position = {label: i for i, label in enumerate(frame.columns)}
    col_at = np.array([position.get(c, -1) for c in columns], dtype=np.intp)
    out = np.full((len(rows), len(col_at)), fill, dtype=dtype)
    have_rows, have_cols = np.flatnonzero(row_at >= 0), np.flatnonzero(col_at >= 0)
    if len(have_rows) and len(have_cols):
        cells = frame.to_numpy(dtype=dtype)  # one block (indicator frames): a view, not a copy
        out[np.ix_(have_rows, have_cols)] = cells[np.ix_(row_at[have_rows], col_at[have_cols])]
    return out


def _row_positions(index: pd.Index, rows: pd.Index) -> np.ndarray:
    """`index.get_indexer(rows)` (-1 where absent) for a unique index; a binary search on a sorted
    calendar of the same dtype (pandas' general lookup costs tens of microseconds per call)."""
    if (isinstance(index, pd.DatetimeIndex) and isinstance(rows, pd.DatetimeIndex) and index.dtype == rows.dtype
            and index.is_monotonic_increasing):
        keys, wanted = index.asi8, rows.asi8
        at = np.searchsorted(keys, wanted)
        found = at < len(keys)
        found[found] = keys[at[found]] == wanted[found]
        return np.where(found, at, -1).astype(np.intp)
    return index.get_indexer(rows)


def _thresholds(rule: Rule) -> dict[str, float | None]:
    return {"warn": rule.warn, "critical": rule.critical, "clear": rule.clear}


# --- kinds on indicators ---------------------------------------------------------------------------


@registry.register("level")
def level_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """The series' value, or a configured indicator's value (params.indicator), against thresholds."""
    targets = series_targets(rule, inputs)
    name = rule.params.get("indicator", "level")
    spec = inputs.specs.get(name) or Spec(name, name)
    frame = inputs.indicators.aligned(spec.indicator, **dict(spec.params))
    out = _series_frame(targets, inputs, frame, orient=False)
    return _with(out, rule)


@registry.register("change")
def change_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """Change over params.window observations (simple %, log with params.log; difference for rates)."""
    p = rule.params
    frame = inputs.indicators.aligned("change", window=p.get("window", 20), log=p.get("log", False))
    out = _series_frame(series_targets(rule, inputs), inputs, frame, orient=p.get("orient", True))
    return _with(out, rule, window=p.get("window", 20))


@registry.register("zscore")
def zscore_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """Z-score of the return (or level, or change) against its expanding (or EWMA) past."""
    p = rule.params
    args = {"of": p.get("of", "return"), "window": p.get("window", 20), "min_periods": p.get("min_periods", 250),
            "method": p.get("method", "expanding"), "lam": p.get("lam", 0.94)}
    frame = inputs.indicators.aligned("zscore", **args)
    out = _series_frame(series_targets(rule, inputs), inputs, frame, orient=p.get("orient", True))
    return _with(out, rule, window=args["window"])


@registry.register("drawdown")
def drawdown_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """Fall from the rolling high over params.window observations (<= 0; adverse move with orient)."""
    p = rule.params
    frame = inputs.indicators.aligned("drawdown", window=p.get("window", 252), orient=p.get("orient", True))
    out = _series_frame(series_targets(rule, inputs), inputs, frame, orient=False)
    return _with(out, rule, window=p.get("window", 252))


def _with(out: RuleFrame, rule: Rule, **extra: Any) -> RuleFrame:
    th = _thresholds(rule)
    out.warn, out.critical, out.clear = th["warn"], th["critical"], th["clear"]
    if extra:
        out.extra = {t.key: dict(extra) for t in out.targets}
    return out


# --- kinds on point-in-time inputs -----------------------------------------------------------------


def _at_as_of(inputs: RuleInputs, values: dict[str, float], targets: list[Target]) -> pd.DataFrame:
    """One row at as_of of these targets' values (NaN where absent), built from an array: pandas'
    list-of-lists constructor infers types cell by cell, and this runs per rule per day."""
    row = np.array([[values.get(t.key, np.nan) for t in targets]], dtype=float).reshape(1, len(targets))
    return pd.DataFrame(row, index=_one_day(inputs.as_of), columns=pd.Index([t.key for t in targets]))


def _one_day(day: pd.Timestamp) -> pd.DatetimeIndex:
    """The index of a frame at one day, built once per day (an index is immutable; building one costs
    more than the rest of a one-row frame)."""
    if not isinstance(day, pd.Timestamp):
        return pd.DatetimeIndex([day])
    return _one_day_of(day, day.unit, day.tz)  # equal Timestamps of another unit or zone: another index


@lru_cache(maxsize=64)
def _one_day_of(day: pd.Timestamp, unit: str, tz: Any) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([day])


def _fresh_now(inputs: RuleInputs, targets: list[Target]) -> pd.DataFrame:
    """One row at as_of: is each target's series fresh and not flagged unavailable (from an array, as above)."""
    fresh = inputs.indicators.fresh()
    now = _reindexed(fresh, fresh.index[-1:], [t.series.id for t in targets], bool, False)
    if not len(fresh):
        now = np.zeros((1, len(targets)), dtype=bool)
    row = now.reshape(1, len(targets)) & np.array([t.series.id not in inputs.unavailable for t in targets], dtype=bool)
    return pd.DataFrame(row, index=_one_day(inputs.as_of), columns=pd.Index([t.key for t in targets]))


@registry.register("vol_regime")
def vol_regime_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """P(high-volatility regime) from the forecast layer's regime-switching model."""
    targets = series_targets(rule, inputs)
    values = {t.key: inputs.regime_prob[t.series.id] for t in targets if t.series.id in inputs.regime_prob}
    reasons = {t.key: "no regime probability for this series" for t in targets if t.key not in values}
    for t in targets:
        reasons.setdefault(t.key, inputs.unavailable.get(t.series.id, ""))
    out = RuleFrame(targets, _at_as_of(inputs, values, targets), _fresh_now(inputs, targets),
                    reasons={k: v for k, v in reasons.items() if v})
    return _with(out, rule)


@registry.register("forecast_breach")
def forecast_breach_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """The level (or change) the forecast reaches with params.probability within params.horizon.

    value = the most adverse predictive quantile over the horizon: for an `above` rule, the level
    exceeded with probability p; so the value crosses a threshold exactly when the forecast
    crosses it with at least probability p. Predictive std from `Forecast.std`, else from the
    interval (normal, per side). Forecasts are of the series' level, in its units. A rule that
    selects by kind watches the series that have forecasts; listed series without one read no data.
    """
    p = rule.params
    prob = float(p.get("probability", 0.5))
    measure = p.get("measure", "level")
    model = p.get("model")
    base = series_targets(rule, inputs)
    by_series: dict[str, list[Forecast]] = {}
    for f in inputs.forecasts:
        if (model is None or f.model == model) and pd.Timestamp(f.as_of) <= inputs.as_of:
            by_series.setdefault(f.series_id, []).append(f)
    levels = inputs.indicators.aligned("level")
    targets, values, extra, details, reasons = [], {}, {}, {}, {}
    for t in base:
        forecasts = by_series.get(t.series.id, [])
        if not forecasts and not rule.select.series:
            continue  # selected by kind: only the series the forecast layer forecasts
        if not forecasts:
            targets.append(t)
            reasons[t.key] = "no forecast for this series"
            continue
        # One alert per series, whichever model the layer chose today: the chosen family can change
        # on re-estimation and must not change the alert's identity (labels); it goes in the details.
        f = max(forecasts, key=lambda fc: fc.as_of)
        key = t.key
        targets.append(t)
        last = levels[t.series.id].iloc[-1] if t.series.id in levels.columns else np.nan
        res = _breach(rule, f, last, t.series, prob, measure, p.get("horizon"), p.get("orient", True))
        if res is None:
            reasons[key] = "forecast has no usable steps or no last observation"
            continue
        values[key], details[key] = res
        details[key]["model"] = f.model
        extra[key] = {"probability": details[key]["breach_probability"], "horizon": details[key]["steps"],
                      "model": f.model}
    out = RuleFrame(targets, _at_as_of(inputs, values, targets), _fresh_now(inputs, targets),
                    extra=extra, details=details, reasons=reasons)
    return _with(out, rule)


def _breach(
    rule: Rule, f: Forecast, last: float, s: Series, prob: float, measure: str, horizon: int | None, orient: bool
) -> tuple[float, dict[str, Any]] | None:
    n = min(len(f.mean), len(f.lower), len(f.upper), horizon or len(f.mean))
    if n == 0 or (measure == "change" and not np.isfinite(last)):
        return None
    mean = np.asarray(f.mean[:n], dtype=float)
    z_int = norm.ppf(0.5 + f.level / 2.0)
    if len(f.std) >= n:
        up = down = np.asarray(f.std[:n], dtype=float)
    else:
        up = (np.asarray(f.upper[:n], dtype=float) - mean) / z_int
        down = (mean - np.asarray(f.lower[:n], dtype=float)) / z_int
    ratio = s.kind in RATIO_KINDS
    sign = _sign(s) if (orient and measure == "change") else 1.0

    def to_y(x: np.ndarray | float) -> np.ndarray | float:
        if measure == "level":
            return x
        return sign * ((x / last - 1.0) if ratio else (x - last))

    def to_x(y: float) -> float:
        if measure == "level":
            return y
        return last * (1.0 + y / sign) if ratio else last + y / sign

    risk_high_x = (rule.direction == "above") == (sign > 0)
    zq = norm.ppf(1.0 - prob)
    q = mean + zq * up if risk_high_x else mean - zq * down
    y = np.asarray(to_y(q), dtype=float)
    step = int(np.nanargmax(y) if rule.direction == "above" else np.nanargmin(y))
    ref = rule.warn if rule.warn is not None else rule.critical
    thr_x = to_x(ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = 1.0 - norm.cdf((thr_x - mean) / up) if risk_high_x else norm.cdf((thr_x - mean) / down)
    breach = float(np.nanmax(pb)) if np.isfinite(pb).any() else 0.0
    details = {
        "model": f.model, "forecast_as_of": f.as_of.isoformat(), "steps": n, "step": step + 1,
        "target_date": f.dates[step].isoformat() if step < len(f.dates) else None,
        "probability_required": prob, "breach_probability": breach, "threshold_level": float(thr_x),
        "mean": float(mean[step]), "measure": measure,
    }
    return float(y[step]), details


# --- kinds on the stress index and the crisis probability ------------------------------------------


@registry.register("stress_level")
def stress_level_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """A scope's composite stress index against named levels (that scope's own bounds) or values."""
    scopes = inputs.stress.scopes if inputs.stress is not None else {}
    targets = scope_targets(rule, list(scopes))
    cal = inputs.calendar
    values, reasons = {}, {}
    by_level = rule.params.get("measure", "level") == "level"
    bounds: dict[str, dict[str, np.ndarray]] = {"warn": {}, "critical": {}, "clear": {}}
    for t in targets:
        sc = scopes.get(t.scope)
        if sc is None or sc.index.empty:
            values[t.key] = np.full(len(cal), np.nan)
            reasons[t.key] = "no stress index for this scope" if sc is None else sc.value().note
            continue
        values[t.key] = _cells_on(sc.index, cal)
        if by_level:
            for which, rank in _thresholds(rule).items():
                if rank is not None:
                    bounds[which][t.key] = _cells_on(_bound(sc.bounds, rank), cal)
    keys = [t.key for t in targets]
    out = RuleFrame(targets, _calendar_frame(values, cal, keys), reasons=reasons)
    if by_level:
        for which in ("warn", "critical", "clear"):
            if _thresholds(rule)[which] is not None:
                setattr(out, which, _calendar_frame(bounds[which], cal, keys))
    else:
        _with(out, rule)
    if inputs.stress is not None:
        for t in targets:
            if t.scope in scopes and not scopes[t.scope].index.empty:
                sv = scopes[t.scope].value(inputs.as_of, inputs.stress.params.min_segments)
                out.extra[t.key] = {"level": sv.level, "index": sv.value}
                out.details[t.key] = {"level": sv.level, "segments": sv.segments, "note": sv.note}
    return out


def _calendar_frame(columns: Mapping[str, np.ndarray], cal: pd.DatetimeIndex, keys: list[str]) -> pd.DataFrame:
    """Columns already on the calendar as one frame of these keys (NaN where absent): one block,
    without pandas aligning every column (this runs per rule per day)."""
    empty = np.full(len(cal), np.nan)
    cells = [columns[k] if k in columns else empty for k in keys]
    return pd.DataFrame(np.column_stack(cells) if cells else np.empty((len(cal), 0)), index=cal, columns=keys)


def _cells_on(series: pd.Series, cal: pd.Index) -> np.ndarray:
    """`series.reindex(cal).to_numpy(dtype=float)`, taken by position (see `_reindexed`)."""
    if not series.index.is_unique:
        return series.reindex(cal).to_numpy(dtype=float)
    at = _row_positions(series.index, cal)
    out = np.full(len(cal), np.nan)
    found = at >= 0
    out[found] = series.to_numpy(dtype=float)[at[found]]
    return out


def _bound(bounds: pd.DataFrame, rank: float) -> pd.Series:
    r = round(rank)
    if r <= 0:
        return pd.Series(0.0, index=bounds.index)
    return bounds[LEVELS[min(r, len(LEVELS) - 1)]]


@registry.register("probability")
def probability_rule(rule: Rule, inputs: RuleInputs) -> RuleFrame:
    """P(crisis within the horizon) of a country from the early-warning model.

    With `params: {cutoff: estimated}` the warning threshold is the cut-off the model estimated
    with its coefficients (on data before as_of; `ews.nsr_cutoff`), the critical one the rule's
    `critical` or that cut-off if higher, and the clear level the cut-off scaled by the rule's
    clear / warn ratio; the rule's own numbers stand where no cut-off was estimated.
    """
    known = list(inputs.probability) or (list(inputs.probability_history.columns)
                                         if inputs.probability_history is not None else [])
    targets = scope_targets(rule, known)
    keys = [t.key for t in targets]
    if inputs.probability_history is not None:
        values = inputs.probability_history.reindex(columns=[t.scope for t in targets])
        values.columns = keys
    else:
        values = _at_as_of(inputs, {t.key: inputs.probability[t.scope].probability for t in targets
                                    if t.scope in inputs.probability
                                    and inputs.probability[t.scope].probability is not None}, targets)
    reasons = {t.key: "no crisis probability for this country" for t in targets}
    out = RuleFrame(targets, values.astype(float), reasons=reasons)
    for t in targets:
        cp = inputs.probability.get(t.scope)
        if cp is not None:
            out.extra[t.key] = {"horizon": cp.horizon, "probability": cp.probability}
            out.details[t.key] = {"drivers": cp.drivers, "horizon": cp.horizon, "cutoff": cp.cutoff}
    out = _with(out, rule)
    if rule.params.get("cutoff") == "estimated":
        if inputs.probability_history is not None and inputs.cutoff_history is not None:
            cut = inputs.cutoff_history.reindex(index=values.index, columns=[t.scope for t in targets])
            cut.columns = keys
        else:
            cut = _at_as_of(inputs, {t.key: inputs.probability[t.scope].cutoff for t in targets
                                     if t.scope in inputs.probability
                                     and inputs.probability[t.scope].cutoff is not None}, targets)
        _estimated_thresholds(out, rule, cut.reindex(index=values.index))
    return out


def _estimated_thresholds(out: RuleFrame, rule: Rule, cut: pd.DataFrame) -> None:
    """Warn at the estimated cut-off (the rule's warn where there is none), critical at least there."""
    warn = cut.fillna(rule.warn if rule.warn is not None else np.nan)
    out.warn = warn
    if rule.critical is not None:
        out.critical = np.maximum(warn, rule.critical)
    if rule.clear is not None and rule.warn:
        out.clear = warn * (rule.clear / rule.warn)


# --- severity --------------------------------------------------------------------------------------


def _beyond(values: np.ndarray, threshold: Any, above: bool) -> np.ndarray:
    if threshold is None:
        return np.zeros(values.shape, dtype=bool)
    th = threshold.to_numpy(dtype=float) if isinstance(threshold, pd.DataFrame) else float(threshold)
    with np.errstate(invalid="ignore"):
        return values >= th if above else values <= th


def _on_axes_of(fresh: pd.DataFrame, values: pd.DataFrame) -> np.ndarray:
    """The freshness frame on the values' rows and columns (False where absent); the frame's own array
    when it is already on them, as the rule kinds build it."""
    if fresh.index.equals(values.index) and fresh.columns.equals(values.columns):
        return fresh.to_numpy(dtype=bool)
    return _reindexed(fresh, values.index, list(values.columns), bool, False)


def severity_codes(rf: RuleFrame, rule: Rule) -> pd.DataFrame:
    """Dates × targets: -1 no data, 0 ok, 1 warn, 2 critical (vectorised)."""
    v = rf.values.to_numpy(dtype=float)
    above = rule.direction == "above"
    codes = np.where(_beyond(v, rf.critical, above), CRITICAL, np.where(_beyond(v, rf.warn, above), WARN, OK))
    bad = np.isnan(v)
    if isinstance(rf.warn, pd.DataFrame) or isinstance(rf.critical, pd.DataFrame):
        for th in (rf.warn, rf.critical):
            if isinstance(th, pd.DataFrame):
                bad |= np.isnan(th.to_numpy(dtype=float))
    if rf.fresh is not None:
        bad |= ~_on_axes_of(rf.fresh, rf.values)
    return pd.DataFrame(np.where(bad, NO_DATA, codes), index=rf.values.index, columns=rf.values.columns)


def severity_history(rule: Rule, inputs: RuleInputs) -> pd.DataFrame:
    """Severity codes of one rule over the whole calendar (for evaluation and replay)."""
    return severity_codes(registry.get(rule.kind)(rule, inputs), rule)


# --- evaluation at as_of -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """A rule frame's values, severity codes and threshold frames as arrays, with each target key's
    column: a day's evaluations read them cell by cell, without pandas indexing per cell."""

    values: np.ndarray
    codes: np.ndarray
    column: dict[str, int]  # target key → column of `values` and `codes` (its first, as frame[key] would be)
    thresholds: tuple[tuple[np.ndarray, dict[str, int]] | float | None, ...]  # warn, critical, clear

    @classmethod
    def of(cls, rf: RuleFrame, codes: pd.DataFrame) -> _Cells:
        return cls(rf.values.to_numpy(dtype=float), codes.to_numpy(), _first_columns(rf.values.columns),
                   tuple(_threshold_cells(th) for th in (rf.warn, rf.critical, rf.clear)))

    def threshold(self, which: int, pos: int, key: str) -> float | None:
        """warn (0), critical (1) or clear (2) of `key` on row `pos`: None when not set or NaN there."""
        th = self.thresholds[which]
        if th is None:
            return None
        if isinstance(th, tuple):
            cells, column = th
            col = column.get(key)
            v = cells[pos, col] if col is not None else np.nan
            return None if pd.isna(v) else float(v)
        return th


def _first_columns(columns: pd.Index) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, key in enumerate(columns):
        out.setdefault(key, i)
    return out


def _threshold_cells(th: Threshold) -> tuple[np.ndarray, dict[str, int]] | float | None:
    if th is None:
        return None
    if isinstance(th, pd.DataFrame):
        return th.to_numpy(dtype=float), _first_columns(th.columns)
    return float(th)


def evaluate_rule(rule: Rule, inputs: RuleInputs) -> list[RuleEvaluation]:
    """The rule on each of its targets at as_of."""
    rf = registry.get(rule.kind)(rule, replace(inputs, whole_calendar=False))
    return _evaluations_at(rule, rf, _Cells.of(rf, severity_codes(rf, rule)), inputs)


def _evaluations_at(rule: Rule, rf: RuleFrame, cells: _Cells, inputs: RuleInputs,
                    no_data: Mapping[str, str] | None = None) -> list[RuleEvaluation]:
    """The evaluations of as_of's row of a rule frame; `no_data`: target key → why it has no data that
    day (whatever the frame says)."""
    pos = int(rf.values.index.searchsorted(inputs.as_of, side="right")) - 1
    last = inputs.indicators.last_known()
    as_of = inputs.as_of.date().isoformat()
    out = []
    for t in rf.targets:
        why = no_data.get(t.key) if no_data else None
        fields = _evaluation_fields(rule, cells, t, pos, NO_DATA if why is not None else None)
        details = dict(rf.details.get(t.key, {}))
        if fields["severity"] == "no_data":
            col = cells.column.get(t.key)
            value = cells.values[pos, col] if pos >= 0 and col is not None else np.nan
            details["reason"] = why or _no_data_reason(t, rf, value, last, inputs)
        fields["details"] = details
        fields["summary"] = _summary(rule, fields, t, rf.extra.get(t.key, {}), as_of, last)
        # Every field is already of its declared type (floats, None, a severity name, the rule's own
        # validated values): constructed without validation, it is the object validation would build.
        out.append(RuleEvaluation.model_construct(**fields))
    return out


class CalendarRules:
    """The `CALENDAR_KINDS` rules' frames and severity codes over a window's whole calendar, each
    computed on first use; a day of the window reads its row (the replay's pass over a year instead of
    one rule frame per rule per day). `inputs`: the window's, with no quality flags."""

    def __init__(self, inputs: RuleInputs) -> None:
        self.inputs = replace(inputs, whole_calendar=True, unavailable={})
        self._frames: dict[str, tuple[Rule, RuleFrame, _Cells]] = {}

    def covers(self, rule: Rule) -> bool:
        return rule.kind in CALENDAR_KINDS

    def evaluate_rule(self, rule: Rule, inputs: RuleInputs) -> list[RuleEvaluation]:
        """The rule on each of its targets at `inputs.as_of` (a day of the window), as `evaluate_rule` gives."""
        held = self._frames.get(rule.name)
        if held is None or held[0] is not rule:
            rf = registry.get(rule.kind)(rule, self.inputs)
            held = self._frames[rule.name] = (rule, rf, _Cells.of(rf, severity_codes(rf, rule)))
        _, rf, cells = held
        if _row_positions(rf.values.index, _one_day(inputs.as_of))[0] < 0:  # a day the window lacks (a weekend)
            return evaluate_rule(rule, inputs)
        flagged = {t.key: inputs.unavailable[t.series.id] for t in rf.targets
                   if t.series is not None and t.series.id in inputs.unavailable}
        return _evaluations_at(rule, rf, cells, inputs, flagged)


def evaluation_at(rule: Rule, rf: RuleFrame, codes: pd.DataFrame, t: Target, pos: int) -> RuleEvaluation:
    """The evaluation of one target on calendar row `pos` (no summary or details): what the alert
    state machine needs, for as_of and for any day of a history."""
    return RuleEvaluation(**_evaluation_fields(rule, _Cells.of(rf, codes), t, pos))


def _evaluation_fields(rule: Rule, cells: _Cells, t: Target, pos: int, code: int | None = None) -> dict[str, Any]:
    """`RuleEvaluation` fields of one target on calendar row `pos`, read from the rule frame's arrays
    (its severity `code` given when the day overrides the frame's)."""
    col = cells.column.get(t.key)
    if pos >= 0 and col is None:
        raise KeyError(t.key)  # as frame[key] would: a target without a column is a rule kind's bug
    value = cells.values[pos, col] if pos >= 0 else np.nan
    if code is None:
        code = int(cells.codes[pos, col]) if pos >= 0 else NO_DATA
    warn, crit, clear = (cells.threshold(i, pos, t.key) for i in range(3))
    threshold = crit if code == CRITICAL else warn if warn is not None else crit
    return {
        "rule": rule.name, "kind": rule.kind, "category": rule.category, "labels": dict(t.labels),
        "series_id": t.series.id if t.series else None,
        "value": None if (pd.isna(value) or not math.isfinite(value)) else float(value),
        "threshold": threshold, "severity": SEVERITY[code], "warn": warn, "critical": crit, "clear": clear,
        "direction": rule.direction, "for_": rule.for_, "within": rule.within,
    }


def _no_data_reason(t: Target, rf: RuleFrame, value: float, last: Mapping[str, date], inputs: RuleInputs) -> str:
    if rf.reasons.get(t.key):
        return rf.reasons[t.key]
    if t.series is not None:
        seen = last.get(t.series.id)
        if seen is None:
            return "no observations"
        if not pd.isna(value):
            age = (inputs.as_of.date() - seen).days
            return f"stale: last observation {seen.isoformat()} ({age} days before as_of)"
    return "not enough history for this rule yet"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def _summary(rule: Rule, ev: Mapping[str, Any], t: Target, extra: Mapping[str, Any], as_of: str,
             last: Mapping[str, date]) -> str:
    """The rule's template rendered safely; a plain default when empty, failing, or without data.

    `ev` holds the evaluation's fields (its `details` take a `summary_error` when the template fails)."""
    s = t.series
    name = s.name if s is not None else t.scope or ""
    severity, details = ev["severity"], ev["details"]
    if severity == "no_data":
        return f"{name}: no data for {rule.name} ({details.get('reason', '')})"
    if rule.summary:
        seen = last.get(s.id) if s is not None else None
        values: dict[str, Any] = {
            "rule": rule.name, "category": rule.category, "series": s.id if s else "", "name": name,
            "country": t.labels.get("country", ""), "scope": t.scope or "", "unit": s.unit if s else "",
            "value": ev["value"], "threshold": ev["threshold"], "severity": severity, "warn": ev["warn"],
            "critical": ev["critical"], "direction": rule.direction, "as_of": as_of,
            "date": seen.isoformat() if seen else "", "window": None, "level": None, "index": None,
            "probability": None, "horizon": None, "model": None, **extra,
        }
        try:
            return render(rule.summary, values)
        except TemplateError as e:
            details["summary_error"] = str(e)
    op = ">=" if rule.direction == "above" else "<="
    state = f"{severity}: {op} {_fmt(ev['threshold'])}" if severity != "ok" else "within thresholds"
    return f"{name}: {rule.kind} {_fmt(ev['value'])} ({state})"


def evaluate(rules: Sequence[Rule], inputs: RuleInputs, window: CalendarRules | None = None) -> list[RuleEvaluation]:
    """Every rule (the calendar kinds read from the window's frames when given); a rule that fails is
    logged and reported as one no-data evaluation, never fatal."""
    out: list[RuleEvaluation] = []
    for rule in rules:
        try:
            out.extend(window.evaluate_rule(rule, inputs) if window is not None and window.covers(rule)
                       else evaluate_rule(rule, inputs))
        except Exception as e:  # noqa: BLE001 - one broken rule must not stop the others
            log.error("rule_failed", rule=rule.name, error=f"{type(e).__name__}: {e}")
            out.append(RuleEvaluation(
                rule=rule.name, kind=rule.kind, category=rule.category,
                labels={**rule.labels, "category": rule.category}, severity="no_data",
                direction=rule.direction, for_=rule.for_, within=rule.within, summary=f"rule {rule.name} failed: {e}",
                details={"error": f"{type(e).__name__}: {e}"},
            ))
    return out
