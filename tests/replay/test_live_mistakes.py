"""The live track record: warnings of the alert history scored once their outcome window closes,
and the report's "Mistakes and their reasons" explaining each by that day's saved assessment."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor import cycle
from sco_monitor.assess.model import Assessment, CrisisProbability, RuleEvaluation, StressValue
from sco_monitor.context import Context
from sco_monitor.replay.episodes import Span
from sco_monitor.replay.live import live_record
from sco_monitor.replay.mistakes import misses, outcome, warnings_from_history
from sco_monitor.store import schema as t
from sco_monitor.store.assessments import save_assessment
from sco_monitor.store.upsert import upsert

RUS = {"category": "fx", "country": "RUS", "series": "fx.usd_rub"}
FALSE_ALARM_DAYS = [date(2007, 11, 5), date(2007, 11, 6), date(2007, 11, 7)]


def _history(days: list[date], fp: str = "fa", state: str = "firing", severity: str = "critical") -> list[dict]:
    return [{"date": d, "fingerprint": fp, "rule": "fx_depreciation_20d", "labels": RUS, "state": state,
             "severity": severity, "value": 0.071, "threshold": 0.05, "summary": ""} for d in days]


def test_warnings_are_firing_runs_and_are_scored_only_once_their_window_closes() -> None:
    cal = list(pd.bdate_range("2024-01-01", "2024-06-28").date)
    rows = _history(cal[3:6]) + _history(cal[10:12]) + _history(cal[20:22], fp="p", state="pending")
    frame = pd.DataFrame(rows).assign(country="RUS", date=lambda f: pd.to_datetime(f["date"]))
    ws = warnings_from_history(frame, cal)
    assert [(w.first, w.last) for w in ws] == [(cal[3], cal[5]), (cal[10], cal[11])]  # pending is no warning
    crisis = Span("RUS crisis", "RUS", cal[40], cal[50], "config")
    assert outcome(ws[0], [crisis], 60, cal[-1])[0] == "hit"  # onset 37 trading days after the warning
    assert outcome(ws[0], [], 60, cal[40]) == ("open", None)  # 37 of 60 days: not yet scored
    assert outcome(ws[0], [], 60, cal[-1]) == ("false_alarm", None)
    late = Span("later", "RUS", cal[100], None, "config")
    assert misses({"RUS": [late]}, ws, cal, 60, cal[0], cal[-1]) == [late]
    assert misses({"RUS": [crisis]}, ws, cal, 60, cal[0], cal[-1]) == []


def _saved(store, day: date, rules: list[RuleEvaluation], country: str = "RUS") -> None:
    a = Assessment(
        as_of=day, rules=rules,
        probability={country: CrisisProbability(country=country, horizon=60, probability=0.31,
                                                drivers={"fx.usd_rub": 0.22, "eq.us.spx": -0.04})},
        stress_index={country: StressValue(scope=country, value=0.58, level="elevated",
                                            segments={"fx": 0.41, "equity": 0.17})})
    save_assessment(store, day, {}, body=a.model_dump(mode="json"),
                    saved_at=datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC))


def test_a_closed_false_alarm_appears_in_the_next_report_with_its_drivers(
        ctx: Context, results_2008: list[date], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with ctx.store.engine.begin() as conn:
        upsert(conn, t.alert_history, _history(FALSE_ALARM_DAYS))
    rule = RuleEvaluation(rule="fx_depreciation_20d", kind="pct_change", category="fx", labels=RUS,
                          series_id="fx.usd_rub", value=0.071, threshold=0.05, severity="critical")
    _saved(ctx.store, FALSE_ALARM_DAYS[0], [rule])
    as_of = date(2008, 6, 30)
    record = live_record(ctx, date(2007, 7, 1), as_of, as_of)
    (scored,) = [s for s in record.scored if s.warning.fingerprint == "fa"]
    assert scored.outcome == "false_alarm", scored
    _saved(ctx.store, as_of, [])
    result = cycle.run_day(ctx, as_of, datetime(2008, 6, 30, 7, tzinfo=UTC), steps=("report",))
    assert result.status == "ok", result.lines()
    out = tmp_path / "reports" / "2008-06-30"
    doc = json.loads((out / "report.json").read_text())
    assert doc["source"] == "Built from the assessment saved at 2008-06-30 06:00 UTC."
    section = doc["mistakes"]
    assert section["available"] and section["counts"]["false_alarms"] >= 1
    (item,) = [i for i in section["items"] if i["kind"] == "false_alarm"]
    assert item["date"] == "2007-11-05" and item["rule"] == "fx_depreciation_20d"
    drivers = " | ".join(item["drivers"])
    assert "fx_depreciation_20d at 0.071 against a threshold of 0.05" in drivers
    assert "crisis probability 31%" in drivers and "segments:" in drivers and "0.41" in drivers
    assert item["followed"].startswith("No crisis episode began within 60 trading days; the stress index went from")
    md = (out / "report.md").read_text()
    assert "## 10. Mistakes and their reasons" in md and "False alarm: fx_depreciation_20d (critical) for Russia" in md
    assert '<section id="mistakes">' in (out / "report.html").read_text()


def test_review_month_writes_html_markdown_and_json(
        ctx: Context, results_2008: list[date], tmp_path: Path, run_cli, config_dir: Path) -> None:
    """The CLI's store (var/test.db) with a false alarm in November 2007: the review of the month scores it."""
    from sco_monitor.store import Store

    store = Store(f"sqlite:///{tmp_path / 'var' / 'test.db'}")
    store.init()
    store.sync_series(ctx.config.universe.series)
    store.upsert_observations(ctx.store.load_frame([s.id for s in ctx.config.universe.series])
                              .stack().rename("value").rename_axis(["date", "series_id"]).reset_index())
    with ctx.store.engine.connect() as src, store.engine.begin() as dst:
        for table in (t.rule_evaluations, t.stress_index, t.crisis_probability):
            upsert(dst, table, [dict(r) for r in src.execute(table.select()).mappings()])
        upsert(dst, t.alert_history, _history(FALSE_ALARM_DAYS))
    rule = RuleEvaluation(rule="fx_depreciation_20d", kind="pct_change", category="fx", labels=RUS,
                          series_id="fx.usd_rub", value=0.071, threshold=0.05, severity="critical")
    _saved(store, FALSE_ALARM_DAYS[0], [rule])
    store.dispose()
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "review", "--month", "2007-11", "--out", "rev")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("review 2007-11: 1 warning(s): 0 hit(s), 1 false alarm(s), 0 open")
    doc = json.loads((tmp_path / "rev" / "review-2007-11.json").read_text())
    assert [(w["first"], w["rule"], w["outcome"]) for w in doc["warnings"]] == [
        ("2007-11-05", "fx_depreciation_20d", "false_alarm")]
    assert doc["rules"] == [{"rule": "fx_depreciation_20d", "warnings": 1, "hits": 0, "false_alarms": 1, "open": 0,
                             "countries": ["RUS"], "verdict": "did_not"}]
    (m,) = [m for m in doc["mistakes"] if m["kind"] == "false_alarm"]
    assert m["drivers"]["probability"] == pytest.approx(0.31)
    md = (tmp_path / "rev" / "review-2007-11.md").read_text()
    assert "# Monthly review 2007-11" in md and "| fx_depreciation_20d | 1 | 0 | 1 | 0 | did not earn its keep |" in md
    html = (tmp_path / "rev" / "review-2007-11.html").read_text()
    assert '<tr class="verdict-did_not"><td>fx_depreciation_20d</td>' in html
    assert "crisis probability 31%" in html
    bad = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "review", "--month", "2007-13")
    assert bad.returncode == 2 and bad.stderr.strip().endswith("--month: expected YYYY-MM, got '2007-13'")
