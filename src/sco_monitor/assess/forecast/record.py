"""The scored forecast record: each forecast step whose target has been published, its error, and
accuracy by horizon against the benchmarks with a Diebold-Mariano test.

Pure: forecasts (`assess.model.Forecast`, one per model, origin and target) and the targets'
published outcomes in, rows and tables out. The horizon of a step is the number of periods
between the period holding the forecast's origin (`as_of`) and the target period: 0 is the
nowcast of the current period, negative a back-cast of a period not yet published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from sco_monitor.assess.model import Forecast


@dataclass(frozen=True)
class ScoredStep:
    """One forecast step with its outcome: error = forecast - outcome."""

    target: str
    model: str
    origin: date
    period: date
    horizon: int
    forecast: float
    outcome: float

    @property
    def error(self) -> float:
        return self.forecast - self.outcome


def horizon_of(origin: date, period: date, freq: str) -> int:
    """Periods from the one holding `origin` to `period` (0: the same period)."""
    return int((pd.Period(pd.Timestamp(period), freq=freq) - pd.Period(pd.Timestamp(origin), freq=freq)).n)


def score(forecasts: Iterable[Forecast], outcomes: Mapping[str, pd.Series], freqs: Mapping[str, str]) -> list[ScoredStep]:
    """Every forecast step whose target period has a published outcome (matched by period, not day)."""
    by_period: dict[str, dict[pd.Period, float]] = {}
    for target, y in outcomes.items():
        y = y.dropna()
        freq = freqs.get(target, "M")
        by_period[target] = {pd.Period(pd.Timestamp(d), freq=freq): float(v) for d, v in y.items()}
    out = []
    for f in forecasts:
        known = by_period.get(f.series_id)
        if not known:
            continue
        freq = freqs.get(f.series_id, "M")
        for d, m in zip(f.dates, f.mean, strict=False):
            p = pd.Period(pd.Timestamp(d), freq=freq)
            if p in known and np.isfinite(m):
                out.append(ScoredStep(f.series_id, f.model, f.as_of, d, horizon_of(f.as_of, d, freq), float(m), known[p]))
    return out


def diebold_mariano(e_model: Sequence[float], e_bench: Sequence[float], horizon: int = 1,
                    power: int = 2) -> tuple[float, float]:
    """Diebold-Mariano test of equal accuracy (loss |e|^power), with the Harvey-Leybourne-Newbold
    small-sample correction; the long-run variance of the loss differential is Newey-West with
    h-1 lags (h-step errors are MA(h-1) under the null). Returns (statistic, two-sided p-value);
    a negative statistic means the model's loss is smaller. NaN when fewer than 5 pairs or no spread.
    """
    d = np.abs(np.asarray(e_model, float)) ** power - np.abs(np.asarray(e_bench, float)) ** power
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 5 or np.allclose(d, d[0]):
        return float("nan"), float("nan")
    h = max(int(horizon), 1)
    res = sm.OLS(d, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": h - 1, "use_correction": False})
    se = float(np.sqrt(res.cov_params()[0, 0]))
    if not np.isfinite(se) or se <= 0:
        return float("nan"), float("nan")
    dm = float(res.params[0]) / se
    hln = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    stat = dm * hln
    return stat, float(2 * stats.t.sf(abs(stat), df=n - 1))


@dataclass(frozen=True)
class Accuracy:
    """One row of the record: a model's accuracy on one target at one horizon, against a benchmark."""

    target: str
    model: str
    horizon: int
    n: int
    rmse: float
    mae: float
    benchmark: str
    ratio: float  # RMSE / the benchmark's RMSE on the same origins and periods
    mae_ratio: float
    dm_stat: float
    dm_p: float


