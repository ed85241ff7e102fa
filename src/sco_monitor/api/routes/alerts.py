"""Alerts, their history, acknowledgements and silences."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from sqlalchemy import select

from sco_monitor import results
from sco_monitor.alerting import silences
from sco_monitor.api.bodies import AcknowledgementIn, SilenceIn
from sco_monitor.api.errors import ApiError
from sco_monitor.api.plain import plain
from sco_monitor.api.routes import ctx_of, now_of, router
from sco_monitor.api.routes.assessments import From, To, _order
from sco_monitor.api.routes.writes import writing
from sco_monitor.config.types import parse_duration
from sco_monitor.errors import UsageError
from sco_monitor.store import schema as t

read = router("read", "alerts")
operator = router("operator", "alerts")
State = Literal["pending", "firing", "resolved", "inactive", "no_data", "all"]


@read.get("/alerts", summary="Alerts now (default: pending and firing), with their acknowledgements")
def alerts(request: Request, state: Annotated[list[State] | None, Query(max_length=6)] = None) -> dict[str, Any]:
    wanted = set(state or ["pending", "firing"])
    a, k = t.alerts, t.alert_acknowledgements
    stmt = select(a).order_by(a.c.rule, a.c.fingerprint)
    if "all" not in wanted:
        stmt = stmt.where(a.c.state.in_(sorted(wanted)))
    with ctx_of(request).store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        acks: dict[str, list[dict[str, Any]]] = {}
        for r in conn.execute(select(k).order_by(k.c.created_at)).mappings():
            acks.setdefault(r["fingerprint"], []).append(dict(r))
    for r in rows:
        r["acknowledgements"] = acks.get(r["fingerprint"], [])
    return plain({"alerts": rows, "count": len(rows)})


@read.get("/alerts/history", summary="Alert history: one row per alert and day it was pending or firing")
def alert_history(
    request: Request, start: From = None, end: To = None,
    country: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    _order(start, end)
    frame = results.read_alert_history(ctx_of(request).store, start, end)
    if country:
        frame = frame[frame["country"].isin([c.upper() for c in country])]
    rows = [{**r, "date": r["date"].date()} for r in frame.to_dict(orient="records")]
    return plain({"rows": rows, "count": len(rows)})


@operator.post("/alerts/{fingerprint}/acknowledgements", status_code=201, summary="Acknowledge an alert")
def acknowledge(request: Request, fingerprint: str, body: AcknowledgementIn) -> dict[str, Any]:
    a, k = t.alerts, t.alert_acknowledgements
    with writing(request) as w:
        if w.conn.execute(select(a.c.fingerprint).where(a.c.fingerprint == fingerprint)).first() is None:
            raise ApiError(404, f"no alert with fingerprint {fingerprint!r}; GET /api/v1/alerts?state=all lists them")
        row = {"id": str(uuid.uuid4()), "fingerprint": fingerprint, "author": w.principal.name,
               "comment": body.comment, "created_at": w.now}
        w.conn.execute(k.insert().values(**row))
        w.audit("alert.acknowledge", fingerprint, {"id": row["id"], "comment": body.comment})
    return plain(row)


@read.get("/acknowledgements", summary="Acknowledgements of alerts, newest first")
def acknowledgements(request: Request, fingerprint: str | None = Query(default=None, max_length=64)) -> dict[str, Any]:
    k = t.alert_acknowledgements
    stmt = select(k).order_by(k.c.created_at.desc())
    if fingerprint:
        stmt = stmt.where(k.c.fingerprint == fingerprint)
    with ctx_of(request).store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return plain({"acknowledgements": rows, "count": len(rows)})


@read.get("/silences", summary="Silences not yet ended (all=true: also expired ones)")
def list_silences(request: Request, all: bool = False) -> dict[str, Any]:
    with ctx_of(request).store.engine.connect() as conn:
        found = silences.load(conn, now_of(request), include_expired=all)
    return {"silences": [s.to_dict() for s in found], "count": len(found)}


@operator.post("/silences", status_code=201, summary="Create a silence")
def create_silence(request: Request, body: SilenceIn) -> dict[str, Any]:
    try:
        matchers = silences.parse_matchers(body.matchers)
    except UsageError as e:
        raise UsageError(str(e).replace("--match:", "matchers:", 1)) from None
    with writing(request) as w:
        if body.duration is not None:
            try:
                ends = w.now + parse_duration(body.duration)
            except ValueError as e:
                raise UsageError(f"duration: {e}") from None
        else:
            assert body.ends_at is not None
            ends = body.ends_at if body.ends_at.tzinfo else body.ends_at.replace(tzinfo=UTC)
        if ends <= w.now:
            raise UsageError("a silence must end in the future")
        s = silences.create(w.conn, matchers, w.now, ends, body.comment, w.principal.name, w.now)
        w.audit("silence.create", s.id, {"matchers": [str(m) for m in s.matchers], "ends_at": s.ends_at.isoformat()})
    return s.to_dict()


@operator.delete("/silences/{silence_id}", summary="Expire a silence now")
def expire_silence(request: Request, silence_id: str) -> dict[str, Any]:
    if not 1 <= len(silence_id) <= 36:
        raise UsageError("silence id: 1 to 36 characters")
    with writing(request) as w:
        try:
            s = silences.expire(w.conn, silence_id, w.now)
        except UsageError as e:
            raise ApiError(404 if "no silence" in str(e) else 409, str(e)) from None
        w.audit("silence.expire", s.id)
    return s.to_dict()

