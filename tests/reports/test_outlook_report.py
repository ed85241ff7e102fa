"""The report's "World economy outlook" section end to end: a store holding a small Russian panel
(the simulated economy of tests/assess/nowcast_fixture.py under the default universe's ids, with a
WEO projection), assessed by `cycle.step_assess` (the live forecast layer) on past origins and on the
day, written by `cycle.step_report` in English and Russian."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from sco_monitor import cycle
from sco_monitor.assess.forecast.nowcast_layer import run_nowcasts
from sco_monitor.assess.forecast.run import ForecastRun
from sco_monitor.config import load_config
from sco_monitor.context import Context
from tests.assess.nowcast_fixture import PANEL, economy

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 10, 15)
#: Quarterly origins before the day: their stored nowcasts of 2023 and 2024 are scored once published.
ORIGINS = [d.date() for d in pd.date_range("2023-02-15", "2025-07-15", freq="3MS") + pd.Timedelta(days=14)]
WEO = {date(2024, 12, 31): 3.6, date(2025, 12, 31): 0.9, date(2026, 12, 31): 1.0}


def config():  # noqa: ANN201
    base = load_config(ROOT / "config" / "sco-monitor.yaml")
    a = base.settings.assessment.model_copy(update={"nowcasts": [PANEL]})
    ex = base.settings.executor.model_copy(update={"kind": "inline"})
    return dataclasses.replace(base, settings=base.settings.model_copy(update={"assessment": a, "executor": ex}))


def nowcasts_only(frame, config, as_of, states):  # noqa: ANN001, ANN201 - a Forecaster: the panels alone
    now = run_nowcasts(frame, config.settings.assessment.nowcasts, config.series, as_of, states)
    return ForecastRun(as_of=as_of, forecasts=now.forecasts, states=now.states, notes=now.notes)


@pytest.mark.slow
# two minutes of assessments per backend: the PostgreSQL run goes with CI's second step (`make test-long`)
@pytest.mark.parametrize("store_url", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.long])],
                         indirect=True)
def test_the_report_from_the_store_has_the_outlook_with_nowcasts_fan_charts_and_record(store, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = config()
    ctx = Context.from_parts(cfg, store)
    frame = economy(date(2025, 10, 31), shock=6.0)
    store.sync_series(cfg.series.values())
    long = frame.stack().rename("value").reset_index()
    long.columns = ["date", "series_id", "value"]
    store.upsert_observations(long[["series_id", "date", "value"]])
    weo = pd.DataFrame({"series_id": "weo.ru.gdp_growth", "date": list(WEO), "value": list(WEO.values())})
    store.upsert_observations(weo, fetched_at=datetime(2025, 10, 1, tzinfo=UTC))

    for origin in ORIGINS:  # the stored history the record scores (the panels only, to keep the test short)
        cycle.step_assess(ctx, origin, forecaster=nowcasts_only)
    out = tmp_path / "reports"
    # the previous report in the model's calendar period of the day (from 2025-10-06): on this fixture the
    # panel's EM at the period before (anchor 2025-09-08) meets a singular loading matrix in statsmodels'
    # DynamicFactorMQ M-step, which the layer reports as "no model" (tests/assess/test_nowcast_layer.py)
    prev = cycle.step_assess(ctx, date(2025, 10, 8))
    cycle.step_report(ctx, prev, datetime(2025, 10, 8, 2, tzinfo=UTC), out_dir=out, languages=["en"], digest=False)
    a = cycle.step_assess(ctx, AS_OF)  # the live wiring: forecast_layer with the panel
    assert {f.series_id for f in a.forecasts if f.model == "dfm"} == {"macro.ru.gdp_growth", "macro.ru.inflation"}
    run = cycle.step_report(ctx, a, datetime(2025, 10, 15, 2, tzinfo=UTC), out_dir=out, languages=["en", "ru"],
                            formats=["html", "md", "json"], digest=False)
    day = out / AS_OF.isoformat()
    doc = json.loads((day / "report.json").read_text(encoding="utf-8"))
    schema = json.loads((resources.files("sco_monitor.reports") / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    wo = doc["outlook"]
    gdp = next(r for r in wo["rows"] if r["series_id"] == "macro.ru.gdp_growth")
    assert gdp["period"] == "2025-12-31" and gdp["period_label"] == "2025" and gdp["mean"] < 0  # the contraction
    assert gdp["last_date"] == "2024-12-31" and gdp["projection"] == pytest.approx(0.9)  # WEO beside it
    assert gdp["previous_mean"] is not None and gdp["change"] == pytest.approx(gdp["mean"] - gdp["previous_mean"])
    assert gdp["month_ago_mean"] is not None  # the 2025-07 origin's stored nowcast of 2025
    assert wo["previous_report"] == "2025-10-08"
    record = {(r["series_id"], r["horizon"]): r for r in wo["record"]}
    assert ("macro.ru.gdp_growth", 0) in record and ("macro.ru.gdp_growth", 1) in record
    r0 = record[("macro.ru.gdp_growth", 0)]
    assert r0["n"] >= 3 and r0["rmse"] > 0 and r0["rw_rmse"] > 0 and r0["ratio"] == pytest.approx(r0["rmse"] / r0["rw_rmse"])
    assert "latest vintage" in wo["record_note"]
    tr = doc["track_record"]["forecasts"]  # the track record names the nowcast record, with the same rows
    assert tr["rows"] == wo["record"] and tr["cells"] == len(wo["record"])
    assert tr["targets"] == len({r["series_id"] for r in wo["record"]})
    assert tr["beaten"] == sum(1 for r in wo["record"] if r["ratio"] is not None and r["ratio"] < 1)
    assert f"{tr['cells']} target-horizon cells scored on {tr['targets']} targets" in tr["message"]
    track_md = (day / "report.md").read_text(encoding="utf-8").split("## 8. Track record")[1].split("## 9.")[0]
    assert "### Nowcast record" in track_md and tr["message"] in track_md
    assert f"| Russia real GDP growth | 0 | {r0['n']} | {r0['rmse']:.2f} | {r0['rw_rmse']:.2f} |" in track_md
    track_html = (day / "report.html").read_text(encoding="utf-8").split('<section id="track">')[1].split("</section>")[0]
    assert "Nowcast record" in track_html and 'href="#outlook"' in track_html
    # the replay's track record (replay --score, track_record.json, /api/v1/track) scores the same nowcasts
    from sco_monitor.replay.track import summary_lines, track_record

    track = track_record(ctx, ORIGINS[0], AS_OF, known_until=AS_OF, var=False)
    scored = {(n.target, n.horizon): n for n in track.nowcasts}
    assert set(scored) == set(record)
    assert scored[("macro.ru.gdp_growth", 0)].rmse == pytest.approx(r0["rmse"])
    assert scored[("macro.ru.gdp_growth", 0)].n == r0["n"]
    assert any(line.startswith("  nowcast macro.ru.gdp_growth h=0: RMSE ") for line in summary_lines(track))
    assert "nowcasts" in json.loads(track.model_dump_json())
    html = (day / "report.html").read_text(encoding="utf-8").split('id="outlook"')[1]
    assert "World economy outlook" in html and html.count("<svg") >= 2  # a fan chart per target, inline
    assert "Russia real GDP growth" in html and "Scored record against the random walk" in html
    md = (day / "report.md").read_text(encoding="utf-8").split("## 11. World economy outlook")[1]
    assert "| Russia real GDP growth | Russia (RUS) | 0.8 (2024) | 2025 |" in md.replace("🔴 ", "")
    assert "charts/outlook-macro.ru.gdp_growth.svg" in md and (day / "charts" / "outlook-macro.ru.gdp_growth.svg").is_file()
    ru_html = (day / "report.ru.html").read_text(encoding="utf-8").split('id="outlook"')[1]
    assert "Прогноз мировой экономики" in ru_html and "<svg" in ru_html
    assert "Рост реального ВВП — Россия" in ru_html
    ru_track = (day / "report.ru.html").read_text(encoding="utf-8").split('<section id="track">')[1].split("</section>")[0]
    assert "Nowcast record" not in ru_track and "Рост реального ВВП — Россия" in ru_track  # translated, with its rows
    assert run is not None


@pytest.mark.slow
def test_the_replay_produces_stores_and_reports_the_nowcasts(store, tmp_path: Path) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from sco_monitor.replay.driver import run_replay
    from sco_monitor.store import schema as t

    cfg = config()
    ctx = Context.from_parts(cfg, store)
    frame = economy(date(2025, 10, 31))
    store.sync_series(cfg.series.values())
    long = frame.stack().rename("value").reset_index()
    long.columns = ["date", "series_id", "value"]
    store.upsert_observations(long[["series_id", "date", "value"]])
    run_replay(ctx, date(2025, 10, 13), date(2025, 10, 15), tmp_path / "out", progress=False)
    with store.engine.connect() as conn:
        f = t.forecasts
        days = conn.execute(select(f.c.as_of).where(f.c.model == "dfm", f.c.series_id == "macro.ru.gdp_growth")
                            .distinct()).scalars().all()
        states = conn.execute(select(t.model_states.c.family).where(
            t.model_states.c.series_id == "macro.ru.gdp_growth", t.model_states.c.model == "nowcast")).scalars().all()
    assert sorted(days) == [date(2025, 10, 13), date(2025, 10, 14), date(2025, 10, 15)]
    assert states == ["dfm"]
    doc = json.loads(next((tmp_path / "out").rglob("2025-10-15/report.json")).read_text(encoding="utf-8"))
    assert {r["series_id"] for r in doc["outlook"]["rows"]} == {"macro.ru.gdp_growth", "macro.ru.inflation"}
    assert doc["outlook"]["previous_report"] == "2025-10-14"
