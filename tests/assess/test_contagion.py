"""Contagion in the crisis probability: trade weights from the stored DOT flows, the fallback, proportionality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess import ews
from sco_monitor.assess.contagion import contagion, link_weights, stress_excess, trade_weights
from sco_monitor.config import load_config

from . import coop_fixture
from .test_cooperation_rules import stored_frame

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"KAZ": {"RUS": 0.5, "CHN": 0.3}, "KGZ": {"RUS": 0.5, "CHN": 0.3}}


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config" / "sco-monitor.yaml")


@pytest.fixture(scope="module")
def trade(config):
    """Weights from the recorded-format SCO fixture (illustrative values, not recorded data)."""
    return trade_weights(stored_frame(config), list(config.series.values()))


def share(reporter: str, partner: str) -> float:
    return coop_fixture.MONTHLY[reporter][partner] / coop_fixture.MONTHLY[reporter]["W00"]


def test_weights_are_export_shares_dated_when_the_year_of_flows_is_knowable(trade) -> None:
    kaz = trade["KAZ"]
    # the first 12 months end 2023-12-31 and are knowable 90 days later
    assert kaz.index[0] == pd.Timestamp("2023-12-31") + pd.Timedelta(days=90)
    first = kaz.iloc[0]
    assert first["RUS"] == pytest.approx(share("KZ", "RU")) and first["CHN"] == pytest.approx(share("KZ", "CN"))
    assert first["KGZ"] == pytest.approx(share("KZ", "KG")) and "KAZ" not in kaz.columns
    assert trade["KGZ"].iloc[0]["RUS"] == pytest.approx(share("KG", "RU"))
    # KG's exports to India (1 of 280 a month) are below the 1% floor: no channel
    assert trade["KGZ"].iloc[0]["IND"] == 0.0


def test_days_before_any_knowable_trade_use_the_documented_default_links(trade) -> None:
    cal = pd.bdate_range("2024-01-01", "2024-06-28")
    w = link_weights(cal, "KAZ", trade, DEFAULTS)
    before, after = w.loc["2024-03-29"], w.loc["2024-04-01"]
    assert before["RUS"] == 0.5 and before["CHN"] == 0.3 and before["KGZ"] == 0.0
    assert after["RUS"] == pytest.approx(share("KZ", "RU"))
    # no trade stored at all: the defaults throughout; no defaults either: no contagion
    only = link_weights(cal, "KAZ", {}, DEFAULTS)
    assert (only["RUS"] == 0.5).all() and (only["CHN"] == 0.3).all()
    assert link_weights(cal, "UZB", {}, DEFAULTS) is None


def test_a_neighbours_crisis_raises_the_probability_in_proportion_to_the_trade_weight(trade) -> None:
    # the model: fitted on a panel where a neighbour's stress (the contagion feature) precedes crises
    rng = np.random.default_rng(5)
    p = ews.EwsParams(horizon=20, min_obs=50, quiet=100, post_crisis=30)
    idx = pd.bdate_range("2000-01-03", periods=3000)
    feats, onsets = {}, {}
    for scope in ("AAA", "BBB"):
        own = rng.uniform(0, 0.7, len(idx))
        spill = rng.uniform(0, 0.1, len(idx))
        on = [idx[i] for i in rng.choice(np.arange(200, 2900, 300), 5, replace=False)]
        for o in on:
            i = idx.get_loc(o)
            own[i - p.horizon: i] = np.where(rng.uniform(size=p.horizon) < 0.5, 0.95, own[i - p.horizon: i])
            spill[i - p.horizon: i] = rng.uniform(0.2, 0.5, p.horizon)
        feats[scope] = pd.DataFrame({"seg_fx": own, "contagion": spill}, index=idx)
        onsets[scope] = sorted(on)
    model = ews.fit(feats, onsets, idx[-1], p)
    assert "contagion" in model.linear and model.params["contagion"] > 0

    # Russia's stress jumps to the top of its history on one day; Kazakhstan and Kyrgyzstan are calm
    cal = pd.bdate_range("2024-06-03", periods=5)
    calm_rus = pd.Series(0.5, index=cal)
    crisis_rus = calm_rus.copy()
    crisis_rus.iloc[-1] = 1.0
    lift = {}
    for member, code in (("KAZ", "KZ"), ("KGZ", "KG")):
        w = link_weights(cal, member, trade, DEFAULTS)[["RUS"]]
        before = contagion({"RUS": calm_rus}, w).iloc[-1]
        after = contagion({"RUS": crisis_rus}, w).iloc[-1]
        assert before == 0.0 and after == pytest.approx(share(code, "RU"))
        p0, _ = model.probability({"seg_fx": 0.1, "contagion": before})
        p1, drivers = model.probability({"seg_fx": 0.1, "contagion": after})
        assert p1 > p0 and drivers["contagion"] > 0
        lift[member] = np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))
    assert lift["KAZ"] / lift["KGZ"] == pytest.approx(share("KZ", "RU") / share("KG", "RU"))


def test_a_neighbour_calmer_than_its_median_adds_nothing() -> None:
    r = pd.Series([0.1, 0.5, 0.75, 1.0])
    assert stress_excess(r).tolist() == [0.0, 0.0, 0.5, 1.0]


def test_a_negative_contagion_coefficient_is_dropped() -> None:
    """Trouble abroad cannot lower the risk at home: a wrong-signed estimate leaves the term out."""
    rng = np.random.default_rng(2)
    p = ews.EwsParams(horizon=20, min_obs=50, quiet=100, post_crisis=30)
    idx = pd.bdate_range("2000-01-03", periods=2000)
    own = rng.uniform(0, 0.7, len(idx))
    spill = rng.uniform(0.3, 0.6, len(idx))
    on = [idx[i] for i in (400, 900, 1400)]
    for o in on:
        i = idx.get_loc(o)
        own[i - p.horizon: i] = 0.95
        spill[i - p.horizon: i] = 0.0  # neighbours calm before every crisis
    model = ews.fit({"AAA": pd.DataFrame({"seg_fx": own, "contagion": spill}, index=idx)}, {"AAA": on}, idx[-1], p)
    assert model is not None and "contagion" not in model.linear and "contagion" not in model.params
