"""One forecasting run: which models each series gets, incremental by default, spread over an executor.

`run_forecasts` is a pure function of (frames, series, as_of, states, settings); the per-series
work (`run_series`) takes and returns plain picklable values so any executor can run it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from sco_monitor.assess.forecast.base import (
    FORECASTERS,
    FitFailed,
    Fitted,
    ModelState,
    StateMismatch,
    clean,
    fit,
    restore,
)
from sco_monitor.assess.forecast.select import fit_level, fit_regime, fit_volatility
from sco_monitor.assess.model import Forecast
from sco_monitor.catalog import Series
from sco_monitor.config.settings import AssessmentConfig
from sco_monitor.config.types import ModelSlot
from sco_monitor.executor import Executor
from sco_monitor.logs import get_logger
from sco_monitor.timeutil import CALENDAR_EPOCH, period_start, to_date


#: Central probability of every forecast interval.
INTERVAL_LEVEL = 0.9
#: Kinds whose positive levels are modelled in logs (returns in percent).
LOG_KINDS = frozenset({"equity", "fx", "commodity", "volatility", "bond"})
#: Frequencies with enough observations for return models (GARCH, regime).
RETURN_FREQS = frozenset({"B", "D", "W"})
#: Family of the state that remembers a failed estimation until the next scheduled attempt.
NO_MODEL = "none"
#: Scheduling order of the slots in a run: the level models (ARIMA/ETS selection) cost the most.
SLOT_COST: dict[str, int] = {"level": 0, "regime": 1, "volatility": 2}
#: Slots whose daily outputs the assessment does not read (the replay asks only for what it reads:
#: level forecasts and regime probabilities); the report reads the volatility model's stored state.
UNREAD_SLOTS: frozenset[ModelSlot] = frozenset({"volatility"})
#: Families of the level slot, for which a re-estimation may keep the chosen specification.
LEVEL_FAMILIES = frozenset({"arima", "ets", "rw"})


def due(fitted_at: date, as_of: date, every: timedelta) -> bool:
    """A new period has begun since the model was estimated."""
    return period_start(as_of, every) > period_start(fitted_at, every)

log = get_logger(__name__)


def plan_slots(series: Series, settings: AssessmentConfig) -> tuple[ModelSlot, ...]:
    """The default models of a series.

    macro series, and market series observed monthly or less often: level (ARIMA/ETS/random walk);
    market series observed daily or weekly: volatility (GARCH) and regime, cheap every day by
    extension, plus level when listed in `assessment.forecast_series`.
    """
    if series.kind == "macro" or series.frequency not in RETURN_FREQS:
        return ("level",)
    slots: tuple[ModelSlot, ...] = ("volatility", "regime")
    if series.id in settings.forecast_series:
        slots = ("level", *slots)
    return slots


@dataclass(frozen=True)
class SeriesTask:
    """Everything one series needs; picklable for process pools and Dask."""

    series_id: str
    kind: str
    direction: str
    frequency: str
    y: pd.Series
    as_of: date
    slots: tuple[ModelSlot, ...]
    states: dict[str, ModelState]
    horizon: int
    reestimate_every: timedelta
    reselect_every: timedelta = timedelta(days=91)
    level_window: int = 0
    level: float = INTERVAL_LEVEL
    #: publish the return forecasts, volatility and VaR (the assessment reads only the level
    #: forecasts and the regime probability; the replay asks for those alone)
    return_outputs: bool = True


@dataclass(frozen=True)
class SeriesDaysTask:
    """One task over consecutive days (the replay): `task` as of the last day (its `y` up to that
    day, its `states` those before the first day); on each day the series is cut to what was
    visible then (`lag_days` after its date)."""

    task: SeriesTask
    days: tuple[date, ...]
    lag_days: int = 0


@dataclass
class SeriesOutcome:
    series_id: str
    forecasts: list[Forecast] = field(default_factory=list)
    return_forecasts: list[Forecast] = field(default_factory=list)
    states: dict[str, ModelState] = field(default_factory=dict)
    volatility: float | None = None
    var: dict[str, Any] | None = None
    regime_prob: float | None = None
    events: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ForecastRun:
    """What a run produced. `states` holds every state this run estimated or extended (to save)."""

    as_of: date
    forecasts: list[Forecast] = field(default_factory=list)
    return_forecasts: list[Forecast] = field(default_factory=list)
    states: dict[tuple[str, str], ModelState] = field(default_factory=dict)
    volatility: dict[str, float] = field(default_factory=dict)
    var: dict[str, dict[str, Any]] = field(default_factory=dict)
    regime_prob: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)

    def count(self, event: str) -> int:
        return sum(1 for e in self.events if e["event"] == event)


def run_forecasts(
    frames: pd.DataFrame,
    series: list[Series],
    as_of: date,
    states: dict[tuple[str, str], ModelState],
    settings: AssessmentConfig,
    executor: Executor,
) -> ForecastRun:
    """`start_forecasts` collected at once."""
    return start_forecasts(frames, series, as_of, states, settings, executor)()


def start_forecasts(
    frames: pd.DataFrame,
    series: list[Series],
    as_of: date,
    states: dict[tuple[str, str], ModelState],
    settings: AssessmentConfig,
    executor: Executor,
) -> Callable[[], ForecastRun]:
    """Forecast every series' default models at `as_of` from the wide frame of levels.

    Stored states are extended with the observations since their last date; a model is
    re-estimated when it has no usable state, when a period of the `reestimate_every` calendar has
    begun (on the data up to the period's first day, then extended: a cold run and a replay
    re-estimate on the same data), or when its one-step errors since estimation show the fit has
    degraded (then on all the data, at most once per period). Re-estimation starts from the previous parameters. Nothing
    dated after `as_of` is used. One failing series never stops the others: its failure becomes a note.
    The work starts on `executor` now; calling the result waits for it and returns the run.
    """
    as_of = to_date(as_of)
    start = time.perf_counter()
    run = ForecastRun(as_of=as_of)
    absent: list[str] = []
    tasks = _tasks(frames.loc[: pd.Timestamp(as_of)], series, as_of, states, settings, absent)
    run.notes += [_no_observations(sid, as_of) for sid in absent]
    # the costliest kinds of model first, so the pool's last task is a cheap one; results in task order
    order = _costliest_first(tasks)
    pending = executor.start(run_series, [tasks[i] for i in order])
    return lambda: _collected(run, tasks, order, pending(), executor.kind, start)


def _tasks(frames: pd.DataFrame, series: list[Series], as_of: date, states: Mapping[tuple[str, str], ModelState],
           settings: AssessmentConfig, absent: list[str], return_outputs: bool = True) -> list[SeriesTask]:
    """One task per series and slot, so a series' expensive level model does not hold up its other
    models; the ids of series without observations go to `absent`."""
    tasks: list[SeriesTask] = []
    for s in series:
        y = frames[s.id] if s.id in frames.columns else pd.Series(dtype=float)
        y = clean(y.dropna()).rename(s.id)
        if y.empty:
            absent.append(s.id)
            continue
        tasks += [SeriesTask(
            series_id=s.id, kind=s.kind, direction=s.direction, frequency=s.frequency, y=y, as_of=as_of,
            slots=(slot,), states={slot: states[(s.id, slot)]} if (s.id, slot) in states else {},
            horizon=settings.forecast_horizon, reestimate_every=settings.reestimate_period(slot),
            reselect_every=settings.reselect_every, level_window=settings.level_window,
            return_outputs=return_outputs,
        ) for slot in plan_slots(s, settings)]
    return tasks


def _no_observations(series_id: str, as_of: date) -> str:
    return f"{series_id}: no observations up to {as_of}; no forecast"


def _costliest_first(tasks: Sequence[SeriesTask]) -> list[int]:
    return sorted(range(len(tasks)), key=lambda i: SLOT_COST[tasks[i].slots[0]])


def start_forecast_days(
    frames: pd.DataFrame,
    series: list[Series],
    days: Sequence[date],
    states: Mapping[tuple[str, str], ModelState],
    settings: AssessmentConfig,
    executor: Executor,
    lags: Mapping[str, int] | None = None,
    unread: bool = True,
) -> Callable[[], list[ForecastRun]]:
    """`start_forecasts` on each of `days` (increasing) at once, for the replay: one task per series
    and slot over all the days, whose worker keeps the model in memory from one day to the next (no
    state restored, no task sent per day). Day D sees each series up to D minus its publication lag
    (`lags`, days), as D's point-in-time frame does; each day's run equals `start_forecasts` on D
    from the previous day's states, and carries that day's states (a replay stopped inside a block
    saves the states of its last finished day). Only what the assessment reads is published (level
    forecasts, regime probabilities); the volatility model, which publishes nothing then, moves on
    the block's last day only (`run_series_days`), and not at all with `unread` False (for a block
    after which the caller saves no state: the next block that ends at a save starts from the states
    before, re-estimated on its own day's calendar period)."""
    days = [to_date(d) for d in days]
    absent: list[str] = []
    tasks = _tasks(frames.loc[: pd.Timestamp(days[-1])], series, days[-1], states, settings, absent,
                   return_outputs=False)
    if not unread:
        tasks = [t for t in tasks if t.slots[0] not in UNREAD_SLOTS]
    lag = dict(lags or {})
    jobs = [SeriesDaysTask(t, tuple(days), lag.get(t.series_id, 0)) for t in tasks]
    order = _costliest_first(tasks)
    pending = executor.start(run_series_days, [jobs[i] for i in order])

    def collect() -> list[ForecastRun]:
        by_task = dict(zip(order, pending(), strict=True))
        runs = []
        for k, day in enumerate(days):
            run = ForecastRun(as_of=day, notes=[_no_observations(sid, day) for sid in absent])
            outcomes = [by_task[i][k] for i in range(len(tasks))]
            # logged seconds: the day's own model time in the workers
            runs.append(_collected(run, tasks, list(range(len(tasks))), outcomes, executor.kind,
                                   time.perf_counter() - sum(o.seconds for o in outcomes)))
        return runs

    return collect


