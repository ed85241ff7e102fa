"""GARCH(1,1) with Student-t errors (arch) on percent log returns, and EWMA(0.94) as its fallback.

Outputs: the conditional volatility, the h-step volatility forecast and the one-day VaR and
expected shortfall at 95% and 99% on the risk side of the series. Extending re-filters the
return window at fixed parameters with arch's `fix` (a compiled recursion, about a millisecond
for ten years); the window may slide forward, which only changes the start-up backcast, whose
weight in today's variance is beta**n (nil after a few hundred days).

Returns are 100·Δln(y) (percent) for positive prices and Δy (the series' unit) for rates,
spreads and series that are not positive; internally they are rescaled by a power of ten so
the optimiser sees unit-sized data, and every output is back in the return unit.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from arch import arch_model
from arch.univariate import EWMAVariance, Normal, ZeroMean
from scipy import special

from sco_monitor.assess.forecast import arch_constraints
from sco_monitor.assess.forecast.base import (
    start_values,
    FORECASTERS,
    FitFailed,
    Fitted,
    ModelState,
    Returns,
    Spec,
    StateMismatch,
    check_finite,
    clean,
    data_scale,
    guarded,
    returns,
)
from sco_monitor.assess.model import Forecast

arch_constraints.install()

#: GARCH needs this many returns; fewer fall back to EWMA.
MIN_GARCH_RETURNS = 100
#: Tail probabilities of the reported VaR and ES.
RISK_LEVELS = (0.95, 0.99)


class GarchSpec(Spec):
    family: Literal["garch"] = "garch"
    returns: Returns = "log"
    p: int = 1
    q: int = 1
    dist: Literal["t", "normal"] = "t"
    mean: Literal["constant", "zero"] = "constant"

    @property
    def label(self) -> str:
        return f"GARCH({self.p},{self.q})-{self.dist}"


class EwmaSpec(Spec):
    family: Literal["ewma"] = "ewma"
    returns: Returns = "log"
    lam: float = 0.94

    @property
    def label(self) -> str:
        return f"EWMA({self.lam:g})"


class ArchFitted(Fitted):
    """An arch model at fixed parameters on its return window (r in the return unit)."""

    spec: GarchSpec | EwmaSpec

    def __init__(self, spec: GarchSpec | EwmaSpec, *, r: np.ndarray, dates: pd.DatetimeIndex, first: date,
                 scale: float, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.r, self.dates, self.first, self.scale = np.asarray(r, dtype=float), dates, first, float(scale)
        self._res: Any = None
        self._pred: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    @abstractmethod
    def _arch(cls, spec: Any, r_scaled: np.ndarray) -> Any:
        """The arch model on scaled returns."""

    @property
    def result(self) -> Any:
        """arch's fixed-parameter result (`fix`) on the whole return window, computed once."""
        if self._res is None:
            mod = self._arch(self.spec, self.r * self.scale)
            names = [*mod.parameter_names(), *mod.volatility.parameter_names(), *mod.distribution.parameter_names()]
            self._res = mod.fix([self.params[n] for n in names])
        return self._res

    def std_ppf(self, p: np.ndarray) -> np.ndarray:
        """Quantiles of the standardised error law: arch's StudentsT (t scaled to unit variance) or Normal.

        Same law as arch's `ppf`, through scipy.special: arch freezes a scipy distribution per
        call (milliseconds), and this runs for every series every day.
        """
        p = np.asarray(p, dtype=float)
        if "nu" not in self.params:
            return special.ndtri(p)
        nu = self.params["nu"]
        return special.stdtrit(nu, p) * np.sqrt((nu - 2) / nu)

    def std_cdf(self, z: np.ndarray) -> np.ndarray:
        """CDF of the standardised error law (see `std_ppf`)."""
        z = np.asarray(z, dtype=float)
        if "nu" not in self.params:
            return special.ndtr(z)
        nu = self.params["nu"]
        return special.stdtr(nu, z * np.sqrt(nu / (nu - 2)))

    @property
    def conditional_volatility(self) -> pd.Series:
        """sigma_t (return unit) given the returns before t, for each return date."""
        return pd.Series(np.asarray(self.result.conditional_volatility) / self.scale, index=self.dates)

    @classmethod
    def _start(cls, y: pd.Series, spec: Any) -> tuple[pd.Series, np.ndarray]:
        y = clean(y)
        return y, returns(y.to_numpy(), spec.returns)

    def extend(self, new_y: pd.Series) -> Self:
        new_y = self._new_points(new_y)
        if not len(new_y):
            return self
        r_new = returns(new_y.to_numpy(), self.spec.returns, prev=self.last_value)
        out = type(self)(self.spec, r=np.r_[self.r, r_new], dates=self.dates.append(new_y.index), first=self.first,
                         scale=self.scale, **self._moved(new_y, len(r_new), np.array([])))
        std = np.asarray(out.result.std_resid)[-len(r_new):]
        pit = out.std_cdf(std)
        out.metrics = self._with_scores(special.ndtri(np.clip(pit, 1e-300, 1 - 1e-16)))
        return out

    def predictive(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the next h returns (return unit)."""
        if self._pred is None or len(self._pred[0]) < h:
            f = self.result.forecast(horizon=h, reindex=False)
            self._pred = (np.asarray(f.mean)[-1] / self.scale, np.sqrt(np.asarray(f.variance)[-1]) / self.scale)
        return self._pred[0][:h], self._pred[1][:h]

    def forecast(self, h: int, level: float = 0.9, as_of: date | None = None) -> Forecast:
        mean, sd = self.predictive(h)
        lo_q, hi_q = self.std_ppf(np.array([0.5 - level / 2, 0.5 + level / 2]))
        return self._forecast_result(h, level, as_of, mean, sd, mean + lo_q * sd, mean + hi_q * sd)

    def risk(self, direction: Literal["up", "down", "both"] = "down") -> dict[str, Any]:
        """One-day VaR and expected shortfall on the side where a move is a risk, as positive numbers.

        A fall is the loss for `down` series (prices), a rise for `up` series (a currency's
        price in USD terms, yields); `both` reports the worse side.
        """
        mean, sd = self.predictive(1)
        mu, s = float(mean[0]), float(sd[0])
        dist = self.result.model.distribution
        out: dict[str, Any] = {"sigma": s, "mean": mu, "side": direction, "model": self.family,
                               "unit": "percent" if self.spec.returns == "log" else "level change"}
        for p, q in zip(RISK_LEVELS, self.std_ppf(1 - np.array(RISK_LEVELS)), strict=True):
            a, q = 1 - p, float(q)
            nu = [self.params["nu"]] if "nu" in self.params else None
            tail = float(dist.partial_moment(1, q, nu)) / a  # E[z | z < q] of the standardised law
            down_var, down_es = -(mu + s * q), -(mu + s * tail)
            up_var, up_es = mu - s * q, mu - s * tail
            if direction == "down":
                var, es = down_var, down_es
            elif direction == "up":
                var, es = up_var, up_es
            else:
                var, es = max(down_var, up_var), max(down_es, up_es)
            tag = f"{round(p * 100)}"
            out[f"var{tag}"], out[f"es{tag}"] = var, es
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"scale": np.array([self.scale]), "first": np.array([pd.Timestamp(self.first).toordinal()])}

    @classmethod
    def from_state(cls, state: ModelState, history: pd.Series) -> Self:
        arrays = state.arrays()
        spec = cls.spec_type.model_validate(state.spec)
        first = date.fromordinal(int(arrays["first"][0]))
        history = clean(history)
        window = history.iloc[history.index.searchsorted(pd.Timestamp(first)):]
        if len(window) < 2:
            raise StateMismatch("no return window left in the history")
        r = returns(window.to_numpy(), spec.returns)
        return cls(spec, r=r, dates=window.index[1:], first=window.index[0].date(),
                   scale=float(arrays["scale"][0]), **{**cls._restored(state), "nobs": len(r)})


@FORECASTERS.register("garch")
class GarchFitted(ArchFitted):
    family = "garch"
    spec_type = GarchSpec
    spec: GarchSpec

    @classmethod
    def _arch(cls, spec: GarchSpec, r_scaled: np.ndarray) -> Any:
        return arch_model(r_scaled, mean="Constant" if spec.mean == "constant" else "Zero", vol="GARCH",
                          p=spec.p, q=spec.q, dist="t" if spec.dist == "t" else "normal", rescale=False)

    @classmethod
    def fit(cls, y: pd.Series, spec: GarchSpec, start: Mapping[str, float] | None = None) -> Self:
        y, r = cls._start(y, spec)
        if len(r) < MIN_GARCH_RETURNS:
            raise FitFailed(f"{spec.label}: {len(r)} returns are too few (needs {MIN_GARCH_RETURNS})")
        if np.ptp(r) == 0:
            raise FitFailed(f"{spec.label}: the series is constant")
        scale = data_scale(r)
        with guarded(spec.label):
            model = cls._arch(spec, r * scale)
            names = [*model.parameter_names(), *model.volatility.parameter_names(),
                     *model.distribution.parameter_names()]
            warm = start_values(names, start) if start and start.get("scale", scale) == scale else None
            res = model.fit(disp="off", show_warning=False, starting_values=warm)
        if res.convergence_flag != 0:
            raise FitFailed(f"{spec.label}: the optimiser did not converge ({res.optimization_result.message})")
        params = {str(k): float(v) for k, v in res.params.items()}
        check_finite(spec.label, params=list(params.values()), llf=res.loglikelihood)
        persistence = sum(v for k, v in params.items() if k.startswith(("alpha", "beta")))
        if persistence > 1 + 1e-9:  # arch bounds alpha + beta by 1; an integrated GARCH is still usable
            raise FitFailed(f"{spec.label}: explosive variance (persistence {persistence:.4f})")
        metrics = {"model": spec.label, "llf": float(res.loglikelihood), "aic": float(res.aic),
                   "bic": float(res.bic), "persistence": float(persistence), "scale": scale}
        return cls._made(y, r, spec, params, scale, y.index[-1].date(), metrics)

    @classmethod
    def at_params(cls, y: pd.Series, spec: GarchSpec, held: Mapping[str, Any]) -> Self | None:
        """The model at parameters estimated earlier (`held`: the parameters, their `scale` and
        `estimated_to`, the last date of their data), on `y`; None when they do not fit this
        spec or this data's scale (then estimate)."""
        y, r = cls._start(y, spec)
        if len(r) < MIN_GARCH_RETURNS or held.get("scale") != data_scale(r):
            return None
        model = cls._arch(spec, r * data_scale(r))
        names = [*model.parameter_names(), *model.volatility.parameter_names(), *model.distribution.parameter_names()]
        if not all(isinstance(held.get(n), float) for n in names) or "estimated_to" not in held:
            return None
        params = {n: float(held[n]) for n in names}
        return cls._made(y, r, spec, params, float(held["scale"]), date.fromisoformat(str(held["estimated_to"])),
                         {"model": spec.label, "scale": float(held["scale"])})

    @classmethod
    def _made(cls, y: pd.Series, r: np.ndarray, spec: GarchSpec, params: dict[str, float], scale: float,
              fitted_at: date, metrics: dict[str, Any]) -> Self:
        return cls(spec, r=r, dates=y.index[1:], first=y.index[0].date(), scale=scale,
                   series_id=str(y.name or ""), params=params, last_date=y.index[-1].date(),
                   last_value=float(y.iloc[-1]), nobs=len(r), fitted_at=fitted_at, metrics=metrics)


@FORECASTERS.register("ewma")
class EwmaFitted(ArchFitted):
    """RiskMetrics: sigma2_t = lam·sigma2_{t-1} + (1-lam)·r_{t-1}², normal errors, zero mean; no estimation."""

    family = "ewma"
    spec_type = EwmaSpec
    spec: EwmaSpec

    @classmethod
    def _arch(cls, spec: EwmaSpec, r_scaled: np.ndarray) -> Any:
        return ZeroMean(r_scaled, volatility=EWMAVariance(spec.lam), distribution=Normal(), rescale=False)

    @classmethod
    def fit(cls, y: pd.Series, spec: EwmaSpec, start: Mapping[str, float] | None = None) -> Self:
        y, r = cls._start(y, spec)
        if len(r) < 2:
            raise FitFailed(f"{spec.label}: needs 2 returns, got {len(r)}")
        if np.ptp(r) == 0 and r[0] == 0:
            raise FitFailed(f"{spec.label}: the series is constant (zero volatility)")
        return cls(spec, r=r, dates=y.index[1:], first=y.index[0].date(), scale=data_scale(r),
                   series_id=str(y.name or ""), params={}, last_date=y.index[-1].date(),
                   last_value=float(y.iloc[-1]), nobs=len(r), fitted_at=y.index[-1].date(),
                   metrics={"model": spec.label})


def qlike(variance_forecast: np.ndarray, r: np.ndarray) -> float:
    """Mean QLIKE loss ln(h) + r²/h of variance forecasts h against squared returns (Patton 2011)."""
    h = np.asarray(variance_forecast, dtype=float)
    return float(np.mean(np.log(h) + np.asarray(r, dtype=float) ** 2 / h))
