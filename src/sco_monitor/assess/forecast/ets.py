"""Exponential smoothing (statsmodels' state-space `ExponentialSmoothing`): simple, Holt, damped Holt.

The linear (additive-error) ETS models in state-space form give Gaussian prediction intervals
from the Kalman filter. Their states (level, trend) are exact functions of the data, so the
carried state is just the filtered level and trend at the last date: an extension is the same
model on the new observations with those as its known initial values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

from sco_monitor.assess.forecast.base import (
    start_values,
    FORECASTERS,
    FitFailed,
    check_finite,
    clean,
    guarded,
    require_converged,
    to_internal,
)
from sco_monitor.assess.forecast.statespace import LevelSpec, StateSpaceFitted, information_criteria


class EtsSpec(LevelSpec):
    family: Literal["ets"] = "ets"
    trend: bool = True
    damped: bool = False

    @property
    def label(self) -> str:
        return "ETS(A,Ad,N)" if self.damped else ("ETS(A,A,N)" if self.trend else "ETS(A,N,N)")


def _ets(endog: np.ndarray, spec: EtsSpec, **kw: Any) -> Any:
    return ExponentialSmoothing(endog, trend=spec.trend, damped_trend=spec.damped and spec.trend, **kw)


@FORECASTERS.register("ets")
class EtsFitted(StateSpaceFitted):
    """Smoothing parameters and sigma2 at fixed values; carried state: filtered level (and trend)."""

    family = "ets"
    spec_type = EtsSpec
    spec: EtsSpec

    @classmethod
    def fit(cls, y: pd.Series, spec: EtsSpec, start: Mapping[str, float] | None = None) -> Self:
        y = clean(y)
        z = to_internal(y.to_numpy(), spec.transform)
        if len(z) < 12:
            raise FitFailed(f"{spec.label}: {len(z)} observations are too few")
        with guarded(spec.label):
            mod = _ets(z, spec)
            k = 1 + spec.trend + (spec.damped and spec.trend)
            smooth = start_values(mod.param_names[:k], start)
            first = None if smooth is None else np.r_[smooth, np.asarray(mod.start_params, dtype=float)[k:]]
            res = mod.fit(start_params=first, disp=False, cov_type="none")
            require_converged(res, spec.label)
        k_smooth = 1 + spec.trend + (spec.damped and spec.trend)
        est = np.asarray(res.params, dtype=float)
        params = dict(zip(mod.param_names[:k_smooth], est[:k_smooth], strict=True))
        params["sigma2"] = float(res.scale)
        check_finite(spec.label, params=list(params.values()), llf=res.llf)
        if params["sigma2"] <= 0:
            raise FitFailed(f"{spec.label}: zero innovation variance")
        # smoothing params, damping, sigma2 and the estimated initial states
        ic = information_criteria(res.llf, len(est) + 1, len(z))
        return cls(spec, carry=cls._carry_of(res), series_id=str(y.name or ""), params=params,
                   last_date=y.index[-1].date(), last_value=float(y.iloc[-1]), nobs=len(y),
                   fitted_at=y.index[-1].date(), metrics={"model": spec.label, **ic})

    mean_state = "x"

    def _model(self, endog: np.ndarray, carry: dict[str, np.ndarray]) -> Any:
        x = carry["x"]
        return _ets(endog, self.spec, initialization_method="known", initial_level=float(x[0]),
                    initial_trend=float(x[1]) if self.spec.trend else None, concentrate_scale=False)

    @classmethod
    def _carry_at(cls, res: Any, n: int) -> dict[str, np.ndarray]:
        # state vector is (error, level[, trend]); the filtered values are the smoothing recursions'
        return {"x": np.array(res.filtered_state[1:, n - 1])}
