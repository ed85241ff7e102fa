"""Rule evaluations as the report cites them: who they concern and how their numbers read."""

from __future__ import annotations

from sco_monitor import i18n
from sco_monitor.assess.model import RuleEvaluation
from sco_monitor.catalog import Series
from sco_monitor.reports.model import Breach
from sco_monitor.reports.numbers import country_name, finite, fmt_value, severity_rank

BREACHING = ("warn", "critical")


def series_of(e: RuleEvaluation, catalog: dict[str, Series]) -> Series | None:
    sid = e.series_id or e.labels.get("series")
    return catalog.get(sid) if sid else None


def country_of(e: RuleEvaluation, catalog: dict[str, Series]) -> str | None:
    """The country a breach concerns: its labels first, else its series' country."""
    for key in ("country", "scope"):
        if e.labels.get(key):
            return e.labels[key]
    s = series_of(e, catalog)
    return s.country if s else None


def subject_of(e: RuleEvaluation, catalog: dict[str, Series]) -> str:
    """What breached, in words: the series' name, else '<country> stress index' and the like."""
    s = series_of(e, catalog)
    if s is not None:
        return s.name_in(i18n.current())
    where = country_of(e, catalog)
    if where and e.kind == "stress_level":
        return i18n.gettext("%(country)s stress index", country=country_name(where))
    if where and e.kind == "probability":
        return i18n.gettext("%(country)s crisis probability", country=country_name(where))
    return e.rule.replace("_", " ")


def breach_of(e: RuleEvaluation, catalog: dict[str, Series]) -> Breach:
    s = series_of(e, catalog)
    return Breach(
        subject=subject_of(e, catalog),
        rule=e.rule,
        kind=e.kind,
        category=e.category,
        severity=e.severity,
        country=country_of(e, catalog),
        series_id=e.series_id or e.labels.get("series"),
        series_name=s.name_in(i18n.current()) if s else None,
        value=finite(e.value),
        threshold=finite(e.threshold),
        value_text=fmt_value(e.value, e.kind),
        threshold_text=fmt_value(e.threshold, e.kind),
        direction=e.direction,
        summary=e.summary,
    )


def excess(e: RuleEvaluation) -> float:
    """How far past its threshold a value is, relative to the threshold (0 when unknown)."""
    v, th = finite(e.value), finite(e.threshold)
    if v is None or th is None:
        return 0.0
    gap = v - th if e.direction == "above" else th - v
    return gap / abs(th) if th else gap


def worst_first(evals: list[RuleEvaluation]) -> list[RuleEvaluation]:
    """Critical before warn, then the furthest past its threshold."""
    return sorted(evals, key=lambda e: (-severity_rank(e.severity), -excess(e), e.rule, e.series_id or ""))