def accuracy(steps: Sequence[ScoredStep], *, benchmark: str = "rw", horizons: Sequence[int] | None = None,
             min_n: int = 1) -> list[Accuracy]:
    """RMSE and MAE by target, model and horizon, with ratios and a DM test against `benchmark`,
    each on the steps both models forecast (same target, origin, period)."""
    if not steps:
        return []
    frame = pd.DataFrame([(s.target, s.model, s.origin, s.period, s.horizon, s.error) for s in steps],
                         columns=["target", "model", "origin", "period", "horizon", "error"])
    frame = frame.drop_duplicates(["target", "model", "origin", "period"], keep="last")
    wide = frame.pivot_table(index=["target", "horizon", "origin", "period"], columns="model", values="error")
    out = []
    for (target, h), block in wide.groupby(level=["target", "horizon"]):
        if horizons is not None and h not in horizons:
            continue
        for model in block.columns:
            e = block[model].dropna()
            if len(e) < min_n:
                continue
            rmse, mae = float(np.sqrt(np.mean(e ** 2))), float(np.mean(np.abs(e)))
            ratio = mae_ratio = stat = p = float("nan")
            if benchmark in block.columns and model != benchmark:
                pair = block[[model, benchmark]].dropna()
                if len(pair):
                    b_rmse = float(np.sqrt(np.mean(pair[benchmark] ** 2)))
                    b_mae = float(np.mean(np.abs(pair[benchmark])))
                    ratio = float(np.sqrt(np.mean(pair[model] ** 2))) / b_rmse if b_rmse > 0 else float("nan")
                    mae_ratio = float(np.mean(np.abs(pair[model]))) / b_mae if b_mae > 0 else float("nan")
                    stat, p = diebold_mariano(pair[model].to_numpy(), pair[benchmark].to_numpy(), max(int(h) + 1, 1))
            out.append(Accuracy(str(target), str(model), int(h), int(len(e)), rmse, mae, benchmark, ratio, mae_ratio,
                                stat, p))
    return out


def table(rows: Sequence[Accuracy]) -> str:
    """The record as a fixed-width text table (what the eval prints)."""
    head = f"{'target':<22} {'model':<6} {'h':>3} {'n':>4} {'RMSE':>8} {'MAE':>8} {'ratio':>6} {'MAEr':>6} {'DM':>7} {'p':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.target:<22} {r.model:<6} {r.horizon:>3} {r.n:>4} {r.rmse:>8.3f} {r.mae:>8.3f} "
                     f"{_f(r.ratio, 6, 3)} {_f(r.mae_ratio, 6, 3)} {_f(r.dm_stat, 7, 2)} {_f(r.dm_p, 6, 3)}")
    return "\n".join(lines)


def versus(steps: Sequence[ScoredStep], *, model: str = "dfm", benchmarks: Sequence[str] = ("rw", "mean", "arima"),
           horizons: Sequence[int] | None = None) -> str:
    """One model's RMSE by target and horizon with its RMSE ratio and DM p-value against each benchmark
    (each pair on the steps both forecast), as a fixed-width text table."""
    by = {b: {(r.target, r.horizon): r for r in accuracy(steps, benchmark=b, horizons=horizons) if r.model == model}
          for b in benchmarks}
    keys = sorted({k for rows in by.values() for k in rows})
    head = f"{'target':<22} {'h':>3} {'n':>4} {model + ' RMSE':>9}" + "".join(
        f" {'/' + b:>7} {'p':>6}" for b in benchmarks)
    lines = [head, "-" * len(head)]
    for k in keys:
        first = next(rows[k] for rows in by.values() if k in rows)
        cells = "".join(f" {_f(by[b][k].ratio, 7, 3)} {_f(by[b][k].dm_p, 6, 3)}" if k in by[b] else f" {'·':>7} {'·':>6}"
                        for b in benchmarks)
        lines.append(f"{k[0]:<22} {k[1]:>3} {first.n:>4} {first.rmse:>9.3f}{cells}")
    return "\n".join(lines)


def _f(v: float, width: int, digits: int) -> str:
    return f"{v:>{width}.{digits}f}" if np.isfinite(v) else f"{'·':>{width}}"
