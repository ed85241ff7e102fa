"""Evaluation: out-of-sample one-day variance forecasts, GARCH(1,1)-t against EWMA(0.94), QLIKE loss.

Protocol, point-in-time at every origin: a ten-year rolling window ending the day before the
origin is used to estimate GARCH; the next 20 days are filtered at those fixed parameters (each
day's variance uses only the returns before it), then the window moves on and GARCH is
re-estimated. EWMA(0.94) runs over the same days. Loss: QLIKE = ln(h) + r²/h (Patton 2011),
robust to the noise of r² as a proxy; a Diebold-Mariano t-statistic (HAC, 20 lags) goes with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sco_monitor.assess.forecast import FitFailed
from sco_monitor.assess.forecast.garch import EwmaFitted, EwmaSpec, GarchFitted, GarchSpec

from .forecast_data import sp500

pytestmark = pytest.mark.eval

WINDOW, REFIT = 2520, 20


def rolling_losses(prices: pd.Series) -> dict[str, float]:
    prices = prices.dropna()
    r_all, h_garch, h_ewma, fallbacks = [], [], [], 0
    for origin in range(WINDOW + 1, len(prices), REFIT):
        history, block = prices.iloc[origin - WINDOW - 1: origin], prices.iloc[origin: origin + REFIT]
        try:
            garch = GarchFitted.fit(history, GarchSpec()).extend(block)
        except FitFailed:
            fallbacks += 1
            garch = EwmaFitted.fit(history, EwmaSpec()).extend(block)
        ewma = EwmaFitted.fit(history, EwmaSpec()).extend(block)
        k = len(block)
        r_all.append(garch.r[-k:])
        h_garch.append(garch.conditional_volatility.to_numpy()[-k:] ** 2)
        h_ewma.append(ewma.conditional_volatility.to_numpy()[-k:] ** 2)
    r, hg, he = (np.concatenate(x) for x in (r_all, h_garch, h_ewma))
    loss_g, loss_e = np.log(hg) + r ** 2 / hg, np.log(he) + r ** 2 / he
    dm = sm.OLS(loss_g - loss_e, np.ones_like(r)).fit(cov_type="HAC", cov_kwds={"maxlags": REFIT})
    return {"qlike_garch": float(loss_g.mean()), "qlike_ewma": float(loss_e.mean()), "days": len(r),
            "dm_t": float(dm.tvalues[0]), "fallbacks": fallbacks,
            "from": str(prices.index[WINDOW + 1].date()), "to": str(prices.index[-1].date())}


def report(name: str, out: dict[str, float]) -> None:
    print(f"\n{name}: QLIKE GARCH(1,1)-t {out['qlike_garch']:.4f} vs EWMA(0.94) {out['qlike_ewma']:.4f} "
          f"over {out['days']} days {out['from']}..{out['to']} (DM t = {out['dm_t']:.2f}; "
          f"GARCH fallbacks: {out['fallbacks']})")


def test_garch_beats_ewma_on_the_sp500() -> None:
    out = rolling_losses(sp500())
    report("S&P 500", out)
    assert out["qlike_garch"] < out["qlike_ewma"], out


def test_garch_beats_ewma_on_imoex(shared_data: Path) -> None:
    imoex = pd.read_csv(shared_data / "equity" / "moex-imoex.csv", parse_dates=["date"], index_col="date")
    out = rolling_losses(imoex["close"].rename("eq.ru.imoex"))
    report("IMOEX", out)
    assert out["qlike_garch"] < out["qlike_ewma"], out
