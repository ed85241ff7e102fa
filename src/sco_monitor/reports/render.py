"""Render the report model as HTML, Markdown or JSON (jinja2 templates in the package). Pure.

The formats are a registry: a renderer takes the report and its charts and returns the text of
the file plus any files beside it (Markdown links its charts as SVG files).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sco_monitor import i18n
from sco_monitor.coverage import SHORT
from sco_monitor.i18n import _
from sco_monitor.registry import Registry
from sco_monitor.reports import charts as ch
from sco_monitor.reports.model import Report
from sco_monitor.reports.numbers import LEVELS, country_name, finite, fmt_number

MEDIA_TYPES = {"html": "text/html", "md": "text/markdown", "json": "application/json"}


@dataclass(frozen=True)
class Rendered:
    text: str
    attachments: dict[str, str] = field(default_factory=dict)


Renderer = Callable[[Report, dict[str, str]], Rendered]
formats: Registry[Renderer] = Registry("report format")


# --- charts ----------------------------------------------------------------------------------------------
def make_charts(report: Report) -> dict[str, str]:
    """Every chart of the report as SVG, keyed by a stable name (stress-1y, stress-long, segments, fan-<id>)."""
    out: dict[str, str] = {}
    st = report.stress_index
    scope = st.long_scope
    if scope and st.history.get(scope):
        out["stress-1y"] = ch.stress_chart(st.history[scope], st.thresholds, _("%(name)s stress index, last 12 months", name=country_name(scope)), "stress-1y")
    if scope and len(st.long_history) > 1:
        first = st.long_history[0][0].year
        out["stress-long"] = ch.stress_chart(st.long_history, st.thresholds, _("%(name)s stress index since %(year)s (weekly)", name=country_name(scope), year=first), "stress-long")
    if any(s.segments for s in st.scopes):
        out["segments"] = ch.segments_chart(st.scopes)
    co = report.cooperation
    if co.matrix and any(v is not None for row in co.matrix for v in row):
        out["coop-matrix"] = ch.trade_heatmap(co.members, co.matrix, _("Exports between members, %(month)s (million USD; row to column)",
                                                                       month=co.period.strftime("%Y-%m") if co.period else ""))
    for item in report.forecasts.items:
        if item.charted:
            out[f"fan-{item.series_id}"] = ch.fan_chart(item, report.as_of)
    for item in report.outlook.charts:
        out[f"outlook-{item.series_id}"] = ch.fan_chart(item, report.as_of)
    return out


# --- template helpers --------------------------------------------------------------------------------------
def _num(x: Any, digits: int = 4) -> str:
    return fmt_number(finite(x), digits)


def _fixed(x: Any, decimals: int = 2, signed: bool = False) -> str:
    return i18n.decimal(finite(x), decimals, signed=signed, group=False)


def _delta(x: Any) -> str:
    """A change of an index: +0.12, −0.03, or ±0.00 when it did not move."""
    v = finite(x)
    if v is None:
        return _("n/a")
    return "±" + i18n.decimal(0, 2) if abs(v) < 0.005 else i18n.decimal(v, 2, signed=True)


def _pct(x: Any, decimals: int = 0) -> str:
    return i18n.percent(finite(x), decimals)


def _when(x: Any, fmt: str = "medium") -> str:
    """Times as UTC, dates in the locale's style (English: ISO)."""
    if isinstance(x, datetime):
        return i18n.moment(x)
    if isinstance(x, date):
        return i18n.day(x, fmt)
    return "" if x is None else str(x)


def alert_summary(a: Any) -> str:
    """An alert's summary: the rule's own English text, or a sentence in the report's language."""
    if i18n.current() == i18n.DEFAULT:
        return a.summary
    where = a.labels.get("series") or country_name(a.labels.get("scope") or a.labels.get("country"))
    return _("%(rule)s (%(where)s): value %(value)s, threshold %(threshold)s, %(severity)s",
             rule=a.rule, where=where or "·", value=a.value_text, threshold=a.threshold_text,
             severity=i18n.severity_name(a.severity))


def _md_cell(x: Any) -> str:
    """Table-safe Markdown: no pipes or line breaks, no raw HTML."""
    s = "" if x is None else str(x)
    return s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _scalar(v: Any) -> str:
    if isinstance(v, float):
        return fmt_number(v)
    if isinstance(v, list):
        return ", ".join(_scalar(x) for x in v)
    return "" if v is None else str(v)


