"""The live track record from the store: the alert history the daemon and `cycle` record, scored
against episodes (configured, else derived from the data as in the replay), with each mistake
explained by that day's saved assessment. The scoring itself is `replay.mistakes` (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from sco_monitor import results
from sco_monitor.context import Context
from sco_monitor.replay.episodes import Span
from sco_monitor.replay.mistakes import (
    WarningRun,
    drivers,
    followed,
    misses,
    outcome,
    warnings_from_history,
)
from sco_monitor.replay.track import country_episodes
from sco_monitor.store.assessments import load_saved_assessment


@dataclass(frozen=True)
class Scored:
    """A warning and its outcome (with the episode it announced, if any)."""

    warning: WarningRun
    outcome: str
    episode: Span | None


@dataclass(frozen=True)
class LiveRecord:
    """Warnings first raised in start..end, scored with outcomes known up to known_until, and the misses."""

    start: date
    end: date
    known_until: date
    horizon: int
    scored: list[Scored]
    missed: list[Span]


def live_record(ctx: Context, start: date, end: date, known_until: date) -> LiveRecord:
    """Score the warnings of start..end (the history read from `horizon` days before start, so a run
    begun earlier is not cut) and find the episodes of start..end no warning preceded."""
    horizon = ctx.config.settings.assessment.crisis_horizon
    since = start - timedelta(days=2 * horizon)
    history = results.read_alert_history(ctx.store, since, known_until)
    calendar = sorted(set(results.evaluation_days(ctx.store, since, known_until))
                      | {d.date() for d in history["date"]})
    warnings = warnings_from_history(history, calendar)
    countries = {w.country for w in warnings} | {c for cs in results.watched(ctx.store, end).values() for c in cs}
    spans = country_episodes(ctx, known_until, countries) if countries else {}
    scored = [Scored(w, *outcome(w, spans.get(w.country, []), horizon, known_until))
              for w in warnings if start <= w.first <= end]
    missed = misses({c: spans.get(c, []) for c in countries}, warnings, calendar, horizon, start, end)
    return LiveRecord(start, end, known_until, horizon, scored, missed)


def _stress(ctx: Context, country: str, start: date, horizon: int) -> pd.Series:
    frame = results.read_stress(ctx.store, [country], start, start + timedelta(days=2 * horizon))
    return pd.Series(frame["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(frame["date"]))


def _span(s: Span | None) -> dict[str, Any] | None:
    return None if s is None else {"name": s.name, "country": s.country, "start": s.start, "end": s.end,
                                   "source": s.source}


def explain(ctx: Context, record: LiveRecord) -> list[dict[str, Any]]:
    """Each false alarm and miss with what drove it on the day (that day's saved assessment) and
    what followed; newest first."""
    items: list[dict[str, Any]] = []
    for sc in record.scored:
        if sc.outcome != "false_alarm":
            continue
        w = sc.warning
        saved = load_saved_assessment(ctx.store, w.first)
        items.append({
            "kind": "false_alarm", "date": w.first, "country": w.country, "rule": w.rule, "severity": w.severity,
            "value": w.value, "threshold": w.threshold, "last_day": w.last,
            "saved_at": saved.saved_at if saved else None,
            "drivers": drivers(saved.body if saved else None, w.country),
            "followed": followed(_stress(ctx, w.country, w.first, record.horizon), w.first, record.horizon),
        })
    for s in record.missed:
        day = max((d for d in results.evaluation_days(ctx.store, s.start - timedelta(days=10), s.start)
                   if d < s.start), default=None)
        saved = load_saved_assessment(ctx.store, day) if day else None
        items.append({
            "kind": "miss", "date": s.start, "country": s.country, "rule": None, "severity": None,
            "episode": _span(s), "assessed": day, "saved_at": saved.saved_at if saved else None,
            "drivers": drivers(saved.body if saved else None, s.country),
            "followed": followed(_stress(ctx, s.country, s.start, record.horizon), s.start, record.horizon),
        })
    return sorted(items, key=lambda i: i["date"], reverse=True)


def counts(record: LiveRecord) -> dict[str, int]:
    out = {"warnings": len(record.scored), "hits": 0, "false_alarms": 0, "open": 0, "misses": len(record.missed)}
    for sc in record.scored:
        out[{"hit": "hits", "false_alarm": "false_alarms", "open": "open"}[sc.outcome]] += 1
    return out


def mistakes_section(ctx: Context, as_of: date, days: int = 365) -> dict[str, Any]:
    """The report's "Mistakes and their reasons": the false alarms and misses of the last `days`,
    outcomes known up to as_of."""
    record = live_record(ctx, as_of - timedelta(days=days), as_of, as_of)
    return {"start": record.start, "end": record.end, "horizon": record.horizon, "counts": counts(record),
            "items": explain(ctx, record)}
