"""The mixed-frequency DFM nowcaster, its benchmarks and the scored record (DM test), on a simulated
one-factor economy: monthly indicators load on an AR(1) factor, the quarterly target is the quarter's
average of a monthly series driven by the same factor. Each test fails if its feature breaks.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.forecast.base import FitFailed
from sco_monitor.assess.forecast.benchmarks import benchmark_forecasts, steps_to
from sco_monitor.assess.forecast.dfm import DfmFitted, DfmSpec, factors_by_ic
from sco_monitor.assess.forecast.record import accuracy, diebold_mariano, horizon_of, score, table

MONTHLY = ("ind1", "ind2", "ind3", "infl")
SPEC = DfmSpec(monthly=MONTHLY, quarterly=("gdp",), targets=("gdp", "infl"))


def economy(n: int = 180, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = np.zeros(n)
    for t in range(1, n):
        f[t] = 0.8 * f[t - 1] + rng.normal()
    idx = pd.date_range("2000-01-31", periods=n, freq="ME")
    m = pd.DataFrame({f"ind{i}": (0.9 + 0.2 * i) * f + 0.5 * rng.normal(size=n) for i in (1, 2, 3)}, index=idx)
    m["infl"] = 3 + 0.6 * f + 0.3 * rng.normal(size=n)
    activity = 2 + 1.0 * f + 0.3 * rng.normal(size=n)
    q = pd.Series(activity, index=idx).resample("QE").mean().rename("gdp")
    return m.join(q, how="outer")


@pytest.fixture(scope="module")
def fitted() -> DfmFitted:
    return DfmFitted.fit(economy().iloc[:-6], SPEC, name="SIM")


def test_the_nowcast_of_an_unpublished_quarter_reads_the_monthly_indicators(fitted: DfmFitted) -> None:
    frame = economy()
    truth = frame["gdp"].dropna()
    errors_dfm, errors_rw = [], []
    for end in range(120, 177, 3):  # origins at quarter ends: the quarter's months are in, its GDP is not
        panel = frame.iloc[:end].copy()
        quarter_end = panel.index[-1]
        panel.loc[quarter_end, "gdp"] = np.nan
        fc = {f.series_id: f for f in fitted.extend(panel).nowcast(quarter_end.date(), 0)}["gdp"]
        assert fc.dates[-1] == quarter_end.date()
        errors_dfm.append(fc.mean[-1] - truth.loc[quarter_end])
        errors_rw.append(panel["gdp"].dropna().iloc[-1] - truth.loc[quarter_end])
    rmse = lambda e: float(np.sqrt(np.mean(np.square(e))))  # noqa: E731
    assert rmse(errors_dfm) < 0.7 * rmse(errors_rw)


def test_intervals_widen_with_the_horizon_and_hold_the_mean(fitted: DfmFitted) -> None:
    frame = economy()
    fc = {f.series_id: f for f in fitted.extend(frame).nowcast(date(2014, 12, 31), 4)}
    gdp = fc["gdp"]
    assert gdp.dates == [date(2015, 3, 31), date(2015, 6, 30), date(2015, 9, 30), date(2015, 12, 31)]
    assert gdp.model == "dfm"
    assert all(lo < m < hi for lo, m, hi in zip(gdp.lower, gdp.mean, gdp.upper, strict=True))
    assert gdp.std[-1] > gdp.std[0]
    infl = fc["infl"]
    assert infl.dates[0] == date(2015, 1, 31) and infl.dates[-1] == date(2015, 4, 30)


def test_a_stored_state_restores_the_same_nowcast_without_re_estimating(fitted: DfmFitted) -> None:
    frame = economy()
    st = fitted.to_state()
    assert st.family == "dfm" and st.model == "nowcast" and st.series_id == "SIM"
    restored = DfmFitted.from_state(st, frame)
    a = fitted.extend(frame).nowcast(date(2014, 12, 31), 2)
    b = restored.nowcast(date(2014, 12, 31), 2)
    assert np.concatenate([f.mean for f in a]) == pytest.approx(np.concatenate([f.mean for f in b]))
    assert restored.fitted_at == fitted.fitted_at
    other = DfmSpec(monthly=MONTHLY[:3], quarterly=("gdp",), targets=("gdp",))
    with pytest.raises(FitFailed):
        DfmFitted.from_state(st.__class__(**{**st.__dict__, "spec": other.model_dump(mode="json")}), frame)


def test_a_new_release_moves_the_nowcast_at_fixed_parameters(fitted: DfmFitted) -> None:
    frame = economy().iloc[:150]
    before = fitted.extend(frame.iloc[:-1]).nowcast(frame.index[-1].date(), 0)
    after = fitted.extend(frame).nowcast(frame.index[-1].date(), 0)
    assert fitted.extend(frame).params is fitted.params
    assert {f.series_id: f.mean[-1] for f in before} != {f.series_id: f.mean[-1] for f in after}


def test_too_short_a_panel_is_a_fit_failure() -> None:
    with pytest.raises(FitFailed, match="too few"):
        DfmFitted.fit(economy(40), SPEC)
    with pytest.raises(FitFailed, match="lacks"):
        DfmFitted.fit(economy().drop(columns="ind2"), SPEC)


def test_benchmarks_forecast_the_same_unpublished_periods() -> None:
    y = economy()["gdp"].dropna().iloc[:40]
    origin = date(2010, 2, 15)  # 2009Q4 is the last published quarter
    assert steps_to(y.index[-1].date(), origin, "Q", 1) == 2
    by = {f.model: f for f in benchmark_forecasts(y, origin, "Q", 1)}
    assert set(by) == {"rw", "mean", "arima"}
    assert by["rw"].mean == pytest.approx([y.iloc[-1]] * 2)
    assert by["mean"].mean == pytest.approx([y.mean()] * 2)
    assert by["rw"].dates == [date(2010, 3, 31), date(2010, 6, 30)]
    assert abs(by["arima"].mean[-1] - y.mean()) < abs(y.iloc[-1] - y.mean()) + 1e-9  # mean-reverting


def test_diebold_mariano_matches_the_textbook_formula_and_sees_a_better_model() -> None:
    rng = np.random.default_rng(3)
    e1, e2 = rng.normal(0, 1, 80), rng.normal(0, 1.5, 80)
    stat, p = diebold_mariano(e1, e2, horizon=1)
    d = e1 ** 2 - e2 ** 2
    n = len(d)
    expected = d.mean() / np.sqrt(d.var(ddof=0) / n) * np.sqrt((n - 1) / n)
    assert stat == pytest.approx(expected, rel=1e-6)
    assert stat < 0 and p < 0.05
    same_stat, same_p = diebold_mariano(e1, e1, horizon=2)
    assert np.isnan(same_stat) and np.isnan(same_p)


def test_the_record_scores_only_published_targets_by_horizon_against_the_benchmark() -> None:
    frame = economy()
    y = frame["gdp"].dropna()
    forecasts = []
    for end in range(100, 170):
        origin = frame.index[end].date()
        published = y.loc[: pd.Timestamp(origin) - pd.Timedelta(days=40)]
        forecasts += benchmark_forecasts(published, origin, "Q", 1, models=("rw", "mean"))
    outcomes = {"gdp": y.iloc[:-4]}  # the last four quarters are not published yet
    steps = score(forecasts, outcomes, {"gdp": "Q"})
    assert steps and max(s.period for s in steps) <= y.index[-5].date()
    assert {s.horizon for s in steps} == {-1, 0, 1}
    assert horizon_of(date(2010, 2, 15), date(2010, 6, 30), "Q") == 1
    rows = accuracy(steps, benchmark="rw")
    mean_h0 = next(r for r in rows if r.model == "mean" and r.horizon == 0)
    rw_h0 = next(r for r in rows if r.model == "rw" and r.horizon == 0)
    assert mean_h0.ratio == pytest.approx(mean_h0.rmse / rw_h0.rmse)
    assert np.isfinite(mean_h0.dm_p) and np.isnan(rw_h0.ratio)
    assert "mean" in table(rows)


def integrated_economy(n: int = 180, seed: int = 11) -> pd.DataFrame:
    """Indicators are monthly changes driven by an AR(1) factor; the targets are levels that cumulate
    such changes (a y/y rate near a unit root): a monthly `infl` and a quarterly average `gdp`."""
    rng = np.random.default_rng(seed)
    f = np.zeros(n)
    for t in range(1, n):
        f[t] = 0.6 * f[t - 1] + rng.normal()
    idx = pd.date_range("2000-01-31", periods=n, freq="ME")
    m = pd.DataFrame({f"ind{i}": np.cumsum((0.8 + 0.2 * i) * f + 0.4 * rng.normal(size=n)) for i in (1, 2, 3)},
                     index=idx)
    m["infl"] = 5 + np.cumsum(0.3 * f + 0.1 * rng.normal(size=n))
    activity = pd.Series(np.cumsum(0.5 * f + 0.1 * rng.normal(size=n)), index=idx)
    return m.join(activity.resample("QE").mean().rename("gdp"), how="outer")


DIFF_SPEC = SPEC.model_copy(update={"differenced": (*MONTHLY, "gdp")})


def test_a_differenced_target_is_nowcast_in_its_level_from_its_last_published_value() -> None:
    frame = integrated_economy()
    fitted = DfmFitted.fit(frame.iloc[:150], DIFF_SPEC, name="SIM")
    panel = frame.iloc[:160].copy()
    panel.iloc[-1, panel.columns.get_loc("infl")] = np.nan  # the last month's inflation is not published yet
    ext = fitted.extend(panel)
    last_infl = panel["infl"].dropna()
    assert ext.panel.anchors["infl"] == (pd.Period(last_infl.index[-1], "M"), pytest.approx(last_infl.iloc[-1]))
    assert ext.panel.monthly["infl"].dropna().iloc[-1] == pytest.approx(last_infl.iloc[-1] - last_infl.iloc[-2])
    fc = {f.series_id: f for f in ext.nowcast(panel.index[-1].date(), 3)}
    infl = fc["infl"]
    assert infl.dates[0] == panel.index[-1].date()  # the first unpublished month, in levels
    step = infl.mean[0] - last_infl.iloc[-1]
    assert abs(step) < 5 * panel["infl"].diff().std()  # a change onto the last level, not a level of changes
    assert all(b >= a for a, b in zip(infl.std, infl.std[1:], strict=False))
    assert fc["gdp"].dates[0] > panel["gdp"].dropna().index[-1].date()


def test_on_an_integrated_target_the_differenced_model_beats_the_random_walk_and_the_level_model() -> None:
    frame = integrated_economy()
    diff = DfmFitted.fit(frame.iloc[:120], DIFF_SPEC, name="SIM")
    errors: dict[str, list[float]] = {"diff": [], "rw": []}
    for end in range(120, 177, 3):  # quarter ends: the quarter's indicators are in, its gdp is not
        panel = frame.iloc[:end].copy()
        quarter_end = panel.index[-1]
        truth = panel.loc[quarter_end, "gdp"]
        panel.loc[quarter_end, "gdp"] = np.nan
        fc = {f.series_id: f for f in diff.extend(panel).nowcast(quarter_end.date(), 0)}["gdp"]
        errors["diff"].append(fc.mean[-1] - truth)
        errors["rw"].append(panel["gdp"].dropna().iloc[-1] - truth)
    rmse = {k: float(np.sqrt(np.mean(np.square(v)))) for k, v in errors.items()}
    assert rmse["diff"] < 0.7 * rmse["rw"], rmse


def test_the_factor_criterion_counts_the_factors_of_a_simulated_panel() -> None:
    rng = np.random.default_rng(5)  # Bai and Ng's design: N(0, 1) factors and loadings, N = 40, T = 240
    n, cols = 240, 40
    for k in (1, 2, 3):
        f = rng.normal(size=(n, k))
        loadings = rng.normal(size=(k, cols))
        x = pd.DataFrame(f @ loadings + rng.normal(size=(n, cols)), columns=[f"x{i}" for i in range(cols)],
                         index=pd.date_range("2000-01-31", periods=n, freq="ME"))
        spec = DfmSpec(monthly=tuple(x.columns), targets=("x0",))
        chosen, ic = factors_by_ic(x, spec)
        assert chosen == k and set(ic) == {1, 2, 3, 4, 5, 6}  # kmax = int(8 (40/100)^(1/4)) = 6
    with pytest.raises(FitFailed, match="too few"):
        factors_by_ic(x.iloc[:30], spec)


def test_the_level_interval_of_a_differenced_target_uses_the_steps_covariances() -> None:
    frame = integrated_economy()
    ext = DfmFitted.fit(frame.iloc[:150], DIFF_SPEC, name="SIM").extend(frame.iloc[:160])
    fc = {f.series_id: f for f in ext.nowcast(frame.index[159].date(), 6)}
    for target, freq in (("infl", "M"), ("gdp", "Q")):
        f = fc[target]
        periods = pd.period_range(ext.panel.anchors[target][0] + 1, periods=len(f.dates), freq=freq)
        months = [p.asfreq("M", how="end") for p in periods]
        _, var = ext._predict(target, months, months[-1])  # each step's own variance
        sd = np.asarray(f.std)
        assert sd[0] == pytest.approx(np.sqrt(var[0]), rel=1e-6)
        # the factor is persistent, so the steps are positively correlated: wider than independent
        # steps, narrower than perfectly correlated ones
        assert np.all(sd[1:] > np.sqrt(np.cumsum(var))[1:]) and np.all(sd[1:] < np.cumsum(np.sqrt(var))[1:])
