"""The forecaster contract: a Spec (what to estimate), a Fitted (the estimate), a ModelState (its storage).

Modelled on arch: the specification is a plain value, `fit(y, spec)` estimates it, and the
fitted object is extended with new observations at fixed parameters, forecasts, and turns
into a compact `ModelState` that a later run restores without re-estimating.
"""

from __future__ import annotations

import json
import math
import struct
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import special, stats

from sco_monitor.assess.model import Forecast
from sco_monitor.registry import Registry
from sco_monitor.timeutil import to_date
from sco_monitor.vocabulary import json_safe

#: Version of the stored state layout; a state of another version is re-estimated.
STATE_VERSION = 1
#: A fit is "degraded" when the squared normal scores of the one-step errors since the
#: estimation are this improbable under the model (chi-square upper tail).
DEGRADE_ALPHA = 1e-3
#: ... judged only once this many errors have come in: one shock is news, a run of them is a broken model.
DEGRADE_MIN_OBS = 5
#: Internal scale of log transforms: 100·ln(y), so returns are in percent.
LOG_SCALE = 100.0


class FitFailed(Exception):
    """Estimation failed (no convergence, singular matrix, non-finite or inadmissible params)."""


class StateMismatch(Exception):
    """A stored state cannot continue on this history (revised data, gap, other version)."""


