"""The nowcast panels of the forecast layer: each configured panel (`assessment.nowcasts`) is a
mixed-frequency dynamic factor model (`dfm.DfmFitted`) of its targets (GDP growth, inflation) on
monthly and quarterly indicators, run at as_of on the point-in-time frame.

Incremental like the single-series models (`run.py`): the panel's model is re-estimated by EM on
the date-anchored calendar (`run.due`, periods from `timeutil.CALENDAR_EPOCH`), on the data up to the
period's first day (cold: a warm start does not pay for this model, see `dfm.DfmFitted.fit`), and
extended at fixed parameters in between. A day whose panel holds exactly the values of the stored nowcast's day, in the same
month, reuses that nowcast (the nowcast depends on as_of only through its month): most days cost
the panel's construction only. Pure: frames and states in, forecasts and states out.

Annual targets (World Bank GDP growth and inflation) enter the model as the fourth quarter of their
year, a quarterly series observed once a year; their nowcast is the model's fourth quarters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sco_monitor.assess.forecast.base import FitFailed, ModelState
from sco_monitor.assess.forecast.dfm import DFM_SLOT, DfmFitted, DfmSpec
from sco_monitor.assess.forecast.run import INTERVAL_LEVEL, NO_MODEL, due
from sco_monitor.assess.model import Forecast
from sco_monitor.catalog import Series
from sco_monitor.config.settings import NowcastPanel
from sco_monitor.logs import get_logger
from sco_monitor.timeutil import CALENDAR_EPOCH, period_start, to_date

log = get_logger(__name__)

#: Frequencies read as a month's average (market series); the others as the month's last value.
DAILY_FREQS = frozenset({"B", "D", "W"})
#: Fewer months than this up to the period's first day: estimate on all of them instead.
MIN_ANCHORED_MONTHS = 60


@dataclass
class NowcastRun:
    """What the panels produced: the nowcasts, the states to save, notes for what failed, events."""

    forecasts: list[Forecast] = field(default_factory=list)
    states: dict[tuple[str, str], ModelState] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PanelData:
    """A panel's model frame (month-end rows, transformed columns), its spec, each target's frequency."""

    frame: pd.DataFrame
    spec: DfmSpec
    target_freq: dict[str, str]
    dropped: tuple[str, ...] = ()


def state_key(panel: NowcastPanel) -> tuple[str, str]:
    """Where the panel's model lives in `model_states`: its first target, slot `nowcast`."""
    return (panel.targets[0], DFM_SLOT)


def run_nowcasts(frame: pd.DataFrame, panels: list[NowcastPanel], series: Mapping[str, Series], as_of: date,
                 states: Mapping[tuple[str, str], ModelState]) -> NowcastRun:
    """Every enabled panel's nowcasts at as_of; a failing panel becomes a note, never an exception."""
    as_of = to_date(as_of)
    frame = frame.loc[: pd.Timestamp(as_of)]
    out = NowcastRun()
    for panel in panels:
        if not panel.enabled:
            continue
        key = state_key(panel)
        try:
            forecasts, state, event = run_panel(frame, panel, series, as_of, states.get(key))
        except Exception as e:  # noqa: BLE001 - one panel's failure must not stop the others or the run
            out.notes.append(f"nowcast {panel.name}: {type(e).__name__}: {e}")
            out.events.append({"series": key[0], "slot": DFM_SLOT, "event": "failed", "detail": str(e)})
            log.warning("nowcast.failed", panel=panel.name, error=f"{type(e).__name__}: {e}")
            continue
        out.forecasts += forecasts
        out.states[key] = state
        out.events.append({"series": key[0], "slot": DFM_SLOT, "event": event["event"], "detail": event["detail"]})
        if event["event"] == "skipped":
            out.notes.append(f"nowcast {panel.name}: {event['detail']}")
    return out


