"""Rule kinds: severities, direction per series, no-data, labels, summaries, config errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sco_monitor.assess import rules as R
from sco_monitor.assess.indicators import Indicators
from sco_monitor.assess.model import CrisisProbability, Forecast
from sco_monitor.assess.pipeline import assess
from sco_monitor.assess.stress import ScopeStress, StressParams, StressResult
from sco_monitor.config import ConfigError

from .assess_helpers import random_walks, write_config

AS_OF = date(2021, 6, 30)


def _path(start: float, end: float, n: int = 300, last: int = 20) -> np.ndarray:
    """Flat at `start`, then a straight move to `end` over the last `last` observations."""
    x = np.full(n, float(start))
    x[-last - 1:] = np.linspace(start, end, last + 1)
    return x


def _frame(**cols: np.ndarray) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.bdate_range(end=AS_OF, periods=n))


def _by(evals, rule: str | None = None, **labels):
    return [e for e in evals if (rule is None or e.rule == rule) and all(e.labels.get(k) == v for k, v in labels.items())]


def test_level_rule_severity_threshold_labels_and_summary(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{
        "name": "vix_level", "kind": "level", "category": "volatility", "select": {"series": ["vol.vix"]},
        "warn": 30, "critical": 40, "clear": 25, "for": 2, "labels": {"team": "markets"},
        "summary": "VIX at {value:.1f} ({severity}, threshold {threshold:.0f})"}])
    for last, severity, threshold in ((45.0, "critical", 40.0), (33.0, "warn", 30.0), (20.0, "ok", 30.0)):
        a = assess(_frame(**{"vol.vix": _path(15, last)}), cfg, AS_OF)
        (ev,) = a.rules
        assert (ev.severity, ev.value, ev.threshold) == (severity, pytest.approx(last), threshold)
        assert ev.labels == {"team": "markets", "category": "volatility", "country": "USA", "series": "vol.vix"}
        assert (ev.warn, ev.critical, ev.clear, ev.for_) == (30.0, 40.0, 25.0, 2)
        assert ev.summary == f"VIX at {last:.1f} ({severity}, threshold {threshold:.0f})"
        assert "severity" not in ev.labels


def test_fx_rules_read_every_quote_in_its_risk_direction(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{
        "name": "fx_dep", "kind": "change", "category": "fx", "select": {"kind": "fx"}, "params": {"window": 20},
        "warn": 0.05, "critical": 0.10}])
    f = _frame(**{"fx.usd_kzt": _path(450, 477), "fx.eur_usd": _path(1.20, 1.068), "fx.usd_rub": _path(75, 70.5)})
    evals = assess(f, cfg, AS_OF).rules
    kzt, = _by(evals, series="fx.usd_kzt")
    eur, = _by(evals, series="fx.eur_usd")
    rub, = _by(evals, series="fx.usd_rub")
    assert (kzt.severity, kzt.value) == ("warn", pytest.approx(0.06))  # USD/KZT up 6%: tenge depreciates
    assert (eur.severity, eur.value) == ("critical", pytest.approx(0.11))  # EUR/USD down 11%: euro depreciates
    assert (rub.severity, rub.value) == ("ok", pytest.approx(-0.06))  # USD/RUB down: the rouble appreciates


def test_equity_fall_and_drawdown_respect_direction(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[
        {"name": "fall", "kind": "change", "category": "equity", "select": {"kind": "equity"},
         "params": {"window": 5}, "warn": 0.05, "critical": 0.10},
        {"name": "dd", "kind": "drawdown", "category": "equity", "select": {"kind": "equity"},
         "params": {"window": 63}, "direction": "below", "warn": -0.10, "critical": -0.20}])
    f = _frame(**{"eq.us.spx": _path(100, 88, last=5), "eq.ru.imoex": _path(100, 104, last=5)})
    evals = assess(f, cfg, AS_OF).rules
    assert [(e.rule, e.severity) for e in _by(evals, series="eq.us.spx")] == [("fall", "critical"), ("dd", "warn")]
    assert _by(evals, rule="fall", series="eq.us.spx")[0].value == pytest.approx(0.12)
    assert [e.severity for e in _by(evals, series="eq.ru.imoex")] == ["ok", "ok"]


def test_stale_short_missing_and_flagged_series_are_no_data(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{
        "name": "z", "kind": "zscore", "category": "equity", "select": {"kind": "equity"},
        "params": {"of": "return", "min_periods": 250}, "warn": 3, "critical": 5},
        {"name": "lvl", "kind": "level", "category": "fx", "select": {"kind": "fx"}, "warn": 1e9}])
    idx = pd.bdate_range(end=AS_OF, periods=400)
    f = pd.DataFrame({"eq.us.spx": random_walks(["a"], periods=400)["a"].to_numpy()}, index=idx)
    f.loc[idx[-10:], "eq.us.spx"] = np.nan  # stopped ten sessions ago
    f["eq.ru.imoex"] = np.nan
    f.loc[idx[-30:], "eq.ru.imoex"] = np.linspace(100, 110, 30)  # only 30 observations
    f["fx.usd_kzt"] = 450.0
    from sco_monitor.assess.model import QualityFlag

    flags = [QualityFlag(series_id="fx.usd_kzt", flag="stale", date=AS_OF, detail="source returned nothing")]
    evals = assess(f, cfg, AS_OF, quality=flags).rules
    spx, = _by(evals, rule="z", series="eq.us.spx")
    imoex, = _by(evals, rule="z", series="eq.ru.imoex")
    kzt, = _by(evals, rule="lvl", series="fx.usd_kzt")
    rub, = _by(evals, rule="lvl", series="fx.usd_rub")
    assert spx.severity == "no_data" and spx.details["reason"].startswith("stale: last observation 2021-06-16")
    assert imoex.severity == "no_data" and imoex.details["reason"] == "not enough history for this rule yet"
    assert kzt.severity == "no_data" and kzt.details["reason"] == "stale: source returned nothing"
    assert rub.severity == "no_data" and rub.details["reason"] == "no observations"
    assert "no data" in rub.summary


def test_exposed_countries_get_one_evaluation_each(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{
        "name": "oil_fall", "kind": "change", "category": "commodity",
        "select": {"series": ["cmd.brent"], "exposed": ["RUS", "KAZ"]}, "params": {"window": 60},
        "direction": "below", "warn": -0.2, "critical": -0.3,
        "summary": "Brent {value:+.0%}: risk for {country}"}])
    evals = assess(_frame(**{"cmd.brent": _path(100, 65, last=60)}), cfg, AS_OF).rules
    assert [(e.labels["country"], e.labels["series"], e.severity) for e in evals] == [
        ("RUS", "cmd.brent", "critical"), ("KAZ", "cmd.brent", "critical")]
    assert evals[1].summary == "Brent -35%: risk for KAZ"
    assert evals[0].fingerprint != evals[1].fingerprint


@pytest.mark.parametrize("summary,expect", [
    ("{value.__class__}", "template field {value.__class__} is not allowed"),
    ("{nope}", "unknown template field {nope}"),
    ("{value:99999}", "is too large"),
])
def test_summary_templates_are_restricted_at_load(tmp_path, summary: str, expect: str) -> None:
    with pytest.raises(ConfigError) as e:
        write_config(tmp_path, rules=[{"name": "r", "kind": "level", "category": "x", "warn": 1,
                                       "select": {"series": ["vol.vix"]}, "summary": summary}])
    assert str(e.value).startswith("rules.yaml: rules[0]") and expect in str(e.value)


def test_a_summary_that_cannot_render_falls_back_and_says_why(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{"name": "r", "kind": "level", "category": "x", "warn": 30,
                                         "select": {"series": ["vol.vix"]}, "summary": "{series:.1%}"}])
    ev, = assess(_frame(**{"vol.vix": _path(15, 35)}), cfg, AS_OF).rules
    assert ev.summary == "VOL.VIX: level 35 (warn: >= 30)"
    assert "cannot render" in ev.details["summary_error"]


@pytest.mark.parametrize("rule,expect", [
    ({"kind": "change", "params": {"windw": 20}},
     "params.windw: unknown parameter for change rules; expected one of: window, log, orient"),
    ({"kind": "zscore", "params": {"method": "rolling"}}, "params.method: expected expanding or ewma"),
    ({"kind": "stress_level", "warn": "hot"}, "expected a stress level (low, moderate, elevated, high, severe)"),
    ({"kind": "forecast_breach", "params": {"probability": 1.5}}, "expected a probability between 0 and 1"),
    ({"kind": "level", "labels": {"severity": "x"}}, "'severity' is set by the evaluation"),
    ({"kind": "level", "select": {"exposed": ["kz"]}}, "expected ISO 3166 alpha-3 codes"),
])
def test_rule_params_are_validated_at_load(tmp_path, rule: dict, expect: str) -> None:
    body = {"name": "r", "category": "x", "warn": 1, **rule}
    with pytest.raises(ConfigError) as e:
        write_config(tmp_path, rules=[body])
    assert "rules.yaml: rules[0]" in str(e.value) and expect in str(e.value)


def test_unknown_indicator_in_a_level_rule_names_file_and_path(tmp_path) -> None:
    with pytest.raises(ConfigError) as e:  # at load, not at every evaluation
        write_config(tmp_path, rules=[{"name": "r", "kind": "level", "category": "x", "warn": 1,
                                       "params": {"indicator": "vol_garch"}}])
    assert str(e.value).startswith("rules.yaml: rules[0].params.indicator: unknown indicator 'vol_garch'")


def _inputs(cfg, frame, **kw) -> R.RuleInputs:
    return R.RuleInputs(series=cfg.series, indicators=Indicators(frame, cfg.series, AS_OF), **kw)


def test_vol_regime_reads_the_regime_probability(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "regime", "kind": "vol_regime", "category": "volatility",
                                  "select": {"kind": "equity"}, "warn": 0.8, "critical": 0.95})
    f = _frame(**{"eq.us.spx": _path(100, 90), "eq.ru.imoex": _path(100, 90)})
    evals = R.evaluate_rule(rule, _inputs(cfg, f, regime_prob={"eq.us.spx": 0.9}))
    assert [(e.series_id, e.severity, e.value) for e in evals] == [
        ("eq.us.spx", "warn", 0.9), ("eq.ru.imoex", "no_data", None)]
    assert evals[1].details["reason"] == "no regime probability for this series"


def _forecast(mean, lower, upper, std=()) -> Forecast:
    days = [date(2021, 7, d) for d in range(1, len(mean) + 1)]
    return Forecast(series_id="fx.usd_kzt", model="arima", as_of=AS_OF, dates=days, mean=mean, lower=lower,
                    upper=upper, level=0.9, std=list(std))


def test_forecast_breach_is_the_quantile_reached_with_the_required_probability(tmp_path) -> None:
    cfg = write_config(tmp_path)
    f = _frame(**{"fx.usd_kzt": np.full(300, 400.0)})
    z90 = norm.ppf(0.95)
    sd = np.array([4.0, 8.0, 12.0])
    mean = [404.0, 410.0, 412.0]
    fc = _forecast(mean, list(mean - z90 * sd), list(mean + z90 * sd))

    def rule(prob: float):
        return R.Rule.model_validate({
            "name": "fc", "kind": "forecast_breach", "category": "fx", "select": {"series": ["fx.usd_kzt"]},
            "params": {"measure": "change", "probability": prob}, "warn": 0.05, "critical": 0.10})

    ev, = R.evaluate_rule(rule(0.2), _inputs(cfg, f, forecasts=[fc]))
    q = np.array(mean) + norm.ppf(0.8) * sd  # exceeded with probability 20%
    assert ev.value == pytest.approx((q / 400 - 1).max())  # 412 + 0.84*12 = 422.1 → +5.5%
    assert ev.severity == "warn" and "model" not in ev.labels and ev.details["model"] == "arima"
    p_breach = 1 - norm.cdf((420 - np.array(mean)) / sd)  # P(level beyond +5%) per step
    assert ev.details["breach_probability"] == pytest.approx(p_breach.max())
    assert ev.details["threshold_level"] == pytest.approx(420.0) and ev.details["step"] == 3
    ev, = R.evaluate_rule(rule(0.4), _inputs(cfg, f, forecasts=[fc]))  # 25% < 40% required: not unfavourable
    assert ev.severity == "ok"
    # an explicit predictive std takes precedence over the interval
    ev, = R.evaluate_rule(rule(0.2), _inputs(cfg, f, forecasts=[_forecast(mean, mean, mean, std=[1, 1, 40.0])]))
    assert ev.severity == "critical"
    ev, = R.evaluate_rule(rule(0.2), _inputs(cfg, f, forecasts=[]))
    assert ev.severity == "no_data" and ev.details["reason"] == "no forecast for this series"


def test_a_forecast_rule_by_kind_watches_the_series_that_have_forecasts(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "fc", "kind": "forecast_breach", "category": "fx", "select": {"kind": "fx"},
                                  "params": {"measure": "change"}, "warn": 0.05})
    f = _frame(**{"fx.usd_kzt": np.full(300, 400.0), "fx.usd_rub": np.full(300, 70.0)})
    fc = _forecast([401.0], [399.0], [403.0])
    assert [(e.series_id, e.severity) for e in R.evaluate_rule(rule, _inputs(cfg, f, forecasts=[fc]))] == [
        ("fx.usd_kzt", "ok")]


def test_assessment_marks_unfavourable_forecasts(tmp_path) -> None:
    cfg = write_config(tmp_path, rules=[{
        "name": "fc", "kind": "forecast_breach", "category": "fx", "select": {"series": ["fx.usd_kzt"]},
        "params": {"measure": "change", "probability": 0.2}, "warn": 0.05, "critical": 0.10}])
    f = _frame(**{"fx.usd_kzt": np.full(300, 400.0)})
    fc = _forecast([404.0, 430.0], [396.0, 410.0], [412.0, 450.0])
    a = assess(f, cfg, AS_OF, forecasts=[fc])
    (out,) = a.forecasts
    assert out.unfavourable and out.threshold == pytest.approx(420.0)
    assert out.breach_probability == pytest.approx(1 - norm.cdf((420 - 430) / (20 / norm.ppf(0.95))))


def _stress(index: float) -> StressResult:
    cal = pd.bdate_range(end=AS_OF, periods=3)
    bounds = pd.DataFrame({"moderate": 0.2, "elevated": 0.4, "high": 0.6, "severe": 0.9}, index=cal)
    sc = ScopeStress("RUS", ["fx.usd_rub"], pd.Series(index, index=cal), pd.Series(3.0, index=cal), bounds,
                     pd.DataFrame({"fx": 0.9}, index=cal), pd.DataFrame({"fx": index}, index=cal))
    return StressResult({"RUS": sc}, StressParams())


def test_stress_level_rule_uses_each_scopes_own_level_bounds(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "stress", "kind": "stress_level", "category": "contagion",
                                  "warn": "high", "critical": "severe", "clear": "elevated",
                                  "summary": "{scope} stress {value:.2f} is {level}"})
    f = _frame(**{"fx.usd_rub": np.full(3, 70.0)})
    ev, = R.evaluate_rule(rule, _inputs(cfg, f, stress=_stress(0.7)))
    assert (ev.severity, ev.value, ev.threshold, ev.warn, ev.critical, ev.clear) == (
        "warn", 0.7, 0.6, 0.6, 0.9, 0.4)
    assert ev.labels == {"category": "contagion", "country": "RUS", "scope": "RUS"}
    assert ev.summary == "RUS stress 0.70 is high"
    ev, = R.evaluate_rule(rule, _inputs(cfg, f, stress=_stress(0.95)))
    assert (ev.severity, ev.threshold) == ("critical", 0.9)


def test_probability_rule(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "p", "kind": "probability", "category": "contagion",
                                  "select": {"scope": ["RUS", "KAZ"]}, "warn": 0.3, "critical": 0.5})
    probs = {"RUS": CrisisProbability(country="RUS", horizon=60, probability=0.55, drivers={"seg_fx": 1.2}),
             "KAZ": CrisisProbability(country="KAZ", horizon=60, probability=None)}
    evals = R.evaluate_rule(rule, _inputs(cfg, _frame(**{"fx.usd_rub": np.full(3, 70.0)}), probability=probs))
    assert [(e.labels["country"], e.severity, e.value) for e in evals] == [
        ("RUS", "critical", 0.55), ("KAZ", "no_data", None)]
    assert evals[0].details["drivers"] == {"seg_fx": 1.2}


def test_probability_rule_warns_at_the_cut_off_estimated_with_the_model(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "p", "kind": "probability", "category": "contagion",
                                  "select": {"scope": ["RUS", "CHN", "IND"]}, "params": {"cutoff": "estimated"},
                                  "warn": 0.3, "critical": 0.5, "clear": 0.2})
    probs = {"RUS": CrisisProbability(country="RUS", horizon=60, probability=0.12, cutoff=0.09),
             "CHN": CrisisProbability(country="CHN", horizon=60, probability=0.12),  # no cut-off: the rule's 0.3
             "IND": CrisisProbability(country="IND", horizon=60, probability=0.7, cutoff=0.8)}
    evals = R.evaluate_rule(rule, _inputs(cfg, _frame(**{"fx.usd_rub": np.full(3, 70.0)}), probability=probs))
    got = {e.labels["country"]: (e.severity, e.threshold) for e in evals}
    assert got["RUS"] == ("warn", pytest.approx(0.09)) and got["CHN"][0] == "ok"
    assert got["IND"][0] == "ok"  # critical is at least the cut-off: 0.7 is below both
    assert evals[0].details["cutoff"] == 0.09
    with pytest.raises(ValueError, match="cutoff"):
        R.Rule.model_validate({"name": "p", "kind": "probability", "category": "c", "params": {"cutoff": "fitted"}})


def test_a_failing_rule_is_reported_and_the_others_still_run(tmp_path) -> None:
    cfg = write_config(tmp_path)
    broken = R.Rule.model_validate({"name": "broken", "kind": "level", "category": "x", "warn": 1,
                                    "params": {"indicator": "no_such_indicator"}})
    ok = R.Rule.model_validate({"name": "vix", "kind": "level", "category": "x", "warn": 30,
                                "select": {"series": ["vol.vix"]}})
    evals = R.evaluate([broken, ok], _inputs(cfg, _frame(**{"vol.vix": _path(15, 35)})))
    assert [(e.rule, e.severity) for e in evals] == [("broken", "no_data"), ("vix", "warn")]
    assert "no_such_indicator" in evals[0].details["error"]


def test_severity_history_equals_point_in_time_evaluations(tmp_path) -> None:
    cfg = write_config(tmp_path)
    rule = R.Rule.model_validate({"name": "fall", "kind": "change", "category": "equity",
                                  "select": {"kind": "equity"}, "params": {"window": 5},
                                  "warn": 0.02, "critical": 0.04})
    f = random_walks(["eq.us.spx", "eq.ru.imoex"], periods=500, vol=0.015)
    hist = R.severity_history(rule, R.RuleInputs(series=cfg.series, indicators=Indicators(f, cfg.series)))
    assert set(np.unique(hist.to_numpy())) >= {0, 1, 2}
    for d in f.index[[100, 250, 499]]:
        evals = R.evaluate_rule(rule, R.RuleInputs(series=cfg.series,
                                                   indicators=Indicators(f.loc[:d], cfg.series, d.date())))
        assert [R.SEVERITY[int(hist.loc[d, e.series_id])] for e in evals] == [e.severity for e in evals]


@pytest.mark.parametrize("seed", range(6))
def test_taking_cells_equals_pandas_reindex(seed: int) -> None:
    """The rule kinds take a day's row by position (R._reindexed): the same cells as pandas' reindex,
    for rows and columns present or absent, float or bool, one block or several, any calendar."""
    rng = np.random.default_rng(seed)
    cal = pd.bdate_range("2020-01-01", periods=40)
    parts = [pd.DataFrame(rng.normal(size=(40, 3)), index=cal, columns=["a", "b", "c"]),
             pd.DataFrame(rng.normal(size=(40, 2)), index=cal, columns=["d", "e"])]
    frame = pd.concat(parts, axis=1)
    frame[frame > 1.5] = np.nan
    fresh = frame.notna()
    for rows in (cal[-1:], cal[5:9], pd.DatetimeIndex(["2019-06-03", "2020-01-07", "2025-01-01"]), cal[:0],
                 cal[rng.permutation(40)[:7]], pd.date_range("2020-01-01", periods=10, freq="D")):
        for cols in (["e", "a"], ["zz", "c", "a", "zz"], [], list(frame.columns)):
            want = frame.reindex(index=rows, columns=cols).to_numpy(dtype=float)
            np.testing.assert_array_equal(R._reindexed(frame, rows, cols, float, np.nan), want)
            want_fresh = fresh.reindex(index=rows, columns=cols, fill_value=False).to_numpy(dtype=bool)
            np.testing.assert_array_equal(R._reindexed(fresh, rows, cols, bool, False), want_fresh)
            np.testing.assert_array_equal(R._reindexed(frame.iloc[::-1], rows, cols, float, np.nan), want)


def test_a_days_evaluations_are_what_validation_builds(tmp_path) -> None:
    """A day's evaluations are built without re-validation: each equals, field by field and type by
    type, the RuleEvaluation validation builds from the same values, and dumps the same JSON."""
    cfg = write_config(tmp_path, rules=[
        {"name": "vix_level", "kind": "level", "category": "volatility", "select": {"series": ["vol.vix"]},
         "warn": 30, "critical": 40, "clear": 25, "summary": "VIX at {value:.1f} ({severity})"},
        {"name": "bad_template", "kind": "level", "category": "volatility", "select": {"series": ["vol.vix"]},
         "warn": 30, "summary": "VIX {value:d}"},
        {"name": "fx_dep", "kind": "change", "category": "fx", "select": {"kind": "fx"}, "params": {"window": 20},
         "warn": 0.01, "critical": 0.02, "for": 2, "within": 3},
        {"name": "z", "kind": "zscore", "category": "equity", "select": {"kind": "equity"},
         "params": {"min_periods": 60}, "warn": 1.0},
        {"name": "dd", "kind": "drawdown", "category": "equity", "select": {"kind": "equity"},
         "direction": "below", "warn": -0.02, "critical": -0.05},
        {"name": "stress", "kind": "stress_level", "category": "stress", "warn": 2, "critical": 3},
        {"name": "p", "kind": "probability", "category": "crisis", "warn": 0.2},
    ])
    frames = random_walks(["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_kzt", "fx.eur_usd", "vol.vix"],
                          start="2019-01-01", periods=640, vol=0.02, level=30.0)
    evals = assess(frames, cfg, frames.index[-1].date()).rules
    assert {e.rule for e in evals} >= {"vix_level", "fx_dep", "z", "dd", "stress"}
    assert {e.severity for e in evals} >= {"ok", "no_data"} and len({e.severity for e in evals}) >= 3
    assert any("summary_error" in e.details for e in evals if e.rule == "bad_template")
    for ev in evals:
        validated = type(ev)(**{k: getattr(ev, k) for k in type(ev).model_fields})
        assert ev == validated
        assert ev.model_fields_set == validated.model_fields_set
        assert ev.model_dump(mode="json") == validated.model_dump(mode="json")
        for k in type(ev).model_fields:
            assert type(getattr(ev, k)) is type(getattr(validated, k)), (ev.rule, k)
