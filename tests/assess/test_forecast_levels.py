"""Level models (ARIMA, ETS, random walk) on real series: extension at fixed parameters, intervals, fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing
from statsmodels.tsa.statespace.sarimax import SARIMAX

from sco_monitor.assess.forecast import FitFailed, fit
from sco_monitor.assess.forecast.arima import (
    ArimaFitted,
    ArimaSpec,
    RandomWalkFitted,
    RandomWalkSpec,
)
from sco_monitor.assess.forecast.ets import EtsSpec
from sco_monitor.assess.forecast.select import backtest_level, fit_level

from .forecast_data import core_cpi, sp500


def test_arima_extend_keeps_params_and_forecasts_like_the_full_series_filter() -> None:
    y = sp500().iloc[-700:]
    n, k, h = 690, 7, 10
    spec = ArimaSpec(order=(1, 1, 1), trend="c", transform="log")
    fitted = fit(y.iloc[:n], spec)
    extended = fitted.extend(y.iloc[n: n + k])

    assert extended.params == fitted.params
    assert extended.last_date == y.index[n + k - 1].date() and extended.nobs == n + k
    z = 100 * np.log(y.iloc[: n + k].to_numpy())
    full = SARIMAX(z, order=(1, 1, 1), trend="c").filter(np.array(list(fitted.params.values())))
    expected = full.get_forecast(h)
    mean, var = extended.predictive(h)
    np.testing.assert_allclose(mean, expected.predicted_mean, rtol=1e-10)
    np.testing.assert_allclose(var, expected.var_pred_mean, rtol=1e-8)
    # and the published forecast is the log-normal image of it, in index points
    fc = extended.forecast(h, level=0.9)
    lo = np.exp((expected.predicted_mean - 1.6448536269514722 * np.sqrt(expected.var_pred_mean)) / 100)
    np.testing.assert_allclose(fc.lower, lo, rtol=1e-9)
    assert fc.dates[0] == (y.index[n + k - 1] + pd.offsets.BDay(1)).date()
    assert len(fc.std) == h and all(s > 0 for s in fc.std)


def test_a_model_forecast_again_on_a_day_without_news_gives_statsmodels_forecast_for_any_horizon() -> None:
    """A monthly series' model is forecast every business day between its releases: the moments it
    keeps are statsmodels' for each horizon asked, shorter or longer than the last one."""
    y = core_cpi().iloc[-240:]
    spec = ArimaSpec(order=(1, 1, 0), trend="c")
    fitted = fit(y, spec)
    params = np.array(list(fitted.params.values()))
    full = SARIMAX(y.to_numpy(), order=(1, 1, 0), trend="c").filter(params)
    for h in (12, 5, 20, 1):
        mean, var = fitted.predictive(h)
        expected = full.get_forecast(h)
        assert len(mean) == h
        np.testing.assert_allclose(mean, expected.predicted_mean, rtol=1e-10)
        np.testing.assert_allclose(var, expected.var_pred_mean, rtol=1e-8)
    mean[:] = 0  # what a caller does with the arrays never reaches the model
    np.testing.assert_allclose(fitted.predictive(1)[0], full.get_forecast(1).predicted_mean, rtol=1e-10)


def test_arima_extension_matches_statsmodels_own_extend() -> None:
    y = sp500().iloc[-400:]
    z = 100 * np.log(y.to_numpy())
    fitted = fit(y.iloc[:390], ArimaSpec(order=(1, 1, 0), trend="c", transform="log"))
    params = np.array(list(fitted.params.values()))
    theirs = SARIMAX(z[:390], order=(1, 1, 0), trend="c").filter(params).extend(z[390:])
    ours = fitted.extend(y.iloc[390:])
    np.testing.assert_allclose(ours.predictive(5)[0], theirs.get_forecast(5).predicted_mean, rtol=1e-10)


def test_ets_extend_keeps_params_and_forecasts_like_the_full_series_filter() -> None:
    y = core_cpi().iloc[-240:]
    n, h = 228, 12
    spec = EtsSpec(trend=True, damped=True, freq="M")
    fitted = fit(y.iloc[:n], spec)
    extended = fitted.extend(y.iloc[n:])  # a year of new observations
    assert extended.params == fitted.params

    # the same model on all the data, initial states and parameters held at the estimates
    first = ExponentialSmoothing(y.iloc[:n].to_numpy(), trend=True, damped_trend=True).fit(disp=False)
    p = fitted.params
    full = ExponentialSmoothing(y.to_numpy(), trend=True, damped_trend=True, concentrate_scale=False).filter(
        np.r_[p["smoothing_level"], p["smoothing_trend"], p["damping_trend"], p["sigma2"], first.params[3:]]
    )
    expected = full.get_forecast(h)
    mean, var = extended.predictive(h)
    np.testing.assert_allclose(mean, expected.predicted_mean, rtol=1e-9)
    np.testing.assert_allclose(var, expected.var_pred_mean, rtol=1e-7)
    assert extended.forecast(h).dates[0] == pd.Timestamp("2018-12-01").date()  # monthly, first of month


def test_90pct_intervals_cover_about_90pct_out_of_sample() -> None:
    # Homoskedastic level intervals are calibrated while volatility stays near its estimation-period
    # level (2008 would break them; the GARCH test covers that): estimate 2010-13, evaluate 2014-18.
    y = sp500().loc["2010":"2018"]
    start = y.index.searchsorted(pd.Timestamp("2014-01-01"))
    model = fit(y.iloc[:start], ArimaSpec(order=(0, 1, 0), trend="c", transform="log"))
    hits = []
    for t in range(start, len(y) - 5, 5):
        fc = model.forecast(5, level=0.9)
        actual = y.iloc[t: t + 5].to_numpy()
        hits += list((np.asarray(fc.lower) <= actual) & (actual <= np.asarray(fc.upper)))
        model = model.extend(y.iloc[t: t + 5])
    coverage = float(np.mean(hits))
    assert 0.85 <= coverage <= 0.95, coverage


