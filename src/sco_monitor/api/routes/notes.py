"""Analyst notes: an operator's remark on a country, an alert, a date or the whole picture."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import select

from sco_monitor.api.bodies import NoteIn
from sco_monitor.api.plain import plain
from sco_monitor.api.routes import ctx_of, router
from sco_monitor.api.routes.writes import writing
from sco_monitor.store import schema as t

read = router("read", "notes")
operator = router("operator", "notes")


@operator.post("/notes", status_code=201, summary="Add an analyst note")
def add_note(request: Request, body: NoteIn) -> dict[str, Any]:
    with writing(request) as w:
        row = {"id": str(uuid.uuid4()), "author": w.principal.name, "subject": body.subject, "text": body.text,
               "created_at": w.now}
        w.conn.execute(t.analyst_notes.insert().values(**row))
        w.audit("note.create", row["id"], {"subject": body.subject})
    return plain(row)


@read.get("/notes", summary="Analyst notes, newest first")
def list_notes(request: Request, subject: Annotated[str | None, Query(max_length=128)] = None) -> dict[str, Any]:
    n = t.analyst_notes
    stmt = select(n).order_by(n.c.created_at.desc()).limit(500)
    if subject:
        stmt = stmt.where(n.c.subject == subject)
    with ctx_of(request).store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return plain({"notes": rows, "count": len(rows)})
