"""The report of a fixed assessment (2008-10-10): every section in every format, the JSON schema,
recommendations that cite the assessment's own numbers, joint plans where members share a risk."""

from __future__ import annotations

import json
import re
from importlib import resources

import jsonschema
import pytest

from sco_monitor.assess.model import Assessment, RuleEvaluation
from sco_monitor.config import AppConfig
from sco_monitor.reports.build import build_report
from sco_monitor.reports.model import Report
from sco_monitor.reports.numbers import fmt_value
from sco_monitor.reports.recommend import plan
from sco_monitor.reports.render import make_charts, render

from . import fixtures as fx
from .conftest import memory_inputs, with_report_settings

SECTIONS_HTML = ["headline", "members", "stress", "alerts", "forecasts", "recommendations", "quality", "track", "cooperation", "mistakes", "outlook"]
SECTIONS_MD = ["## 1. Headline", "## 2. Member states", "## 3. Stress index", "## 4. Alerts", "## 5. Forecasts",
               "## 6. Recommendations", "## 7. Data quality", "## 8. Track record",
               "## 9. Economic cooperation", "## 10. Mistakes and their reasons",
               "## 11. World economy outlook"]
TOP_KEYS = {"language", "as_of", "generated_at", "overall", "countries", "stress_index", "alerts", "forecasts",
            "recommendations", "joint_actions", "data_quality", "track_record", "partners",
            "cooperation", "source", "mistakes", "outlook"}


def schema() -> dict:
    return json.loads((resources.files("sco_monitor.reports") / "report.schema.json").read_text(encoding="utf-8"))