def test_rolling_origin_backtest_reports_errors_and_coverage_in_the_series_unit() -> None:
    y = core_cpi().iloc[-180:]
    scores = backtest_level(y, RandomWalkSpec(drift=True), horizon=12)
    assert scores["origins"] == 10 and scores["horizon"] == 12
    assert 0 < scores["mae"] <= scores["rmse"] < 5  # index points
    assert 0.5 <= scores["coverage"] <= 1.0


def test_level_choice_compares_aicc_then_the_backtest_against_the_random_walk() -> None:
    y = (100 * core_cpi().pct_change(12)).dropna().iloc[-150:].rename("macro.us.core_cpi_yoy")
    chosen = fit_level(y, transform="none", freq="M", horizon=12)
    m = chosen.metrics
    assert len([v for v in m["candidates"].values() if isinstance(v, float)]) >= 5
    assert set(m["backtest"]) >= {"random walk"} and len(m["backtest"]) == 3
    best = min((k for k, v in m["backtest"].items() if "rmse" in v), key=lambda k: m["backtest"][k]["rmse"])
    assert m["selected"] == best
    assert chosen.forecast(12).model == chosen.family


def test_five_points_fall_back_to_a_random_walk_with_drift_and_say_so() -> None:
    y = sp500().iloc[:5]
    chosen = fit_level(y, transform="log", freq="B", horizon=5)
    assert isinstance(chosen, RandomWalkFitted) and chosen.spec.drift
    assert "too few" in chosen.metrics["fallback"]
    fc = chosen.forecast(5)
    assert fc.model == "rw" and fc.lower[0] < fc.mean[0] < fc.upper[0]


def test_arima_on_a_constant_series_fails_and_the_level_slot_says_so() -> None:
    # a hard peg: the level never moves, so no innovation variance can be estimated
    y = pd.Series(3.75, index=pd.bdate_range("2020-01-01", periods=200), name="fx.usd_sar")
    with pytest.raises(FitFailed, match="did not converge|zero innovation variance"):
        ArimaFitted.fit(y, ArimaSpec(order=(1, 1, 0)))
    chosen = fit_level(y, transform="log", freq="B", horizon=5)
    assert isinstance(chosen, RandomWalkFitted)
    assert "every ARIMA/ETS candidate failed" in chosen.metrics["fallback"]
    assert chosen.forecast(5).mean == pytest.approx([3.75] * 5)


# --- a replay block's pass ahead (filter_ahead): one filter and one forecast map for the block ----------
LEVEL_SPECS = [ArimaSpec(order=(1, 1, 1), trend="c", transform="log"), ArimaSpec(order=(2, 0, 0), trend="c"),
               EtsSpec(trend=True, transform="log"), EtsSpec(trend=True, damped=True), EtsSpec(trend=False)]


@pytest.mark.parametrize("spec", LEVEL_SPECS, ids=lambda s: s.label)
def test_a_level_pass_ahead_gives_the_extensions_and_forecasts_of_filtering_each_day(spec) -> None:  # noqa: ANN001
    """Through the weeks after Lehman, day by day: the states and one-step errors read from the pass
    are statsmodels' own of a day-by-day extension, and the forecasts from the block's map equal a
    filter over the horizon from each day's state."""
    y = sp500().loc["2003":"2008-10-31"]
    n = int(y.index.searchsorted(pd.Timestamp("2008-09-15")))
    ahead, plain = fit(y.iloc[:n], spec), fit(y.iloc[:n], spec)
    ahead.filter_ahead(y.iloc[n:])
    assert ahead._ahead is not None
    for i in range(n + 1, len(y) + 1):
        ahead, plain = ahead.extend(y.iloc[i - 1: i]), plain.extend(y.iloc[i - 1: i])
        assert ahead._ahead is not None and plain._ahead is None
        for k, v in plain.carry.items():
            np.testing.assert_allclose(ahead.carry[k], v, rtol=1e-13, atol=1e-13)
        assert ahead.metrics["oos_ss"] == pytest.approx(plain.metrics["oos_ss"], rel=1e-12)
        for got, want in zip(ahead.predictive(20), plain.predictive(20), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ahead._ahead.fmap is not None  # the forecasts came from the map


def test_a_level_pass_is_not_used_for_other_observations_and_a_short_one_draws_no_map() -> None:
    """A revised observation is filtered as it is, not read from a pass made before the revision; a
    pass of a few observations (a monthly series' block) forecasts by statsmodels' own filter."""
    y = sp500().loc["2007":"2008-10-31"].copy()
    n = len(y) - 10
    spec = ArimaSpec(order=(1, 1, 1), trend="c", transform="log")
    model = fit(y.iloc[:n], spec)
    model.filter_ahead(y.iloc[n:])
    revised = y.iloc[n:n + 1] * 1.01
    got, want = model.extend(revised), fit(y.iloc[:n], spec).extend(revised)
    assert got._ahead is None
    np.testing.assert_array_equal(got.carry["a"], want.carry["a"])

    short = fit(y.iloc[:n], spec)
    short.filter_ahead(y.iloc[n:n + 2])  # fewer observations than the map's k + 1 filters
    day = short.extend(y.iloc[n:n + 1])
    assert day._ahead is not None
    np.testing.assert_array_equal(day.predictive(20)[0], fit(y.iloc[:n], spec).extend(y.iloc[n:n + 1]).predictive(20)[0])
    assert day._ahead.fmap is None
