"""The assessment's IO: the point-in-time frame and quality flags it reads, the results it saves.

The store side of `cycle.step_assess`; `assess/` stays a pure function of what these read. Results
come in as plain rows per table (`assess.rows.result_rows` builds them), so the store imports
nothing from assess.
"""

from __future__ import annotations

import math

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, or_, select

from sco_monitor.errors import RunFailed
from sco_monitor.store import schema
from sco_monitor.store.collection import observation_span
from sco_monitor.store.repo import Store
from sco_monitor.store.upsert import upsert
from sco_monitor.vocabulary import COLLECTION_FLAGS

#: The tables an assessment writes, in the order they are written.
RESULT_TABLES: tuple[str, ...] = (
    "indicator_values", "stress_index", "rule_evaluations", "crisis_probability", "forecasts",
)
_CHUNK = 5000


def window_start(as_of: date, history_days: int) -> date:
    """First day an assessment of as_of reads: 1 January of as_of's year minus the whole years
    `history_days` spans (rounded up), so at least `history_days` before it.

    Anchored to years, so every day of a year reads from the same day: expanding statistics then
    agree between a daily run and a replay that computes the whole year in one pass."""
    return date(as_of.year - math.ceil(history_days / 365), 1, 1)


def load_window(store: Store, series_ids: Sequence[str], as_of: date, history_days: int,
                end: date | None = None) -> pd.DataFrame:
    """The wide frame from `window_start` knowable at as_of (up to `end`, later in the same year, for
    a replay's pass: knowable at `end`); RunFailed when it holds nothing.

    An empty read whose window the store's span covers is read once more: it was read while a
    collection was still writing (a daemon's assess or report beside its first collection), and what
    that collection has committed since is there now."""
    start = window_start(as_of, history_days)

    def read() -> pd.DataFrame:
        return store.load_frame(series_ids, start=start, as_of=end or as_of)

    frame = read()
    if _holds_nothing(frame):
        span = observation_span(store, series_ids)
        if _covers(span, start, as_of):
            frame = read()
        if _holds_nothing(frame):
            raise RunFailed(_nothing_in_window(span, start, as_of, history_days))
    return frame


def _holds_nothing(frame: pd.DataFrame) -> bool:
    return frame.empty or frame.notna().sum().sum() == 0


def _covers(span: tuple[date, date] | None, start: date, as_of: date) -> bool:
    """Whether the store's span of observation dates reaches into [start, as_of]."""
    return span is not None and span[0] <= as_of and span[1] >= start


def _nothing_in_window(span: tuple[date, date] | None, start: date, as_of: date, history_days: int) -> str:
    """Why the window is empty: an empty store, a window inside the store's span that holds nothing
    published by as_of, or a window that misses what the store holds."""
    if span is None:
        return f"no observations in the store up to {as_of.isoformat()}; run `sco-monitor collect` first"
    if _covers(span, start, as_of):  # read twice: nothing there, or nothing published yet
        return (f"no observations between {start} and {as_of} published by {as_of} (the store holds {span[0]} to "
                f"{span[1]}: none in this window, or none past its series' publication_lag_days yet): assess a "
                f"later date or collect the missing series")
    return (f"no observations between {start} and {as_of} (assessment.history_days = {history_days}, from 1 January, before "
            f"--as-of); the store holds {span[0]} to {span[1]}: assess a date in that span or collect newer data")


def load_quality(store: Store, as_of: date, days: int = 10) -> list[dict[str, Any]]:
    """Quality flags of the last `days` up to as_of: series_id, date, flag, detail. A flag that
    judges a collection (`COLLECTION_FLAGS`: "stale at the time it ran") counts only from the day it
    was recorded (with a day's slack: as_of is a local date in any time zone, the record UTC): a
    series found stale in 2026 was not stale to a day of 2018."""
    t = schema.quality_flags
    known_by = datetime.combine(as_of + timedelta(days=2), time.min, tzinfo=UTC)
    stmt = select(t.c.series_id, t.c.date, t.c.flag, t.c.detail).where(
        t.c.date <= as_of, t.c.date >= as_of - timedelta(days=days),
        or_(t.c.flag.not_in(sorted(COLLECTION_FLAGS)), t.c.created_at < known_by))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [{"series_id": r[0], "date": r[1], "flag": r[2], "detail": r[3] or ""} for r in rows]


