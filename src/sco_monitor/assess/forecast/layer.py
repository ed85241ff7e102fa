"""The forecast layer as the pipeline's `forecaster`: load states, run the models, save states."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sco_monitor.assess.forecast.run import run_forecasts
from sco_monitor.assess.model import Forecast
from sco_monitor.context import Context
from sco_monitor.executor import make_executor
from sco_monitor.store.model_states import load_states, save_states


def forecast_layer(ctx: Context, frame: pd.DataFrame, as_of: date) -> tuple[list[Forecast], dict[str, float]]:
    """Level forecasts and P(high-volatility regime) at as_of, extending the stored model states."""
    settings = ctx.config.settings
    series = [s for s in ctx.config.universe.series if s.enabled and s.id in frame.columns]
    states = load_states(ctx.store, [s.id for s in series])
    with make_executor(settings.executor) as ex:
        run = run_forecasts(frame, series, as_of, states, settings.assessment, ex)
    save_states(ctx.store, run.states)
    return run.forecasts, run.regime_prob