# --- the panel --------------------------------------------------------------------------------------
def build_panel(frame: pd.DataFrame, panel: NowcastPanel, series: Mapping[str, Series]) -> PanelData:
    """The panel's columns by month: indicators in y/y % (unless in `levels`), targets as they are;
    quarterly and annual columns sit in their quarter's (the year's fourth quarter's) last month."""
    cols: dict[str, pd.Series] = {}
    monthly, quarterly, dropped = [], [], []
    target_freq: dict[str, str] = {}
    for sid in panel.targets:
        y = _observed(frame, sid)
        if y is None:
            dropped.append(sid)
            continue
        freq = _freq(series, sid)
        if freq == "M":
            cols[sid], target_freq[sid] = _monthly(y, "last"), "M"
            monthly.append(sid)
        elif freq in ("Q", "A"):
            q = _quarterly(y) if freq == "Q" else _annual_in_q4(y)
            cols[sid], target_freq[sid] = q, freq
            quarterly.append(sid)
        else:
            raise FitFailed(f"target {sid}: frequency {freq} is not monthly, quarterly or annual")
    if not target_freq:
        raise FitFailed(f"no target has observations ({', '.join(panel.targets)})")
    for sid in panel.monthly:
        y = _observed(frame, sid)
        if y is None or sid in cols:
            dropped.append(sid)
            continue
        m = _monthly(y, "mean" if _freq(series, sid) in DAILY_FREQS else "last")
        cols[sid] = m if sid in panel.levels else _yoy(m, 12)
        monthly.append(sid)
    for sid in panel.quarterly:
        y = _observed(frame, sid)
        if y is None or sid in cols:
            dropped.append(sid)
            continue
        q = _quarterly(y)
        cols[sid] = q if sid in panel.levels else _yoy(q, 4, by="Q")
        quarterly.append(sid)
    if not [c for c in monthly if c not in target_freq]:
        raise FitFailed("no monthly indicator has observations")
    data = pd.DataFrame(cols).sort_index()
    annual = [t for t, f in target_freq.items() if f == "A"]
    if panel.differenced and annual:
        raise FitFailed(f"differenced: annual targets have no quarter-on-quarter change ({', '.join(annual)})")
    spec = DfmSpec(monthly=tuple(monthly), quarterly=tuple(quarterly), targets=tuple(target_freq),
                   differenced=(*monthly, *quarterly) if panel.differenced else (), factors=panel.factors)
    return PanelData(data[[*monthly, *quarterly]], spec, target_freq, tuple(dropped))


def _observed(frame: pd.DataFrame, sid: str) -> pd.Series | None:
    if sid not in frame.columns:
        return None
    y = pd.to_numeric(frame[sid], errors="coerce").dropna()
    y = y[np.isfinite(y.to_numpy())]
    return y if len(y) else None


def _freq(series: Mapping[str, Series], sid: str) -> str:
    s = series.get(sid)
    return s.frequency if s is not None else "M"


def _month_end(idx: pd.DatetimeIndex | pd.PeriodIndex) -> pd.DatetimeIndex:
    p = idx if isinstance(idx, pd.PeriodIndex) else pd.DatetimeIndex(idx).to_period("M")
    return p.to_timestamp(how="end").normalize()


def _monthly(y: pd.Series, how: str) -> pd.Series:
    g = y.groupby(pd.DatetimeIndex(y.index).to_period("M"))
    m = g.mean() if how == "mean" else g.last()
    m.index = _month_end(m.index)
    return m


def _quarterly(y: pd.Series) -> pd.Series:
    q = y.groupby(pd.DatetimeIndex(y.index).to_period("Q")).last()
    q.index = _month_end(q.index.asfreq("M", how="end"))
    return q


def _annual_in_q4(y: pd.Series) -> pd.Series:
    a = y.groupby(pd.DatetimeIndex(y.index).year).last()
    a.index = pd.DatetimeIndex([pd.Timestamp(int(yr), 12, 31) for yr in a.index])
    return a


def _yoy(x: pd.Series, lag: int, by: str = "M") -> pd.Series:
    """y/y % change by period (not by row: a missing period is a gap, not a shorter lag)."""
    p = pd.DatetimeIndex(x.index).to_period(by)
    s = pd.Series(x.to_numpy(dtype=float), index=p)
    prev = s.reindex(p - lag).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 100.0 * (s.to_numpy() / prev - 1.0)
    g[~np.isfinite(g) | (prev <= 0)] = np.nan
    return pd.Series(g, index=x.index)


def _digest(data: pd.DataFrame) -> str:
    """The panel's values (and layout) as a short hash: the same digest means the same nowcast in a month."""
    h = hashlib.sha1(",".join(map(str, data.columns)).encode())
    h.update(np.ascontiguousarray(data.index.asi8).tobytes())
    h.update(np.ascontiguousarray(np.round(data.to_numpy(dtype=float), 10)).tobytes())
    return h.hexdigest()[:16]


