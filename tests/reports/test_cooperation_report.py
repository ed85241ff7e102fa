"""The report's "Economic cooperation" section, built from the SCO fixture in the DBnomics v22 format."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from sco_monitor import i18n
from sco_monitor.assess.pipeline import assess, point_in_time
from sco_monitor.config import load_config
from sco_monitor.reports.build import build_report
from sco_monitor.reports.inputs import PreviousReport, ReportInputs
from sco_monitor.reports.render import render

from ..assess.test_cooperation_rules import stored_frame

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 10, 15)


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config" / "sco-monitor.yaml")


def report(config, as_of: date = AS_OF, prev: dict | None = None):
    frame = stored_frame(config)
    a = assess(frame, config, as_of)
    previous = PreviousReport(as_of=date(2025, 9, 1), generated_at=None, data=prev) if prev is not None else None
    inputs = ReportInputs(trade=point_in_time(frame, config, as_of), previous=previous)
    return build_report(a, config, inputs, datetime(2025, 10, 15, 2, tzinfo=UTC))


def test_sco_pairs_documented_format_fixture_report_section(config) -> None:
    r = report(config)
    co = r.cooperation
    assert co.period == date(2025, 6, 30)  # June is the newest month knowable 90 days on
    assert co.members == ["KAZ", "CHN", "RUS", "KGZ", "IND"]
    kaz, chn = co.members.index("KAZ"), co.members.index("CHN")
    assert co.matrix[chn][kaz] == pytest.approx(2000 * 0.8) and co.matrix[kaz][kaz] is None
    assert co.intra_yoy == pytest.approx(-0.2)
    assert co.history and co.history[-1][1] == pytest.approx(co.index)
    out = render(r, ["html", "md", "json"])
    html, md, doc = out["html"].text, out["md"].text, json.loads(out["json"].text)
    assert 'id="cooperation"' in html and "Economic cooperation" in html
    assert "<svg" in html.split('id="cooperation"')[1]  # the heat map, inline
    assert "## 9. Economic cooperation" in md and "Intra-SCO exports \u221220.0% on a year earlier." in md
    assert "| **CHN** |" in md
    schema = json.loads((resources.files("sco_monitor.reports") / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    assert doc["cooperation"]["period"] == "2025-06-30"
    assert any("intra_sco_exports_fall" == b["rule"] for b in doc["alerts"]["breaches"])


def test_changes_since_the_previous_report(config) -> None:
    r = report(config, prev={"cooperation": {"period": "2025-05-31"}})
    assert r.cooperation.changes[0].startswith("New trade data since the previous report: 2025-06")
    same = report(config, prev={"cooperation": {"period": "2025-06-30"}})
    assert same.cooperation.changes[0].startswith("No new trade release since the previous report")


def test_no_trade_stored_says_so(config) -> None:
    r = build_report(assess(stored_frame(config).iloc[:0], config, AS_OF), config, ReportInputs(),
                     datetime(2025, 10, 15, 2, tzinfo=UTC))
    assert r.cooperation.period is None and "No bilateral trade" in r.cooperation.message


def test_section_in_russian(config) -> None:
    with i18n.use("ru"):
        out = render(report(config), ["md"])["md"].text
    assert "Экономическое сотрудничество" in out


def test_report_from_the_store_has_the_section(config, store, tmp_path: Path) -> None:
    from sco_monitor.reports.inputs import read_inputs

    frame = stored_frame(config)
    store.sync_series(config.series.values())
    long = frame.stack().rename("value").reset_index()
    long.columns = ["date", "series_id", "value"]
    assert store.upsert_observations(long[["series_id", "date", "value"]]) == len(long)
    a = assess(store.load_frame(list(frame.columns), as_of=AS_OF), config, AS_OF)
    now = datetime(2025, 10, 15, 2, tzinfo=UTC)
    inputs = read_inputs(store, config, a, now, tmp_path, [])
    co = build_report(a, config, inputs, now).cooperation
    assert co.period == date(2025, 6, 30) and co.intra_yoy == pytest.approx(-0.2)
    # a month inside its publication lag stays out: on 15 August (90 days after 17 May) April is the newest
    early = assess(store.load_frame(list(frame.columns), as_of=date(2025, 8, 15)), config, date(2025, 8, 15))
    inputs = read_inputs(store, config, early, now, tmp_path, [])
    assert build_report(early, config, inputs, now).cooperation.period == date(2025, 4, 30)
