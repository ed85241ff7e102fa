"""GARCH(1,1)-t and its EWMA fallback on real returns: fixed-parameter extension, VaR/ES, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from scipy import stats

from sco_monitor.assess.forecast import FitFailed, fit
from sco_monitor.assess.forecast.garch import EwmaFitted, EwmaSpec, GarchFitted, GarchSpec
from sco_monitor.assess.forecast.select import fit_volatility

from .forecast_data import sp500, wti


def test_garch_extend_keeps_params_and_equals_arch_fixed_filtering_of_the_full_series() -> None:
    y = sp500().iloc[-1200:]
    n, k, h = 1180, 20, 10
    fitted = fit(y.iloc[:n], GarchSpec())
    extended = fitted.extend(y.iloc[n: n + k])
    assert extended.params == fitted.params and extended.nobs == n - 1 + k

    r = 100 * np.diff(np.log(y.to_numpy()))
    fixed = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="t", rescale=False).fix(
        list(fitted.params.values()))
    np.testing.assert_allclose(extended.conditional_volatility.to_numpy(), fixed.conditional_volatility, rtol=1e-12)
    expected = fixed.forecast(horizon=h, reindex=False)
    fc = extended.forecast(h)
    np.testing.assert_allclose(fc.std, np.sqrt(expected.variance.to_numpy()[-1]), rtol=1e-12)
    np.testing.assert_allclose(fc.mean, expected.mean.to_numpy()[-1], rtol=1e-12)
    # variance forecasts revert towards the unconditional level from today's
    p = fitted.params
    uncond = np.sqrt(p["omega"] / (1 - p["alpha[1]"] - p["beta[1]"]))
    assert abs(fc.std[-1] - uncond) < abs(fc.std[0] - uncond)


def test_var_and_expected_shortfall_match_the_standardised_student_t() -> None:
    fitted = fit(sp500().iloc[-1500:], GarchSpec())
    risk = fitted.risk("down")
    nu, mu, s = fitted.params["nu"], risk["mean"], risk["sigma"]
    scale = np.sqrt((nu - 2) / nu)  # the standardised t has unit variance
    for p in (0.95, 0.99):
        a = 1 - p
        t_a = stats.t.ppf(a, nu)
        es_std = -stats.t.pdf(t_a, nu) / a * (nu + t_a ** 2) / (nu - 1) * scale
        tag = round(p * 100)
        assert risk[f"var{tag}"] == pytest.approx(-(mu + s * t_a * scale), rel=1e-9)
        assert risk[f"es{tag}"] == pytest.approx(-(mu + s * es_std), rel=1e-9)
        assert risk[f"es{tag}"] > risk[f"var{tag}"] > 0
    assert risk["var99"] > risk["var95"] and risk["unit"] == "percent"


def test_a_rise_is_the_risk_side_for_up_series() -> None:
    fitted = fit(wti().iloc[-1500:], GarchSpec())
    down, up, both = fitted.risk("down"), fitted.risk("up"), fitted.risk("both")
    assert up["var99"] - down["var99"] == pytest.approx(2 * down["mean"], abs=1e-12)
    assert both["var99"] == max(up["var99"], down["var99"])


def test_90pct_one_day_intervals_cover_about_90pct_through_2008() -> None:
    # as in production: re-estimated on the data before each origin (monthly here), extended between
    y = sp500().loc[:"2010"]
    hits: list[bool] = []
    for o in range(y.index.searchsorted(pd.Timestamp("2007-01-01")), len(y), 21):
        model = fit(y.iloc[:o], GarchSpec()).extend(y.iloc[o: o + 21])
        k = min(21, len(y) - o)
        r, sigma = model.r[-k:], model.conditional_volatility.to_numpy()[-k:]
        nu, mu = model.params["nu"], model.params["mu"]
        q = stats.t.ppf(0.95, nu) * np.sqrt((nu - 2) / nu)
        hits += list(np.abs(r - mu) <= q * sigma)
    assert 0.86 <= float(np.mean(hits)) <= 0.94, float(np.mean(hits))


def test_garch_on_five_points_falls_back_to_ewma_and_says_so() -> None:
    y = sp500().iloc[:5]
    with pytest.raises(FitFailed, match="too few"):
        GarchFitted.fit(y, GarchSpec())
    fallback = fit_volatility(y, returns="log", freq="B")
    assert isinstance(fallback, EwmaFitted)
    assert "fell back to EWMA(0.94)" in fallback.metrics["fallback"]
    assert fallback.risk()["var99"] > 0 and fallback.forecast(3).model == "ewma"


def test_a_constant_series_has_no_volatility_model_and_says_why() -> None:
    y = pd.Series(3.75, index=pd.bdate_range("2020-01-01", periods=300), name="fx.usd_sar")
    with pytest.raises(FitFailed, match="constant"):
        fit_volatility(y, returns="log", freq="B")


def test_the_volatility_backtest_compares_garch_with_ewma_out_of_sample() -> None:
    g = fit_volatility(sp500().iloc[-1500:], returns="log", freq="B")
    bt = g.metrics["backtest"]
    assert bt["n"] == 250 and bt["qlike"] < bt["qlike_ewma"] and bt["beats_ewma"] is True


def test_the_lehman_week_marks_a_pre_crisis_fit_as_degraded_and_a_calm_week_does_not() -> None:
    y = sp500()
    before = fit(y.loc[:"2008-09-12"], GarchSpec())
    assert before.degradation_p is None and not before.degraded()
    lehman = before.extend(y.loc["2008-09-15":"2008-09-19"])
    assert lehman.metrics["oos_n"] == 5 and lehman.degraded()
    calm = fit(y.loc[:"2017-06-30"], GarchSpec()).extend(y.loc["2017-07-03":"2017-07-10"])
    assert calm.metrics["oos_n"] == 5 and not calm.degraded()


def test_the_fast_quantiles_are_arch_s_standardised_error_laws() -> None:
    from arch.univariate import Normal, StudentsT

    p, z = np.array([0.01, 0.05, 0.5, 0.95]), np.array([-3.0, -1.0, 0.0, 2.5])
    g = fit(sp500().iloc[-1500:], GarchSpec())
    nu = [g.params["nu"]]
    np.testing.assert_allclose(g.std_ppf(p), StudentsT().ppf(p, nu), rtol=1e-10)
    np.testing.assert_allclose(g.std_cdf(z), StudentsT().cdf(z, nu), rtol=1e-10)
    e = EwmaFitted.fit(sp500().iloc[-300:], EwmaSpec())
    np.testing.assert_allclose(e.std_ppf(p), Normal().ppf(p), rtol=1e-12)
    np.testing.assert_allclose(e.std_cdf(z), Normal().cdf(z), rtol=1e-12)


def _extended_with_and_without_a_pass(y, n):  # noqa: ANN001, ANN202
    """The model fitted on y[:n], extended one day at a time through the rest: from a pass ahead,
    and re-filtering each day; each day's pair."""
    ahead, plain = fit(y.iloc[:n], GarchSpec()), fit(y.iloc[:n], GarchSpec())
    ahead.filter_ahead(y.iloc[n:])
    assert ahead._ahead is not None
    for i in range(n + 1, len(y) + 1):
        ahead, plain = ahead.extend(y.iloc[i - 1: i]), plain.extend(y.iloc[i - 1: i])
        assert ahead._ahead is not None and plain._ahead is None
        yield ahead, plain