@dataclass(frozen=True)
class SavedAssessment:
    """The assessment saved for a day (its JSON form) and when it was saved."""

    as_of: date
    saved_at: datetime
    body: dict[str, Any]


def save_assessment(store: Store, as_of: date, rows: Mapping[str, Sequence[dict[str, Any]]],
                    body: Mapping[str, Any] | None = None, saved_at: datetime | None = None) -> None:
    """Write one assessment's rows (and, given, its whole JSON `body`, saved at `saved_at`) in one
    transaction; re-running the same as_of replaces them.

    The stress value of day D is the one assessed as of D: rows of earlier days only fill gaps, so
    a later assessment (another window start) never rewrites what was known on D.
    """
    unknown = set(rows) - set(RESULT_TABLES)
    if unknown:
        raise ValueError(f"no result table {', '.join(sorted(unknown))}; expected {', '.join(RESULT_TABLES)}")
    stress = rows.get("stress_index", [])
    today = [r for r in stress if r["date"] == as_of]
    backfill = [r for r in stress if r["date"] != as_of]
    with store.engine.begin() as conn:
        conn.execute(delete(schema.rule_evaluations).where(schema.rule_evaluations.c.as_of == as_of))
        conn.execute(delete(schema.crisis_probability).where(schema.crisis_probability.c.date == as_of))
        backfill = _not_stored(conn, backfill)
        for i in range(0, len(backfill), _CHUNK):
            upsert(conn, schema.stress_index, backfill[i: i + _CHUNK], update=[])
        for name in RESULT_TABLES:
            table_rows = today if name == "stress_index" else list(rows.get(name, []))
            for i in range(0, len(table_rows), _CHUNK):
                upsert(conn, getattr(schema, name), table_rows[i: i + _CHUNK])
        if body is not None:
            if saved_at is None:
                raise ValueError("save_assessment: a body needs its saved_at")
            upsert(conn, schema.saved_assessments, [{"as_of": as_of, "saved_at": saved_at, "body": dict(body)}])


def _not_stored(conn: Connection, stress: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stress rows whose (scope, date) the store does not hold yet: the only ones a backfill writes
    (the others would be skipped on conflict), found with one query instead of encoding them all."""
    dates = [r["date"] for r in stress]
    if not stress or None in dates:
        return stress
    t = schema.stress_index
    stored = {(scope, day) for scope, day in conn.execute(select(t.c.scope, t.c.date).where(
        t.c.date >= min(dates), t.c.date <= max(dates), t.c.scope.in_(sorted({r["scope"] for r in stress}))))}
    return [r for r in stress if (r["scope"], r["date"]) not in stored]


def load_saved_assessment(store: Store, as_of: date) -> SavedAssessment | None:
    """The assessment saved for as_of, or None when that day has none yet."""
    t = schema.saved_assessments
    with store.engine.connect() as conn:
        row = conn.execute(select(t.c.saved_at, t.c.body).where(t.c.as_of == as_of)).first()
    return None if row is None else SavedAssessment(as_of, row[0], dict(row[1]))


def saved_assessments(store: Store, start: date, end: date) -> list[SavedAssessment]:
    """The assessments saved for the days start..end, oldest first (what the track record explains)."""
    t = schema.saved_assessments
    stmt = select(t.c.as_of, t.c.saved_at, t.c.body).where(t.c.as_of >= start, t.c.as_of <= end).order_by(t.c.as_of)
    with store.engine.connect() as conn:
        return [SavedAssessment(r[0], r[1], dict(r[2])) for r in conn.execute(stmt).all()]
