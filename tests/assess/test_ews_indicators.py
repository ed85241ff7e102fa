"""Leading indicators of the early-warning model: one-sided HP gaps, the Basel mapping, causality (contagion: test_contagion.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter

from sco_monitor.assess.ews_indicators import (
    LAMBDA_MONTHLY,
    OPTIONAL_FEATURES,
    basel_scale,
    monthly_gap_rank,
    one_sided_hp_gap,
    scope_features,
)
from sco_monitor.assess.indicators import Indicators
from sco_monitor.catalog import Series


def test_the_one_sided_gap_is_the_end_point_of_the_hp_filter_on_each_prefix() -> None:
    rng = np.random.default_rng(0)
    x = pd.Series(100 + np.cumsum(np.cumsum(rng.normal(0, 0.1, 120))) + rng.normal(0, 1, 120),
                  index=pd.period_range("1990Q1", periods=120, freq="Q").to_timestamp(how="end"))
    gap = one_sided_hp_gap(x, 400_000.0, 20)
    by_prefix = [x.iloc[t] - hpfilter(x.iloc[: t + 1].to_numpy(), lamb=400_000.0)[1][-1] for t in range(19, 120)]
    assert gap.iloc[:19].isna().all()
    np.testing.assert_allclose(gap.iloc[19:].to_numpy(), by_prefix, atol=1e-4)


def test_basel_mapping_is_zero_at_2pp_and_one_at_10pp() -> None:
    s = basel_scale(pd.Series([-5.0, 2.0, 6.0, 10.0, 25.0]))
    assert s.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_equity_boom_is_the_rank_of_the_monthly_log_index_above_its_one_sided_hp_trend() -> None:
    """By hand: monthly means of the log index, each month's gap to the HP trend of the months up to
    it (statsmodels' two-sided filter on the prefix), ranked among the gaps so far; a run-up in the
    last month is the largest gap yet (rank 1), and appending later days changes no earlier value."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2000-01-03", "2009-12-31")
    logs = np.cumsum(rng.normal(0.0003, 0.01, len(days)))
    logs[days >= pd.Timestamp("2009-12-01")] += 0.5  # a boom in the last month
    x = pd.Series(100 * np.exp(logs), index=days)
    boom = monthly_gap_rank(x)
    monthly = np.log(x).resample("ME").mean()
    assert boom.index.equals(monthly.index) and boom.index[-1] == pd.Timestamp("2009-12-31")
    gaps = np.array([monthly.iloc[t] - hpfilter(monthly.iloc[: t + 1].to_numpy(), lamb=LAMBDA_MONTHLY)[1][-1]
                     for t in range(59, len(monthly))])
    by_hand = [np.mean(gaps[: i + 1] <= gaps[i]) for i in range(29, len(gaps))]  # ranks from the 30th gap
    assert boom.iloc[: 59 + 29].isna().all()
    np.testing.assert_allclose(boom.iloc[59 + 29:].to_numpy(), by_hand, atol=1e-9)
    assert boom.iloc[-1] == 1.0
    early = monthly_gap_rank(x.loc[:"2007-06-29"])
    pd.testing.assert_series_equal(early, boom.loc[:"2007-06-30"], atol=1e-9)


def _series(**kw) -> Series:
    base = {"name": kw["id"], "source": "csv", "unit": "x", "direction": "up", "frequency": "B"}
    return Series.model_validate({**base, **kw})