class Spec(BaseModel):
    """What to estimate. Frozen and JSON-serialisable; stored beside the fitted state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    freq: str = "B"


@dataclass(frozen=True)
class ModelState:
    """One row of `model_states`: spec and parameters (JSON), a compact filter state (bytes), metrics.

    `model` is the slot a series uses the model for (level, volatility, regime); `family` the
    forecaster that restores it.
    """

    series_id: str
    model: str
    family: str
    spec: dict[str, Any]
    fitted_at: date
    last_date: date
    nobs: int
    params: dict[str, float]
    state: bytes | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        return unpack_arrays(self.state)

    def arrays(self) -> dict[str, np.ndarray]:
        """The compact filter state (numeric arrays by name)."""
        return self._arrays


class Fitted(ABC):
    """An estimated model at the end of its data. Subclasses: one per family."""

    family: ClassVar[str]
    spec_type: ClassVar[type[Spec]]

    def __init__(self, spec: Spec, *, series_id: str, params: dict[str, float], last_date: date,
                 last_value: float, nobs: int, fitted_at: date, metrics: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.series_id = series_id
        self.params = {k: float(v) for k, v in params.items()}
        self.last_date = to_date(last_date)
        self.last_value = float(last_value)
        self.nobs = int(nobs)
        self.fitted_at = to_date(fitted_at)
        self.metrics: dict[str, Any] = dict(metrics or {})
        self.metrics.setdefault("oos_n", 0)
        self.metrics.setdefault("oos_ss", 0.0)

    # --- the family's part -----------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def fit(cls, y: pd.Series, spec: Spec, start: Mapping[str, float] | None = None) -> Self:
        """Estimate `spec` on the levels `y` (DatetimeIndex, no gaps in values); raises FitFailed.

        `start`: parameters of an earlier estimate of the same spec, as starting values (a warm
        start converges in a few iterations where a cold one searches; the optimum is the same)."""

    @abstractmethod
    def extend(self, new_y: pd.Series) -> Self:
        """Filter observations after `last_date` at fixed parameters; returns a new Fitted."""

    def filter_ahead(self, later: pd.Series) -> None:
        """Prepare extensions over `later` (observations after `last_date`, up to a replay block's
        end) in one filter pass, for families whose full-window filter costs more than a step (the
        state-space level models). Nothing is published from it: an extension to day D reads only the
        pass's values up to D, which the filter computes from the returns before them. Default: none.
        """

    @abstractmethod
    def forecast(self, h: int, level: float = 0.9, as_of: date | None = None) -> Forecast:
        """Predictive mean, std and central `level` interval for the next `h` observations."""

    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]:
        """The compact filter state that `from_state` needs besides the params."""

    @classmethod
    @abstractmethod
    def from_state(cls, state: ModelState, history: pd.Series) -> Self:
        """Rebuild from a stored state; `history` holds the series up to at least `state.last_date`."""

    # --- shared ------------------------------------------------------------------------------------
    def to_state(self, slot: str) -> ModelState:
        return ModelState(
            series_id=self.series_id, model=slot, family=self.family, spec=self.spec.model_dump(mode="json"),
            fitted_at=self.fitted_at, last_date=self.last_date, nobs=self.nobs,
            params=json_safe(self.params),
            state=pack_arrays({"version": np.array([STATE_VERSION]), "last_value": np.array([self.last_value]),
                               **self._arrays()}),
            metrics=json_safe(self.metrics),
        )

    @property
    def degradation_p(self) -> float | None:
        """P-value of the one-step errors since estimation under the model (None before enough)."""
        n = int(self.metrics.get("oos_n", 0))
        if n < DEGRADE_MIN_OBS:
            return None
        # the chi-square survival function chi2.sf calls after its argument checks (which cost 0.1 ms,
        # every model every day)
        return float(special.chdtrc(n, float(self.metrics.get("oos_ss", 0.0))))

    def degraded(self, alpha: float = DEGRADE_ALPHA) -> bool:
        p = self.degradation_p
        return p is not None and p < alpha

    def _with_scores(self, scores: np.ndarray) -> dict[str, Any]:
        """Metrics updated with new normal scores of one-step errors (non-finite ones skipped)."""
        scores = np.asarray(scores, dtype=float)
        scores = scores[np.isfinite(scores)]
        m = dict(self.metrics)
        m["oos_n"] = int(m.get("oos_n", 0)) + int(scores.size)
        m["oos_ss"] = float(m.get("oos_ss", 0.0)) + float(np.sum(scores ** 2))
        return m

    def _moved(self, new_y: pd.Series, added: int, scores: np.ndarray) -> dict[str, Any]:
        """Constructor arguments of this model moved to the end of `new_y`, parameters unchanged."""
        return {"series_id": self.series_id, "params": self.params, "last_date": new_y.index[-1].date(),
                "last_value": float(new_y.iloc[-1]), "nobs": self.nobs + added, "fitted_at": self.fitted_at,
                "metrics": self._with_scores(scores)}

    @staticmethod
    def _restored(state: ModelState) -> dict[str, Any]:
        """Constructor arguments common to every family, from a stored state."""
        return {"series_id": state.series_id, "params": state.params, "last_date": state.last_date,
                "last_value": float(state.arrays()["last_value"][0]), "nobs": state.nobs,
                "fitted_at": state.fitted_at, "metrics": state.metrics}

    def _new_points(self, new_y: pd.Series) -> pd.Series:
        new_y = clean(new_y)
        if len(new_y) and new_y.index[0].date() <= self.last_date:
            raise ValueError(f"{self.series_id or 'series'}: extend needs observations after "
                             f"{self.last_date}, got one dated {new_y.index[0].date()}")
        return new_y

    def _forecast_result(self, h: int, level: float, as_of: date | None, mean: np.ndarray, std: np.ndarray,
                         lower: np.ndarray, upper: np.ndarray) -> Forecast:
        return Forecast(
            series_id=self.series_id, model=self.family, as_of=to_date(as_of) or self.last_date,
            dates=future_dates(self.last_date, self.spec.freq, h), mean=_floats(mean), lower=_floats(lower),
            upper=_floats(upper), std=_floats(std), level=level,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.series_id!r}, {self.spec!r}, last_date={self.last_date})"


#: Forecaster families by name; config, states and fallbacks refer to them by this name.
#: Families by name; the built-ins register with `@FORECASTERS.register` in their modules, which the
#: package imports (`sco_monitor.assess.forecast` → run → select → arima, ets, garch, regime).
FORECASTERS: Registry[type[Fitted]] = Registry("forecaster")


def fit(y: pd.Series, spec: Spec, start: Mapping[str, float] | None = None) -> Fitted:
    """Estimate `spec` on `y` with the family the spec names (warm-started from `start`)."""
    return FORECASTERS.get(spec.family).fit(y, spec, start)


def start_values(names: Sequence[str], start: Mapping[str, float] | None) -> np.ndarray | None:
    """`start` in the optimiser's parameter order; None (a cold start) unless every name is there
    and finite."""
    if not start:
        return None
    try:
        values = np.array([float(start[n]) for n in names], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    return values if np.all(np.isfinite(values)) else None


def restore(state: ModelState, history: pd.Series) -> Fitted:
    """The stored model extended at fixed parameters with the observations after its last date.

    Raises StateMismatch when the state cannot continue on this history (then re-estimate).
    """
    arrays = state.arrays()
    if int(arrays.get("version", np.array([0]))[0]) != STATE_VERSION:
        raise StateMismatch(f"state layout version differs from {STATE_VERSION}")
    history = clean(history)
    last = pd.Timestamp(state.last_date)
    if last not in history.index:
        raise StateMismatch(f"the history has no observation on the state's last date {state.last_date}")
    stored = float(arrays["last_value"][0])
    if not math.isclose(float(history.loc[last]), stored, rel_tol=1e-12, abs_tol=1e-12):
        raise StateMismatch(f"the observation of {state.last_date} was revised "
                            f"({stored:g} → {float(history.loc[last]):g})")
    cut = history.index.searchsorted(last, side="right")
    fitted = FORECASTERS.get(state.family).from_state(state, history.iloc[:cut])
    return fitted.extend(history.iloc[cut:]) if cut < len(history) else fitted


# --- guards -------------------------------------------------------------------------------------
@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Numerical errors inside estimation become FitFailed(reason), and warnings stay quiet.

    Convergence is judged by the optimiser's own flag (`require_converged`, arch's
    `convergence_flag`), which statsmodels and arch set exactly when they would warn: a flag
    belongs to its fit, while the warnings registry is process-wide and threads (a Dask
    LocalCluster without processes) would see each other's warnings.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        except FitFailed:
            raise
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError, IndexError) as e:
            raise FitFailed(f"{what}: {type(e).__name__}: {_first_line(e)}") from e


def require_converged(res: Any, what: str) -> None:
    """statsmodels reports a failed optimisation in `mle_retvals` (and sometimes only there)."""
    if not (getattr(res, "mle_retvals", None) or {}).get("converged", True):
        raise FitFailed(f"{what}: the optimiser did not converge")


def check_finite(what: str, **values: Any) -> None:
    for name, v in values.items():
        arr = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise FitFailed(f"{what}: non-finite {name}")


def _first_line(e: object) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


# --- series helpers ---------------------------------------------------------------------------------
def clean(y: pd.Series) -> pd.Series:
    """Finite values on a sorted, unique DatetimeIndex; the series name is kept."""
    if (isinstance(y, pd.Series) and isinstance(y.index, pd.DatetimeIndex) and y.dtype == np.float64
            and y.index.is_monotonic_increasing and y.index.is_unique and np.isfinite(y.to_numpy()).all()):
        return y
    y = pd.Series(y, dtype=float, copy=False)
    if not isinstance(y.index, pd.DatetimeIndex):
        y.index = pd.DatetimeIndex(pd.to_datetime(y.index))
    y = y[np.isfinite(y.to_numpy())]
    if not y.index.is_monotonic_increasing:
        y = y.sort_index()
    if y.index.has_duplicates:
        y = y[~y.index.duplicated(keep="last")]
    return y


Transform = Literal["log", "none"]
Returns = Literal["log", "diff"]


def to_internal(values: np.ndarray, transform: Transform) -> np.ndarray:
    """Levels as the level models see them: 100·ln(y) (log) or y itself."""
    values = np.asarray(values, dtype=float)
    if transform == "log":
        if np.any(values <= 0):
            raise FitFailed("log transform of a series with values <= 0")
        return LOG_SCALE * np.log(values)
    return values


def returns(values: np.ndarray, how: Returns, prev: float | None = None) -> np.ndarray:
    """Percent log returns (log) or first differences (diff); `prev` is the level before values[0]."""
    values = np.asarray(values, dtype=float)
    if prev is not None:
        values = np.concatenate([[prev], values])
    if how == "log":
        if np.any(values <= 0):
            raise FitFailed("log returns of a series with values <= 0")
        return LOG_SCALE * np.diff(np.log(values))
    return np.diff(values)


def level_moments(mean: np.ndarray, var: np.ndarray, transform: Transform, level: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian predictive moments of the internal level → mean, std, lower, upper in the series' unit.

    Under the log transform the level is log-normal: exact mean and std, interval by quantiles.
    """
    sd = np.sqrt(np.maximum(var, 0.0))
    zq = stats.norm.ppf(0.5 + level / 2)
    lo, hi = mean - zq * sd, mean + zq * sd
    if transform == "log":
        mu, s2 = mean / LOG_SCALE, (sd / LOG_SCALE) ** 2
        m = np.exp(mu + s2 / 2)
        return m, m * np.sqrt(np.expm1(s2)), np.exp(lo / LOG_SCALE), np.exp(hi / LOG_SCALE)
    return mean, sd, lo, hi