def validate(doc: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def rendered(report_2008: Report) -> dict:
    return render(report_2008, ["html", "md", "json"])


def test_every_section_is_present_in_all_three_formats(rendered: dict) -> None:
    html, md, doc = rendered["html"].text, rendered["md"].text, json.loads(rendered["json"].text)
    for sid in SECTIONS_HTML:
        assert f'<section id="{sid}"' in html, sid
    positions = [md.index(h) for h in SECTIONS_MD]
    assert positions == sorted(positions), "Markdown sections out of order"
    assert set(doc) == TOP_KEYS


def test_json_is_valid_against_the_shipped_schema(rendered: dict) -> None:
    doc = json.loads(rendered["json"].text)
    validate(doc)
    assert doc["as_of"] == "2008-10-10"
    assert doc["overall"]["level"] == "severe"
    # the schema is strict: an unknown top-level key or a bad level is an error
    with pytest.raises(AssertionError):
        validate({**doc, "extra": 1})
    with pytest.raises(AssertionError):
        validate({**doc, "overall": {**doc["overall"], "level": "catastrophic"}})


def test_the_same_numbers_appear_in_html_markdown_and_json(report_2008: Report, rendered: dict) -> None:
    html, md, doc = rendered["html"].text, rendered["md"].text, json.loads(rendered["json"].text)
    world = next(s for s in report_2008.stress_index.scopes if s.scope == "WLD")
    assert doc["overall"]["world_value"] == pytest.approx(world.value)
    for text in (html, md):
        assert f"{world.value:.2f}" in text
        assert report_2008.overall.headline.split(";")[0] in text
        for rec in report_2008.recommendations + report_2008.joint_actions:
            assert _plain(rec.title) in _plain(text), rec.title
            for action in rec.actions:
                assert _plain(action.text) in _plain(text), action.text
        for a in report_2008.alerts.firing:
            assert a.rule in text and a.value_text in text
    assert [c["country"] for c in doc["countries"]] == ["KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"]


def _plain(s: str) -> str:
    """Compare text across formats: HTML escapes quotes and ampersands, Markdown escapes pipes."""
    return re.sub(r"\s+", " ", s.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"').replace("\\|", "|"))


def test_recommendations_cite_the_numbers_of_the_assessment(report_2008: Report) -> None:
    a = fx.assessment()
    by_key = {(e.rule, e.series_id, e.labels.get("scope")): e for e in a.rules}
    assert report_2008.recommendations
    for rec in report_2008.recommendations + report_2008.joint_actions:
        for t in rec.triggers:
            e = next(e for (rule, sid, _), e in by_key.items() if rule == t.rule and sid == t.series_id
                     and (sid or e.labels.get("scope") == t.country or e.labels.get("country") == t.country))
            assert t.value == e.value and t.threshold == e.threshold and t.severity == e.severity
    india_fx = next(r for r in report_2008.recommendations if r.country == "IND" and r.category == "fx")
    inr = fx.USD_INR[0] / fx.USD_INR[1] - 1  # real Fed H.10 rates: 48.41 vs 45.62
    assert india_fx.triggers[0].value == pytest.approx(inr)
    assert "USD/INR moved +6.1% (warning threshold +5.0%)" in india_fx.actions[0].text
    russia_eq = next(r for r in report_2008.recommendations if r.country == "RUS" and r.category == "equity")
    assert "MOEX Russia Index is at −64.4%, beyond the critical threshold −20.0%" in russia_eq.actions[0].text
    spx = fx.spx()
    world_eq = next(r for r in report_2008.recommendations if r.country == "WLD" and r.category == "equity")
    assert fmt_value(spx.iloc[-1] / spx.max() - 1, "drawdown") == "−42.5%"
    assert "S&P 500 is at −42.5%" in world_eq.actions[0].text


def test_joint_plans_where_members_share_a_risk(report_2008: Report) -> None:
    plans = {j.category: j for j in report_2008.joint_actions}
    # the oil-price fall (a world-level breach) is addressed to the oil exporters: one joint plan
    oil = plans["commodity"]
    assert oil.countries == ["KAZ", "RUS", "IRN"]
    assert {t.series_id for t in oil.triggers} == {"cmd.wti", "cmd.brent"}
    wti = fx.wti()
    assert oil.triggers[0].value == pytest.approx(wti.iloc[-1] / wti.iloc[-21] - 1)
    assert "Kazakhstan, Russia and Iran" in oil.actions[0].text
    assert all(a.addressee == "joint" for a in oil.actions)
    # three member equity markets in critical drawdown at once
    assert plans["equity"].countries == ["CHN", "RUS", "IND"] and plans["equity"].level == "critical"
    # only India's currency is under pressure: no joint FX plan
    assert "fx" not in plans
    # each exporter also gets its own national oil recommendation
    assert {r.country for r in report_2008.recommendations if r.category == "commodity"} == {"KAZ", "RUS", "IRN"}


def test_oil_price_rise_goes_to_the_importers(shipped_config: AppConfig) -> None:
    rise = RuleEvaluation(rule="oil_up", kind="change", category="commodity", labels={"series": "cmd.brent"},
                          series_id="cmd.brent", value=0.31, threshold=0.25, severity="critical", warn=0.15,
                          critical=0.25, direction="above")
    recs, joint = plan(shipped_config, [rise])
    assert [j.countries for j in joint] == [["CHN", "IND", "PAK"]]
    assert joint[0].title == "Oil-price spike: Brent crude oil +31.0%"
    assert {r.country for r in recs} == {"CHN", "IND", "PAK"}
    assert "past the critical threshold +25.0%" in recs[0].actions[0].text


def test_missing_critical_playbook_falls_back_and_unknown_category_is_named(shipped_config: AppConfig) -> None:
    from sco_monitor.config.playbooks import Playbooks

    only_warn = Playbooks.model_validate({"playbooks": [
        {"category": "fx", "level": "warn", "title": "FX {value}", "actions": [{"text": "Act on {series_name} at {value}."}]},
    ]})
    import dataclasses

    cfg = dataclasses.replace(shipped_config, playbooks=only_warn)
    crit = RuleEvaluation(rule="fx_20d", kind="change", category="fx", labels={"country": "KAZ"}, series_id="fx.usd_kzt",
                          value=0.14, threshold=0.10, severity="critical", warn=0.05, critical=0.10)
    odd = RuleEvaluation(rule="odd", kind="level", category="housing", labels={"country": "KAZ"}, value=3.0,
                         threshold=2.0, severity="warn", warn=2.0)
    recs, _ = plan(cfg, [crit, odd])
    fx_rec = next(r for r in recs if r.category == "fx")
    assert fx_rec.level == "critical" and "warning one applies" in fx_rec.note
    assert fx_rec.actions[0].text == "Act on USD/KZT at +14.0%."
    housing = next(r for r in recs if r.category == "housing")
    assert housing.actions == [] and "add one to playbooks.yaml" in housing.note


def test_alerts_marked_new_silenced_and_resolved(report_2008: Report) -> None:
    firing = {(a.rule, a.labels.get("series")): a for a in report_2008.alerts.firing}
    assert firing[("equity_drawdown", "eq.ru.imoex")].new
    assert not firing[("equity_drawdown", "eq.us.spx")].new
    inr = firing[("fx_depreciation_20d", "fx.usd_inr")]
    assert inr.silenced and inr.silenced_until.isoformat().startswith("2008-10-16")
    assert not firing[("vix_level", "vol.vix")].silenced  # its silence expired in September
    assert [a.labels["series"] for a in report_2008.alerts.resolved] == ["fx.usd_cny"]
    assert [a.labels["series"] for a in report_2008.alerts.pending] == ["spread.us.baa10y"]
    assert report_2008.overall.counts["new"] == 2 and report_2008.overall.counts["silenced"] == 1


def test_html_is_one_self_contained_file(report_2008: Report, rendered: dict) -> None:
    html = rendered["html"].text
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html), "a link or source outside the page"
    assert not re.search(r"url\(\s*['\"]?(?!#)", html), "CSS fetching something"
    assert "@import" not in html and "<link" not in html.lower()
    charts = make_charts(report_2008)
    assert set(charts) == {"stress-1y", "stress-long", "segments", "fan-cmd.wti", "fan-eq.us.spx"}
    for svg in charts.values():
        assert "<text" in svg and "<path" in svg  # text stays text (svg.fonttype none)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate element ids across the inline charts"


def test_fan_charts_for_unfavourable_forecasts_or_the_key_series(shipped_config: AppConfig, report_2008: Report) -> None:
    charted = [f.series_id for f in report_2008.forecasts.items if f.charted]
    assert report_2008.forecasts.selection == "unfavourable"
    assert sorted(charted) == ["cmd.wti", "eq.us.spx"]
    assert all(f.unfavourable for f in report_2008.forecasts.items if f.charted)
    wti = next(f for f in report_2008.forecasts.items if f.series_id == "cmd.wti")
    assert wti.history[-1] == (fx.AS_OF, pytest.approx(77.44)) and wti.threshold == 70.0
    keyed = with_report_settings(shipped_config, key_series=["fx.usd_cny"])
    r = build_report(fx.assessment(), keyed, memory_inputs(), fx.NOW)
    assert r.forecasts.selection == "configured"
    assert [f.series_id for f in r.forecasts.items if f.charted] == ["fx.usd_cny"]


def test_track_record_absent_is_said_plainly(shipped_config: AppConfig, report_2008: Report) -> None:
    r = build_report(fx.assessment(), shipped_config, memory_inputs(), fx.NOW)
    assert not r.track_record.available
    out = render(r, ["html", "md"])
    for text in (out["html"].text, out["md"].text):
        assert "No replay has been scored yet" in text
    scored = render(report_2008, ["html", "md"])
    for text in (scored["html"].text, scored["md"].text):
        assert "global financial crisis" in text and "median lead days" in text


def test_changes_against_the_previous_report(shipped_config: AppConfig, report_2008: Report) -> None:
    from sco_monitor.reports.inputs import PreviousReport

    prev = json.loads(render(report_2008, ["json"])["json"].text)
    prev["overall"]["level"] = "high"
    prev["countries"][2]["stress_level"] = "high"  # Russia
    prev["forecasts"]["items"] = [i for i in prev["forecasts"]["items"] if i["series_id"] != "cmd.wti"]
    prev["recommendations"] = [r for r in prev["recommendations"] if r["category"] != "commodity"]
    inputs = memory_inputs(previous=PreviousReport(as_of=fx.AS_OF.replace(day=9), generated_at=fx.PREVIOUS_NOW, data=prev))
    r = build_report(fx.assessment(), shipped_config, inputs, fx.NOW)
    texts = [c.text for c in r.overall.changes]
    assert r.overall.previous.source == "report"
    assert "Overall risk rose from high to severe." in texts
    assert "Russia: stress rose from high to severe." in texts
    assert "New unfavourable forecast: WTI crude oil." in texts
    assert any(t.startswith("New recommendations: Kazakhstan (commodity, warn)") for t in texts)


def test_first_report_without_history_says_so(shipped_config: AppConfig) -> None:
    import pandas as pd

    empty = memory_inputs(stress_history=pd.DataFrame(columns=["scope", "date", "value", "level"]))
    r = build_report(fx.assessment(), shipped_config, empty, fx.NOW)
    assert r.overall.previous is None and r.overall.changes == []
    assert "First report" in " ".join(r.overall.facts)


def test_empty_assessment_and_store_say_so_plainly(shipped_config: AppConfig) -> None:
    import pandas as pd

    r = build_report(Assessment(as_of=fx.AS_OF), shipped_config,
                     memory_inputs(stress_history=pd.DataFrame(columns=["scope", "date", "value", "level"]),
                                   observations=pd.DataFrame(), last_dates={}, alerts=[], alerts_recorded=False,
                                   silences=[]), fx.NOW)
    assert r.overall.level == "unknown" and r.overall.status == "no_data"
    assert r.overall.headline.startswith("No data: the store holds no observations up to 2008-10-10")
    out = render(r, ["html", "md", "json"])
    validate(json.loads(out["json"].text))
    for text in (out["html"].text, out["md"].text):
        assert "Run `sco-monitor collect`" in text or "Run <code>" in text or "sco-monitor collect" in text
        assert "nothing to recommend today" in text


def test_failed_collections_and_notifications_in_the_text_formats(shipped_config: AppConfig) -> None:
    from datetime import timedelta

    failed = [{"series_id": "fx.usd_kgs", "source": "yahoo", "started_at": fx.NOW - timedelta(hours=3), "attempts": 5,
               "error": "HTTP 404 for KGS=X"}]
    notes = [{"receiver": "desk", "kind": "alert", "attempts": 12, "created_at": fx.NOW - timedelta(hours=20),
              "last_error": "535 authentication failed"}]
    r = build_report(fx.assessment(), shipped_config,
                     memory_inputs(failed_collections=failed, failed_notifications=notes), fx.NOW)
    out = render(r, ["html", "md"])
    for text in (out["html"].text, out["md"].text):
        assert "Failing collections (1)" in text and "HTTP 404 for KGS=X" in text
        assert "Failed notifications (1)" in text and "535 authentication failed" in text


def test_data_quality_carries_the_coverage_matrix(rendered: dict, report_2008: Report) -> None:
    """Section 7 shows member x kind coverage in all three formats, judged on the report's own dates."""
    rows = {r.country: r.statuses for r in report_2008.data_quality.coverage}
    assert list(rows) == ["KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"]
    assert rows["IRN"]["policy_rate"] == "missing" and rows["IND"]["credit"] == "configured"
    md, html = rendered["md"].text, rendered["html"].text
    section = md[md.index("### Coverage of the member states"): md.index("## 8. Track record")]
    assert "| Member | fx | policy_rate | cpi_monthly | reserves | credit | equity | bond | trade | external |" in section
    iran = next(line for line in section.splitlines() if line.startswith("| IRN |"))
    assert iran.split(" | ")[2] == "--"  # policy_rate: missing
    assert "<h3>Coverage of the member states</h3>" in html and 'class="cov-missing"' in html
    doc = json.loads(rendered["json"].text)
    assert doc["data_quality"]["coverage"][0] == {"country": "KAZ", "statuses": rows["KAZ"]}
