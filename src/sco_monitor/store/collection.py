"""Reads and writes of the collection bookkeeping: `collection_runs` and `quality_flags`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, select, update

from sco_monitor.store import schema
from sco_monitor.store.repo import Store
from sco_monitor.store.upsert import upsert
from sco_monitor.timeutil import to_date, utcnow

FAILED_STATUSES = ("failed", "empty")


class Flag(Protocol):
    """What a quality flag needs to be saved (`assess.model.QualityFlag` has it)."""

    series_id: str
    flag: str
    date: date | None
    detail: str


def start_runs(store: Store, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert one 'running' row per series before any IO, so a crash still leaves a trace; their ids."""
    if not rows:
        return []
    t = schema.collection_runs
    stmt = insert(t).returning(t.c.id, sort_by_parameter_order=True)
    with store.engine.begin() as conn:
        return [int(r[0]) for r in conn.execute(stmt, [{"status": "running", **row} for row in rows])]


def finish_run(store: Store, run_row_id: int, **fields: Any) -> None:
    """Record a series' outcome (status, rows, attempts, error, ...) on its 'running' row."""
    finish_runs(store, [{"row_id": run_row_id, **fields}])


def finish_runs(store: Store, outcomes: Sequence[dict[str, Any]]) -> None:
    """Record several outcomes in one transaction; each dict has `row_id` and the columns to set."""
    if not outcomes:
        return
    t = schema.collection_runs
    now = utcnow()
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        row = {"finished_at": now, **o}
        by_shape[tuple(sorted(row))].append(row)
    with store.engine.begin() as conn:
        for shape, rows in by_shape.items():
            cols = {c: bindparam(f"v_{c}") for c in shape if c != "row_id"}
            stmt = update(t).where(t.c.id == bindparam("row_id")).values(**cols)
            conn.execute(stmt, [{"row_id": r["row_id"], **{f"v_{c}": r[c] for c in cols}} for r in rows])


def interrupt_running(store: Store, by: str) -> int:
    """Mark rows left `running` by a collection whose process died (kill -9) as `interrupted`;
    called when a daemon becomes active. A collection still going elsewhere overwrites its rows
    with its outcome when it finishes. Returns how many."""
    t = schema.collection_runs
    with store.engine.begin() as conn:
        res = conn.execute(update(t).where(t.c.status == "running").values(
            status="interrupted", finished_at=utcnow(),
            error=f"the collection stopped mid-run (its process died); noticed by {by}"))
    return max(res.rowcount or 0, 0)


def save_flags(store: Store, flags: Iterable[Flag], run_id: str, values: dict[tuple[str, date], float] | None = None) -> int:
    """Upsert flags (one per series, date and kind): re-running a collection changes nothing."""
    now = utcnow()
    rows = [
        {"series_id": f.series_id, "date": f.date, "flag": f.flag, "detail": f.detail,
         "value": (values or {}).get((f.series_id, f.date)) if f.date else None, "run_id": run_id, "created_at": now}
        for f in flags if f.date is not None
    ]
    if rows:
        with store.engine.begin() as conn:
            upsert(conn, schema.quality_flags, rows, update=["detail", "value", "run_id"])
    return len(rows)


def last_runs(store: Store, as_of: date | None = None) -> dict[str, dict[str, Any]]:
    """The latest finished collection of each series (started no later than `as_of`)."""
    t = schema.collection_runs
    cond = [t.c.status != "running"]
    if as_of is not None:
        cond.append(t.c.started_at < datetime.combine(as_of + timedelta(days=1), time.min))
    latest = select(t.c.series_id, func.max(t.c.id).label("id")).where(and_(*cond)).group_by(t.c.series_id).subquery()
    stmt = select(t).join(latest, t.c.id == latest.c.id)
    with store.engine.connect() as conn:
        return {r.series_id: dict(r._mapping) for r in conn.execute(stmt)}


def runs_of(store: Store, run_id: str) -> list[dict[str, Any]]:
    t = schema.collection_runs
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).where(t.c.run_id == run_id).order_by(t.c.id))]


def flags_between(store: Store, start: date, end: date, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Stored flags dated start..end: series_id, flag, date, detail (QualityFlag fields)."""
    t = schema.quality_flags
    stmt = select(t.c.series_id, t.c.flag, t.c.date, t.c.detail).where(t.c.date >= start, t.c.date <= end)
    if kinds:
        stmt = stmt.where(t.c.flag.in_(list(kinds)))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(t.c.date, t.c.series_id)).all()
    return [{"series_id": r[0], "flag": r[1], "date": to_date(r[2]), "detail": r[3] or ""} for r in rows]


def catalog(store: Store) -> list[dict[str, Any]]:
    """Enabled series as the store knows them (id, frequency, publication lag)."""
    t = schema.series
    stmt = select(t.c.id, t.c.frequency, t.c.publication_lag_days, t.c.kind).where(t.c.enabled.is_(True))
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt.order_by(t.c.id))]


def last_knowable(store: Store, lags: dict[str, int], as_of: date) -> dict[str, date]:
    """Newest observation of each series knowable at `as_of` (dated on or before as_of - lag)."""
    t = schema.observations
    groups: dict[int, list[str]] = defaultdict(list)
    for sid, lag in lags.items():
        groups[lag].append(sid)
    out: dict[str, date] = {}
    with store.engine.connect() as conn:
        for lag, ids in groups.items():
            cutoff = as_of - timedelta(days=lag)
            stmt = (select(t.c.series_id, func.max(t.c.date)).where(t.c.series_id.in_(ids), t.c.date <= cutoff)
                    .group_by(t.c.series_id))
            for sid, d in conn.execute(stmt):
                if d is not None:
                    out[sid] = to_date(d)
    return out


def observation_span(store: Store, series_ids: Sequence[str]) -> tuple[date, date] | None:
    """First and last stored observation dates of these series, or None when the store holds none."""
    t = schema.observations
    with store.engine.connect() as conn:
        first, last = conn.execute(select(func.min(t.c.date), func.max(t.c.date))
                                   .where(t.c.series_id.in_(list(series_ids)))).one()
    return (to_date(first), to_date(last)) if first is not None else None


def last_dates(store: Store, series_ids: Sequence[str]) -> dict[str, date]:
    """Newest stored date per series: one primary-key seek each, not a scan of every observation."""
    t = schema.observations
    stmt = select(func.max(t.c.date)).where(t.c.series_id == bindparam("sid"))
    out: dict[str, date] = {}
    with store.engine.connect() as conn:
        for sid in dict.fromkeys(series_ids):
            d = conn.execute(stmt, {"sid": sid}).scalar()
            if d is not None:
                out[sid] = to_date(d)
    return out