def test_a_garch_pass_ahead_gives_the_extensions_of_refiltering_each_day() -> None:
    from sco_monitor.assess.forecast.garch import AHEAD_MIN_RETURNS

    y = sp500().loc["2003":"2008-10-31"]
    n = int(y.index.searchsorted(pd.Timestamp("2008-09-01")))
    assert n > AHEAD_MIN_RETURNS
    for ahead, plain in _extended_with_and_without_a_pass(y, n):
        assert ahead.metrics["oos_n"] == plain.metrics["oos_n"]
        assert ahead.metrics["oos_ss"] == pytest.approx(plain.metrics["oos_ss"], rel=1e-12)
        assert ahead.degraded() == plain.degraded()
    assert plain.degraded()  # the weeks after Lehman: the test covers a degradation


def test_a_garch_pass_ahead_on_a_short_window_gives_the_extensions_of_refiltering_each_day() -> None:
    """Below AHEAD_MIN_RETURNS too: a day's own start-up (the backcast about its window's mean) reaches
    its variances with weight beta**n, which two years of returns make nil for the S&P 500's beta."""
    y = sp500().loc["2009-06":"2011-10-31"]
    n = int(y.index.searchsorted(pd.Timestamp("2011-08-01")))  # through the August 2011 fall
    assert n < 1000
    for ahead, plain in _extended_with_and_without_a_pass(y, n):
        assert ahead.metrics["oos_ss"] == pytest.approx(plain.metrics["oos_ss"], rel=1e-12)