def _collected(run: ForecastRun, tasks: list[SeriesTask], order: list[int], outcomes: list[SeriesOutcome],
               executor: str, start: float) -> ForecastRun:
    """The run with the tasks' outcomes merged in task order (they ran costliest first)."""
    done = dict(zip(order, outcomes, strict=True))
    for out in (done[i] for i in range(len(tasks))):
        run.notes += out.notes
        run.forecasts += out.forecasts
        run.return_forecasts += out.return_forecasts
        run.states.update({(out.series_id, slot): st for slot, st in out.states.items()})
        if out.volatility is not None:
            run.volatility[out.series_id] = out.volatility
        if out.var is not None:
            run.var[out.series_id] = out.var
        if out.regime_prob is not None:
            run.regime_prob[out.series_id] = out.regime_prob
        for e in out.events:
            run.events.append(e)
            if e["event"] in ("fallback", "failed", "skipped"):
                run.notes.append(f"{e['series']} {e['slot']}: {e['detail']}")
                log.warning(f"forecast.{e['event']}", series=e["series"], slot=e["slot"], detail=e["detail"])
    log.info("forecast_run", as_of=run.as_of.isoformat(), series=len({t.series_id for t in tasks}), executor=executor,
             reestimated=run.count("reestimated"), extended=run.count("extended"),
             fallbacks=run.count("fallback"), failed=run.count("failed"),
             seconds=round(time.perf_counter() - start, 3))
    return run


