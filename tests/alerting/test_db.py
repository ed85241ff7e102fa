"""The alerts table on SQLite and PostgreSQL: records come back as saved, whichever way they were written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select

from sco_monitor.alerting import db
from sco_monitor.alerting.state import AlertRecord
from sco_monitor.store import Store, schema

from .support import T0


def _record(fp: str, state: str = "firing", **kw) -> AlertRecord:  # noqa: ANN003
    return AlertRecord(fingerprint=fp, rule="fx_20d", kind="change", category="fx",
                       labels={"country": "KAZ", "series": f"fx.{fp}"}, state=state, severity="warn", updated_at=T0,
                       series_id=f"fx.{fp}", value=0.06, threshold=0.05, warn=0.05, critical=0.1, clear=0.03,
                       summary=f"{fp} up 6%", pending_count=2, starts_at=T0, fired_at=T0,
                       last_eval_date=date(2024, 3, 1), **kw)


def _rows(store: Store) -> list[tuple]:
    t = schema.alerts
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t).order_by(t.c.fingerprint))]


def test_records_evaluated_again_are_saved_as_the_whole_record_would_be(store: Store) -> None:
    first = [_record("a"), _record("b"), _record("c", state="pending")]
    with db.write_txn(store.engine) as conn:
        db.save_alerts(conn, first)
    later = T0 + timedelta(days=1)
    again = [replace(r, updated_at=later, last_eval_date=date(2024, 3, 4)) for r in first]
    again[1] = replace(again[1], state="resolved", ends_at=later, value=0.01)  # a real change: written whole
    again.append(_record("d"))  # a new alert
    with db.write_txn(store.engine) as conn:
        stored = db.load_alerts(conn)
        assert db.save_alerts(conn, again, stored=stored) == 4
        assert db.load_alerts(conn) == {r.fingerprint: r for r in again}
    narrow = _rows(store)
    with db.write_txn(store.engine) as conn:  # the same records written whole: the same rows
        db.save_alerts(conn, first)
        db.save_alerts(conn, again)
    assert _rows(store) == narrow