def track_parts(tr: Any) -> dict[str, list]:
    """A replay's track record, whatever its keys: scalars, mappings, and lists of rows as tables."""
    scalars, mappings, tables = [], [], []
    for k, v in sorted((tr.model_extra or {}).items()):
        if isinstance(v, dict):
            mappings.append((k, [(kk, _scalar(vv)) for kk, vv in v.items()]))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            cols = list(dict.fromkeys(c for row in v for c in row))
            tables.append((k, cols, [[_scalar(row.get(c)) for c in cols] for row in v]))
        else:
            scalars.append((k, _scalar(v)))
    return {"scalars": scalars, "mappings": mappings, "tables": tables}


LEVEL_DOTS = {"low": "🟢", "moderate": "🟢", "elevated": "🟡", "high": "🟠", "severe": "🔴", "unknown": "⚪",
              "warning": "🟡", "critical": "🔴"}  # the last two: alert words a partner may use
SEVERITY_DOTS = {"ok": "🟢", "warn": "🟡", "critical": "🔴", "no_data": "⚪", "none": "·"}


def coverage_mark(status: str) -> str:
    """The short word of a coverage status (the same as `sco-monitor coverage` prints)."""
    return SHORT.get(status, status)


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("sco_monitor.reports", "templates"),
        extensions=["jinja2.ext.i18n"],
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, fixed=_fixed, delta=_delta, pct=_pct, when=_when, cell=_md_cell, country=country_name,
                       coverage_mark=coverage_mark)
    env.globals.update(
        LEVELS=LEVELS,
        LEVEL_COLORS=ch.LEVEL_COLORS,
        SEVERITY_COLORS=ch.SEVERITY_COLORS,
        SEGMENT_COLORS=ch.SEGMENT_COLORS,
        LEVEL_DOTS=LEVEL_DOTS,
        SEVERITY_DOTS=SEVERITY_DOTS,
        track_parts=track_parts,
        level_name=i18n.level_name,
        severity_name=i18n.severity_name,
        segment_name=i18n.segment_name,
        driver_name=i18n.driver_name,
        category_name=i18n.category_name,
        flag_name=i18n.flag_name,
        alert_summary=alert_summary,
    )
    return i18n.install(env)


@cache
def html_env() -> Environment:
    return _environment(autoescape=True)


@cache
def md_env() -> Environment:
    return _environment(autoescape=False)


def _lang_tag() -> str:
    """The BCP 47 tag of the page: zh-Hans tells the browser to pick Simplified Chinese glyphs."""
    return {"zh": "zh-Hans"}.get(i18n.current(), i18n.current())


# --- the formats -------------------------------------------------------------------------------------------------
@formats.register("html")
def render_html(report: Report, charts: dict[str, str], email: bool = False) -> Rendered:
    """One self-contained page: inline CSS and SVG, no scripts, no external assets."""
    sparks = {
        c.country: Markup(ch.sparkline(report.stress_index.history.get(c.country, []), c.stress_level))
        for c in report.countries
    }
    text = html_env().get_template("report.html.j2").render(
        r=report, charts={k: Markup(v) for k, v in charts.items()}, sparks=sparks, email=email, lang_tag=_lang_tag(),
        css=Markup(html_env().get_template("style.css.j2").render()),
    )
    return Rendered(text)


@formats.register("md")
def render_md(report: Report, charts: dict[str, str], chart_dir: str | None = "charts") -> Rendered:
    """Markdown with the same sections; charts are SVG files beside it (none in a mail digest)."""
    lang = "" if i18n.current() == i18n.DEFAULT else f".{i18n.current()}"  # stress-1y.svg, stress-1y.ru.svg
    files = {f"{chart_dir}/{name}{lang}.svg": svg for name, svg in charts.items()} if chart_dir else {}
    links = {name: f"{chart_dir}/{name}{lang}.svg" for name in charts} if chart_dir else {}
    text = md_env().get_template("report.md.j2").render(r=report, links=links)
    return Rendered(text, files)


@formats.register("json")
def render_json(report: Report, charts: dict[str, str]) -> Rendered:
    """The report model as JSON (see report.schema.json)."""
    return Rendered(json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def render(report: Report, names: Iterable[str]) -> dict[str, Rendered]:
    """Render the report in each named format; charts are drawn once and shared."""
    names = list(names)
    renderers = {n: formats.get(n) for n in names}
    charts = make_charts(report) if any(n in ("html", "md") for n in names) else {}
    return {n: r(report, charts) for n, r in renderers.items()}


def render_index(entries: list[dict[str, Any]]) -> str:
    """index.html: every report in the folder, newest first, with its overall level."""
    return html_env().get_template("index.html.j2").render(
        entries=entries, lang_tag=_lang_tag(), css=Markup(html_env().get_template("style.css.j2").render())
    )
