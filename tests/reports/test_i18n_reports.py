"""The report in Russian and Chinese: every section in the language, the same numbers as the English
report, `--language` and `report.languages` writing one file per language, digests per receiver."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from sco_monitor import i18n
from sco_monitor.config import AppConfig
from sco_monitor.reports.build import build_report
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import render

from . import fixtures as fx
from .conftest import memory_inputs
from .test_cli_report import site, site_config  # noqa: F401 - the fixtures

HEADINGS = {
    "ru": ["Главное", "Государства-члены", "Индекс стресса", "Оповещения", "Прогнозы", "Рекомендации",
           "Качество данных", "Результативность сигналов"],
    "zh": ["要点", "成员国", "压力指数", "警报", "预测", "建议", "数据质量", "预警记录"],
}
ENGLISH_HEADINGS = ["Headline", "Member states", "Stress index", "Alerts", "Forecasts", "Recommendations",
                    "Data quality", "Track record", "Joint action plans", "National recommendations"]
#: A number as any of the three locales writes it: 12,345.6 / 12 345,6 / −42,5 / +6.1 (signs kept).
NUMBER = {
    "en": re.compile(r"[−+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[−+-]?\d+(?:\.\d+)?"),
    "zh": re.compile(r"[−+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[−+-]?\d+(?:\.\d+)?"),
    "ru": re.compile(r"[−+-]?\d{1,3}(?:[\u00a0\u202f]\d{3})+(?:,\d+)?|[−+-]?\d+(?:,\d+)?"),
}


def numbers(text: str, lang: str) -> Counter:
    out = Counter()
    for tok in NUMBER[lang].findall(text):
        tok = tok.replace("\u2212", "-").replace("\u00a0", "").replace("\u202f", "")
        tok = tok.replace(",", ".") if lang == "ru" else tok.replace(",", "")
        out[round(float(tok), 6)] += 1
    return out


@pytest.fixture(scope="module")
def reports(shipped_config: AppConfig) -> dict[str, Report]:
    out = {}
    for lang in i18n.LANGUAGES:
        with i18n.use(lang):
            out[lang] = build_report(fx.assessment(), shipped_config, memory_inputs(), fx.NOW, fx.track_record())
    return out


@pytest.fixture(scope="module")
def rendered(reports: dict[str, Report]) -> dict[str, dict]:
    out = {}
    for lang, report in reports.items():
        with i18n.use(lang):
            out[lang] = {name: r.text for name, r in render(report, ["html", "md", "json"]).items()}
    return out


@pytest.mark.parametrize("lang", ["ru", "zh"])
def test_every_section_is_in_the_language_in_all_three_formats(rendered: dict, lang: str) -> None:
    html, md, doc = rendered[lang]["html"], rendered[lang]["md"], json.loads(rendered[lang]["json"])
    assert f'<html lang="{"zh-Hans" if lang == "zh" else "ru"}">' in html
    for heading in HEADINGS[lang]:
        assert heading in html and heading in md, heading
    for english in ENGLISH_HEADINGS:
        assert f">{english}<" not in html and f"## {english}" not in md and f"### {english}" not in md, english
    assert doc["language"] == lang
    schema = json.loads((resources.files("sco_monitor.reports") / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)
    script = "[\u0400-\u04ff]" if lang == "ru" else "[\u4e00-\u9fff]"
    assert re.search(script, doc["overall"]["headline"]), doc["overall"]["headline"]
    for rec in doc["recommendations"] + doc["joint_actions"]:
        assert re.search(script, rec["title"]), rec["title"]
        for a in rec["actions"]:
            assert re.search(script, a["text"]) and re.search(script, a["who"]), a
    kz = next(c for c in doc["countries"] if c["country"] == "KAZ")
    assert kz["name"] == {"ru": "Казахстан", "zh": "哈萨克斯坦"}[lang]  # Babel's territory name
    wti = next(f for f in doc["forecasts"]["items"] if f["series_id"] == "cmd.wti")
    assert wti["name"] == {"ru": "Нефть WTI", "zh": "WTI原油"}[lang]  # the catalog's `names`


def test_the_english_report_is_unchanged_by_the_catalogs(rendered: dict) -> None:
    html, doc = rendered["en"]["html"], json.loads(rendered["en"]["json"])
    assert '<html lang="en">' in html and ">Recommendations<" in html
    assert doc["language"] == "en"
    assert doc["overall"]["headline"].startswith("Overall risk is SEVERE; world stress 0.87 (severe)")


@pytest.mark.parametrize("lang", ["ru", "zh"])
def test_recommendations_cite_the_same_numbers_as_the_english_report(reports: dict[str, Report], lang: str) -> None:
    en, other = reports["en"], reports[lang]
    assert len(other.recommendations) == len(en.recommendations) > 5
    assert len(other.joint_actions) == len(en.joint_actions) >= 2
    pairs = list(zip(en.recommendations, other.recommendations)) + list(zip(en.joint_actions, other.joint_actions))
    cited = 0
    for a, b in pairs:
        assert (a.category, a.level) == (b.category, b.level)
        assert [(t.rule, t.value, t.threshold) for t in a.triggers] == [(t.rule, t.value, t.threshold) for t in b.triggers]
        assert numbers(a.title, "en") == numbers(b.title, lang), (a.title, b.title)
        assert len(a.actions) == len(b.actions)
        for x, y in zip(a.actions, b.actions):
            assert numbers(x.text, "en") == numbers(y.text, lang), (x.text, y.text)
            cited += sum(numbers(x.text, "en").values())
    assert cited > 20  # the texts do cite numbers
    top = en.recommendations[0].actions[0].text
    assert "−42.5%" in top and "−20.0%" in top  # S&P 500 drawdown and its critical threshold
    assert ("−42,5\u00a0%" if lang == "ru" else "−42.5%") in other.recommendations[0].actions[0].text


def test_report_language_option_writes_localized_files(site: dict, run_cli, tmp_path: Path) -> None:  # noqa: F811
    for lang, word in (("ru", "отчёт 10 окт. 2008\u202fг.: общий риск ОЧЕНЬ ВЫСОКИЙ: Общий риск"),
                       ("zh", "报告 2008年10月10日：总体风险 极高：总体风险")):
        proc = run_cli("--config", site["config"], "report", "--assessment", site["assessment"], "--out", "out",
                       "--language", lang)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[0].startswith(word), proc.stdout
    day = tmp_path / "out" / "2008-10-10"
    assert sorted(p.name for p in day.iterdir() if p.is_file()) == [
        "report.ru.html", "report.ru.json", "report.ru.md", "report.zh.html", "report.zh.json", "report.zh.md"]
    assert sorted(p.name for p in (day / "charts").iterdir())[:2] == ["fan-cmd.wti.ru.svg", "fan-cmd.wti.zh.svg"]
    assert "(charts/stress-1y.ru.svg)" in (day / "report.ru.md").read_text(encoding="utf-8")
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="2008-10-10/report.ru.html" hreflang="ru"' in index and 'hreflang="zh"' in index
    bad = run_cli("--config", site["config"], "report", "--assessment", site["assessment"], "--language", "fr")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "sco-monitor: unknown report language 'fr'; expected one of: en, ru, zh"


def test_report_languages_writes_one_report_per_language_and_digests_in_each_receivers_language(
        site_config: dict, run_cli, tmp_path: Path) -> None:  # noqa: F811
    from sqlalchemy import select

    from sco_monitor.store import Store, schema

    main = Path(site_config["config"])
    cfg = yaml.safe_load(main.read_text(encoding="utf-8"))
    cfg["report"]["languages"] = ["en", "ru", "zh"]
    cfg["receivers"].append({"name": "desk-zh", "language": "zh", "email": {
        "host": "127.0.0.1", "port": 2525, "security": "none", "from": "monitor@sco.example", "to": ["zh@sco.example"]}})
    cfg["report"]["digest_receivers"] = ["desk", "desk-zh"]
    main.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    proc = run_cli("--config", str(main), "report", "--assessment", site_config["assessment"], "--out", "out",
                   "--format", "html,json", "--digest")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("report 2008-10-10: overall risk SEVERE")  # the first language speaks
    day = tmp_path / "out" / "2008-10-10"
    assert sorted(p.name for p in day.iterdir() if p.is_file()) == [
        "report.html", "report.json", "report.ru.html", "report.ru.json", "report.zh.html", "report.zh.json"]
    docs = {lang: json.loads((day / f"report{'' if lang == 'en' else '.' + lang}.json").read_text(encoding="utf-8"))
            for lang in ("en", "ru", "zh")}
    for lang in ("ru", "zh"):  # the same assessment: the same figures, other words
        assert docs[lang]["overall"]["counts"] == docs["en"]["overall"]["counts"]
        assert docs[lang]["overall"]["world_value"] == docs["en"]["overall"]["world_value"]
        assert docs[lang]["overall"]["headline"] != docs["en"]["overall"]["headline"]
    store = Store(f"sqlite:///{site_config['db']}")
    with store.engine.connect() as conn:
        formats = sorted(r.format for r in conn.execute(select(schema.reports.c.format)))
        digests = {r.receiver: r.payload for r in conn.execute(select(schema.notifications))}
    store.dispose()
    assert formats == ["html", "json", "ru.html", "ru.json", "zh.html", "zh.json"]
    subject = lambda p: (json.loads(p) if isinstance(p, str) else p)["subject"]
    assert subject(digests["desk"]).startswith("SCO risk report 2008-10-10: SEVERE")
    assert subject(digests["desk-zh"]).startswith("上合组织风险报告 2008年10月10日：极高")