def test_a_garch_pass_is_not_used_where_the_window_start_up_still_shows(monkeypatch) -> None:
    """With a persistence near one a short window's start-up still weighs in its variances: each
    day re-filters, and a pass kept anyway would give different extensions."""
    from sco_monitor.assess.forecast import garch

    y = sp500().loc["2007-03":"2008-10-31"]
    n = len(y) - 30
    model = fit(y.iloc[:n], GarchSpec())
    model.params = {**model.params, "alpha[1]": 0.0005, "beta[1]": 0.9990}  # a slowly forgetting variance
    model._res = None
    refiltered = model.extend(y.iloc[n:n + 1])
    model.filter_ahead(y.iloc[n:])
    assert model._ahead is None
    monkeypatch.setattr(garch, "AHEAD_TOLERANCE", float("inf"))
    model.filter_ahead(y.iloc[n:])
    assert model._ahead is not None
    forced = model.extend(y.iloc[n:n + 1])
    assert forced.metrics["oos_ss"] != pytest.approx(refiltered.metrics["oos_ss"], rel=1e-10)


def test_a_garch_pass_is_not_used_where_a_variance_bound_could_bind() -> None:
    """arch floors and caps variances with bounds taken from the whole window; where they could bind
    (here a move a million times the usual one), the pass would see the future: extensions re-filter."""
    y = sp500().loc["2003":"2008-08-29"].copy()
    n = len(y) - 10
    fitted = fit(y.iloc[:n], GarchSpec())
    y.iloc[n + 5:] = y.iloc[n + 5:] * 1e-300  # a fall of 690 log points: far past every bound
    fitted.filter_ahead(y.iloc[n:])
    assert fitted._ahead is None


def test_garch_estimates_with_the_constraint_jacobians_are_bitwise_arch_own(monkeypatch) -> None:
    """arch's constraints reach SLSQP with their rows as Jacobians (`arch_constraints`): the
    estimates, cold and warm-started, equal those of arch's own constraints, which SLSQP
    differentiates numerically."""
    import arch.univariate.base as arch_base

    wrapped = arch_base.constraint
    assert hasattr(wrapped, "__wrapped__")  # installed when the GARCH models load
    a, b = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, -1.0]]), np.array([0.0, -1.0])
    made = wrapped(a, b)
    np.testing.assert_array_equal(made[1]["jac"](np.zeros(3)), a[1])
    assert made[1]["fun"](np.array([0.0, 0.2, 0.3])) == pytest.approx(0.5)

    def estimate(y: pd.Series, start=None) -> GarchFitted:
        return GarchFitted.fit(y, GarchSpec(), start)

    y = sp500().loc["2004":"2008-06-30"]
    cold = estimate(y.iloc[:-21])
    warm = estimate(y, {**cold.params, "scale": cold.metrics["scale"]})
    monkeypatch.setattr(arch_base, "constraint", wrapped.__wrapped__)
    assert estimate(y.iloc[:-21]).params == cold.params
    assert estimate(y, {**cold.params, "scale": cold.metrics["scale"]}).params == warm.params
