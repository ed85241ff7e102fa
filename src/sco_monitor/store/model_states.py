"""Reads and writes of `model_states`: the fitted models a daily run continues from.

Rows go in and out as plain fields (series_id, model, family, spec, fitted_at, last_date, nobs,
params, state, metrics): `assess.forecast.ModelState(**row)` restores one, and any object with
those attributes (a ModelState) can be saved. The store imports nothing from assess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from sco_monitor.store import schema
from sco_monitor.store.repo import Store
from sco_monitor.store.upsert import upsert
from sco_monitor.timeutil import to_date, utcnow
from sco_monitor.vocabulary import json_safe

_CHUNK = 500


def load_states(store: Store, series_ids: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored states of these series as ModelState fields, keyed by (series_id, model slot)."""
    t = schema.model_states
    ids = list(dict.fromkeys(series_ids))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(select(t).where(t.c.series_id.in_(ids[i: i + _CHUNK]))).mappings().all()
            for r in rows:
                out[(r["series_id"], r["model"])] = {
                    "series_id": r["series_id"], "model": r["model"], "family": r["family"], "spec": dict(r["spec"] or {}),
                    "fitted_at": to_date(r["fitted_at"]), "last_date": to_date(r["last_date"]), "nobs": int(r["nobs"]),
                    "params": dict(r["params"] or {}), "state": bytes(r["state"]) if r["state"] is not None else None,
                    "metrics": dict(r["metrics"] or {}),
                }
    return out


def save_states(store: Store, states: Mapping[tuple[str, str], Any] | Iterable[Any]) -> int:
    """Upsert states (objects with the fields above: `assess.forecast.ModelState`) in one transaction;
    returns how many were written.

    JSON columns get plain JSON: NaN and infinities become null (PostgreSQL rejects them).
    """
    items = list(states.values()) if isinstance(states, Mapping) else list(states)
    now = utcnow()
    rows = [
        {"series_id": s.series_id, "model": s.model, "family": s.family, "spec": json_safe(s.spec),
         "fitted_at": s.fitted_at, "last_date": s.last_date, "nobs": s.nobs, "params": json_safe(s.params),
         "state": s.state, "metrics": json_safe(s.metrics), "updated_at": now}
        for s in items
    ]
    with store.engine.begin() as conn:
        for i in range(0, len(rows), _CHUNK):
            upsert(conn, schema.model_states, rows[i: i + _CHUNK])
    return len(rows)