def data_scale(r: np.ndarray) -> float:
    """1 for well-scaled returns (std in [0.1, 100), e.g. percent returns); otherwise the power of
    ten that brings the std into [1, 10), since the optimisers fail on tiny or huge numbers
    (daily changes of a yield in percentage points become basis points)."""
    sd = float(np.nanstd(r)) if len(r) > 1 else 0.0
    if not np.isfinite(sd) or sd <= 0 or 0.1 <= sd < 100:
        return 1.0
    return float(10.0 ** int(np.clip(-math.floor(math.log10(sd)), -6, 6)))


_OFFSETS: dict[str, Callable[[pd.Timestamp], pd.DateOffset]] = {
    "B": lambda d: pd.offsets.BDay(),
    "D": lambda d: pd.offsets.Day(),
    "W": lambda d: pd.offsets.Week(weekday=d.weekday()),
    "M": lambda d: pd.offsets.MonthBegin() if d.day == 1 else pd.offsets.MonthEnd(),
    "Q": lambda d: pd.offsets.QuarterBegin(startingMonth=1) if d.day == 1 else pd.offsets.QuarterEnd(),
    "A": lambda d: pd.offsets.YearBegin() if (d.month, d.day) == (1, 1) else pd.offsets.YearEnd(),
}


def future_dates(last: date, freq: str, h: int) -> list[date]:
    """The next h observation dates after `last` in the series' calendar (first-of-period kept)."""
    start = pd.Timestamp(last)
    if freq not in _OFFSETS or freq == "B":  # numpy's business-day calendar: fast for the daily case
        days = np.busday_offset(np.datetime64(start.date(), "D"), np.arange(1, h + 1), roll="forward")
        return [d.item() for d in days]
    rng = pd.date_range(start, periods=h + 1, freq=_OFFSETS[freq](start))
    rng = rng[1:] if rng[0] == start else rng[:h]
    return [d.date() for d in rng]


# --- serialisation -------------------------------------------------------------------------------
_MAGIC = b"SCOS"


def pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """Named float64 arrays as bytes: magic, header length, JSON header (name → shape), raw data.

    Numbers only, never pickle; a few hundred bytes per model, decoded in microseconds.
    """
    parts = {k: np.ascontiguousarray(v, dtype="<f8") for k, v in arrays.items()}
    header = json.dumps({k: list(v.shape) for k, v in parts.items()}, separators=(",", ":")).encode()
    return b"".join([_MAGIC, struct.pack("<I", len(header)), header, *(v.tobytes() for v in parts.values())])


def unpack_arrays(blob: bytes | None) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    if blob[:4] != _MAGIC:
        raise StateMismatch("the stored state is not in this version's layout")
    (n,) = struct.unpack("<I", blob[4:8])
    shapes = json.loads(blob[8: 8 + n])
    out, pos = {}, 8 + n
    for name, shape in shapes.items():
        size = int(np.prod(shape)) if shape else 1
        out[name] = np.frombuffer(blob, dtype="<f8", count=size, offset=pos).reshape(shape).copy()
        pos += 8 * size
    return out


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float)]
