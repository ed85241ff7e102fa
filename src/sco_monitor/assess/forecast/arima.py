"""ARIMA (statsmodels SARIMAX) for levels and macro series, and the random walk it falls back to.

Levels are modelled as 100·ln(y) for positive market series (so a forecast is log-normal in
the series' unit) or as they are for rates, spreads and macro series. Orders are small and
chosen by AIC among a few candidates (see `select.py`); the differencing order comes from a
KPSS test unless the spec fixes it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.stattools import kpss

from sco_monitor.assess.forecast.base import (
    start_values,
    FORECASTERS,
    FitFailed,
    Fitted,
    ModelState,
    check_finite,
    clean,
    guarded,
    level_moments,
    require_converged,
    to_internal,
)
from sco_monitor.assess.forecast.statespace import LevelSpec, StateSpaceFitted, information_criteria
from sco_monitor.assess.model import Forecast


class ArimaSpec(LevelSpec):
    family: Literal["arima"] = "arima"
    order: tuple[int, int, int] = (1, 1, 0)
    trend: Literal["n", "c"] = "c"

    @property
    def label(self) -> str:
        p, d, q = self.order
        return f"ARIMA({p},{d},{q}){'+c' if self.trend == 'c' else ''}"


def _sarimax(endog: np.ndarray, spec: ArimaSpec, **kw: Any) -> Any:
    return SARIMAX(endog, order=spec.order, trend=spec.trend, **kw)


@FORECASTERS.register("arima")
class ArimaFitted(StateSpaceFitted):
    """SARIMAX at fixed parameters; carried state: the predicted state and its covariance."""

    family = "arima"
    spec_type = ArimaSpec
    spec: ArimaSpec

    @classmethod
    def fit(cls, y: pd.Series, spec: ArimaSpec, start: Mapping[str, float] | None = None) -> Self:
        y = clean(y)
        z = to_internal(y.to_numpy(), spec.transform)
        p, d, q = spec.order
        k = p + q + (spec.trend == "c")
        if len(z) < max(12, 4 * (k + 1) + d):
            raise FitFailed(f"{spec.label}: {len(z)} observations are too few")
        with guarded(spec.label):
            if k:
                mod = _sarimax(z, spec, concentrate_scale=True)
                res = mod.fit(start_params=start_values(mod.param_names, start), disp=False, low_memory=True,
                              cov_type="none")
                require_converged(res, spec.label)
                params = np.r_[np.asarray(res.params, dtype=float), float(res.scale)]
            else:
                res = _sarimax(z, spec).fit(disp=False, low_memory=True, cov_type="none")
                require_converged(res, spec.label)
                params = np.asarray(res.params, dtype=float)
            full = _sarimax(z, spec)
            fres = full.filter(params, cov_type="none")
        check_finite(spec.label, params=params, llf=fres.llf)
        if params[-1] <= 0:
            raise FitFailed(f"{spec.label}: zero innovation variance")
        ic = information_criteria(fres.llf, len(params), int(fres.nobs_effective))
        return cls(spec, carry=cls._carry_of(fres), series_id=str(y.name or ""),
                   params=dict(zip(full.param_names, params, strict=True)), last_date=y.index[-1].date(),
                   last_value=float(y.iloc[-1]), nobs=len(y), fitted_at=y.index[-1].date(),
                   metrics={"model": spec.label, **ic})

    mean_state, state_cov = "a", "P"

    def _model(self, endog: np.ndarray, carry: dict[str, np.ndarray]) -> Any:
        mod = _sarimax(endog, self.spec)
        mod.ssm.initialize_known(carry["a"], carry["P"])
        return mod

    @classmethod
    def _carry_at(cls, res: Any, n: int) -> dict[str, np.ndarray]:
        return {"a": np.array(res.predicted_state[:, n]), "P": np.array(res.predicted_state_cov[:, :, n])}


def kpss_differences(z: np.ndarray, alpha: float = 0.05) -> int:
    """0 when KPSS does not reject level stationarity at `alpha`, else 1 (as auto.arima does)."""
    if len(z) < 12 or np.ptp(z) == 0:
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KPSS warns when p is outside its table: the bound is still right
        _, pvalue, *_ = kpss(z, regression="c", nlags="auto")
    return int(pvalue < alpha)


def arima_candidates(d: int, transform: Literal["log", "none"], freq: str) -> list[ArimaSpec]:
    """A few small orders; with d=1 the constant is a drift, with d=0 a mean."""
    orders = [(0, 1, 0), (1, 1, 0), (0, 1, 1), (1, 1, 1)] if d else [(1, 0, 0), (2, 0, 0), (1, 0, 1)]
    return [ArimaSpec(order=o, trend="c", transform=transform, freq=freq) for o in orders]


# --- the random walk: the naive baseline and the last fallback -------------------------------------
class RandomWalkSpec(LevelSpec):
    family: Literal["rw"] = "rw"
    drift: bool = True

    @property
    def label(self) -> str:
        return "random walk with drift" if self.drift else "random walk"


@FORECASTERS.register("rw")
class RandomWalkFitted(Fitted):
    """y_t = y_{t-1} + drift + e_t. Needs no optimiser, so it cannot fail to converge."""

    family = "rw"
    spec_type = RandomWalkSpec
    spec: RandomWalkSpec

    @classmethod
    def fit(cls, y: pd.Series, spec: RandomWalkSpec, start: Mapping[str, float] | None = None) -> Self:
        y = clean(y)
        if len(y) < 2:
            raise FitFailed(f"{spec.label}: needs 2 observations, got {len(y)}")
        z = to_internal(y.to_numpy(), spec.transform)
        dz = np.diff(z)
        drift = float(dz.mean()) if spec.drift else 0.0
        sigma2 = float(np.mean((dz - drift) ** 2))
        return cls(spec, series_id=str(y.name or ""), params={"drift": drift, "sigma2": sigma2},
                   last_date=y.index[-1].date(), last_value=float(y.iloc[-1]), nobs=len(y),
                   fitted_at=y.index[-1].date(), metrics={"model": spec.label, "n_fit": len(y)})

    def _z_last(self) -> float:
        return float(to_internal(np.array([self.last_value]), self.spec.transform)[0])

    def extend(self, new_y: pd.Series) -> Self:
        new_y = self._new_points(new_y)
        if not len(new_y):
            return self
        z = to_internal(np.r_[self.last_value, new_y.to_numpy()], self.spec.transform)
        sd = np.sqrt(self.params["sigma2"])
        scores = (np.diff(z) - self.params["drift"]) / sd if sd > 0 else np.zeros(len(new_y))
        return type(self)(self.spec, **self._moved(new_y, len(new_y), scores))

    def predictive(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(1, h + 1, dtype=float)
        mean = self._z_last() + steps * self.params["drift"]
        var = self.params["sigma2"] * steps
        if self.spec.drift:  # the drift's own estimation error (Hyndman & Athanasopoulos, 5.5)
            var = var * (1 + steps / max(int(self.metrics.get("n_fit", self.nobs)) - 1, 1))
        return mean, var

    def forecast(self, h: int, level: float = 0.9, as_of: date | None = None) -> Forecast:
        mean, var = self.predictive(h)
        m, sd, lo, hi = level_moments(mean, var, self.spec.transform, level)
        return self._forecast_result(h, level, as_of, m, sd, lo, hi)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_state(cls, state: ModelState, history: pd.Series) -> Self:
        return cls(cls.spec_type.model_validate(state.spec), **cls._restored(state))
