"""Live track record, pure: the warnings the alert history holds, scored once their outcome window
closes, and the mistakes among them explained by the assessment of the day they were made.

A warning is a run of consecutive assessment days on which one alert (fingerprint) fired at warn or
critical. Its outcome window is the `horizon` trading days from its first day (the horizon of the
crisis probability, as in the replay's scores). It is a *hit* when a crisis episode of its country
begins in that window or was under way when it fired, a *false alarm* when the window closed
without one, *open* while the window is still running. A *miss* is an episode whose onset came with
no warning of its country in the `horizon` trading days before, on days the monitor ran.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd

from sco_monitor.replay.episodes import Span, bday
from sco_monitor.replay.score import crisis_end
from sco_monitor.results import label_country
from sco_monitor.timeutil import to_date

Outcome = Literal["hit", "false_alarm", "open"]
_SEVERITY = {"warn": 1, "critical": 2}


@dataclass(frozen=True)
class WarningRun:
    """One warning: an alert firing at warn or critical over consecutive assessment days."""

    fingerprint: str
    rule: str
    country: str
    severity: str  # the worst of the run
    first: date
    last: date
    value: float | None  # on the first day
    threshold: float | None


def warnings_from_history(history: pd.DataFrame, calendar: Sequence[date]) -> list[WarningRun]:
    """The firing warn/critical runs of the alert history (date, fingerprint, rule, country, state,
    severity, value, threshold), consecutive over `calendar` (the assessment days)."""
    pos = {d: i for i, d in enumerate(sorted(calendar))}
    rows = history[history["state"].eq("firing") & history["severity"].isin(list(_SEVERITY))].copy()
    if rows.empty:
        return []
    rows["day"] = [to_date(d) for d in rows["date"]]
    rows["pos"] = [pos.get(d, -1) for d in rows["day"]]
    out: list[WarningRun] = []
    for fp, g in rows[rows["pos"] >= 0].sort_values("pos").groupby("fingerprint", sort=False):
        run_id = (g["pos"].diff() != 1).cumsum()
        for _, r in g.groupby(run_id):
            head = r.iloc[0]
            out.append(WarningRun(
                fingerprint=str(fp), rule=str(head["rule"]), country=str(head["country"]),
                severity=max(r["severity"], key=lambda s: _SEVERITY[s]), first=head["day"], last=r.iloc[-1]["day"],
                value=_float(head["value"]), threshold=_float(head["threshold"])))
    return sorted(out, key=lambda w: (w.first, w.country, w.rule))


def _float(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def outcome(w: WarningRun, spans: Sequence[Span], horizon: int, known_until: date) -> tuple[Outcome, Span | None]:
    """Hit (with the episode), false alarm, or open while the window has not closed by known_until."""
    first = bday(w.first)
    for s in spans:
        onset = bday(s.start)
        if s.start <= known_until and (0 <= onset - first <= horizon or onset <= first <= crisis_end(s, horizon)):
            return "hit", s
    return ("false_alarm", None) if first + horizon <= bday(known_until) else ("open", None)


def misses(spans: Mapping[str, Sequence[Span]], warnings: Sequence[WarningRun], calendar: Sequence[date],
           horizon: int, start: date, end: date) -> list[Span]:
    """Episodes with onset in start..end that no warning of their country preceded within `horizon`
    trading days, counted only when the monitor ran on some day of that run-up."""
    ran = sorted(bday(d) for d in calendar)
    out = []
    for country, country_spans in spans.items():
        mine = [w for w in warnings if w.country == country]
        for s in country_spans:
            if not start <= s.start <= end:
                continue
            onset = bday(s.start)
            if not any(onset - horizon <= p < onset for p in ran):
                continue
            if not any(bday(w.first) <= onset and bday(w.last) >= onset - horizon for w in mine):
                out.append(s)
    return sorted(out, key=lambda s: (s.start, s.country))


def _top(values: Mapping[str, Any] | None, n: int = 3) -> list[list[Any]]:
    items = [(k, float(v)) for k, v in (values or {}).items() if v is not None and not pd.isna(v)]
    return [[k, v] for k, v in sorted(items, key=lambda kv: -abs(kv[1]))[:n]]


def drivers(body: Mapping[str, Any] | None, country: str) -> dict[str, Any]:
    """What the saved assessment of a day said about a country: its rules at warn or critical (or,
    when none was, the three closest to their thresholds), its crisis probability and the drivers of
    it, its stress index and the segments behind it. Empty when the day has no saved assessment."""
    if not body:
        return {}
    rules = [r for r in body.get("rules", []) if label_country(r.get("labels")) == country]
    breaching = [r for r in rules if r.get("severity") in _SEVERITY]
    shown = breaching or sorted((r for r in rules if r.get("value") is not None and r.get("threshold")),
                                key=lambda r: -abs(float(r["value"]) / float(r["threshold"])))[:3]
    prob = (body.get("probability") or {}).get(country) or {}
    stress = (body.get("stress_index") or {}).get(country) or {}
    return {
        "rules": [{"rule": r["rule"], "value": r.get("value"), "threshold": r.get("threshold"),
                   "severity": r.get("severity", "ok")} for r in shown],
        "probability": prob.get("probability"),
        "probability_drivers": _top(prob.get("drivers")),
        "stress": stress.get("value"),
        "stress_level": stress.get("level"),
        "stress_segments": _top(stress.get("segments")),
    }


def followed(stress: pd.Series, start: date, horizon: int) -> dict[str, Any]:
    """The country's stress index over the outcome window: first, last and peak value."""
    window = stress[(stress.index >= pd.Timestamp(start))].iloc[: horizon + 1].dropna()
    if window.empty:
        return {}
    return {"stress_from": float(window.iloc[0]), "stress_to": float(window.iloc[-1]),
            "stress_peak": float(window.max()), "until": to_date(window.index[-1])}