# --- the per-series work ----------------------------------------------------------------------------
def run_series(task: SeriesTask) -> SeriesOutcome:
    """Advance and forecast every slot of one series; failures become events, never exceptions."""
    t0 = time.perf_counter()
    out = SeriesOutcome(task.series_id)
    for slot in task.slots:
        _run_slot(task, slot, out)
    out.seconds = time.perf_counter() - t0
    return out


def run_series_days(job: SeriesDaysTask) -> list[SeriesOutcome]:
    """`run_series` on each day of `job`, the model kept in memory from one day to the next (extended
    as `restore` would extend its state: the same model at fixed parameters); an outcome per day.

    A slot that publishes nothing here (`UNREAD_SLOTS` when only what the assessment reads is asked
    for) runs on the block's last day alone, from the state before the block: re-estimated on that
    day's calendar period or extended, as a run on that day would, so the state the replay saves is
    a current one, at a twentieth of the days' work."""
    task, outs = job.task, []
    (slot,) = task.slots
    state, live = task.states.get(slot), None
    dates = task.y.index
    visible = int(dates.searchsorted(pd.Timestamp(job.days[-1]) - pd.Timedelta(days=job.lag_days), side="right"))
    unread = slot in UNREAD_SLOTS and not task.return_outputs
    for day in job.days:
        t0 = time.perf_counter()
        out = SeriesOutcome(task.series_id)
        if unread and day != job.days[-1]:
            outs.append(out)  # nothing published, the state carried: advanced on the block's last day
            continue
        cut = int(dates.searchsorted(pd.Timestamp(day) - pd.Timedelta(days=job.lag_days), side="right"))
        if cut == 0:
            out.notes.append(_no_observations(task.series_id, day))
        else:
            today = dataclasses.replace(task, y=task.y.iloc[:cut], as_of=day,
                                        states={slot: state} if state is not None else {})
            continued = live is not None and state is not None and _same_model(live, state)
            live = _run_slot(today, slot, out, live)
            state = out.states.get(slot, state)
            # a model extended from yesterday's carries its pass; a restored or re-estimated one makes its own
            if live is not None and not (continued and _extended(out)):
                live.filter_ahead(task.y.iloc[int(dates.searchsorted(pd.Timestamp(live.last_date), side="right")):visible])
        out.seconds = time.perf_counter() - t0
        outs.append(out)
    return outs