def test_features_are_causal_and_only_where_the_data_is() -> None:
    """Features on day D are the same whether or not later data exist."""
    rng = np.random.default_rng(1)
    days = pd.bdate_range("2000-01-03", "2012-12-31")
    q = pd.period_range("1995Q1", "2012Q4", freq="Q").to_timestamp(how="end").normalize()
    frame = pd.DataFrame(index=days.union(q))
    frame["fx.usd_xxx"] = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.005, len(days)))), index=days)
    frame["eq.xx.idx"] = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days)))), index=days)
    frame["macro.xx.credit"] = pd.Series(100 + np.cumsum(rng.normal(0.5, 1, len(q))), index=q)
    series = [_series(id="fx.usd_xxx", kind="fx", country="XXX"),
              _series(id="eq.xx.idx", kind="equity", country="XXX", direction="down"),
              _series(id="macro.xx.credit", kind="macro", country="XXX", frequency="Q", publication_lag_days=150,
                      tags=["credit_to_gdp"])]
    by_id = {s.id: s for s in series}
    full = scope_features(Indicators(frame, by_id), series, "XXX")
    assert list(full.columns) == ["credit_gap", "fx_overvaluation", "equity_drawdown", "equity_boom", "equity_runup",
                                  "equity_fast_fall"]
    cut = pd.Timestamp("2008-06-17")  # mid-month: the month's equity and fx means are not yet complete
    early = scope_features(Indicators(frame.loc[:cut], by_id), series, "XXX")
    pd.testing.assert_frame_equal(full.loc[:cut], early.loc[:cut], atol=1e-6)
    assert 0 <= full.min().min() and full.max().max() <= 1
    # the credit gap of a quarter is knowable only 150 days after its end
    first = full["credit_gap"].first_valid_index()
    assert first >= q[19] + pd.Timedelta(days=150)


def test_exports_and_reserves_features_follow_their_tags() -> None:
    """An export level falls, a growth-rate series is ranked as it is; reserves use the 3-6 months rule."""
    years = pd.date_range("1995-12-31", periods=20, freq="YE")
    frame = pd.DataFrame({
        "macro.xx.exports": np.r_[np.linspace(10, 30, 19), 15.0],  # a halving in the last year
        "macro.xx.export_growth": np.r_[np.full(19, 5.0) + np.arange(19) % 3, -20.0],
        "macro.xx.reserves": np.r_[np.full(19, 8.0), 2.5],
    }, index=years)
    series = [_series(id="macro.xx.exports", kind="macro", country="XXX", frequency="A", direction="down",
                      tags=["exports"]),
              _series(id="macro.xx.export_growth", kind="macro", country="XXX", frequency="A", direction="down",
                      tags=["export_growth"]),
              _series(id="macro.xx.reserves", kind="macro", country="XXX", frequency="A", direction="down",
                      tags=["reserves_months"])]
    f = scope_features(Indicators(frame, {s.id: s for s in series}), series, "XXX")
    last = f.iloc[-1]
    assert last["export_fall"] == pytest.approx(1.0)  # both the level's fall and the growth are the worst yet
    assert last["reserves_low"] == pytest.approx(1.0) and last["reserves_fall"] == pytest.approx(1.0)
    assert f["reserves_low"].dropna().iloc[0] == 0.0  # 8 months of imports: comfortable


def test_oil_fall_is_the_ranked_fall_of_oil_over_a_year_for_exporters_only() -> None:
    """By hand: minus the log change of Brent over 252 observations, ranked among its values so far
    (from the 250th); only a country with a series tagged oil_exporter gets it, and later data
    change no earlier value."""
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2000-01-03", "2006-12-29")
    brent = pd.Series(60 * np.exp(np.cumsum(rng.normal(0, 0.005, len(days)))), index=days)
    brent.iloc[-40:] *= 0.5  # a halving in the last two months
    frame = pd.DataFrame({"cmd.brent": brent,
                          "fx.usd_xxx": np.exp(np.cumsum(rng.normal(0, 0.005, len(days)))),
                          "fx.usd_yyy": np.exp(np.cumsum(rng.normal(0, 0.005, len(days))))}, index=days)
    series = [_series(id="cmd.brent", kind="commodity", country="WLD", direction="both", tags=["oil"]),
              _series(id="fx.usd_xxx", kind="fx", country="XXX", tags=["oil_exporter"]),
              _series(id="fx.usd_yyy", kind="fx", country="YYY", tags=["oil_importer"])]
    by_id = {s.id: s for s in series}
    ind = Indicators(frame, by_id)
    f = scope_features(ind, series, "XXX")["oil_fall"]
    assert "oil_fall" not in scope_features(ind, series, "YYY")
    assert "oil_fall" not in scope_features(ind, series, "XXX", skip=["oil_fall"])
    fall = -(np.log(brent) - np.log(brent.shift(252))).dropna()
    by_hand = [np.mean(fall.iloc[: i + 1] <= fall.iloc[i]) for i in range(249, len(fall))]
    assert f.loc[: fall.index[248]].isna().all()
    np.testing.assert_allclose(f.loc[fall.index[249]:].to_numpy(), by_hand, atol=1e-12)
    assert f.loc[days[-40]] == 1.0 and f.iloc[-40:].min() > 0.9  # the halving: the largest fall yet
    cut = pd.Timestamp("2005-06-15")
    early = scope_features(Indicators(frame.loc[:cut], by_id), series, "XXX")["oil_fall"]
    pd.testing.assert_series_equal(early, f.loc[:cut])


