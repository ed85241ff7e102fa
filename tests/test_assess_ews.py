"""Early warning: NSR thresholds, the logit and its fallback, episodes, and no look-ahead."""

from __future__ import annotations

import dataclasses
import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess import ews
from sco_monitor.assess.indicators import Indicators
from sco_monitor.assess.stress import stress_index
from sco_monitor.config.settings import Episode

from .assess_helpers import random_walks, write_config

P = ews.EwsParams(horizon=20, min_obs=50, quiet=100, post_crisis=30)


def test_threshold_is_the_percentile_with_the_lowest_noise_to_signal_ratio() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.uniform(size=n) < 0.1
    good = np.where(y, rng.uniform(0.85, 1.0, n), rng.uniform(0, 1, n))
    noise = rng.uniform(size=n)
    x = pd.DataFrame({"seg_fx": good, "seg_equity": noise})
    thresholds, nsr = ews.choose_thresholds(x, y, P)

    def ratio(th: float) -> float:
        s = good > th
        return (np.sum(s & ~y) / np.sum(~y)) / (np.sum(s & y) / np.sum(y))

    best = min(P.percentiles, key=ratio)
    assert thresholds == {"seg_fx": best} and nsr["seg_fx"] == pytest.approx(ratio(best))
    assert "seg_equity" not in thresholds  # NSR about 1: no information, no signal


