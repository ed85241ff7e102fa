"""Two-regime Markov switching (statsmodels `MarkovRegression`, switching mean and variance) on returns.

Gives P(high-volatility regime) at the last date: the filtered probability of the regime with
the larger variance, calibrated against the series' own long history (`high_vol_probability`).

Why the calibration: the two regimes are only "the calmer and the more turbulent half" of the
estimation window. Fitted on a window whose calm regime is a managed-currency era (USD/RUB before
2008: 4% a year), an ordinary floating rouble (8-9% a year, late 2012) sits in the "high" regime
with probability above 95% for weeks. So the published probability is capped by the percentile
of today's EWMA(0.94) volatility among the series' earlier EWMA volatilities (its whole window,
at least a year): min(P(high regime), F(vol today)). A warning at 0.8 then needs volatility in the
top fifth of the series' own history, a critical one at 0.95 in its top twentieth, besides the
regime call. The distribution is summarised by 51 quantiles at estimation and carried in the
state with the EWMA variance, so extending stays cheap and causal. The carried state is the filtered regime probabilities; extending runs the
Hamilton filter's prediction and Bayes steps on the new returns with the estimated transition
matrix and regime densities (statsmodels' `initialize_known` cannot express a mid-sample
start exactly, so the two steps are applied here; a test checks them against the full filter).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

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
    require_converged,
    returns,
)
from sco_monitor.assess.model import Forecast

#: The regime model needs this many returns (a year of business days).
MIN_REGIME_RETURNS = 250
#: At most this many EM steps re-estimate from the previous parameters (statsmodels' own EM limit).
WARM_EM_STEPS = 50
#: A warm re-estimation stops at the first EM step that raises the log-likelihood by less than this,
#: relative (statsmodels' EM criterion; about 0.0005 on 4,000 returns). Measured on the replay
#: benchmark's 20 series, each a month after an optimum at four dates: 6 steps on average against
#: 15 to where the likelihood stops rising, P(high regime) within 0.002 of those 15 steps'.
WARM_EM_TOLERANCE = 1e-7
#: A transition probability within this of 0 or 1 is a boundary that EM cannot leave: its update of
#: a transition probability is proportional to the expected transitions, none when it is zero. A chain
#: of warm re-estimations that once reaches regimes that never end stays there for good (measured on
#: the replay benchmark: USD/AUD's weekly chain at stay probabilities 1 and 1 at the start of 2001,
#: log-likelihood -554.6, where the calm/turbulent start reaches -544.0 with P(high) 0.72 against 0).
#: A warm re-estimation that ends there is fitted afresh, as a cold cycle fits it.
TRANSITION_BOUNDARY = 1e-6
#: Iterations that bound the mixture quantile's search (Newton converges in about six; bisection's worst case).
MIXTURE_STEPS = 60
#: RiskMetrics decay of the volatility the regime call is calibrated with.
CALIBRATION_LAMBDA = 0.94
#: Quantiles of the volatility history carried in the state (every 2%).
VOL_GRID = np.linspace(0.0, 1.0, 51)


def ewma_variance(x: np.ndarray, lam: float = CALIBRATION_LAMBDA, start: float | None = None) -> np.ndarray:
    """EWMA variance after each return (sigma2_t = lam sigma2_{t-1} + (1 - lam) x_t^2); `start` is
    the variance before x[0] (default: the mean square of the first 20 returns)."""
    x = np.asarray(x, dtype=float)
    v = float(np.mean(x[:20] ** 2)) if start is None else float(start)
    out = np.empty(len(x))
    for t, xt in enumerate(x):
        v = lam * v + (1.0 - lam) * xt * xt
        out[t] = v
    return out


def vol_percentile(grid: np.ndarray, variance: float) -> float:
    """Percentile of a variance within the quantile grid of earlier variances (0..1)."""
    if not len(grid) or not np.isfinite(variance):
        return 1.0
    return float(np.interp(variance, grid, VOL_GRID, left=0.0, right=1.0))


class RegimeSpec(Spec):
    family: Literal["regime"] = "regime"
    returns: Returns = "log"
    k_regimes: Literal[2] = 2

    @property
    def label(self) -> str:
        return "Markov switching (2 regimes)"


def em_fit(mod: MarkovRegression, start: np.ndarray) -> Any:
    """The filtered results at the parameters EM reaches from `start` (statsmodels' EM, which `fit`
    runs before its scoring stage; private there, as EM is only `fit`'s start)."""
    return mod._fit_em(start, transformed=True, maxiter=WARM_EM_STEPS, tolerance=WARM_EM_TOLERANCE,
                       full_output=False)


@FORECASTERS.register("regime")
class RegimeFitted(Fitted):
    """Transition matrix, regime means and variances (scaled returns), filtered probabilities."""

    family = "regime"
    spec_type = RegimeSpec
    spec: RegimeSpec

    def __init__(self, spec: RegimeSpec, *, transition: np.ndarray, mu: np.ndarray, sigma2: np.ndarray,
                 probs: np.ndarray, scale: float, vol_grid: np.ndarray, ewma_var: float, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.transition = np.asarray(transition, dtype=float)  # [i, j] = P(s_t = i | s_{t-1} = j)
        self.mu, self.sigma2 = np.asarray(mu, dtype=float), np.asarray(sigma2, dtype=float)
        self.probs = np.asarray(probs, dtype=float)
        self.scale = float(scale)
        self.vol_grid = np.asarray(vol_grid, dtype=float)  # quantiles of EWMA variances up to estimation
        self.ewma_var = float(ewma_var)  # EWMA variance after the last return (scaled units)

    @property
    def high(self) -> int:
        """Index of the high-volatility regime (regime labels are arbitrary after estimation)."""
        return int(np.argmax(self.sigma2))

    @property
    def high_probability(self) -> float:
        """P(high-volatility regime at the last date | returns up to it): the raw filtered probability."""
        return float(self.probs[self.high])

    @property
    def vol_percentile(self) -> float:
        """Where today's EWMA volatility stands among the series' earlier ones (0..1)."""
        return vol_percentile(self.vol_grid, self.ewma_var)

    @property
    def high_vol_probability(self) -> float:
        """The published regime probability: the raw one capped by the volatility's own percentile."""
        return min(self.high_probability, self.vol_percentile)

    @classmethod
    def fit(cls, y: pd.Series, spec: RegimeSpec, start: Mapping[str, float] | None = None) -> Self:
        y = clean(y)
        r = returns(y.to_numpy(), spec.returns)
        if len(r) < MIN_REGIME_RETURNS:
            raise FitFailed(f"{spec.label}: {len(r)} returns are too few (needs {MIN_REGIME_RETURNS})")
        if np.ptp(r) == 0:
            raise FitFailed(f"{spec.label}: the series is constant")
        scale = data_scale(r)
        x = r * scale
        mod = MarkovRegression(x, k_regimes=2, trend="c", switching_variance=True)
        names = list(mod.param_names)
        # calm and turbulent persistent regimes first, statsmodels' own start second: the likelihood
        # also has "outlier day" optima whose regimes last a day, which are not volatility regimes
        calm_turbulent = np.array([0.98, 0.04, x.mean(), x.mean(), 0.5 * x.var(), 2.5 * x.var()])
        problems: list[str] = []
        warm = start_values(names, start) if start and start.get("scale", scale) == scale else None
        res = None
        for first in (warm, calm_turbulent, None) if warm is not None else (calm_turbulent, None):
            try:
                with guarded(spec.label):
                    if warm is not None and first is warm:
                        # from an earlier optimum, EM's closed-form steps reach the new data's optimum
                        # within a log-likelihood of about 0.03, at a tenth to a twentieth of the
                        # quasi-Newton steps' numerical gradients (0.3-1.0 s on 1,260-5,000 returns).
                        # `fit` would add a scoring stage and a smoother that nothing here reads, so
                        # EM runs alone; a test pins it to `fit`'s own EM result
                        candidate = em_fit(mod, first)
                    else:
                        candidate = mod.fit(start_params=first, disp=False, cov_type="none")
                        require_converged(candidate, spec.label)
                params = np.asarray(candidate.params, dtype=float)
                check_finite(spec.label, params=params, llf=candidate.llf)
                transition = mod.regime_transition_matrix(params)[:, :, 0]
                stuck = bool(np.any(np.minimum(transition, 1 - transition) < TRANSITION_BOUNDARY))
                if warm is not None and first is warm and stuck:
                    continue  # EM cannot leave the boundary (TRANSITION_BOUNDARY): the calm/turbulent start next
                sigma2 = np.array([params[names.index(f"sigma2[{i}]")] for i in range(2)])
                if np.any(sigma2 <= 0):
                    raise FitFailed(f"{spec.label}: a regime has zero variance")
                if np.any(np.diag(transition) < 0.5):
                    problems.append(f"{spec.label}: no persistent regimes (stay probabilities "
                                    f"{np.diag(transition).round(3).tolist()})")
                    if first is calm_turbulent:
                        # the quasi-Newton fit converged from inside the persistent regimes to a maximum
                        # that is not a volatility regime; statsmodels' own start never found a persistent
                        # one there (59 such fits of the replay benchmark's 20 series, quarterly 2000-2018:
                        # the same maximum 55 times, another non-persistent one 4; docs/forecasting.md)
                        break
                    continue
                res = candidate
                break
            except FitFailed as e:
                problems.append(str(e))
        if res is None:
            raise FitFailed("; ".join(dict.fromkeys(problems)))
        mu = np.array([params[names.index(f"const[{i}]")] for i in range(2)])
        probs = np.asarray(res.filtered_marginal_probabilities)[-1]
        # one normal regime for reference: is switching worth its four extra parameters?
        single = stats.norm.logpdf(r * scale, (r * scale).mean(), (r * scale).std()).sum()
        metrics = {"model": spec.label, "llf": float(res.llf), "aic": float(res.aic), "bic": float(res.bic),
                   "aic_one_regime": float(-2 * single + 4), "scale": scale,
                   "expected_duration": [float(1 / (1 - transition[i, i])) if transition[i, i] < 1 else float("inf")
                                         for i in range(2)]}
        variances = ewma_variance(x)
        metrics["vol_percentile"] = vol_percentile(np.quantile(variances[:-1], VOL_GRID), float(variances[-1]))
        return cls(spec, transition=transition, mu=mu, sigma2=sigma2, probs=probs, scale=scale,
                   vol_grid=np.quantile(variances[:-1], VOL_GRID), ewma_var=float(variances[-1]),
                   series_id=str(y.name or ""), params=dict(zip(names, params, strict=True)),
                   last_date=y.index[-1].date(), last_value=float(y.iloc[-1]), nobs=len(r),
                   fitted_at=y.index[-1].date(), metrics=metrics)

    def extend(self, new_y: pd.Series) -> Self:
        new_y = self._new_points(new_y)
        if not len(new_y):
            return self
        return self._filter(new_y)[0]

    def path(self, new_y: pd.Series) -> pd.DataFrame:
        """Raw and calibrated P(high regime) on each new date, as a daily run would have published them."""
        new_y = self._new_points(new_y)
        if not len(new_y):
            return pd.DataFrame(columns=["raw", "calibrated", "vol_percentile"], dtype=float)
        _, raw, pct = self._filter(new_y)
        return pd.DataFrame({"raw": raw, "calibrated": np.minimum(raw, pct), "vol_percentile": pct},
                            index=new_y.index)

    def _filter(self, new_y: pd.Series) -> tuple[Self, np.ndarray, np.ndarray]:
        """The model moved to the end of `new_y`, and the raw P(high regime) and volatility
        percentile on each new date (a daily extension reads only the model: no frame is built)."""
        r = returns(new_y.to_numpy(), self.spec.returns, prev=self.last_value) * self.scale
        sd = np.sqrt(self.sigma2)
        probs, scores = self.probs, np.empty(len(r))
        raw = np.empty(len(r))
        for t, x in enumerate(r):
            pred = self.transition @ probs
            u = (x - self.mu) / sd
            scores[t] = special.ndtri(np.clip(pred @ special.ndtr(u), 1e-300, 1 - 1e-16))
            joint = pred * np.exp(-0.5 * u * u) / sd
            total = joint.sum()
            probs = joint / total if total > 0 and np.isfinite(total) else pred
            raw[t] = probs[self.high]
        variances = ewma_variance(r, start=self.ewma_var)
        pct = np.interp(variances, self.vol_grid, VOL_GRID, left=0.0, right=1.0)
        out = type(self)(self.spec, transition=self.transition, mu=self.mu, sigma2=self.sigma2, probs=probs,
                         scale=self.scale, vol_grid=self.vol_grid, ewma_var=float(variances[-1]),
                         **self._moved(new_y, len(r), scores))
        return out, raw, pct

    def regime_path(self, h: int) -> np.ndarray:
        """Predicted regime probabilities for the next h steps, shape (h, 2)."""
        out, p = np.empty((h, 2)), self.probs
        for j in range(h):
            p = self.transition @ p
            out[j] = p
        return out

    def forecast(self, h: int, level: float = 0.9, as_of: date | None = None) -> Forecast:
        """The return distribution per step is a normal mixture; its quantiles bound the interval."""
        path = self.regime_path(h)
        mean = path @ self.mu
        var = path @ (self.sigma2 + self.mu ** 2) - mean ** 2
        std = np.sqrt(np.maximum(var, 0))
        lo, hi = (self._mixture_quantile(path, p) for p in (0.5 - level / 2, 0.5 + level / 2))
        s = self.scale
        return self._forecast_result(h, level, as_of, mean / s, std / s, lo / s, hi / s)

    def _mixture_quantile(self, weights: np.ndarray, p: float) -> np.ndarray:
        """The p-quantile of each step's normal mixture (rows of `weights`), all steps at once.

        The mixture CDF is monotone and smooth: Newton steps on it, kept inside a bracket that every
        step narrows (a step leaving it bisects instead), start between the regimes' own quantiles
        and reach float precision in a handful of iterations (bisection alone needed 60).
        """
        sd = np.sqrt(self.sigma2)
        z = special.ndtri(p)
        lo = np.full(len(weights), float(np.min(self.mu + z * sd)))
        hi = np.full(len(weights), float(np.max(self.mu + z * sd)))
        x = 0.5 * (lo + hi)
        for _ in range(MIXTURE_STEPS):
            u = (x[:, None] - self.mu) / sd
            excess = (weights * special.ndtr(u)).sum(axis=1) - p
            density = (weights * np.exp(-0.5 * u * u) / (sd * np.sqrt(2 * np.pi))).sum(axis=1)
            lo, hi = np.where(excess < 0, x, lo), np.where(excess < 0, hi, x)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = x - excess / density
            inside = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
            done = inside & (np.abs(newton - x) <= 1e-12 * (1.0 + np.abs(x)))
            x = np.where(inside, newton, 0.5 * (lo + hi))
            if done.all():
                break
        return x

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"transition": self.transition, "mu": self.mu, "sigma2": self.sigma2, "probs": self.probs,
                "scale": np.array([self.scale]), "vol_grid": self.vol_grid, "ewma_var": np.array([self.ewma_var])}

    @classmethod
    def from_state(cls, state: ModelState, history: pd.Series) -> Self:
        a = state.arrays()
        if "vol_grid" not in a:
            raise StateMismatch("a state from before the volatility calibration; re-estimating")
        return cls(cls.spec_type.model_validate(state.spec), transition=a["transition"], mu=a["mu"],
                   sigma2=a["sigma2"], probs=a["probs"], scale=float(a["scale"][0]), vol_grid=a["vol_grid"],
                   ewma_var=float(a["ewma_var"][0]), **cls._restored(state))