def test_equity_runup_flags_a_doubling_over_two_years_and_the_fast_fall_ranks_the_fall_from_the_20_day_high() -> None:
    """By hand: the run-up is 1 exactly where the index is at least twice its level 504 observations
    earlier (Greenwood, Shleifer and You's 100% over two years); the fast fall is minus the fall from
    the last 20 observations' high, ranked among its values so far (from the 250th). Both are causal,
    and `skip` (the model's default: `EwsParams`) leaves them out."""
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2000-01-03", "2006-12-29")
    logs = np.cumsum(rng.normal(0.0, 0.01, len(days)))
    logs[days >= pd.Timestamp("2004-01-01")] += np.linspace(0, 1.2, int((days >= pd.Timestamp("2004-01-01")).sum()))
    x = pd.Series(100 * np.exp(logs), index=days)
    x.iloc[-10:] *= 0.8  # a crash in the last two weeks
    frame = pd.DataFrame({"eq.xx.idx": x})
    series = [_series(id="eq.xx.idx", kind="equity", country="XXX", direction="down")]
    by_id = {s.id: s for s in series}
    f = scope_features(Indicators(frame, by_id), series, "XXX")
    rise = x / x.shift(504) - 1
    np.testing.assert_array_equal(f["equity_runup"].dropna().to_numpy(), (rise.dropna() >= 1.0).astype(float).to_numpy())
    assert f["equity_runup"].iloc[:504].isna().all() and f["equity_runup"].max() == 1.0
    fall = -(x / x.rolling(20, min_periods=1).max() - 1)
    # ranked with ties averaged (at a new high the fall is 0 on many days)
    by_hand = [(np.sum(fall.iloc[: i + 1] < fall.iloc[i]) + (np.sum(fall.iloc[: i + 1] == fall.iloc[i]) + 1) / 2) / (i + 1)
               for i in range(249, len(fall))]
    np.testing.assert_allclose(f["equity_fast_fall"].iloc[249:].to_numpy(), by_hand, atol=1e-12)
    assert f["equity_fast_fall"].iloc[-1] > 0.99  # the crash: the largest fall from a 20-day high yet
    cut = pd.Timestamp("2005-06-15")
    early = scope_features(Indicators(frame.loc[:cut], by_id), series, "XXX")
    pd.testing.assert_frame_equal(early, f.loc[:cut])
    off = scope_features(Indicators(frame, by_id), series, "XXX", skip=OPTIONAL_FEATURES)
    assert not set(OPTIONAL_FEATURES) & set(off.columns) and "equity_drawdown" in off


def test_the_settings_offer_the_run_up_and_the_fast_fall_only_when_asked() -> None:
    from sco_monitor.assess.pipeline import ews_params
    from sco_monitor.config.settings import AssessmentConfig

    shipped = ews_params(AssessmentConfig())
    assert not (shipped.equity_runup or shipped.equity_fast_fall or shipped.lost_inputs)
    on = ews_params(AssessmentConfig(crisis_equity_runup=True, crisis_equity_fast_fall=True))
    assert on.equity_runup and on.equity_fast_fall and not on.equity_boom
