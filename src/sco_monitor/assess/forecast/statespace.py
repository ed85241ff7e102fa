"""What ARIMA and ETS share: statsmodels state-space models kept as a compact filter state.

A fitted state-space model is fully described, for the future, by its parameters and the
filter's state at the end of the data. Extending re-creates the model on the new observations
only, initialised at that state (what statsmodels' `MLEResults.extend` does), so a daily run
costs the new observations, not the history; forecasting filters h missing observations.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import date
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from sco_monitor.assess.forecast.base import (
    Fitted,
    ModelState,
    Spec,
    Transform,
    level_moments,
    to_internal,
)
from sco_monitor.assess.model import Forecast


class LevelSpec(Spec):
    transform: Transform = "none"


class StateSpaceFitted(Fitted):
    """A fitted statsmodels MLEModel reduced to (params, carried filter state)."""

    spec: LevelSpec
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: LevelSpec, *, carry: dict[str, np.ndarray], **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.carry = {k: np.asarray(v, dtype=float) for k, v in carry.items()}
        self._pred: tuple[np.ndarray, np.ndarray] | None = None  # the longest predictive computed

    @abstractmethod
    def _model(self, endog: np.ndarray) -> Any:
        """The family's statsmodels model on `endog`, initialised at the carried state."""

    @classmethod
    @abstractmethod
    def _carry_of(cls, res: Any) -> dict[str, np.ndarray]:
        """The filter state at the end of `res` that the next extension starts from."""

    def _filter(self, endog: np.ndarray) -> Any:
        mod = self._model(endog)
        params = np.array([self.params[name] for name in mod.param_names], dtype=float)
        return mod.filter(params, cov_type="none")

    def extend(self, new_y: pd.Series) -> Self:
        new_y = self._new_points(new_y)
        if not len(new_y):
            return self
        res = self._filter(to_internal(new_y.to_numpy(), self.spec.transform))
        scores = np.asarray(res.standardized_forecasts_error)[0]
        return type(self)(self.spec, carry=self._carry_of(res), **self._moved(new_y, len(new_y), scores))

    def predictive(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the internal level over the next h steps. Kept with the model: a
        monthly series' model stays the same on the days between its releases and is forecast on
        each of them (step k's moments do not depend on h, so a shorter horizon is a prefix)."""
        if self._pred is None or len(self._pred[0]) < h:
            res = self._filter(np.full(h, np.nan))
            self._pred = (np.asarray(res.forecasts)[0].copy(), np.asarray(res.forecasts_error_cov)[0, 0].copy())
        return self._pred[0][:h].copy(), self._pred[1][:h].copy()

    def forecast(self, h: int, level: float = 0.9, as_of: date | None = None) -> Forecast:
        mean, var = self.predictive(h)
        m, sd, lo, hi = level_moments(mean, var, self.spec.transform, level)
        return self._forecast_result(h, level, as_of, m, sd, lo, hi)

    def _arrays(self) -> dict[str, np.ndarray]:
        return dict(self.carry)

    @classmethod
    def from_state(cls, state: ModelState, history: pd.Series) -> Self:
        carry = {k: v for k, v in state.arrays().items() if k not in ("version", "last_value")}
        return cls(cls.spec_type.model_validate(state.spec), carry=carry, **cls._restored(state))


def information_criteria(llf: float, k: int, n: int) -> dict[str, float]:
    aic = -2 * llf + 2 * k
    aicc = aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)
    return {"llf": float(llf), "aic": float(aic), "aicc": float(aicc), "bic": float(-2 * llf + k * np.log(n))}
