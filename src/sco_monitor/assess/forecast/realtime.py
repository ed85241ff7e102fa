"""Pseudo-real-time nowcasting: at each origin, the DFM and its benchmarks see only what was
published by then (each series' values dated at the end of their period plus its publication lag),
the DFM is re-estimated on a fixed schedule and extended at fixed parameters in between.

"Pseudo": the values are the final ones the files hold, not the vintages published at the time;
revisions are not replayed, only the release calendar (the ragged edge).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from sco_monitor.assess.forecast.base import FitFailed
from sco_monitor.assess.forecast.benchmarks import BENCHMARKS, benchmark_forecasts
from sco_monitor.assess.forecast.dfm import DfmFitted, DfmSpec
from sco_monitor.assess.model import Forecast


def knowable(frame: pd.DataFrame, lags: Mapping[str, int], as_of: date) -> pd.DataFrame:
    """The frame as of `as_of`: a value dated d (its period's end) is known from d + lag days."""
    at = pd.Timestamp(as_of)
    out = frame.loc[:at].copy()
    for col in out.columns:
        lag = int(lags.get(col, 0))
        if lag:
            out.loc[out.index > at - pd.Timedelta(days=lag), col] = float("nan")
    return out


@dataclass
class RealTimeRun:
    forecasts: list[Forecast] = field(default_factory=list)
    fits: int = 0
    failures: list[str] = field(default_factory=list)


def pseudo_real_time(frame: pd.DataFrame, spec: DfmSpec, lags: Mapping[str, int], origins: Sequence[date], *,
                     horizon: Mapping[str, int], refit_months: int = 12, name: str = "",
                     benchmarks: Sequence[str] = BENCHMARKS) -> RealTimeRun:
    """DFM nowcasts and benchmark forecasts of every target at every origin, point in time.

    `horizon` gives, per target, the periods after the origin's to forecast; the DFM is estimated
    at the first origin and again every `refit_months` months, on the data knowable then.
    """
    run = RealTimeRun()
    fitted: DfmFitted | None = None
    fitted_month: pd.Period | None = None
    for origin in origins:
        data = knowable(frame, lags, origin)
        month = pd.Period(pd.Timestamp(origin), freq="M")
        if fitted is None or fitted_month is None or (month - fitted_month).n >= refit_months:
            try:
                fitted, fitted_month = DfmFitted.fit(data, spec, name=name, fitted_at=origin), month
                run.fits += 1
            except FitFailed as e:
                run.failures.append(f"{origin}: {e}")
        if fitted is not None:
            h = max(horizon.values())
            for fc in fitted.extend(data).nowcast(origin, h):
                run.forecasts.append(_cut(fc, horizon[fc.series_id], origin, spec))
        for target in spec.targets:
            freq = "Q" if target in spec.quarterly else "M"
            run.forecasts += benchmark_forecasts(data[target], origin, freq, horizon[target], models=tuple(benchmarks))
    return run


def _cut(fc: Forecast, h: int, origin: date, spec: DfmSpec) -> Forecast:
    """The steps of `fc` up to `h` periods after the origin's."""
    freq = "Q" if fc.series_id in spec.quarterly else "M"
    last = pd.Period(pd.Timestamp(origin), freq=freq) + h
    keep = [i for i, d in enumerate(fc.dates) if pd.Period(pd.Timestamp(d), freq=freq) <= last]
    return fc.model_copy(update={k: [getattr(fc, k)[i] for i in keep] for k in ("dates", "mean", "std", "lower", "upper")})
