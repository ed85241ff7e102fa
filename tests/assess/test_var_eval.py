"""VaR backtests on real history: the S&P 500's place (DJIA; NYSE Composite for 2020, where the DJIA
file ends) and IMOEX over 2008 and 2020, with historical simulation as the peer.

GARCH(1,1)-t is estimated on the data before each 250-day window and filtered through it at
those parameters; historical simulation takes the 99% quantile of the previous 500 days' losses.
Run with -s to see the table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.forecast.var import garch_var_backtest
from sco_monitor.assess.var_backtest import backtest, traffic_light

from .. import realdata
from ..conftest import SHARED_DATA

pytestmark = pytest.mark.eval


def _series() -> dict[str, pd.Series]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    frame = realdata.load(str(SHARED_DATA))
    djia = realdata._price(Path(SHARED_DATA) / "equity/djia.csv", "Date", "Close")
    return {"DJIA": djia[~djia.index.duplicated()].rename("djia"),
            "NYSE Composite": frame["eq.us.spx"].dropna().rename("nya"),
            "IMOEX": frame["eq.ru.imoex"].dropna().rename("imoex")}


def _historical(y: pd.Series, end: str, window: int = 250, lookback: int = 500) -> tuple[int, str]:
    y = y.loc[:end]
    loss = -100 * np.log(y).diff()
    var = loss.rolling(lookback).quantile(0.99).shift(1)
    bt = backtest(loss.iloc[-window:], var.iloc[-window:], 0.99)
    return bt.exceptions, bt.zone or "n/a"


def test_var_zones_of_the_us_market_and_imoex_in_2008_and_2020() -> None:
    series = _series()
    print("\nVaR 99%, last 250 days of the year | GARCH(1,1)-t: exceptions, Kupiec p, Christoffersen p, zone "
          "| historical simulation (500 days): exceptions, zone")
    rows = {}
    for name, year in (("DJIA", 2008), ("NYSE Composite", 2008), ("IMOEX", 2008), ("NYSE Composite", 2020),
                       ("IMOEX", 2020)):
        y = series[name]
        bt = garch_var_backtest(y, side="down", level=0.99, end=f"{year}-12-31")
        hs = _historical(y, f"{year}-12-31")
        rows[(name, year)] = (bt, hs)
        print(f"  {name:15s} {year} {bt.start}..{bt.end}: {bt.exceptions:2d} exceptions, Kupiec p {bt.kupiec_p:.3f}, "
              f"Christoffersen p {bt.christoffersen_p:.3f}, {bt.zone:6s} | HS {hs[0]:2d}, {hs[1]}")
        assert bt.days == 250 and bt.end.year == year and bt.estimated_to < bt.start
        assert bt.zone == traffic_light(bt.exceptions, 250, 0.99)
    print("  (the DJIA file ends in 2019, so the US 2020 row is the NYSE Composite)")
    for key, (bt, hs) in rows.items():  # a conditional VaR adapts to a volatility burst; a historical one lags
        if key[1] == 2008:
            assert bt.exceptions < hs[0], key
    assert all(bt.zone != "red" for (_, year), (bt, _) in rows.items() if year == 2008)