def test_overlapping_labels_shrink_the_evidence_so_a_persistent_coincidence_is_not_a_signal() -> None:
    """60 pre-crisis days are three overlapping 20-day windows, not 60 independent draws: a slow
    feature on for half of them and for 30% of the calm days passes the naive test (z about 3.4) and
    fails the overlap-adjusted one (z about 0.8), while a real signal passes both."""
    n = 4000
    y = np.zeros(n, dtype=bool)
    for o in (1000, 2000, 3000):
        y[o - P.horizon: o] = True
    slow = np.zeros(n)
    calm = np.flatnonzero(~y)
    slow[calm[: int(0.3 * len(calm))]] = 0.99  # one long calm spell
    for o in (1000, 2000, 3000):
        slow[o - P.horizon // 2: o] = 0.99  # on for the last half of each pre-crisis window
    real = np.where(y, 0.99, 0.1)
    real[calm[::20]] = 0.99  # 5% false alarms
    x = pd.DataFrame({"seg_equity": slow, "seg_fx": real})
    naive, _ = ews.choose_thresholds(x, y, dataclasses.replace(P, robust_z=False))
    adjusted, _ = ews.choose_thresholds(x, y, dataclasses.replace(P, robust_z=True))
    assert set(naive) == {"seg_equity", "seg_fx"}
    assert set(adjusted) == {"seg_fx"}


def _panel(n: int = 1500, separate: bool = False):
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2010-01-01", periods=n)
    onsets = [idx[i] for i in (300, 700, 1100)]
    x = rng.uniform(0, 0.7, n)
    for o in (300, 700, 1100):
        pre = slice(o - P.horizon, o)
        x[pre] = rng.uniform(0.9, 1.0, P.horizon) if separate else np.where(
            rng.uniform(size=P.horizon) < 0.6, 0.95, 0.3)
    if not separate:
        x[rng.choice(n, 60, replace=False)] = 0.99  # false alarms
    feats = {"RUS": pd.DataFrame({"seg_fx": x}, index=idx)}
    return feats, {"RUS": onsets}, idx


def test_the_logit_gives_a_higher_probability_when_the_signal_is_on() -> None:
    feats, onsets, idx = _panel()
    model = ews.fit(feats, onsets, idx[-1], P)
    assert model.method == "logit" and model.crises > 0
    p_on, drivers = model.probability({"seg_fx": 0.99})
    p_off, none = model.probability({"seg_fx": 0.1})
    assert p_on > 0.3 and p_off < 0.05 and drivers["seg_fx"] > 0 and none == {}


def test_perfect_separation_falls_back_to_a_ridge_logit() -> None:
    feats, onsets, idx = _panel(separate=True)
    model = ews.fit(feats, onsets, idx[-1], P)
    assert model.method == "ridge"
    p_on, _ = model.probability({"seg_fx": 0.99})
    p_off, _ = model.probability({"seg_fx": 0.1})
    assert 0.5 < p_on < 1.0 and 0.0 < p_off < 0.1 and all(np.isfinite(list(model.params.values())))


def test_estimation_uses_only_outcomes_known_before_as_of() -> None:
    feats, onsets, idx = _panel()
    as_of = idx[900]
    model = ews.fit(feats, onsets, as_of, P)
    later = {"RUS": feats["RUS"].copy()}
    later["RUS"].iloc[881:] = 0.999  # the future (and the last H days, whose outcome is unknown)
    assert ews.fit(later, {"RUS": onsets["RUS"][:2] + [idx[950]]}, as_of, P) == model
    assert model.rows < 900 - P.horizon  # post-crisis spells and the unknown tail left out


def test_no_crisis_history_means_no_probability_rather_than_a_made_up_one(tmp_path) -> None:
    cfg = write_config(tmp_path)
    f = random_walks(["fx.usd_rub", "eq.ru.imoex"], periods=500, vol=0.001)
    ind = Indicators(f, cfg.series)
    series = list(cfg.series.values())
    res = ews.crisis_probability(ind, stress_index(ind, series, ["WLD", "RUS"]), series, ["RUS"], f.index[-1])
    assert res.model is None and res.probability["RUS"].probability is None


def test_derived_onsets_are_causal_and_spaced(tmp_path) -> None:
    cfg = write_config(tmp_path)
    f = random_walks(["fx.usd_rub"], periods=1500, vol=0.004, level=30)
    jumps = {600: 0.15, 640: 0.10, 1200: 0.2}  # the second within the quiet period of the first
    for i, j in jumps.items():
        f.iloc[i:] *= 1 + j
    series = list(cfg.series.values())
    onsets = ews.derived_onsets(Indicators(f, cfg.series), series, ["RUS"], P)["RUS"]
    assert onsets == [f.index[600], f.index[1200]]
    cut = ews.derived_onsets(Indicators(f.iloc[:1000], cfg.series), series, ["RUS"], P)["RUS"]
    assert cut == [f.index[600]]


def test_configured_episodes_replace_derived_ones(tmp_path) -> None:
    cfg = write_config(tmp_path)
    f = random_walks(["fx.usd_rub", "fx.usd_kzt"], periods=300)
    eps = [Episode(name="rouble", start="2010-06-01", countries=["RUS"]), Episode(name="global", start="2010-09-01")]
    out = ews.onsets_for(Indicators(f, cfg.series), list(cfg.series.values()), ["RUS", "KAZ"], eps, P)
    assert out == {"RUS": [pd.Timestamp("2010-06-01"), pd.Timestamp("2010-09-01")],
                   "KAZ": [pd.Timestamp("2010-09-01")]}


def test_country_effects_shift_the_intercept_of_the_country_with_more_crises() -> None:
    """The measured (not shipped) option: a country with three onsets gets a higher intercept than
    one with one onset at the same signal, shrunk towards the pooled one."""
    feats, onsets, idx = _panel()
    quiet = feats["RUS"].copy()
    feats = {"RUS": feats["RUS"], "KAZ": quiet}
    model = ews.fit(feats, {"RUS": onsets["RUS"], "KAZ": onsets["RUS"][:1]}, idx[-1],
                    dataclasses.replace(P, country_effects=True))
    assert model.effects["RUS"] > model.effects["KAZ"]
    assert model.probability({"seg_fx": 0.1}, "RUS")[0] > model.probability({"seg_fx": 0.1}, "KAZ")[0]


def test_crisis_spells_are_left_out_of_estimation_when_asked() -> None:
    idx = pd.bdate_range("2010-01-01", periods=400)
    y, excl = ews._labels(idx, [idx[100]], P, [(idx[100], idx[300])])
    assert y[100 - P.horizon: 100].all() and excl[100:301].all() and not excl[301:].any()
    _, short = ews._labels(idx, [idx[100]], P)
    assert short[100: 100 + P.post_crisis].all() and not short[100 + P.post_crisis:].any()


def test_a_segment_rising_fast_ranks_high_and_its_rise_is_causal(tmp_path) -> None:
    """The rise features: the change of a segment's sub-index over a month and a quarter, as an
    expanding rank; high just after a depreciation, back down once the segment sits high, and a
    day's value never moves when later data arrive."""
    cfg = write_config(tmp_path)
    f = random_walks(["fx.usd_rub"], periods=1400, vol=0.004, level=30)
    f.iloc[1000:1010] *= np.cumprod(np.full(10, 1.02))[:, None]  # 2% a day for ten days, then kept
    f.iloc[1010:] *= 1.02 ** 10
    series = list(cfg.series.values())
    ind = Indicators(f, cfg.series)
    feats = ews.features(stress_index(ind, series, ["WLD", "RUS"]), ["RUS"], p=P)["RUS"]
    rise, level = feats["seg_fx_rise21"], feats["seg_fx"]
    assert {ews.rise_name("fx", w) for w in P.change_windows} <= set(feats.columns)
    assert rise.iloc[1010] > 0.95 and level.iloc[1010] > 0.9
    assert rise.iloc[1100] < rise.iloc[1010]  # sitting high is not rising
    short = Indicators(f.iloc[:1050], cfg.series)
    early = ews.features(stress_index(short, series, ["WLD", "RUS"]), ["RUS"], p=P)["RUS"]["seg_fx_rise21"]
    pd.testing.assert_series_equal(early.iloc[:1050], rise.iloc[:1050], check_names=False)
    none = ews.features(stress_index(ind, series, ["WLD", "RUS"]), ["RUS"], p=dataclasses.replace(P, change_windows=()))
    assert not any("_rise" in c for c in none["RUS"].columns)


def test_a_rise_driver_is_named_in_words() -> None:
    from sco_monitor import i18n
    assert i18n.driver_name("seg_fx_rise63") == "fx rising over 63 business days"
    assert i18n.driver_name("seg_fx") == "fx"


def test_the_settings_give_the_model_its_parameters_and_leave_the_unshipped_indicators_out() -> None:
    from sco_monitor.assess.pipeline import ews_params
    from sco_monitor.config.settings import AssessmentConfig

    shipped = ews_params(AssessmentConfig())
    assert shipped.robust_z and not shipped.equity_boom and not shipped.oil_fall
    on = ews_params(AssessmentConfig(crisis_oil_fall=True, crisis_equity_boom=True, crisis_horizon=40,
                                     crisis_overlap_adjusted=False))
    assert on.oil_fall and on.equity_boom and on.horizon == 40 and not on.robust_z
