"""Model choice per series and slot, with backtests and the fallbacks that keep a slot filled.

level       ARIMA orders and ETS variants each chosen by AICc; the two winners and the naive
            random walk are then compared in a rolling-origin backtest (parameters estimated
            on the data before the first origin, filtered forward at fixed parameters) and the
            lowest RMSE wins, so a model that cannot beat the random walk is not used.
            Failing candidates are dropped; when all fail: random walk with drift.
volatility  GARCH(1,1)-t; its out-of-sample QLIKE against EWMA(0.94) over the last year is
            recorded. When GARCH fails: EWMA(0.94).
regime      two-regime Markov switching; there is nothing simpler that yields a regime
            probability, so a failure leaves the slot empty (and says so).

Every fallback is written into the fitted model's metrics (`fallback`) so the stored state and
the run's notes say what happened and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sco_monitor.assess.forecast.arima import (
    RandomWalkFitted,
    RandomWalkSpec,
    arima_candidates,
    kpss_differences,
)
from sco_monitor.assess.forecast.base import (
    FitFailed,
    Fitted,
    Returns,
    Transform,
    clean,
    fit,
    to_internal,
)
from sco_monitor.assess.forecast.ets import EtsSpec
from sco_monitor.assess.forecast.garch import (
    MIN_GARCH_RETURNS,
    EwmaFitted,
    EwmaSpec,
    GarchFitted,
    GarchSpec,
    qlike,
)
from sco_monitor.assess.forecast.regime import RegimeFitted, RegimeSpec
from sco_monitor.assess.forecast.statespace import LevelSpec
from sco_monitor.assess.forecast.var import window_backtest

#: Fewer observations than this get a random walk with drift instead of ARIMA/ETS.
MIN_LEVEL_OBS = 24
#: Rolling-origin backtest: this many origins, every horizon/2 observations.
BACKTEST_ORIGINS = 10
#: The volatility backtest covers this many of the last returns.
VOL_BACKTEST = 250


def fit_level(y: pd.Series, *, transform: Transform, freq: str, horizon: int, level: float = 0.9) -> Fitted:
    """The level model of a series: ARIMA, ETS or the random walk, by AICc and backtest."""
    y = clean(y)
    if len(y) < MIN_LEVEL_OBS:
        return _fallback(RandomWalkFitted.fit(y, RandomWalkSpec(drift=True, transform=transform, freq=freq)),
                         f"{len(y)} observations are too few for ARIMA/ETS (needs {MIN_LEVEL_OBS})")
    d = 1 if transform == "log" else kpss_differences(to_internal(y.to_numpy(), transform))
    candidates: dict[str, Any] = {}
    winners: list[Fitted] = []
    for specs in (arima_candidates(d, transform, freq),
                  [EtsSpec(trend=t, damped=dp, transform=transform, freq=freq)
                   for t, dp in ((False, False), (True, False), (True, True))]):
        fitted: list[Fitted] = []
        for spec in specs:
            try:
                f = fit(y, spec)
            except FitFailed as e:
                candidates[spec.label] = f"failed: {e}"
                continue
            candidates[spec.label] = f.metrics["aicc"]
            fitted.append(f)
        if fitted:
            winners.append(min(fitted, key=lambda f: f.metrics["aicc"]))
    if not winners:
        failures = "; ".join(str(v).removeprefix("failed: ") for v in candidates.values())
        f = RandomWalkFitted.fit(y, RandomWalkSpec(drift=True, transform=transform, freq=freq))
        return _fallback(f, f"every ARIMA/ETS candidate failed ({failures})", candidates=candidates)

    naive = RandomWalkSpec(drift=False, transform=transform, freq=freq)
    contenders: list[LevelSpec] = [w.spec for w in winners] + [naive]
    params = {_label(w.spec): w.params for w in winners}
    scores = {_label(s): backtest_level(y, s, horizon, level, start=params.get(_label(s))) for s in contenders}
    scored = {k: v for k, v in scores.items() if "rmse" in v}
    if _label(naive) not in scored or len(scored) < 2:
        chosen = winners[0]
        reason = "backtest not possible (history too short); chosen by AICc"
    else:
        best = min(scored, key=lambda k: scored[k]["rmse"])
        by_label = {_label(w.spec): w for w in winners}
        chosen = by_label[best] if best in by_label else RandomWalkFitted.fit(y, naive)
        reason = ("the naive random walk forecast best in the backtest" if best == _label(naive)
                  else "lowest backtest RMSE")
    chosen.metrics.update(candidates=candidates, backtest=scores, selected=_label(chosen.spec),
                          selection=reason, differences=d)
    return chosen


def backtest_level(y: pd.Series, spec: LevelSpec, horizon: int, level: float = 0.9,
                   start: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Rolling-origin errors of `spec`: estimated before the first origin, extended at fixed params.

    Errors are in the series' unit over every origin and step (RMSE, MAE) with the share of
    outcomes inside the `level` interval. `start`: the spec's estimate on all of `y`, as starting
    values (the sample before the first origin is a few months shorter: the optimum is near).
    """
    n = len(y)
    step = max(1, horizon // 2)
    origins = [n - horizon - step * k for k in reversed(range(BACKTEST_ORIGINS))]
    origins = [o for o in origins if o >= max(MIN_LEVEL_OBS, n // 2)]
    if len(origins) < 3:
        return {"skipped": f"{n} observations leave {len(origins)} backtest origins (needs 3)"}
    try:
        try:
            model = fit(y.iloc[: origins[0]], spec, start)
        except FitFailed:
            if start is None:
                raise
            model = fit(y.iloc[: origins[0]], spec)  # a warm start that fails is retried cold
    except FitFailed as e:
        return {"skipped": f"failed before the first origin: {e}"}
    errors, inside, pos = [], [], origins[0]
    for o in origins:
        model, pos = model.extend(y.iloc[pos:o]), o
        fc = model.forecast(horizon, level)
        actual = y.iloc[o: o + horizon].to_numpy()
        errors.append(actual - np.asarray(fc.mean))
        inside.append((actual >= np.asarray(fc.lower)) & (actual <= np.asarray(fc.upper)))
    err = np.concatenate(errors)
    return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
            "coverage": float(np.mean(np.concatenate(inside))), "origins": len(origins), "horizon": horizon}


def fit_volatility(y: pd.Series, *, returns: Returns, freq: str, side: str = "down",
                   start: Mapping[str, float] | None = None,
                   backtest_params: Mapping[str, float] | None = None) -> Fitted:
    """GARCH(1,1)-t with its QLIKE backtest against EWMA and its 99% VaR backtest on the `side`
    where a move is a loss; EWMA(0.94) when GARCH fails. `start`: earlier GARCH parameters;
    `backtest_params`: the backtest model's parameters held from an earlier estimation (see
    `backtest_volatility`)."""
    y = clean(y)
    try:
        g = GarchFitted.fit(y, GarchSpec(returns=returns, freq=freq), start)
    except FitFailed as e:
        try:
            ewma = EwmaFitted.fit(y, EwmaSpec(returns=returns, freq=freq))
        except FitFailed as e2:
            raise FitFailed(f"{e}; {e2}") from e2
        return _fallback(ewma, f"{e}; fell back to EWMA(0.94)")
    g.metrics["backtest"] = backtest_volatility(y, g.spec, side, start=g.params, params=backtest_params)
    return g


def backtest_volatility(y: pd.Series, spec: GarchSpec, side: str = "down",
                        start: Mapping[str, float] | None = None,
                        params: Mapping[str, float] | None = None) -> dict[str, Any]:
    """QLIKE of one-step variances over the last year: GARCH estimated before it vs EWMA(0.94);
    and the exceptions of its 99% VaR there (Kupiec, Christoffersen, Basel zone: `var99`).

    `params` (with their `scale` and `estimated_to`, as a backtest returns them): parameters
    estimated earlier on data before an earlier window, so before this one too; the window's model
    then only filters at them (still out of sample), instead of being estimated again. The
    forecast layer holds them on the level models' reselection calendar."""
    m = VOL_BACKTEST
    if len(y) - 1 - m < MIN_GARCH_RETURNS:
        return {"skipped": f"{len(y) - 1} returns are too few for a {m}-day backtest"}
    head = y.iloc[:-m]
    try:
        held = GarchFitted.at_params(head, spec, params) if params else None
        g = (held or GarchFitted.fit(head, spec, start)).extend(y.iloc[-m:])
    except FitFailed as e:
        return {"skipped": f"failed before the backtest window: {e}"}
    e = EwmaFitted.fit(y, EwmaSpec(returns=spec.returns, freq=spec.freq))
    r = g.r[-m:]
    q_g = qlike(g.conditional_volatility.to_numpy()[-m:] ** 2, r)
    q_e = qlike(e.conditional_volatility.to_numpy()[-m:] ** 2, r)
    var99 = window_backtest(g, m, side=side, level=0.99).model_dump(mode="json")
    return {"qlike": q_g, "qlike_ewma": q_e, "n": m, "beats_ewma": bool(q_g < q_e), "var99": var99,
            "params": {**g.params, "scale": g.scale, "estimated_to": g.fitted_at.isoformat()}}


def fit_regime(y: pd.Series, *, returns: Returns, freq: str, start: Mapping[str, float] | None = None) -> Fitted:
    """Two-regime Markov switching; raises FitFailed (no simpler model gives a regime probability)."""
    return RegimeFitted.fit(clean(y), RegimeSpec(returns=returns, freq=freq), start)


def _label(spec: Any) -> str:
    return str(getattr(spec, "label", spec.family))


def _fallback(f: Fitted, why: str, **metrics: Any) -> Fitted:
    f.metrics.update(fallback=why, selected=_label(f.spec), **metrics)
    return f
