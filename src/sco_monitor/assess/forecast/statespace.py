"""What ARIMA and ETS share: statsmodels state-space models kept as a compact filter state.

A fitted state-space model is fully described, for the future, by its parameters and the
filter's state at the end of the data. Extending re-creates the model on the new observations
only, initialised at that state (what statsmodels' `MLEResults.extend` does), so a daily run
costs the new observations, not the history; forecasting filters h missing observations.

A replay's block of days (`filter_ahead`) filters the block's observations once: each day's
extension reads its state and one-step errors from that pass, and each day's forecast comes from
the block's forecast map (the h-step moments are affine in the carried state at fixed
parameters), both computed by statsmodels' filter.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
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
    #: The carried arrays the forecast mean is affine in, and the covariance its variance is linear
    #: in through the same loadings (None: the variance does not depend on the carried state).
    mean_state: ClassVar[str]
    state_cov: ClassVar[str | None] = None

    def __init__(self, spec: LevelSpec, *, carry: dict[str, np.ndarray], **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.carry = {k: np.asarray(v, dtype=float) for k, v in carry.items()}
        self._pred: tuple[np.ndarray, np.ndarray] | None = None  # the longest predictive computed
        self._ahead: LevelPass | None = None

    @abstractmethod
    def _model(self, endog: np.ndarray, carry: dict[str, np.ndarray]) -> Any:
        """The family's statsmodels model on `endog`, initialised at `carry`."""

    @classmethod
    @abstractmethod
    def _carry_at(cls, res: Any, n: int) -> dict[str, np.ndarray]:
        """The filter state after the first `n` observations of `res`, that an extension starts from."""

    @classmethod
    def _carry_of(cls, res: Any) -> dict[str, np.ndarray]:
        return cls._carry_at(res, int(res.nobs))

    def _filter(self, endog: np.ndarray, carry: dict[str, np.ndarray] | None = None) -> Any:
        mod = self._model(endog, self.carry if carry is None else carry)
        params = np.array([self.params[name] for name in mod.param_names], dtype=float)
        return mod.filter(params, cov_type="none")

    def extend(self, new_y: pd.Series) -> Self:
        new_y = self._new_points(new_y)
        if not len(new_y):
            return self
        taken = self._ahead.take(self.nobs, new_y) if self._ahead is not None else None
        if taken is None:
            res = self._filter(to_internal(new_y.to_numpy(), self.spec.transform))
            carry, scores = self._carry_of(res), np.asarray(res.standardized_forecasts_error)[0]
        else:
            carry, scores = taken
        out = type(self)(self.spec, carry=carry, **self._moved(new_y, len(new_y), scores))
        out._ahead = self._ahead if taken is not None else None
        return out

    def filter_ahead(self, later: pd.Series) -> None:
        """One statsmodels filter over `later` from the carried state: each extension inside it
        takes its state and one-step errors from this pass (the filter's steps are the ones a
        day-by-day extension runs) instead of building and filtering a model a day."""
        later = self._new_points(later)
        if not len(later) or (self._ahead is not None and self._ahead.holds(self.nobs, later)):
            return
        res = self._filter(to_internal(later.to_numpy(), self.spec.transform))
        self._ahead = LevelPass(start=self.nobs, dates=later.index, values=later.to_numpy(),
                                carries=[self._carry_at(res, i + 1) for i in range(len(later))],
                                scores=np.asarray(res.standardized_forecasts_error)[0].copy())

    def predictive(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the internal level over the next h steps. Kept with the model: a
        monthly series' model stays the same on the days between its releases and is forecast on
        each of them (step k's moments do not depend on h, so a shorter horizon is a prefix).
        Inside a pass long enough to repay it, from the pass's forecast map."""
        if self._pred is None or len(self._pred[0]) < h:
            fmap = self._ahead.forecast_map(self, h) if self._ahead is not None else None
            self._pred = fmap.moments(self.carry, self.mean_state, self.state_cov) if fmap else self._moments(
                self.carry, h)
        return self._pred[0][:h].copy(), self._pred[1][:h].copy()

    def _moments(self, carry: dict[str, np.ndarray], h: int) -> tuple[np.ndarray, np.ndarray]:
        res = self._filter(np.full(h, np.nan), carry)
        return np.asarray(res.forecasts)[0].copy(), np.asarray(res.forecasts_error_cov)[0, 0].copy()

    def forecast_map(self, h: int) -> ForecastMap:
        """The h-step moments as functions of the carried state, from statsmodels' filter: at fixed
        parameters a filter over missing observations is affine in its initial state (mean: loadings
        times the state plus the moments from a zero state; variance: the same loadings around the
        state covariance), so k + 1 filters give every day's forecast of a block."""
        zero = {k: np.zeros_like(v) for k, v in self.carry.items()}
        mean0, var0 = self._moments(zero, h)
        k = len(self.carry[self.mean_state])
        loadings = np.empty((h, k))
        for j, unit in enumerate(np.eye(k)):
            loadings[:, j] = self._moments({**zero, self.mean_state: unit}, h)[0] - mean0
        return ForecastMap(mean0, var0, loadings)

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


@dataclass(frozen=True)
class ForecastMap:
    """h-step predictive moments affine in the carried state (see `StateSpaceFitted.forecast_map`)."""

    mean0: np.ndarray  # (h,) the moments from a zero state
    var0: np.ndarray
    loadings: np.ndarray  # (h, k) each step's mean per unit of the carried mean state

    def moments(self, carry: dict[str, np.ndarray], mean_state: str, state_cov: str | None
                ) -> tuple[np.ndarray, np.ndarray]:
        mean = self.mean0 + self.loadings @ carry[mean_state]
        var = self.var0.copy()
        if state_cov is not None:
            var += np.einsum("hi,ij,hj->h", self.loadings, carry[state_cov], self.loadings)
        return mean, var


@dataclass
class LevelPass:
    """A replay block's observations filtered once at fixed parameters (`filter_ahead`): the state
    after each and the one-step errors; shared by the block's day-by-day models."""

    start: int  # nobs of the model the pass starts from
    dates: pd.DatetimeIndex
    values: np.ndarray
    carries: list[dict[str, np.ndarray]]
    scores: np.ndarray
    fmap: ForecastMap | None = field(default=None, repr=False)

    def _offset(self, nobs: int, new_y: pd.Series) -> int | None:
        off, n = nobs - self.start, len(new_y)
        if off < 0 or off + n > len(self.values) or not self.dates[off: off + n].equals(new_y.index):
            return None
        return off if np.array_equal(self.values[off: off + n], new_y.to_numpy()) else None

    def take(self, nobs: int, new_y: pd.Series) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
        """The state and one-step errors of a model with `nobs` observations extended by `new_y`,
        when the pass filtered exactly those observations from that model's state."""
        off = self._offset(nobs, new_y)
        return None if off is None else (self.carries[off + len(new_y) - 1], self.scores[off: off + len(new_y)])

    def holds(self, nobs: int, later: pd.Series) -> bool:
        return self._offset(nobs, later) is not None

    def forecast_map(self, model: StateSpaceFitted, h: int) -> ForecastMap | None:
        """The block's forecast map (built once, by the first model that needs it), or None where a
        map's k + 1 filters would cost more than the pass's days' own forecasts."""
        if len(self.values) <= len(model.carry[model.mean_state]) + 1:
            return None
        if self.fmap is None or len(self.fmap.mean0) < h:
            self.fmap = model.forecast_map(h)
        return self.fmap


def information_criteria(llf: float, k: int, n: int) -> dict[str, float]:
    aic = -2 * llf + 2 * k
    aicc = aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)
    return {"llf": float(llf), "aic": float(aic), "aicc": float(aicc), "bic": float(-2 * llf + k * np.log(n))}
