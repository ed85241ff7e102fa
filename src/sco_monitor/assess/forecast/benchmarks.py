"""The benchmarks a nowcast must beat: the random walk (the last published value), the historical
mean, and an AR(1) (ARIMA(1,0,0) with a mean), each from the target's own published history.

Each forecasts the target's unpublished periods from the first one after its last publication
through `horizon` periods after the origin's, the same steps `DfmFitted.nowcast` forecasts, so
the scored record compares them period by period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from sco_monitor.assess.forecast.arima import ArimaFitted, ArimaSpec, RandomWalkFitted, RandomWalkSpec
from sco_monitor.assess.forecast.base import FitFailed, clean
from sco_monitor.assess.model import Forecast
from sco_monitor.timeutil import to_date

#: Benchmark models by the name they carry in `Forecast.model` and the record.
BENCHMARKS = ("rw", "mean", "arima")


def steps_to(last: date, origin: date, freq: str, horizon: int) -> int:
    """How many periods after the last published one reach `horizon` periods after the origin's."""
    p_last = pd.Period(pd.Timestamp(last), freq=freq)
    p_end = pd.Period(pd.Timestamp(origin), freq=freq) + horizon
    return max(int((p_end - p_last).n), 0)


def benchmark_forecasts(y: pd.Series, origin: date, freq: str, horizon: int, *, level: float = 0.9,
                        models: tuple[str, ...] = BENCHMARKS) -> list[Forecast]:
    """The benchmarks of target `y` (its observations published by `origin`); a failing one is left out."""
    y = clean(y.dropna())
    y = y.loc[: pd.Timestamp(origin)]
    if len(y) < 8:
        return []
    h = steps_to(y.index[-1].date(), origin, freq, horizon)
    if h == 0:
        return []
    out = []
    for name in models:
        try:
            fc = _BUILDERS[name](y, freq, h, level, origin)
        except FitFailed:
            continue
        out.append(fc.model_copy(update={"model": name}))
    return out


def _rw(y: pd.Series, freq: str, h: int, level: float, origin: date) -> Forecast:
    return RandomWalkFitted.fit(y, RandomWalkSpec(drift=False, freq=freq)).forecast(h, level, as_of=origin)


def _arima(y: pd.Series, freq: str, h: int, level: float, origin: date) -> Forecast:
    return ArimaFitted.fit(y, ArimaSpec(order=(1, 0, 0), trend="c", freq=freq)).forecast(h, level, as_of=origin)


def _mean(y: pd.Series, freq: str, h: int, level: float, origin: date) -> Forecast:
    """The expanding mean; its predictive std adds the mean's own estimation error."""
    v = y.to_numpy(dtype=float)
    m, s = float(v.mean()), float(v.std(ddof=1))
    sd = s * np.sqrt(1 + 1 / len(v))
    z = stats.norm.ppf(0.5 + level / 2)
    fc = RandomWalkFitted.fit(y, RandomWalkSpec(drift=False, freq=freq)).forecast(h, level, as_of=origin)
    return fc.model_copy(update={"mean": [m] * h, "std": [sd] * h, "lower": [m - z * sd] * h,
                                 "upper": [m + z * sd] * h, "as_of": to_date(origin)})


_BUILDERS: dict[str, Callable[[pd.Series, str, int, float, date], Forecast]] = {
    "rw": _rw, "mean": _mean, "arima": _arima,
}
