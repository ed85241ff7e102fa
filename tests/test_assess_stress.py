"""The composite stress index: CDF transform, CISS aggregation, levels, scopes, causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.indicators import Indicators
from sco_monitor.assess.stress import (
    StressParams,
    ciss,
    ecdf,
    level_bounds,
    level_ranks,
    scope_members,
    stress_index,
)

from .assess_helpers import random_walks, write_config


def test_ecdf_is_the_percentile_rank_among_values_so_far() -> None:
    raw = pd.DataFrame({"x": [3.0, 1.0, np.nan, 2.0, 5.0, 0.5]})
    out = ecdf(raw, min_obs=2)["x"]
    assert np.isnan(out.iloc[0]) and np.isnan(out.iloc[2])
    assert out.iloc[1:].dropna().tolist() == pytest.approx([1 / 2, 2 / 3, 4 / 4, 1 / 5])


def test_ciss_is_the_correlation_weighted_quadratic_form() -> None:
    rng = np.random.default_rng(1)
    n = 400
    common = rng.uniform(size=n)
    sub = pd.DataFrame({"equity": 0.7 * common + 0.3 * rng.uniform(size=n),
                        "fx": rng.uniform(size=n), "rates": 0.5 * common + 0.5 * rng.uniform(size=n)})
    sub.iloc[100:150, 1] = np.nan  # fx missing for a while: weights renormalise
    lam = 0.9
    index, contrib = ciss(sub, lam=lam, min_periods=1)
    # independent recomputation, one day at a time
    z = sub.to_numpy() - 0.5
    num, den = np.zeros((3, 3)), np.zeros((3, 3))
    for t in range(n):
        ok = ~np.isnan(z[t])
        prod = np.outer(np.nan_to_num(z[t]), np.nan_to_num(z[t]))
        seen = np.outer(ok, ok)
        num = np.where(seen, lam * num + prod, num)
        den = np.where(seen, lam * den + 1.0, den)
        cov = num / np.where(den > 0, den, 1)
        corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        corr = np.nan_to_num(corr)
        np.fill_diagonal(corr, 1.0)
        w = ok / ok.sum()
        ws = w * np.nan_to_num(sub.to_numpy()[t])
        if t in (50, 120, 399):
            assert index.iloc[t] == pytest.approx(ws @ corr @ ws, rel=1e-9)
            assert contrib.iloc[t].sum() == pytest.approx(index.iloc[t])
    assert np.isnan(contrib.iloc[120]["fx"])


def test_stress_in_all_segments_at_once_weighs_more_than_in_one() -> None:
    cal = pd.RangeIndex(300)
    calm = np.linspace(0.2, 0.6, 300)
    together = pd.DataFrame({"a": calm, "b": calm, "c": calm}, index=cal)
    alone = together.copy()
    alone["b"] = 1 - calm
    alone["c"] = 0.5
    i_together, _ = ciss(together)
    i_alone, _ = ciss(alone)
    assert i_together.iloc[-1] > i_alone.iloc[-1]
    assert i_together.iloc[-1] == pytest.approx(0.6**2, rel=1e-6)  # perfectly correlated: (mean s)^2


def test_levels_start_at_quantiles_of_the_index_s_own_past() -> None:
    idx = pd.Series(np.linspace(0, 1, 1001))
    bounds = level_bounds(idx, (0.5, 0.75, 0.9, 0.975), min_obs=250)
    assert bounds.iloc[:250].isna().all().all()
    past = idx.iloc[:800]
    assert bounds["high"].iloc[800] == pytest.approx(past.quantile(0.9))
    ranks = level_ranks(idx, bounds)
    assert ranks.iloc[1000] == 4  # a new maximum is severe
    assert level_ranks(pd.Series([0.0] * 1001), bounds).iloc[1000] == 0


@pytest.fixture
def cfg(tmp_path):
    return write_config(tmp_path)


def _market(periods: int = 900) -> pd.DataFrame:
    f = random_walks(["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_kzt", "fx.eur_usd", "cmd.brent", "vol.vix"],
                     periods=periods, vol=0.012)
    f["spread.us.baa10y"] = 2.0 + np.cumsum(np.random.default_rng(5).normal(0, 0.02, periods))
    return f


def test_scopes_take_their_own_series_and_the_world_takes_global_ones(cfg) -> None:
    series = list(cfg.series.values())
    assert [s.id for s in scope_members(series, "RUS")] == ["eq.ru.imoex", "fx.usd_rub"]
    world = {s.id for s in scope_members(series, "WLD")}
    assert world == {"eq.us.spx", "fx.eur_usd", "cmd.brent", "vol.vix", "spread.us.baa10y"}


def test_a_country_with_few_segments_gets_a_level_and_says_so(cfg) -> None:
    f = _market()
    res = stress_index(Indicators(f, cfg.series), list(cfg.series.values()), ["WLD", "KAZ", "RUS", "TJK"])
    values = res.values()
    kaz = values["KAZ"]
    assert kaz.value is not None and kaz.level in ("low", "moderate", "elevated", "high", "severe")
    assert list(kaz.subindices) == ["fx"] and kaz.missing == ["equity", "money", "rates", "commodities", "volatility"]
    assert kaz.note.startswith("partial index from 1 of 6 segments (fx)")
    wld = values["WLD"]
    assert set(wld.segments) == {"equity", "fx", "rates", "commodities", "volatility"} and wld.note == ""
    assert sum(wld.segments.values()) == pytest.approx(wld.value)
    assert set(wld.thresholds) == {"moderate", "elevated", "high", "severe"}
    assert values["TJK"].value is None and values["TJK"].note == "no market series for TJK in the universe"


def test_the_stress_index_is_causal(cfg) -> None:
    f = _market()
    series = list(cfg.series.values())
    whole = stress_index(Indicators(f, series=cfg.series), series, ["WLD", "RUS"])
    d = f.index[700]
    cut = stress_index(Indicators(f.loc[:d], cfg.series, d.date()), series, ["WLD", "RUS"])
    for scope in ("WLD", "RUS"):
        assert cut.scopes[scope].value(d) == whole.scopes[scope].value(d)
        assert cut.scopes[scope].value(d).value is not None


def test_a_holiday_week_does_not_change_the_index_composition(cfg) -> None:
    f = _market()
    f.loc[f.index[800:806], "eq.ru.imoex"] = np.nan  # a week-long market closure
    res = stress_index(Indicators(f, cfg.series), list(cfg.series.values()), ["RUS"], StressParams())
    assert res.scopes["RUS"].subindices["equity"].iloc[800:806].notna().all()


def test_funding_spreads_are_the_money_market_segment_apart_from_credit_spreads() -> None:
    """TED (tagged funding in the shipped universe) gets its own sub-index, the CDF of its level;
    the Baa spread stays in the bond market with the CDF of its level only (no 20-day change)."""
    from sco_monitor.config import load_config

    from .conftest import ROOT

    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    rng = np.random.default_rng(11)
    f = random_walks(["vol.vix"], periods=700, vol=0.02)
    f["spread.us.ted"] = np.abs(0.3 + np.cumsum(rng.normal(0, 0.02, 700)))
    f["spread.us.baa10y"] = 2.0 + np.cumsum(rng.normal(0, 0.02, 700))
    ind = Indicators(f, config.series)
    us = stress_index(ind, list(config.series.values()), ["USA"]).scopes["USA"]
    assert list(us.subindices) == ["money", "rates", "volatility"]
    for seg, sid in (("money", "spread.us.ted"), ("rates", "spread.us.baa10y")):
        expected = ind.align(f[[sid]].expanding(min_periods=250).rank(pct=True))[sid]  # a day's publication lag
        pd.testing.assert_series_equal(us.subindices[seg].iloc[300:], expected.iloc[300:], check_names=False)