# --- one panel's model --------------------------------------------------------------------------------
def run_panel(frame: pd.DataFrame, panel: NowcastPanel, series: Mapping[str, Series], as_of: date,
              state: ModelState | None) -> tuple[list[Forecast], ModelState, dict[str, str]]:
    """The panel's nowcasts, the state to save and what was done (reused, extended, reestimated, skipped)."""
    key = state_key(panel)[0]
    data = build_panel(frame, panel, series)
    spec_json = data.spec.model_dump(mode="json")
    digest, month = _digest(data.frame), pd.Period(pd.Timestamp(as_of), freq="M").strftime("%Y-%m")
    every = panel.reestimate_every
    reason: str | None = None
    fitted: DfmFitted | None = None
    if state is None:
        reason = "no stored state"
    elif state.spec != spec_json:
        reason = "the panel changed"
    elif state.last_date > as_of:
        reason = f"the stored state ends {state.last_date}, after as_of"
    elif due(state.fitted_at, as_of, every):
        reason = f"scheduled (estimated {state.fitted_at}, every {every.days}d from {CALENDAR_EPOCH})"
    elif state.family == NO_MODEL:
        detail = f"no model since {state.fitted_at}: {state.metrics.get('reason', '')}"
        return [], state, {"event": "skipped", "detail": detail}
    else:
        cached = state.metrics.get("nowcast") or {}
        if cached.get("digest") == digest and cached.get("month") == month:
            forecasts = [Forecast.model_validate({**f, "as_of": as_of}) for f in cached.get("forecasts", [])]
            return forecasts, state, {"event": "reused", "detail": f"panel unchanged since {cached.get('as_of')}"}
        try:
            fitted = DfmFitted.from_state(state, data.frame)
        except (FitFailed, ValueError, KeyError) as e:
            reason = f"cannot continue the stored state: {e}"
    event = "extended"
    if reason is not None:
        anchor = period_start(as_of, every)
        try:
            fitted = _estimate(data, key, anchor)
        except FitFailed as e:
            none = ModelState(series_id=key, model=DFM_SLOT, family=NO_MODEL, spec=spec_json, fitted_at=anchor,
                              last_date=as_of, nobs=len(data.frame), params={},
                              metrics={"reason": str(e), "panel": panel.name})
            return [], none, {"event": "skipped", "detail": f"no model: {e}"}
        event = "reestimated"
    assert fitted is not None
    forecasts = _nowcasts(fitted, data, frame, as_of, panel.horizon)
    st = fitted.to_state()
    metrics = {**st.metrics, "panel": panel.name, "dropped": list(data.dropped), "nowcast": {
        "digest": digest, "month": month, "as_of": as_of.isoformat(),
        "forecasts": [f.model_dump(mode="json", exclude={"as_of"}) for f in forecasts]}}
    st = replace(st, last_date=min(st.last_date, as_of), metrics=metrics)
    return forecasts, st, {"event": event, "detail": reason or f"to {st.last_date}"}


def _estimate(data: PanelData, key: str, anchor: date) -> DfmFitted:
    """EM on the months up to `anchor` (all of them when too few are), then extended to the whole
    panel; fitted_at is the anchor. Cold: a warm start does not pay for DynamicFactorMQ (dfm.fit)."""
    head = data.frame.loc[: pd.Timestamp(anchor)]
    if head.index.to_period("M").nunique() < MIN_ANCHORED_MONTHS:
        head = data.frame
    return DfmFitted.fit(head, data.spec, name=key, fitted_at=anchor).extend(data.frame)


def _nowcasts(fitted: DfmFitted, data: PanelData, frame: pd.DataFrame, as_of: date, horizon: int) -> list[Forecast]:
    """Each target's forecasts through `horizon` of its periods after as_of's; annual targets at their
    fourth quarters, dated like the target's observations."""
    q_of = pd.Period(pd.Timestamp(as_of), freq="Q")
    need = {t: (4 - q_of.quarter) + 4 * horizon if f == "A" else horizon for t, f in data.target_freq.items()}
    dates = {t: frame[t].dropna() for t in data.target_freq if t in frame.columns}
    out = []
    for fc in fitted.nowcast(as_of, max(need.values()), level=INTERVAL_LEVEL, dates=dates):
        freq = data.target_freq[fc.series_id]
        last = pd.Period(pd.Timestamp(as_of), freq="Y" if freq == "A" else freq) + horizon
        keep = [i for i, d in enumerate(fc.dates)
                if (freq != "A" or pd.Timestamp(d).month in (10, 11, 12))
                and pd.Period(pd.Timestamp(d), freq="Y" if freq == "A" else freq) <= last]
        if not keep:
            continue
        values: dict[str, Any] = {k: [getattr(fc, k)[i] for i in keep] for k in ("mean", "std", "lower", "upper")}
        steps = [fc.dates[i] for i in keep]
        if freq == "A":
            steps = [_year_date(pd.Timestamp(d).year, dates.get(fc.series_id)) for d in steps]
        out.append(fc.model_copy(update={**values, "dates": steps}))
    return out


def _year_date(year: int, observed: pd.Series | None) -> date:
    """A year dated like the target's observations: 1 January when they are, else 31 December."""
    starts = observed is not None and len(observed) and all(
        pd.Timestamp(d).month == 1 and pd.Timestamp(d).day == 1 for d in observed.index[-3:])
    return date(year, 1, 1) if starts else date(year, 12, 31)
