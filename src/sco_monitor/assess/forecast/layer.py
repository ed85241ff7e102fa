"""The forecast layer as the assessment's `forecaster`: frames and stored model states in, a
`ForecastRun` (forecasts, regime probabilities, the states to save) out. No IO: the composer
(`cycle.step_assess`) loads and saves the states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from sco_monitor.assess.forecast.base import ModelState
from sco_monitor.assess.forecast.nowcast_layer import run_nowcasts
from sco_monitor.assess.forecast.run import ForecastRun, start_forecast_days, start_forecasts
from sco_monitor.catalog import Series
from sco_monitor.config import AppConfig
from sco_monitor.executor import Executor, make_executor

StateKey = tuple[str, str]  # (series_id, model slot)

#: The seam where the forecast layer plugs in: (point-in-time frame, config, as_of, stored states
#: of `forecast_series`) → ForecastRun (`forecasts` of series levels in their own units,
#: `regime_prob` P(high-volatility regime) per series id, `states` estimated or extended).
Forecaster = Callable[[pd.DataFrame, AppConfig, date, Mapping[StateKey, ModelState]], ForecastRun]


def states_from_rows(rows: Mapping[StateKey, Mapping[str, Any]]) -> dict[StateKey, ModelState]:
    """Stored rows (`store.model_states.load_states`) as the ModelStates the models continue from."""
    return {key: ModelState(**row) for key, row in rows.items()}


def forecast_series(config: AppConfig, frame: pd.DataFrame) -> list[Series]:
    """The series the layer forecasts: enabled ones present in the frame (their states are loaded)."""
    return [s for s in config.universe.series if s.enabled and s.id in frame.columns]


def forecast_layer(frame: pd.DataFrame, config: AppConfig, as_of: date,
                   states: Mapping[StateKey, ModelState], executor: Executor | None = None) -> ForecastRun:
    """Level forecasts, P(high-volatility regime) and the nowcast panels' forecasts (model `dfm`) at
    as_of, extending the given model states.

    The per-series work runs on `executor` (the replay keeps one for all its days), else on one
    made from the config for this call; the panels run here, one after the other."""
    if executor is not None:
        return start_forecast_layer(frame, config, as_of, states, executor)()
    with make_executor(config.settings.executor) as ex:
        return start_forecast_layer(frame, config, as_of, states, ex)()


def start_forecast_layer(frame: pd.DataFrame, config: AppConfig, as_of: date,
                         states: Mapping[StateKey, ModelState], executor: Executor) -> Callable[[], ForecastRun]:
    """`forecast_layer` with the per-series work started on `executor` now; calling the result
    waits for it and runs the panels."""
    settings = config.settings
    pending = start_forecasts(frame, forecast_series(config, frame), as_of, dict(states), settings.assessment,
                              executor)

    return lambda: with_nowcasts(pending(), frame, config, as_of, states)


def with_nowcasts(run: ForecastRun, frame: pd.DataFrame, config: AppConfig, as_of: date,
                  states: Mapping[StateKey, ModelState]) -> ForecastRun:
    """The run with the nowcast panels' forecasts, notes and states added (the panels run here)."""
    settings = config.settings
    if settings.assessment.nowcasts:
        by_id = {s.id: s for s in config.universe.series}
        now = run_nowcasts(frame, settings.assessment.nowcasts, by_id, as_of, states)
        run.forecasts += now.forecasts
        run.states.update(now.states)
        run.notes += now.notes
        run.events += now.events
    return run


def start_series_days(frame: pd.DataFrame, config: AppConfig, days: Sequence[date],
                      states: Mapping[StateKey, ModelState], executor: Executor,
                      unread: bool = True) -> Callable[[], list[ForecastRun]]:
    """The per-series part of `forecast_layer` on each of `days` at once, from the year's frame of
    levels (`run.start_forecast_days`: each series cut to what D's point-in-time frame shows; with
    `unread` False, without the models no day reads); the replay adds each day's panels with `with_nowcasts`."""
    lags = {s.id: s.publication_lag_days for s in config.universe.series if s.publication_lag_days}
    return start_forecast_days(frame, forecast_series(config, frame), days, dict(states),
                               config.settings.assessment, executor, lags, unread)
