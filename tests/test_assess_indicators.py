"""Indicators: their arithmetic, their direction conventions and, above all, causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.indicators import Indicators, registry

from .assess_helpers import random_walks, write_config

# Every registered indicator with the parameters that exercise it.
CASES = [
    ("level", {}), ("log_return", {}), ("ewma_vol", {"lam": 0.94}), ("shock", {}), ("drawdown", {"window": 60}),
    ("drawdown", {"window": 60, "orient": True}), ("change", {"window": 20}), ("change", {"window": 5, "log": True}),
    ("zscore", {"of": "return", "min_periods": 100}), ("zscore", {"of": "level", "min_periods": 100}),
    ("zscore", {"of": "change", "window": 20, "method": "ewma"}), ("fx_depreciation", {"window": 20}),
    ("spread", {"a": "fx.usd_rub", "b": "fx.usd_kzt", "log": True}),
]


@pytest.fixture
def cfg(tmp_path):
    return write_config(tmp_path)


def _frame() -> pd.DataFrame:
    f = random_walks(["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_kzt", "fx.eur_usd", "vol.vix"], periods=700)
    f["spread.us.baa10y"] = 2.0 + np.cumsum(np.random.default_rng(3).normal(0, 0.03, len(f)))
    f.loc[f.index[::17], "eq.ru.imoex"] = np.nan  # its own holidays
    f.loc[f.index[300:305], "fx.usd_kzt"] = np.nan  # a gap
    annual = pd.Series([8.0, 7.1, 6.5, 14.0], index=pd.to_datetime(["2009-01-01", "2010-01-01", "2011-01-01",
                                                                    "2012-01-01"]))
    return f.join(annual.rename("macro.kz.inflation"), how="outer")


def test_every_indicator_is_covered_by_the_causality_test() -> None:
    assert {name for name, _ in CASES} == set(registry.names())


@pytest.mark.parametrize("name,params", CASES)
def test_value_at_d_uses_nothing_after_d(cfg, name: str, params: dict) -> None:
    """Computed on data truncated at D and on the full data, every value up to D is the same."""
    full = _frame()
    whole = Indicators(full, cfg.series).aligned(name, **params)
    for d in ("2011-03-15", "2011-09-30", "2012-04-02"):
        cut = Indicators(full.loc[:d], cfg.series, as_of=pd.Timestamp(d).date()).aligned(name, **params)
        pd.testing.assert_frame_equal(cut, whole.loc[:d], check_freq=False)
        assert cut.iloc[-1].notna().any(), f"{name} has no value at {d}: the test would prove nothing"


def test_log_return_and_change_by_kind(cfg) -> None:
    f = pd.DataFrame({"eq.us.spx": [100.0, 110.0, np.nan, 99.0], "spread.us.baa10y": [2.0, 2.5, 2.4, 3.0]},
                     index=pd.bdate_range("2020-01-01", periods=4))
    ind = Indicators(f, cfg.series)
    r = ind.raw("log_return")
    assert r["eq.us.spx"].iloc[1] == pytest.approx(np.log(1.1))
    assert np.isnan(r["eq.us.spx"].iloc[2])  # not observed that day
    assert r["eq.us.spx"].iloc[3] == pytest.approx(np.log(99 / 110))  # since the last observation
    assert r["spread.us.baa10y"].iloc[3] == pytest.approx(0.6)  # spreads move in differences
    c = ind.raw("change", window=2)
    assert c["eq.us.spx"].iloc[3] == pytest.approx(99 / 110 - 1)
    assert c["spread.us.baa10y"].iloc[3] == pytest.approx(0.5)


def test_non_positive_prices_have_no_ratio_rather_than_a_wrong_one(cfg) -> None:
    # WTI settled at -37.63 on 2020-04-20: no log return, no ratio change across it
    f = pd.DataFrame({"cmd.brent": [18.0, -37.6, 10.0, 12.0]}, index=pd.bdate_range("2020-04-17", periods=4))
    ind = Indicators(f, cfg.series)
    assert ind.raw("log_return")["cmd.brent"].iloc[1:3].isna().all()
    assert ind.raw("log_return")["cmd.brent"].iloc[3] == pytest.approx(np.log(1.2))
    assert np.isnan(ind.raw("change", window=1)["cmd.brent"].iloc[2])
    assert ind.raw("drawdown", window=4)["cmd.brent"].tolist()[2:] == pytest.approx([10 / 18 - 1, 12 / 18 - 1])


def test_ewma_volatility_is_the_riskmetrics_recursion_annualised(cfg) -> None:
    f = random_walks(["eq.us.spx"], periods=300)
    ind = Indicators(f, cfg.series)
    r = np.log(f["eq.us.spx"]).diff().to_numpy()[1:]
    # pandas' adjust=True EWMA is the exact weighted mean the recursion converges to
    lam, num, den = 0.94, 0.0, 0.0
    for x in r:
        num, den = lam * num + x * x, lam * den + 1.0
    vol = ind.raw("ewma_vol", lam=0.94)["eq.us.spx"].iloc[-1]
    assert vol == pytest.approx(np.sqrt(num / den) * np.sqrt(252))
    shock = ind.raw("shock")["eq.us.spx"]
    prev_daily = ind.raw("ewma_vol", lam=0.94)["eq.us.spx"].iloc[-2] / np.sqrt(252)
    assert shock.iloc[-1] == pytest.approx(r[-1] / prev_daily)


def test_drawdown_from_rolling_high_and_its_oriented_form(cfg) -> None:
    f = pd.DataFrame({"eq.us.spx": [100.0, 120, 90, 60, 80], "fx.usd_rub": [50.0, 40, 60, 80, 70]},
                     index=pd.bdate_range("2020-01-01", periods=5))
    ind = Indicators(f, cfg.series)
    dd = ind.raw("drawdown", window=3)
    assert dd["eq.us.spx"].tolist() == pytest.approx([0, 0, -0.25, -0.5, 80 / 90 - 1])
    # oriented: for USD/RUB (a rise is the risk) the fall of the rouble's value, low/x - 1
    odd = ind.raw("drawdown", window=3, orient=True)
    assert odd["fx.usd_rub"].tolist() == pytest.approx([0, 0, 40 / 60 - 1, 40 / 80 - 1, 60 / 70 - 1])
    assert odd["eq.us.spx"].tolist() == dd["eq.us.spx"].tolist()


def test_fx_depreciation_follows_the_quote(cfg) -> None:
    idx = pd.bdate_range("2020-01-01", periods=3)
    f = pd.DataFrame({"fx.usd_kzt": [400.0, 420, 440], "fx.eur_usd": [1.10, 1.05, 1.00]}, index=idx)
    dep = Indicators(f, cfg.series).raw("fx_depreciation", window=2)
    assert dep["fx.usd_kzt"].iloc[-1] == pytest.approx(np.log(1.1))  # USD/KZT up: tenge depreciates
    assert dep["fx.eur_usd"].iloc[-1] == pytest.approx(np.log(1.10 / 1.00))  # EUR/USD down: euro depreciates


def test_zscore_waits_for_min_periods_and_excludes_the_current_value(cfg) -> None:
    f = random_walks(["eq.us.spx"], periods=200)
    z = Indicators(f, cfg.series).raw("zscore", of="level", min_periods=120)["eq.us.spx"]
    assert z.iloc[:120].isna().all() and z.iloc[121:].notna().all()
    x = f["eq.us.spx"]
    assert z.iloc[150] == pytest.approx((x.iloc[150] - x.iloc[:150].mean()) / x.iloc[:150].std())


def test_spread_between_two_series(cfg) -> None:
    idx = pd.bdate_range("2020-01-01", periods=3)
    f = pd.DataFrame({"fx.usd_rub": [70.0, 72, np.nan], "fx.usd_kzt": [7.0, np.nan, 7.5]}, index=idx)
    s = Indicators(f, cfg.series).raw("spread", a="fx.usd_rub", b="fx.usd_kzt")["fx.usd_rub"]
    assert s.tolist() == pytest.approx([63.0, 65.0, 64.5])  # each leg carried to the other's dates


def test_macro_values_appear_after_their_publication_lag_and_go_stale(cfg) -> None:
    idx = pd.bdate_range("2011-01-03", "2013-12-31")
    f = pd.DataFrame({"eq.us.spx": 100.0}, index=idx)
    f = f.join(pd.Series([5.0, 9.0], index=pd.to_datetime(["2011-01-01", "2012-01-01"]),
                         name="macro.kz.inflation"), how="outer")
    ind = Indicators(f, cfg.series)
    lvl = ind.aligned("level")["macro.kz.inflation"]
    assert np.isnan(lvl.loc["2011-07-15"])  # 2011 value knowable only 200 days after its date
    assert lvl.loc["2011-07-20"] == 5.0
    assert lvl.loc["2012-07-18"] == 5.0 and lvl.loc["2012-07-19"] == 9.0
    fresh = ind.fresh()["macro.kz.inflation"]
    assert fresh.loc["2013-10-10"] and not fresh.loc["2013-10-14"]  # 450 days after 2012-07-19
    assert fresh.loc["2013-12-31"] == False


def test_latest_and_recent_for_reports_and_storage(cfg) -> None:
    f = random_walks(["eq.us.spx", "fx.usd_kzt"], periods=400)
    ind = Indicators(f, cfg.series)
    from sco_monitor.assess.pipeline import indicator_specs

    specs = indicator_specs(cfg)
    latest = ind.latest(specs)
    assert latest["eq.us.spx"]["level"] == pytest.approx(f["eq.us.spx"].iloc[-1])
    assert "fx_depreciation_20" in latest["fx.usd_kzt"] and "fx_depreciation_20" not in latest["eq.us.spx"]
    recent = ind.recent(specs, days=7)
    assert recent["date"].min() >= f.index[-1] - pd.Timedelta(days=7)
    assert set(recent["indicator"]) >= {"log_return", "ewma_vol", "change_20", "drawdown"}
