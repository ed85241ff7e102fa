"""Forecasting: ARIMA/ETS level forecasts, GARCH volatility and VaR, regime probabilities.

Public API (what the composer, `cycle.step_assess`, calls through `layer.forecast_layer`)::

    from sco_monitor.assess.forecast import run_forecasts, ForecastRun
    from sco_monitor.executor import make_executor

    # states: {(series_id, slot): ModelState}, read by the composer from store.model_states
    with make_executor(settings.executor) as ex:
        run = run_forecasts(frames, series, as_of, states, settings.assessment, ex)
    # the composer saves run.states: what this run estimated or extended

`frames` is the wide frame of levels (DatetimeIndex × series ids) knowable at `as_of`;
rows after `as_of` are ignored. `ForecastRun` carries:

- `forecasts`: level forecasts (`assess.model.Forecast`, series' unit, mean/std/90% interval),
  one per series that has a level slot; `model` names the family chosen (arima, ets, rw);
- `return_forecasts`: GARCH (or EWMA) and regime forecasts of the returns (percent log returns,
  or changes in the series' unit for rates, spreads and non-positive series);
- `volatility[series_id]`: GARCH conditional volatility of the last return (return unit);
- `var[series_id]`: one-day VaR and expected shortfall at 95/99% on the series' risk side
  (`var95`, `es95`, `var99`, `es99`, `sigma`, `mean`, `side`, `model`, `unit`);
- `regime_prob[series_id]`: P(high-volatility regime) at the last date;
- `states`: the updated `ModelState`s; `notes`: fallbacks, skipped and failed models;
  `events`: per series and slot, whether it was extended or re-estimated and why.

Default models per series (`run.plan_slots`): macro series and market series observed monthly
or less often get a level model; daily/weekly market series get GARCH and the regime model
(cheap every day by extension) and a level model too when listed in
`assessment.forecast_series`.

The building blocks follow arch's split of specification and result: a `Spec` per family
(`ArimaSpec`, `EtsSpec`, `RandomWalkSpec`, `GarchSpec`, `EwmaSpec`, `RegimeSpec`),
`fit(y, spec) -> Fitted`, `Fitted.extend(new_y)` at fixed parameters,
`Fitted.forecast(h, level)`, `Fitted.to_state(slot)` and `restore(state, history)`.
Families are registered by name in `FORECASTERS`.
"""

from sco_monitor.assess.forecast.base import (
    FORECASTERS,
    FitFailed,
    Fitted,
    ModelState,
    Spec,
    StateMismatch,
    fit,
    restore,
)
from sco_monitor.assess.forecast.run import ForecastRun, plan_slots, run_forecasts, run_series

__all__ = [
    "FORECASTERS",
    "FitFailed",
    "Fitted",
    "ForecastRun",
    "ModelState",
    "Spec",
    "StateMismatch",
    "fit",
    "plan_slots",
    "restore",
    "run_forecasts",
    "run_series",
]
