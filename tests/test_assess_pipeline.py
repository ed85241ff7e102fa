"""The pipeline: pure assess(), saving to the store (SQLite and PostgreSQL), the CLI."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from sco_monitor.assess.forecast import ForecastRun
from sco_monitor.assess.model import Forecast
from sco_monitor.assess.pipeline import assess
from sco_monitor.context import Context
from sco_monitor.cycle import step_assess
from sco_monitor.store import Store, schema

from .assess_helpers import random_walks, write_config

AS_OF = date(2013, 6, 28)
RULES = [
    {"name": "fx_dep", "kind": "change", "category": "fx", "select": {"kind": "fx"}, "params": {"window": 20},
     "warn": 0.05, "critical": 0.10},
    {"name": "vix", "kind": "level", "category": "volatility", "select": {"series": ["vol.vix"]}, "warn": 30,
     "critical": 40},
    {"name": "stress", "kind": "stress_level", "category": "contagion", "warn": "high", "critical": "severe"},
    {"name": "prob", "kind": "probability", "category": "contagion", "warn": 0.3, "critical": 0.5},
    {"name": "fc", "kind": "forecast_breach", "category": "fx", "select": {"series": ["fx.usd_kzt"]},
     "params": {"measure": "change", "probability": 0.2}, "warn": 0.05, "critical": 0.1},
    {"name": "regime", "kind": "vol_regime", "category": "volatility", "select": {"series": ["eq.us.spx"]},
     "warn": 0.8, "critical": 0.95},
]


def market(end: date = AS_OF, periods: int = 900) -> pd.DataFrame:
    f = random_walks(["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_kzt", "fx.eur_usd", "cmd.brent", "vol.vix"],
                     start="2000-01-01", periods=periods, vol=0.012)
    f.index = pd.bdate_range(end=end, periods=periods)
    f["vol.vix"] = f["vol.vix"] / 5
    f.iloc[-15:, f.columns.get_loc("fx.usd_rub")] *= np.linspace(1.0, 1.3, 15)  # a rouble crisis at the end
    f["spread.us.baa10y"] = 2.0 + np.cumsum(np.random.default_rng(5).normal(0, 0.02, periods))
    annual = pd.Series([6.0, 8.0, 15.0], index=pd.to_datetime(["2011-01-01", "2012-01-01", "2013-01-01"]))
    return f.join(annual.rename("macro.kz.inflation"), how="outer")


@pytest.fixture
def cfg(tmp_path):
    return write_config(tmp_path / "cfg", rules=RULES, assessment={"save_days": 7})


def test_assess_is_a_pure_point_in_time_function(cfg) -> None:
    f = market()
    a = assess(f, cfg, AS_OF)
    assert a.as_of == AS_OF and set(a.stress_index) == {"WLD", "KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND",
                                                         "PAK", "IRN", "BLR", "USA"}  # US: 2 segments
    assert a.stress_index["RUS"].value is not None and a.stress_index["CHN"].value is None
    rub, = [r for r in a.rules if r.rule == "fx_dep" and r.series_id == "fx.usd_rub"]
    assert rub.severity == "critical"
    assert a.latest["fx.usd_rub"]["level"] == pytest.approx(f["fx.usd_rub"].dropna().iloc[-1])
    # the 2013 inflation print is not knowable until 200 days after its date
    assert a.latest["macro.kz.inflation"]["level"] == 8.0
    # rows after as_of change nothing
    later = pd.concat([f, market(end=date(2013, 9, 30), periods=60)]).sort_index()
    later = later[~later.index.duplicated(keep="first")]
    assert assess(later, cfg, AS_OF) == a
    assert assess(f, cfg, AS_OF) == a  # deterministic


def test_forecasts_and_regime_probabilities_come_in_as_arguments(cfg) -> None:
    f = market()
    last = f["fx.usd_kzt"].dropna().iloc[-1]
    fc = Forecast(series_id="fx.usd_kzt", model="arima", as_of=AS_OF, dates=[date(2013, 7, 1)],
                  mean=[last * 1.2], lower=[last * 1.1], upper=[last * 1.3])
    a = assess(f, cfg, AS_OF, forecasts=[fc], regime_prob={"eq.us.spx": 0.97})
    by = {r.rule: r for r in a.rules if r.rule in ("fc", "regime")}
    assert by["fc"].severity == "critical" and by["regime"].severity == "critical"
    assert a.forecasts[0].unfavourable


def _rows(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _load(store: Store, frame: pd.DataFrame) -> None:
    long = frame.rename_axis("date").reset_index().melt(id_vars="date", var_name="series_id").dropna()
    store.upsert_observations(long)


def test_run_assessment_saves_results_idempotently(cfg, store) -> None:
    store.sync_series(cfg.universe.series)
    _load(store, market())
    ctx = Context.from_parts(cfg, store)
    a = step_assess(ctx, AS_OF)
    counts = {t.name: _rows(store, t) for t in (schema.indicator_values, schema.rule_evaluations,
                                                 schema.stress_index, schema.crisis_probability)}
    assert counts["rule_evaluations"] == len(a.rules)
    assert counts["crisis_probability"] == 11  # every member, estimable or not, and the US
    with store.engine.connect() as conn:
        dates = conn.execute(select(func.min(schema.indicator_values.c.date))).scalar_one()
        sev = dict(conn.execute(select(schema.rule_evaluations.c.rule, schema.rule_evaluations.c.severity).where(
            schema.rule_evaluations.c.labels["series"].as_string() == "fx.usd_rub")).all())
        stress = conn.execute(select(schema.stress_index.c.scope, schema.stress_index.c.date,
                                     schema.stress_index.c.level, schema.stress_index.c.segments)
                              .where(schema.stress_index.c.scope == "RUS")
                              .order_by(schema.stress_index.c.date.desc())).first()
    assert pd.Timestamp(dates) >= pd.Timestamp(AS_OF) - pd.Timedelta(days=7)  # recent days only
    assert sev == {"fx_dep": "critical"}
    assert stress[1] == AS_OF and stress[2] == a.stress_index["RUS"].level and set(stress[3]) == {"equity", "fx"}
    step_assess(ctx, AS_OF)  # same as_of again: replaced, not duplicated
    assert {t: _rows(store, getattr(schema, t)) for t in counts} == counts
    step_assess(ctx, date(2013, 7, 1))  # the next day adds one day of indicator values
    assert _rows(store, schema.rule_evaluations) == 2 * counts["rule_evaluations"]


def test_a_failing_forecaster_does_not_stop_the_assessment(cfg, tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    store.init()
    store.sync_series(cfg.universe.series)
    _load(store, market())
    ctx = Context.from_parts(cfg, store)

    def broken(frame, config, as_of, states):
        raise RuntimeError("model exploded")

    def working(frame, config, as_of, states):
        assert frame.index.max() <= pd.Timestamp(as_of)
        return ForecastRun(as_of=as_of, regime_prob={"eq.us.spx": 0.9})

    assert step_assess(ctx, AS_OF, save=False, forecaster=broken).rules
    a = step_assess(ctx, AS_OF, save=False, forecaster=working)
    assert [r.severity for r in a.rules if r.rule == "regime"] == ["warn"]
    assert _rows(store, schema.rule_evaluations) == 0  # save=False


def _cli_setup(tmp_path) -> str:
    cfg = write_config(tmp_path / "cli", rules=RULES)
    store = Store(cfg.settings.store.url)
    store.init()
    store.sync_series(cfg.universe.series)
    _load(store, market())
    store.dispose()
    return str(cfg.path)


def test_cli_assess_prints_a_summary_and_json_and_saves(run_cli, tmp_path) -> None:
    path = _cli_setup(tmp_path)
    proc = run_cli("--config", path, "assess", "--as-of", AS_OF.isoformat())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"Assessment as of {AS_OF.isoformat()}")
    assert "Stress index" in out and "\n  RUS " in out and "Crisis probability" in out
    assert "critical fx_dep" in out.replace("  ", " ").replace("  ", " ")
    proc = run_cli("--config", path, "assess", "--as-of", AS_OF.isoformat(), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["as_of"] == AS_OF.isoformat()
    assert {"value", "level", "segments"} <= set(data["stress_index"]["RUS"])
    assert set(data["probability"]) == {"KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR", "USA"}
    rule = next(r for r in data["rules"] if r["rule"] == "fx_dep" and r["labels"]["series"] == "fx.usd_rub")
    assert rule["severity"] == "critical" and rule["threshold"] == 0.1 and rule["value"] > 0.1
    # the forecast layer is wired in: the annual inflation series gets a level forecast from the last
    # knowable print (2012: the 2013 value is still unpublished on as_of)
    infl = next(f for f in data["forecasts"] if f["series_id"] == "macro.kz.inflation")
    assert infl["dates"][0] == "2013-01-01" and len(infl["mean"]) == len(infl["dates"])
    store = Store(f"sqlite:///{tmp_path / 'cli' / 'store.db'}")
    assert _rows(store, schema.rule_evaluations) == len(data["rules"])


def test_cli_assess_errors(run_cli, tmp_path) -> None:
    path = _cli_setup(tmp_path)
    proc = run_cli("--config", path, "assess", "--as-of", "last tuesday")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "sco-monitor: --as-of: expected a date YYYY-MM-DD, got 'last tuesday'"
    proc = run_cli("--config", path, "assess", "--as-of", "1990-01-02")
    assert proc.returncode == 1
    # the store holds data, just not in the window: say what it holds (issue 12, bug 5)
    assert "no observations between 1980-01-01 and 1990-01-02" in proc.stderr
    assert "the store holds 2010-01-18 to 2013-06-28" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_output_is_strict_json_even_with_nan_in_details() -> None:
    from sco_monitor.assess.model import Assessment, CrisisProbability, RuleEvaluation
    from sco_monitor.assess.summary import render_json, render_text

    a = Assessment(as_of=AS_OF, rules=[RuleEvaluation(rule="r", kind="level", category="x", labels={"a": "b"},
                                                      details={"mean": float("nan"), "p": np.float64(0.2)})],
                   probability={"RUS": CrisisProbability(country="RUS", horizon=60, probability=0.4)})
    data = json.loads(render_json(a))
    assert data["rules"][0]["details"] == {"mean": None, "p": 0.2}
    assert data["probability"] == {"RUS": 0.4} and data["probability_details"]["RUS"]["horizon"] == 60
    assert "  RUS   40.0% within 60 sessions" in render_text(a)
