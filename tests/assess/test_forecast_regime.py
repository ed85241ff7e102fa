"""Two-regime Markov switching on real returns: exact extension, the 2008 regime, mixture intervals."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

from sco_monitor.assess.forecast import FitFailed, fit
from sco_monitor.assess.forecast.regime import RegimeFitted, RegimeSpec

from .forecast_data import sp500


@pytest.fixture(scope="module")
def pre_crisis() -> RegimeFitted:
    """Estimated on 2003-2006, before the crisis."""
    return fit(sp500().loc["2003":"2006"], RegimeSpec())


def test_extension_equals_the_full_sample_hamilton_filter_at_fixed_params(pre_crisis: RegimeFitted) -> None:
    y = sp500().loc["2003":"2008-12-31"]
    extended = pre_crisis.extend(y.loc["2007":])
    assert extended.params == pre_crisis.params
    r = 100 * np.diff(np.log(y.to_numpy()))
    full = MarkovRegression(r, k_regimes=2, trend="c", switching_variance=True).filter(
        np.array(list(pre_crisis.params.values())))
    np.testing.assert_allclose(extended.probs, np.asarray(full.filtered_marginal_probabilities)[-1], atol=1e-12)


def test_the_high_volatility_regime_is_likely_in_october_2008_not_before(pre_crisis: RegimeFitted) -> None:
    y = sp500()
    assert pre_crisis.high_probability < 0.5  # the calm end of 2006
    october = pre_crisis.extend(y.loc["2007":"2008-10-15"])
    assert october.high_probability > 0.95
    assert october.sigma2[october.high] > 2 * october.sigma2[1 - october.high]


def test_forecast_is_a_normal_mixture_converging_to_the_stationary_regime_mix(pre_crisis: RegimeFitted) -> None:
    october = pre_crisis.extend(sp500().loc["2007":"2008-10-15"])
    fc = october.forecast(250, level=0.9)
    path = october.regime_path(250)
    t = october.transition
    stationary = np.array([t[0, 1], t[1, 0]]) / (t[0, 1] + t[1, 0])
    np.testing.assert_allclose(path[-1], stationary, atol=1e-3)
    assert fc.std[0] > fc.std[-1]  # volatility expected to calm down from the crash regime
    assert all(lo < m < hi for lo, m, hi in zip(fc.lower, fc.mean, fc.upper, strict=True))
    # the mixture's 5% quantile: its CDF there is 0.05
    from scipy import stats
    w, sd = path[0], np.sqrt(october.sigma2)
    assert float(w @ stats.norm.cdf(fc.lower[0], october.mu, sd)) == pytest.approx(0.05, abs=1e-8)


def test_too_short_a_history_has_no_regime_model() -> None:
    with pytest.raises(FitFailed, match="too few"):
        fit(sp500().iloc[:100], RegimeSpec())


def test_a_converged_fit_to_outlier_day_regimes_is_not_retried_from_another_start(monkeypatch) -> None:  # noqa: ANN001
    """USD/CHF (ECB) 1999-2001: the likelihood's maximum has a regime that lasts about two days. The fit
    from the calm/turbulent start converges to it, and statsmodels' own start reaches the same maximum, so
    that second fit (about half a second) would only repeat the failure."""
    y = _ecb_cross("CHF").loc[:"2001-03-02"]
    fits: list[object] = []
    original = MarkovRegression.fit

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        fits.append(kwargs.get("start_params"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MarkovRegression, "fit", counted)
    with pytest.raises(FitFailed, match=r"no persistent regimes \(stay probabilities \[0\.\d+, 0\.[0-4]"):
        fit(y, RegimeSpec())
    assert len(fits) == 1 and fits[0] is not None  # the calm/turbulent start only
    r = 100 * np.diff(np.log(y.to_numpy()))
    mod = MarkovRegression(r, k_regimes=2, trend="c", switching_variance=True)
    own = original(mod, disp=False, cov_type="none")  # statsmodels' own start
    assert min(np.diag(mod.regime_transition_matrix(own.params)[:, :, 0])) < 0.5


def _ecb_cross(currency: str):
    """Units of `currency` per USD from the ECB's reference rates (bundled with currency_converter)."""
    import zipfile
    from pathlib import Path

    import currency_converter
    import pandas as pd

    with zipfile.ZipFile(Path(currency_converter.__file__).with_name("eurofxref-hist.zip")) as z:
        df = pd.read_csv(z.open(z.namelist()[0]), na_values=["N/A"])
    s = pd.Series((df[currency] / df["USD"]).to_numpy(dtype=float), index=pd.to_datetime(df["Date"]),
                  name=f"fx.usd_{currency.lower()}")
    return s.dropna().sort_index()


def _ecb_usd_rub():
    return _ecb_cross("RUB")