def _extended(out: SeriesOutcome) -> bool:
    return any(e["event"] == "extended" for e in out.events)


def _run_slot(task: SeriesTask, slot: ModelSlot, out: SeriesOutcome, live: Fitted | None = None) -> Fitted | None:
    """One slot's day: advance (from `live`, the model of the previous day, when given), publish,
    record the state; the fitted model, or None when there is none."""
    try:
        fitted = _advance(task, slot, out, live)
        if isinstance(fitted, ModelState):  # no model until the next scheduled attempt
            out.states[slot] = fitted
            return None
        _publish(task, slot, fitted, out)
        out.states[slot] = fitted.to_state(slot)
        return fitted
    except Exception as e:  # noqa: BLE001 - one model's failure must not stop the series or the run
        out.events.append(_event(task, slot, "failed", f"{type(e).__name__}: {e}"))
        return None


def _advance(task: SeriesTask, slot: ModelSlot, out: SeriesOutcome, live: Fitted | None = None) -> Fitted | ModelState:
    """Extend the stored model, or re-estimate it and say why. `live`: the model the stored state
    was made from, kept in memory (extended directly instead of restored from the state).

    A failed estimation returns a "no model" state, so the attempt is repeated on the
    schedule (or when the data change), not every day.
    """
    state = task.states.get(slot)
    wanted = _transform(task)
    reason: str | None = None
    fitted: Fitted | None = None
    on_calendar = True  # estimate on the data up to the period's first day (else on all the data)
    if state is None:
        reason = "no stored state"
    elif state.last_date > task.as_of:
        reason = f"the stored state ends {state.last_date}, after as_of"
    elif _stored_transform(state) not in (wanted, None):
        reason = f"the transform changed to {wanted}"
    elif due(state.fitted_at, task.as_of, task.reestimate_every):
        reason = (f"scheduled (estimated {state.fitted_at}, every {task.reestimate_every.days}d from "
                  f"{CALENDAR_EPOCH})")
    elif state.family == NO_MODEL:
        out.events.append(_event(task, slot, "skipped", f"no model since {state.fitted_at}: "
                                                        f"{state.metrics.get('reason', '')}"))
        return state
    else:
        try:
            fitted = _continued(live, task.y) if _same_model(live, state) else restore(state, task.y)
        except (StateMismatch, FitFailed, ValueError) as e:
            reason = f"cannot continue the stored state: {e}"
        else:
            # at most one re-estimation for a degraded fit per period: a break is news once; after
            # that the model keeps its new parameters until the calendar's next period
            refitted = state.fitted_at > period_start(task.as_of, task.reestimate_every)
            if fitted.degraded() and not refitted:
                reason = (f"fit degraded: one-step errors since {fitted.fitted_at} have p="
                          f"{fitted.degradation_p:.1e} over {fitted.metrics['oos_n']} observations")
                on_calendar = False
    if reason is None and fitted is not None:
        out.events.append(_event(task, slot, "extended", f"to {fitted.last_date}"))
        return fitted
    anchor = period_start(task.as_of, task.reestimate_every) if on_calendar else task.as_of
    try:
        fitted = _estimate_at(task, slot, anchor, state)
    except FitFailed as e:
        out.events.append(_event(task, slot, "skipped", f"no model: {e}"))
        last = task.y.index[-1].date()
        return ModelState(series_id=task.series_id, model=slot, family=NO_MODEL, spec={}, fitted_at=anchor,
                          last_date=last, nobs=len(task.y), params={}, metrics={"reason": str(e)})
    out.events.append(_event(task, slot, "reestimated", reason or ""))
    if "fallback" in fitted.metrics:
        out.events.append(_event(task, slot, "fallback", str(fitted.metrics["fallback"])))
    return fitted


