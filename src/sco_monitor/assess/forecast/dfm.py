"""A mixed-frequency dynamic factor model (statsmodels `DynamicFactorMQ`) for nowcasts of GDP
growth and CPI inflation from monthly and quarterly indicators.

The same split as the single-series families (`base.py`): a `DfmSpec` says what to estimate,
`DfmFitted.fit(panel, spec)` estimates it by EM, `extend(panel)` applies the fixed parameters
(and the standardisation of the estimation) to a newer panel, `nowcast` forecasts every target
period still unpublished, and `to_state` / `from_state` keep it in `model_states` so a daily
run filters instead of re-estimating. It is a panel model, so it is not in `FORECASTERS`
(whose families forecast one series from its own history).

Point in time: the panel is what was knowable at the nowcast date (the store hides values inside
their publication lag), so its last rows are ragged; the Kalman smoother fills each missing
value from the factor and the model's dynamics, which is the nowcast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats
from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ

from sco_monitor.assess.forecast.base import FitFailed, ModelState, Spec, guarded, pack_arrays, unpack_arrays
from sco_monitor.assess.model import Forecast
from sco_monitor.timeutil import to_date

#: Layout version of a stored DFM state; another version is re-estimated.
DFM_STATE_VERSION = 1
#: The model slot of a DFM state in `model_states`.
DFM_SLOT = "nowcast"


class DfmSpec(Spec):
    """Which columns are monthly and quarterly, which of them are forecast, and the factor structure.

    Defaults are fixed a priori, not tuned: one common factor with two lags (the business cycle as
    a persistent AR(2)), idiosyncratic AR(1) terms, EM to a relative tolerance of 1e-6.
    """

    family: Literal["dfm"] = "dfm"
    freq: str = "M"
    monthly: tuple[str, ...] = Field(description="Monthly columns, transformed to be stationary (growth rates)")
    quarterly: tuple[str, ...] = Field(default=(), description="Quarterly columns (growth rates), dated in the quarter")
    targets: tuple[str, ...] = Field(description="Columns to forecast (each monthly or quarterly)")
    differenced: tuple[str, ...] = Field(
        default=(), description="Columns that enter as first differences (month on month, or quarter on quarter for "
        "a quarterly column); a differenced target's forecast is integrated back onto its last published value")
    factors: int = 1
    factor_order: int = 2
    idiosyncratic_ar1: bool = True
    maxiter: int = 200
    tolerance: float = 1e-6


@dataclass
class Panel:
    """The model's data: a monthly frame (PeriodIndex M) and a quarterly one (PeriodIndex Q)."""

    monthly: pd.DataFrame
    quarterly: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The last published level (its period and value) of every differenced column.
    anchors: dict[str, tuple[pd.Period, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame, spec: DfmSpec) -> Panel:
        """The spec's columns of a frame dated anywhere in each period (month ends, firsts of month...)."""
        missing = [c for c in (*spec.monthly, *spec.quarterly) if c not in frame.columns]
        if missing:
            raise FitFailed(f"DFM: the panel lacks {', '.join(missing)}")
        m = _by_period(frame[list(spec.monthly)], "M")
        if len(m):  # every month, an empty one included: the model's index has no holes
            m = m.reindex(pd.period_range(m.index.min(), m.index.max(), freq="M"))
        q = _by_period(frame[list(spec.quarterly)], "Q") if spec.quarterly else pd.DataFrame()
        if len(q) and any(c in q.columns for c in spec.differenced):  # a difference is over consecutive quarters
            q = q.reindex(pd.period_range(q.index.min(), q.index.max(), freq="Q"))
        anchors: dict[str, tuple[pd.Period, float]] = {}
        for part in (m, q):
            for col in [c for c in spec.differenced if c in part.columns]:
                level = part[col].dropna()
                if len(level):
                    anchors[col] = (level.index[-1], float(level.iloc[-1]))
                part[col] = part[col].diff()  # across a missing period stays missing
        return cls(m, q, anchors)

    def upto(self, month: pd.Period) -> Panel:
        """The panel through `month`, padded with empty months (the months to nowcast)."""
        start = self.monthly.index.min()
        idx = pd.period_range(start, month, freq="M")
        m = self.monthly.reindex(idx)
        if self.quarterly.empty:
            return Panel(m, anchors=self.anchors)
        qidx = pd.period_range(start.asfreq("Q"), month.asfreq("Q"), freq="Q")
        return Panel(m, self.quarterly.reindex(qidx), self.anchors)


def _by_period(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    out = frame.copy()
    idx = out.index.to_period(freq) if isinstance(out.index, pd.DatetimeIndex) else pd.PeriodIndex(out.index, freq=freq)
    out.index = idx
    out = out.groupby(level=0).last()
    return out.dropna(how="all").astype(float)


def _model(panel: Panel, spec: DfmSpec, standardize: Any = True) -> DynamicFactorMQ:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DynamicFactorMQ(
            panel.monthly, endog_quarterly=panel.quarterly if len(panel.quarterly.columns) else None,
            factors=spec.factors, factor_orders=spec.factor_order, idiosyncratic_ar1=spec.idiosyncratic_ar1,
            standardize=standardize,
        )


class DfmFitted:
    """DynamicFactorMQ at fixed parameters, smoothed over a panel."""

    family = "dfm"

    def __init__(self, spec: DfmSpec, *, name: str, params: np.ndarray, mean: np.ndarray, std: np.ndarray,
                 panel: Panel, fitted_at: date, res: Any, metrics: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.name = name
        self.params = np.asarray(params, dtype=float)
        self.mean = np.asarray(mean, dtype=float)
        self.std = np.asarray(std, dtype=float)
        self.panel = panel
        self.fitted_at = to_date(fitted_at)
        self.res = res
        self._through = self.last_month if len(panel.monthly) else None  # the last month `res` is smoothed to
        self.metrics = dict(metrics or {})

    @property
    def last_month(self) -> pd.Period:
        return self.panel.monthly.index.max()

    @classmethod
    def fit(cls, frame: pd.DataFrame, spec: DfmSpec, *, name: str = "", fitted_at: date | None = None) -> Self:
        """Estimate by EM on the panel of `frame`; raises FitFailed (too short, no convergence, non-finite).

        Always from EM's own initialisation: a warm start (`start_params` from the previous
        month's estimate) was measured to take more iterations (107 against 14) and, with EM's
        default initialisation of the state, to diverge (docs/world-economy.md).
        """
        panel = Panel.of(frame, spec)
        n = len(panel.monthly)
        if n < 60:
            raise FitFailed(f"DFM {name}: {n} months are too few (60 needed)")
        with guarded(f"DFM {name}"):
            mod = _model(panel, spec)
            res = mod.fit(disp=False, maxiter=spec.maxiter, tolerance=spec.tolerance)
        params = np.asarray(res.params, dtype=float)
        if not np.all(np.isfinite(params)) or not np.isfinite(res.llf):
            raise FitFailed(f"DFM {name}: non-finite parameters")
        mean, std = np.asarray(mod._endog_mean, dtype=float), np.asarray(mod._endog_std, dtype=float)
        at = fitted_at or panel.monthly.index.max().to_timestamp(how="end").date()
        return cls(spec, name=name, params=params, mean=mean, std=std, panel=panel, fitted_at=at, res=res,
                   metrics={"llf": float(res.llf), "nobs": n,
                            "em_iterations": int(getattr(getattr(res, "mle_retvals", None), "iter", 0) or 0)})

    def extend(self, frame: pd.DataFrame) -> Self:
        """The model at its parameters and standardisation over a newer panel (new releases, revisions).

        Costs nothing until `nowcast` smooths the panel once (to the last period it forecasts).
        """
        panel = Panel.of(frame, self.spec)
        return type(self)(self.spec, name=self.name, params=self.params, mean=self.mean, std=self.std, panel=panel,
                          fitted_at=self.fitted_at, res=None, metrics=self.metrics)

    def _smooth(self, panel: Panel) -> Any:
        cols = [*self.spec.monthly, *self.spec.quarterly]
        standardize = (pd.Series(self.mean, index=cols), pd.Series(self.std, index=cols))
        with guarded(f"DFM {self.name}"):
            return _model(panel, self.spec, standardize).smooth(self.params)

    def nowcast(self, as_of: date, horizon: int, *, level: float = 0.9,
                dates: dict[str, pd.Series] | None = None) -> list[Forecast]:
        """Forecasts of every target from its first unpublished period to `horizon` periods after as_of's.

        A quarterly target at horizon h is the quarter h after the one holding as_of (0 is the
        nowcast, negative a back-cast of a quarter not yet published); a monthly target likewise
        in months. `dates` gives each target's observed series so the forecast dates follow its
        own dating (month start or end); without it periods end on their last day.

        A differenced target is forecast in its level: the last published value plus the cumulated
        forecast changes, with the standard deviation of that sum (the steps' smoothed covariances
        across periods, `smoothed_state_autocovariance`, not only their variances).
        """
        as_of_m = pd.Period(pd.Timestamp(as_of), freq="M")
        out = []
        for target in self.spec.targets:
            q = target in self.spec.quarterly
            freq = "Q" if q else "M"
            diff = target in self.spec.differenced
            if diff and target not in self.panel.anchors:
                continue  # nothing published to integrate onto
            observed = (self.panel.quarterly if q else self.panel.monthly)[target].dropna()
            if diff:
                first = self.panel.anchors[target][0] + 1
            else:
                first = observed.index.max() + 1 if len(observed) else pd.Period(pd.Timestamp(as_of), freq=freq)
            last = pd.Period(pd.Timestamp(as_of), freq=freq) + horizon
            if last < first:
                continue
            periods = pd.period_range(first, last, freq=freq)
            months = [p.asfreq("M", how="end") for p in periods]
            mean, var = self._predict(target, months, max(as_of_m, months[-1]))
            sd = np.sqrt(np.maximum(var, 0.0))
            if diff:
                mean, sd = self.panel.anchors[target][1] + np.cumsum(mean), self._cumulative_sd(target, months)
            z = stats.norm.ppf(0.5 + level / 2)
            out.append(Forecast(
                series_id=target, model="dfm", as_of=to_date(as_of), dates=_dates(periods, (dates or {}).get(target)),
                mean=[float(v) for v in mean], std=[float(v) for v in sd], lower=[float(v) for v in mean - z * sd],
                upper=[float(v) for v in mean + z * sd], level=level,
            ))
        return out

    def _predict(self, target: str, months: list[pd.Period], through: pd.Period) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed predictive mean and variance of `target` in the given months (original units)."""
        res = self.res
        if res is None or through > self._through:  # smooth once per panel and horizon, not per target
            end = max(through, self.last_month)
            res = self._smooth(self.panel.upto(end))
            self.res, self._through = res, end
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = res.get_prediction(start=months[0], end=months[-1], information_set="smoothed")
        frame = pred.predicted_mean
        var = pred.var_pred_mean
        cols = list(res.model.endog_names)
        j = cols.index(target)
        idx = frame.index
        rows = [idx.get_loc(m) for m in months]
        mean = np.asarray(frame.iloc[rows, j], dtype=float)
        var = np.asarray(var, dtype=float)
        v = var[rows, j, j] if var.ndim == 3 else var[rows, j]
        return mean, v

    def _cumulative_sd(self, target: str, months: list[pd.Period]) -> np.ndarray:
        """Standard deviations of the sums of the target's first 1, 2, ... forecast steps (original units),
        from the smoother's state covariances across the steps' months (the steps are correlated)."""
        res = self.res
        ssm = res.model.ssm
        j = list(res.model.endog_names).index(target)
        design, obs_cov = np.asarray(ssm["design"]), np.asarray(ssm["obs_cov"])
        z = design[j] if design.ndim == 2 else design[j, :, 0]
        h = float(obs_cov[j, j] if obs_cov.ndim == 2 else obs_cov[j, j, 0])
        pos = [res.model._index.get_loc(m) for m in months]
        sm = res.smoother_results
        n = len(months)
        cov = np.empty((n, n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for a in range(n):
                cov[a, a] = z @ sm.smoothed_state_cov[:, :, pos[a]] @ z + h
                for b in range(a):
                    acov = sm.smoothed_state_autocovariance(lag=pos[a] - pos[b], t=pos[a])
                    cov[a, b] = cov[b, a] = z @ acov @ z
        scale = float(self.std[j]) ** 2
        total = np.array([cov[: k + 1, : k + 1].sum() for k in range(n)]) * scale
        return np.sqrt(np.maximum(total, 0.0))

    # --- storage -------------------------------------------------------------------------------------
    def to_state(self) -> ModelState:
        last = self.panel.monthly.index.max().to_timestamp(how="end").date()
        return ModelState(
            series_id=self.name, model=DFM_SLOT, family=self.family, spec=self.spec.model_dump(mode="json"),
            fitted_at=self.fitted_at, last_date=last, nobs=len(self.panel.monthly),
            params={f"p{i}": float(v) for i, v in enumerate(self.params)},
            state=pack_arrays({"version": np.array([DFM_STATE_VERSION]), "mean": self.mean, "std": self.std}),
            metrics={k: v for k, v in self.metrics.items() if v is not None},
        )

    @classmethod
    def from_state(cls, state: ModelState, frame: pd.DataFrame) -> Self:
        """The stored model smoothed over `frame` at its parameters; FitFailed when it does not fit the panel."""
        arrays = unpack_arrays(state.state)
        if int(arrays.get("version", np.array([0]))[0]) != DFM_STATE_VERSION or state.family != cls.family:
            raise FitFailed("DFM: the stored state has another layout")
        spec = DfmSpec.model_validate(state.spec)
        params = np.array([state.params[f"p{i}"] for i in range(len(state.params))], dtype=float)
        panel = Panel.of(frame, spec)
        fitted = cls(spec, name=state.series_id, params=params, mean=arrays["mean"], std=arrays["std"], panel=panel,
                     fitted_at=state.fitted_at, res=None, metrics=state.metrics)
        if len(params) != _model(panel, spec).k_params or len(fitted.mean) != len(spec.monthly) + len(spec.quarterly):
            raise FitFailed("DFM: the stored parameters do not match the spec")
        return fitted


def _dates(periods: pd.PeriodIndex, observed: pd.Series | None) -> list[date]:
    """Period dates in the dating of the observed series: first of period when it uses firsts, else ends."""
    firsts = observed is not None and len(observed) and all(pd.Timestamp(d).day == 1 for d in observed.index[-3:])
    how = "start" if firsts else "end"
    return [p.to_timestamp(how=how).date() for p in periods]


def factors_by_ic(frame: pd.DataFrame, spec: DfmSpec, *, kmax: int | None = None) -> tuple[int, dict[int, float]]:
    """The number of common factors by Bai and Ng's (2002) IC_p2 on the spec's monthly panel.

    The panel as the model sees it (the spec's differences taken), its months with every monthly
    column observed, each column standardised; IC_p2(k) = ln V(k) + k (N+T)/(NT) ln min(N, T), with
    V(k) the mean squared residual of k principal components, k up to `kmax` (by default the usual
    rule of thumb 8 (min(N, T)/100)^(1/4), and below N). Returns the minimising k (at least 1) and
    the criterion by k. Give it a window before the evaluation (or the data known at the
    estimation): a criterion is a choice made from the data, not from the forecasts' scores.
    """
    x = Panel.of(frame, spec).monthly.dropna()
    t, n = x.shape
    if t < 2 * n or n < 2:
        raise FitFailed(f"DFM: {t} complete months of {n} indicators are too few for the factor criterion")
    if kmax is None:
        kmax = int(8 * (min(n, t) / 100) ** 0.25)
    z = ((x - x.mean()) / x.std(ddof=0)).to_numpy()
    eig = np.sort(np.linalg.eigvalsh(z.T @ z / t))[::-1]  # eigenvalues of the correlation matrix
    total = float(eig.sum())
    penalty = (n + t) / (n * t) * np.log(min(n, t))
    ic = {k: float(np.log(max(total - eig[:k].sum(), 1e-12) / n) + k * penalty) for k in range(1, min(kmax, n - 1) + 1)}
    return min(ic, key=ic.get), ic
