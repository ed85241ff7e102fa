"""Section 9, "Mistakes and their reasons": the live track record's false alarms and misses (scored
by `replay.live`) in the sentences of the active language. Pure: the numbers come in as a dict."""

from __future__ import annotations

from typing import Any

from sco_monitor import i18n
from sco_monitor.i18n import _
from sco_monitor.reports.model import Mistake, MistakesSection
from sco_monitor.reports.numbers import country_name, fmt_number
from sco_monitor.vocabulary import json_safe


def _rule_line(r: dict[str, Any]) -> str:
    return _("%(rule)s at %(value)s against a threshold of %(threshold)s (%(severity)s)", rule=r["rule"],
             value=fmt_number(r.get("value")), threshold=fmt_number(r.get("threshold")),
             severity=i18n.severity_name(r.get("severity")))


def driver_lines(d: dict[str, Any]) -> list[str]:
    """The rule values, crisis-probability drivers and stress segments of the day, one line each."""
    if not d:
        return [_("No assessment was saved for that day, so its drivers are not known.")]
    lines = [_rule_line(r) for r in d.get("rules", [])]
    if d.get("probability") is not None:
        drivers = ", ".join(f"{i18n.driver_name(k)} {fmt_number(v)}" for k, v in d.get("probability_drivers", []))
        lines.append(_("crisis probability %(p)s; drivers: %(drivers)s", p=i18n.percent(d["probability"], 0),
                       drivers=drivers or _("none")))
    if d.get("stress") is not None:
        segments = ", ".join(f"{i18n.segment_name(k)} {fmt_number(v)}" for k, v in d.get("stress_segments", []))
        lines.append(_("stress index %(value)s (%(level)s); segments: %(segments)s", value=fmt_number(d["stress"]),
                       level=i18n.level_name(d.get("stress_level")), segments=segments or _("none")))
    return lines


def _followed(item: dict[str, Any], horizon: int) -> str:
    f = item.get("followed") or {}
    stress = (_("the stress index went from %(a)s to %(b)s (peak %(peak)s) by %(until)s",
                a=fmt_number(f["stress_from"]), b=fmt_number(f["stress_to"]), peak=fmt_number(f["stress_peak"]),
                until=i18n.day(f["until"])) if f else _("no stress index was stored for the window"))
    if item["kind"] == "false_alarm":
        return _("No crisis episode began within %(h)s trading days; %(stress)s.", h=horizon, stress=stress)
    ep = item.get("episode") or {}
    return _("The episode %(name)s began on %(day)s (%(source)s); %(stress)s.", name=ep.get("name", ""),
             day=i18n.day(item["date"]), source=ep.get("source", ""), stress=stress)


def _title(item: dict[str, Any], horizon: int) -> str:
    name = country_name(item["country"])
    if item["kind"] == "false_alarm":
        return _("False alarm: %(rule)s (%(severity)s) for %(country)s from %(day)s", rule=item["rule"],
                 severity=i18n.severity_name(item["severity"]), country=name, day=i18n.day(item["date"]))
    return _("Miss: a crisis in %(country)s from %(day)s with no warning in the %(h)s trading days before",
             country=name, day=i18n.day(item["date"]), h=horizon)


def mistake_items(raw: list[dict[str, Any]], horizon: int) -> list[Mistake]:
    """`replay.live.explain`'s items as sentences of the active language (the report's section 9, the review)."""
    return [Mistake(kind=i["kind"], date=i["date"], country=i["country"], country_name=country_name(i["country"]),
                    rule=i.get("rule"), severity=i.get("severity"), title=_title(i, horizon),
                    drivers=driver_lines(i.get("drivers") or {}), followed=_followed(i, horizon),
                    data=json_safe({k: v for k, v in i.items() if k not in ("kind", "date", "country")}))
            for i in raw]


def mistakes_section(data: dict[str, Any] | None) -> MistakesSection:
    """The section from `replay.live.mistakes_section`'s dict; unavailable without one."""
    if data is None:
        return MistakesSection(available=False, message=_(
            "The live track record could not be read, so past mistakes are not shown."))
    horizon = int(data["horizon"])
    counts = dict(data["counts"])
    items = mistake_items(data["items"], horizon)
    message = _("Of %(warnings)s warnings first raised from %(start)s to %(end)s, %(hits)s announced a crisis, "
                "%(false_alarms)s were false alarms and %(open)s are still within their %(h)s-day outcome window; "
                "%(misses)s crises came without a warning.", start=i18n.day(data["start"]), end=i18n.day(data["end"]),
                h=horizon, **counts)
    if not items:
        message += " " + _("No mistake to explain.")
    return MistakesSection(available=True, message=message, counts=counts, items=items)