def _same_model(live: Fitted | None, state: ModelState) -> bool:
    return (live is not None and live.family == state.family and live.last_date == state.last_date
            and live.fitted_at == state.fitted_at and live.nobs == state.nobs)


def _continued(live: Fitted, y: pd.Series) -> Fitted:
    """`live` extended with the observations after its last date (what `restore` does from its state)."""
    cut = int(y.index.searchsorted(pd.Timestamp(live.last_date), side="right"))
    return live.extend(y.iloc[cut:]) if cut < len(y) else live


def _estimate_at(task: SeriesTask, slot: ModelSlot, anchor: date, prior: ModelState | None) -> Fitted:
    """Estimate on the observations up to `anchor` (all of them when too few are), then extend to
    the end; fitted_at is the anchor. Warm-started from `prior` when it is an estimate of the same
    kind; a warm start that fails is retried cold."""
    cut = int(task.y.index.searchsorted(pd.Timestamp(anchor), side="right"))
    head = task.y.iloc[:cut] if cut >= max(MIN_ANCHORED_OBS, len(task.y) // 2) else task.y
    # warm only from an estimate of the past: a state from after as_of never informs the fit
    warm = prior if prior is not None and prior.family != NO_MODEL and prior.last_date <= task.as_of else None
    try:
        fitted = _estimate(task, slot, head, anchor, warm)
    except FitFailed:
        if warm is None:
            raise
        fitted = _estimate(task, slot, head, anchor, None)
    if len(head) < len(task.y):
        fitted = fitted.extend(task.y.iloc[len(head):])
    fitted.fitted_at = anchor if len(head) < len(task.y) else task.as_of
    return fitted


#: Fewer observations than this up to the period's first day: estimate on all of them instead.
MIN_ANCHORED_OBS = 30


def _estimate(task: SeriesTask, slot: ModelSlot, y: pd.Series, anchor: date, prior: ModelState | None) -> Fitted:
    transform = _transform(task)
    start = {**prior.params, "scale": prior.metrics.get("scale", 1.0)} if prior is not None else None
    if slot == "level":
        if task.level_window and len(y) > task.level_window:
            y = y.iloc[-task.level_window:]
        if (prior is not None and prior.family in LEVEL_FAMILIES
                and not due(_selected_at(prior), anchor, task.reselect_every)):
            spec = FORECASTERS.get(prior.family).spec_type.model_validate(prior.spec)
            kept = fit(y, spec, start)
            kept.metrics.update({k: v for k, v in prior.metrics.items()
                                 if k in ("candidates", "backtest", "selected", "selection", "differences",
                                          "selected_at", "fallback")})
            kept.metrics.setdefault("selected_at", _selected_at(prior).isoformat())
            return kept
        chosen = fit_level(y, transform=transform, freq=task.frequency, horizon=task.horizon, level=task.level)
        chosen.metrics["selected_at"] = anchor.isoformat()
        return chosen
    returns = "log" if transform == "log" else "diff"
    if slot == "volatility":
        garch = prior is not None and prior.family == "garch"
        held = _held_backtest(prior, anchor, task.reselect_every) if garch else None
        fitted = fit_volatility(y, returns=returns, freq=task.frequency, side=task.direction,
                                start=start if garch else None, backtest_params=held)
        backtest = fitted.metrics.get("backtest")
        if isinstance(backtest, dict) and "params" in backtest:
            backtest["params"]["estimated_at"] = (held or {}).get("estimated_at", anchor.isoformat())
        return fitted
    return fit_regime(y, returns=returns, freq=task.frequency, start=start)


def _held_backtest(prior: ModelState, anchor: date, every: timedelta) -> dict[str, Any] | None:
    """The volatility backtest's parameters of the previous estimation, held until the reselection
    calendar's next period (the backtest then estimates before its window again): a backtest model
    costs a GARCH estimation, and parameters from before an earlier window are before this one too."""
    params = (prior.metrics.get("backtest") or {}).get("params")
    if not isinstance(params, dict) or not isinstance(params.get("estimated_at"), str):
        return None
    return None if due(date.fromisoformat(params["estimated_at"]), anchor, every) else params


def _selected_at(state: ModelState) -> date:
    raw = state.metrics.get("selected_at")
    return date.fromisoformat(raw) if isinstance(raw, str) else state.fitted_at


def _publish(task: SeriesTask, slot: ModelSlot, fitted: Fitted, out: SeriesOutcome) -> None:
    if slot == "level":
        out.forecasts.append(fitted.forecast(task.horizon, task.level, as_of=task.as_of))
        return
    if not task.return_outputs:
        if slot == "regime":
            out.regime_prob = fitted.high_vol_probability  # type: ignore[attr-defined]
        return
    fc = fitted.forecast(task.horizon, task.level, as_of=task.as_of)
    if slot == "volatility":
        out.return_forecasts.append(fc)
        out.volatility = float(fitted.conditional_volatility.iloc[-1])  # type: ignore[attr-defined]
        out.var = fitted.risk(task.direction)  # type: ignore[attr-defined]
    else:
        out.return_forecasts.append(fc)
        out.regime_prob = fitted.high_vol_probability  # type: ignore[attr-defined]


def _transform(task: SeriesTask) -> Literal["log", "none"]:
    return "log" if task.kind in LOG_KINDS and bool((task.y.to_numpy() > 0).all()) else "none"


def _stored_transform(state: ModelState) -> str | None:
    if state.family == NO_MODEL:
        return None
    if "transform" in state.spec:
        return str(state.spec["transform"])
    return "log" if state.spec.get("returns") == "log" else "none"


def _event(task: SeriesTask, slot: str, event: str, detail: str) -> dict[str, str]:
    return {"series": task.series_id, "slot": slot, "event": event, "detail": detail}
