"""Database side of alerting: one locked write transaction, and rows of `alerts` / `notification_groups`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields

from sqlalchemy import Connection, Engine, bindparam, delete, select, text, update

from sco_monitor.alerting.dedup import GroupEntry
from sco_monitor.alerting.state import AlertRecord
from sco_monitor.store import schema
from sco_monitor.store.upsert import upsert

_LOCK_KEY = 0x5C0A1E47  # pg_advisory_xact_lock key of the alert engine

_RECORD_FIELDS = [f.name for f in fields(AlertRecord)]
#: What an evaluation that changes nothing else leaves as it was (see `save_alerts`).
_BEYOND_EVALUATION = [k for k in _RECORD_FIELDS if k not in ("updated_at", "last_eval_date")]


@contextmanager
def write_txn(engine: Engine) -> Iterator[Connection]:
    """A write transaction that serialises alert engines: two cycles never interleave their state changes.

    SQLite takes the write lock up front (BEGIN IMMEDIATE) instead of failing on upgrade;
    PostgreSQL takes a transaction-scoped advisory lock.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def load_alerts(conn: Connection, states: Iterable[str] | None = None,
                fingerprints: Iterable[str] | None = None) -> dict[str, AlertRecord]:
    t = schema.alerts
    stmt = select(*(t.c[k] for k in _RECORD_FIELDS))  # in the record's field order: a row is its arguments
    if states is not None:
        stmt = stmt.where(t.c.state.in_(list(states)))
    if fingerprints is not None:
        stmt = stmt.where(t.c.fingerprint.in_(list(fingerprints)))
    return {rec.fingerprint: rec for rec in (AlertRecord(*r) for r in conn.execute(stmt))}


def save_alerts(conn: Connection, records: Iterable[AlertRecord],
                stored: Mapping[str, AlertRecord] | None = None) -> int:
    """Write these records. Given what is `stored` (loaded in this transaction), a record that differs
    from it only by having been evaluated again (`updated_at`, `last_eval_date`: most alerts, most
    days) updates those two columns; the others are upserted whole. The rows end the same."""
    records = list(records)
    touched, whole = [], []
    for r in records:
        prev = (stored or {}).get(r.fingerprint)
        if prev is not None and all(getattr(prev, k) == getattr(r, k) for k in _BEYOND_EVALUATION):
            touched.append({"fp": r.fingerprint, "at": r.updated_at, "day": r.last_eval_date})
        else:
            whole.append({k: (dict(v) if k == "labels" else v) for k, v in ((k, getattr(r, k)) for k in _RECORD_FIELDS)})
    upsert(conn, schema.alerts, whole)
    if touched:
        t = schema.alerts
        conn.execute(update(t).where(t.c.fingerprint == bindparam("fp")).values(
            updated_at=bindparam("at", type_=t.c.updated_at.type),
            last_eval_date=bindparam("day", type_=t.c.last_eval_date.type)), touched)
    return len(records)


@dataclass(frozen=True)
class GroupRow:
    receiver: str
    group_key: str
    route: str
    group_labels: Mapping[str, str]
    entry: GroupEntry


def load_groups(conn: Connection) -> dict[tuple[str, str], GroupRow]:
    t = schema.notification_groups
    out: dict[tuple[str, str], GroupRow] = {}
    for r in conn.execute(select(t)).mappings():
        entry = GroupEntry(first_seen_at=r["first_seen_at"], notified_at=r["last_notified_at"],
                           firing=dict(r["firing"] or {}))
        out[(r["receiver"], r["group_key"])] = GroupRow(r["receiver"], r["group_key"], r["route"],
                                                        dict(r["group_labels"] or {}), entry)
    return out


def save_groups(conn: Connection, rows: Iterable[GroupRow]) -> None:
    upsert(conn, schema.notification_groups, [{
        "receiver": row.receiver, "group_key": row.group_key, "route": row.route,
        "group_labels": dict(row.group_labels), "first_seen_at": row.entry.first_seen_at,
        "last_notified_at": row.entry.notified_at, "firing": dict(row.entry.firing),
    } for row in rows])


def delete_groups(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    t = schema.notification_groups
    keys = list(keys)
    if keys:
        conn.execute(delete(t).where(t.c.receiver == bindparam("r"), t.c.group_key == bindparam("g")),
                     [{"r": r, "g": g} for r, g in keys])
