"""Partner centres' assessments in the daily report: each author's latest view per country, posted
in the 30 days up to the report and not after it, beside the model's stress level."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from sco_monitor.context import Context
from sco_monitor.cycle import step_report
from sco_monitor.store import partners as views

from . import fixtures as fx
from .conftest import with_report_settings
from .test_render import validate

pytestmark = pytest.mark.slow


def test_the_report_shows_each_partners_latest_view_beside_the_models(report_ctx: Context, out_dir: Path) -> None:
    ctx = Context.from_parts(with_report_settings(report_ctx.config, out_dir=str(out_dir)), report_ctx.store)
    with ctx.store.engine.begin() as conn:
        def post(author: str, country: str, level: str, ago: timedelta, text: str, **kw: object) -> None:
            views.add(conn, author=author, country=country, level=level, text=text, now=fx.NOW - ago, **kw)

        post("astana-centre", "KAZ", "elevated", timedelta(days=3), "Earlier view.")
        post("astana-centre", "KAZ", "severe", timedelta(hours=5), "Tenge <b>under</b> pressure.",
             forecast_level="critical", forecast_horizon_days=20, forecast_text="devaluation likely")
        post("beijing-centre", "WLD", "warning", timedelta(days=1), "Global funding stress.", episode="GFC 2008")
        post("astana-centre", "RUS", "high", timedelta(days=45), "Too old for this report.")
        post("astana-centre", "CHN", "high", -timedelta(hours=1), "Posted after the report was written.")
    step_report(ctx, fx.assessment(), fx.NOW)
    day = out_dir / "2008-10-10"
    doc = json.loads((day / "report.json").read_text(encoding="utf-8"))
    validate(doc)
    items = doc["partners"]["items"]
    model = {scope: s.level for scope, s in fx.assessment().stress_index.items()}
    assert model["KAZ"] and model["WLD"]
    assert [(i["author"], i["country"], i["level"], i["model_level"]) for i in items] == [
        ("astana-centre", "KAZ", "severe", model.get("KAZ")), ("beijing-centre", "WLD", "warning", model.get("WLD"))]
    assert items[0]["forecast_level"] == "critical" and items[1]["episode"] == "GFC 2008"
    assert doc["partners"]["message"].startswith("2 view(s) from astana-centre and beijing-centre")
    html = (day / "report.html").read_text(encoding="utf-8")
    assert 'id="partners"' in html and "Tenge &lt;b&gt;under&lt;/b&gt; pressure." in html
    assert "Earlier view." not in html and "Too old" not in html and "after the report" not in html
    md = (day / "report.md").read_text(encoding="utf-8")
    assert "### Partner centres' assessments" in md
    assert md.index("### Partner centres' assessments") < md.index("## 3. Stress index")
    assert "| astana-centre | Kazakhstan (KAZ) | 🔴 severe |" in md
