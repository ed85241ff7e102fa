"""The GARCH VaR path and its out-of-sample backtest (the statistics are in `assess.var_backtest`).

`garch_var_backtest` is the backtest every user of the VaR sees (report, track record, eval):
GARCH(1,1)-t estimated on the data before the window, then filtered through it at those fixed
parameters, so each day's VaR uses only returns before that day and parameters from before the
window.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.assess.forecast.base import FitFailed, Returns, clean
from sco_monitor.assess.forecast.garch import MIN_GARCH_RETURNS, ArchFitted, GarchFitted, GarchSpec
from sco_monitor.assess.model import VarBacktest
from sco_monitor.assess.var_backtest import WINDOW, backtest


def var_path(fitted: ArchFitted, level: float, side: str) -> pd.DataFrame:
    """Loss and one-day VaR on every return date of a fitted arch model (at its fixed parameters).

    The loss is the fall (side down, and both) or the rise (side up) of the return; the VaR is the
    `level` quantile of that loss given the returns before the day.
    """
    sigma = fitted.conditional_volatility
    mu = float(fitted.params.get("mu", 0.0)) / fitted.scale
    q = float(fitted.std_ppf(np.array([1.0 - level]))[0])  # < 0
    r = pd.Series(fitted.r, index=sigma.index)
    if side == "up":
        return pd.DataFrame({"loss": r, "var": mu - sigma * q})
    return pd.DataFrame({"loss": -r, "var": -(mu + sigma * q)})


def garch_var_backtest(
    y: pd.Series,
    *,
    returns: Returns = "log",
    freq: str = "B",
    side: str = "down",
    level: float = 0.99,
    window: int = WINDOW,
    end: date | pd.Timestamp | None = None,
) -> VarBacktest:
    """Out-of-sample backtest of the GARCH(1,1)-t VaR over the last `window` returns up to `end`."""
    y = clean(y)
    if end is not None:
        y = y.loc[: pd.Timestamp(end)]
    sid = str(y.name or "")
    spec = GarchSpec(returns=returns, freq=freq)
    base = {"series_id": sid, "model": spec.label, "side": side}
    if len(y) - 1 - window < MIN_GARCH_RETURNS:
        return VarBacktest(level=level, note=f"{len(y) - 1} returns are too few for a {window}-day backtest", **base)
    try:
        g = GarchFitted.fit(y.iloc[:-window], spec).extend(y.iloc[-window:])
    except (FitFailed, ValueError) as e:
        return VarBacktest(level=level, note=f"GARCH failed before the window: {e}", **base)
    return window_backtest(g, window, side=side, level=level)


def window_backtest(g: ArchFitted, window: int, *, side: str = "down", level: float = 0.99) -> VarBacktest:
    """Backtest of the last `window` returns of a model estimated before them and extended through them."""
    path = var_path(g, level, side).iloc[-window:]
    estimated_to: date = g.fitted_at
    return backtest(path["loss"], path["var"], level, series_id=g.series_id, model=g.spec.label, side=side,
                    estimated_to=estimated_to)
