"""VaR backtests: the Basel traffic light, Kupiec's and Christoffersen's tests, the GARCH backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from sco_monitor.assess.forecast.garch import GarchFitted, GarchSpec
from sco_monitor.assess.forecast.var import garch_var_backtest, var_path
from sco_monitor.assess.var_backtest import backtest, christoffersen, kupiec, traffic_light


def test_the_traffic_light_is_the_basel_table_at_250_days() -> None:
    zones = [traffic_light(x, 250, 0.99) for x in range(13)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 3
    assert traffic_light(12, 500, 0.99) == "yellow"  # same cumulative probabilities on a longer window


def test_kupiec_is_zero_at_the_promised_rate_and_rejects_far_from_it() -> None:
    lr, p = kupiec(10, 1000, 0.99)
    assert lr == pytest.approx(0.0, abs=1e-9) and p == pytest.approx(1.0)
    lr, p = kupiec(12, 250, 0.99)
    # by hand: -2 ln[(0.99^238 0.01^12) / ((238/250)^238 (12/250)^12)]
    by_hand = -2 * (238 * np.log(0.99) + 12 * np.log(0.01) - 238 * np.log(238 / 250) - 12 * np.log(12 / 250))
    assert lr == pytest.approx(by_hand) and p < 0.001
    lr0, p0 = kupiec(0, 250, 0.99)  # none at all is also evidence: the VaR is too wide
    assert lr0 == pytest.approx(-2 * 250 * np.log(0.99)) and p0 == pytest.approx(0.025, abs=1e-3)


def test_christoffersen_rejects_clustered_exceptions_and_not_spread_ones() -> None:
    spread = np.zeros(250, dtype=bool)
    spread[[20, 70, 120, 170, 220]] = True
    clustered = np.zeros(250, dtype=bool)
    clustered[100:105] = True
    assert christoffersen(spread)[1] > 0.5
    assert christoffersen(clustered)[1] < 1e-4


def test_backtest_counts_losses_above_the_var_on_common_dates() -> None:
    days = pd.bdate_range("2020-01-01", periods=6)
    loss = pd.Series([1.0, 3.0, 0.5, 2.5, np.nan, 4.0], index=days)
    var = pd.Series([2.0, 2.0, 2.0, 2.0, 2.0, np.nan], index=days)
    bt = backtest(loss, var, 0.99, series_id="x")
    assert (bt.days, bt.exceptions, bt.start, bt.end) == (4, 2, days[0].date(), days[3].date())
    assert bt.expected == pytest.approx(0.04) and bt.series_id == "x"


@pytest.fixture(scope="module")
def garch_prices() -> pd.Series:
    sim = arch_model(None, vol="GARCH", p=1, q=1, dist="t")
    r = sim.simulate([0.03, 0.02, 0.08, 0.9, 6.0], 1600, burn=300).data.to_numpy()
    r = np.asarray(r, dtype=float)
    days = pd.bdate_range("2010-01-01", periods=len(r) + 1)
    return pd.Series(100 * np.exp(np.r_[0.0, np.cumsum(r / 100)]), index=days, name="eq.sim")


def test_the_garch_backtest_is_out_of_sample_and_counts_what_its_var_path_says(garch_prices: pd.Series) -> None:
    np.random.seed(3)
    bt = garch_var_backtest(garch_prices, side="down", level=0.99, window=250)
    assert bt.days == 250 and bt.end == garch_prices.index[-1].date()
    assert bt.estimated_to == garch_prices.index[-251].date() < bt.start  # parameters from before the window
    g = GarchFitted.fit(garch_prices.iloc[:-250], GarchSpec()).extend(garch_prices.iloc[-250:])
    path = var_path(g, 0.99, "down").iloc[-250:]
    assert bt.exceptions == int((path["loss"] > path["var"]).sum())
    assert bt.zone in ("green", "yellow")  # a correct model on its own data: no red record
    up = garch_var_backtest(garch_prices, side="up", level=0.99, window=250)
    assert up.side == "up" and up.days == 250


def test_too_short_a_history_says_so() -> None:
    y = pd.Series(np.linspace(100, 110, 200), index=pd.bdate_range("2020-01-01", periods=200), name="s")
    bt = garch_var_backtest(y)
    assert bt.days == 0 and "too few" in bt.note and bt.zone is None
