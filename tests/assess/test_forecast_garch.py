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