def test_a_quiet_rouble_is_not_called_high_against_its_own_history() -> None:
    """USD/RUB (ECB) in late 2012: fitted on 2005-2012, whose calm regime is the managed rouble
    (4% a year), the floating rouble at 8-9% is the 'high' regime; against its own history
    (2008-09 included) it is an ordinary volatility. In late 2014 it is high on both counts."""
    import pandas as pd

    from sco_monitor.assess.forecast.regime import VOL_GRID, ewma_variance

    y = _ecb_usd_rub()
    fitted = fit(y.loc[:"2012-08-31"], RegimeSpec())
    calm = fitted.path(y.loc["2012-09-01":"2012-12-31"])
    assert (calm["raw"] >= 0.95).sum() >= 15  # the raw call: critical for weeks
    assert (calm["calibrated"] < 0.95).all() and (calm["calibrated"] >= 0.8).mean() < 0.25
    crisis = fit(y.loc[:"2014-10-31"], RegimeSpec()).path(y.loc["2014-11-01":"2014-12-31"])
    assert (crisis["calibrated"] >= 0.95).sum() >= 15
    # the path is what day-by-day extension publishes; the grid holds the fit window's EWMA variances
    day_by_day = fitted
    for d, v in y.loc["2012-09-01":"2012-09-14"].items():
        day_by_day = day_by_day.extend(pd.Series([v], index=[d]))
    assert day_by_day.high_vol_probability == pytest.approx(calm["calibrated"].loc[:"2012-09-14"].iloc[-1])
    x = 100 * np.diff(np.log(y.loc[:"2012-08-31"].to_numpy())) * fitted.scale
    np.testing.assert_allclose(fitted.vol_grid, np.quantile(ewma_variance(x)[:-1], VOL_GRID))


def test_a_warm_started_reestimation_reaches_the_cold_optimum(pre_crisis: RegimeFitted) -> None:
    """The replay re-estimates from the previous parameters by EM steps alone: on the data of a
    quarter later it must climb from where it started to within a log-likelihood of 0.05 of the
    optimum a cold estimation (EM, then quasi-Newton) finds, and to a regime probability within the
    0.05 that model-based values of a replay and a cold cycle may differ by (the likelihood is flat
    there: 0.03 of log-likelihood moves it by about 0.03)."""
    later = sp500().loc["2003":"2007-03-30"]
    cold = fit(later, RegimeSpec())
    warm = fit(later, RegimeSpec(), start={**pre_crisis.params, "scale": pre_crisis.metrics["scale"]})
    x = 100 * np.diff(np.log(later.to_numpy())) * pre_crisis.scale
    kept = MarkovRegression(x, k_regimes=2, trend="c", switching_variance=True).loglike(
        np.array(list(pre_crisis.params.values())))
    assert warm.params != pre_crisis.params  # re-estimated, not kept
    assert warm.metrics["llf"] > kept + 0.05  # the steps climbed
    assert warm.metrics["llf"] == pytest.approx(cold.metrics["llf"], abs=0.05)
    np.testing.assert_allclose(list(warm.params.values()), list(cold.params.values()), rtol=5e-2, atol=1e-2)
    assert warm.high_probability == pytest.approx(cold.high_probability, abs=0.05)


def test_the_warm_em_equals_statsmodels_fit_run_to_where_its_likelihood_stops_rising(
        pre_crisis: RegimeFitted) -> None:
    """`em_fit` calls statsmodels' EM directly (private there): pinned to the public `fit` with EM
    steps and no scoring, so a statsmodels release that changes it fails here. The early stop at
    WARM_EM_TOLERANCE leaves the regime probability and the log-likelihood where `fit`'s steps,
    run until the likelihood stops rising, put them."""
    from sco_monitor.assess.forecast.regime import WARM_EM_STEPS, em_fit

    later = sp500().loc["2003":"2007-03-30"]
    x = 100 * np.diff(np.log(later.to_numpy())) * pre_crisis.scale
    mod = MarkovRegression(x, k_regimes=2, trend="c", switching_variance=True)
    start = np.array(list(pre_crisis.params.values()))
    public = mod.fit(start_params=start, disp=False, em_iter=WARM_EM_STEPS, maxiter=0, cov_type="none")
    mine = em_fit(mod, start)
    assert mine.llf > mod.loglike(start) + 0.05  # it stepped
    assert mine.llf == pytest.approx(public.llf, abs=1e-3)
    np.testing.assert_allclose(np.asarray(mine.filtered_marginal_probabilities)[-1],
                               np.asarray(public.filtered_marginal_probabilities)[-1], atol=2e-3)
    np.testing.assert_allclose(np.asarray(mine.params), np.asarray(public.params), rtol=1e-2, atol=1e-3)


def test_a_warm_start_at_the_transition_boundary_is_fitted_afresh_as_a_cold_cycle_fits_it() -> None:
    """USD/AUD (ECB) 1999-2000, re-estimated weekly from the previous parameters: the chain of the replay
    benchmark reached stay probabilities of exactly 1 and 1, regimes that never end. EM cannot leave
    that point (a zero transition probability updates to zero), so every later warm re-estimation
    would keep it. From there the fit must be the cold one (the calm/turbulent start), not EM's."""
    from sco_monitor.assess.forecast.regime import em_fit

    y = _ecb_cross("AUD").loc[:"2000-12-29"]
    cold = fit(y, RegimeSpec())
    stuck = {**cold.params, "p[0->0]": 1.0, "p[1->0]": 7.6e-11, "scale": cold.metrics["scale"]}
    x = 100 * np.diff(np.log(y.to_numpy())) * cold.metrics["scale"]
    mod = MarkovRegression(x, k_regimes=2, trend="c", switching_variance=True)
    em = em_fit(mod, np.array([stuck[n] for n in mod.param_names]))
    assert np.diag(mod.regime_transition_matrix(em.params)[:, :, 0]).min() > 1 - 1e-9  # EM stays there
    assert em.llf < cold.metrics["llf"] - 1  # at a worse likelihood
    warm = fit(y, RegimeSpec(), start=stuck)
    assert warm.params == cold.params and warm.high_vol_probability == cold.high_vol_probability
    assert np.diag(warm.transition).max() < 1 - 1e-6
