"""The audit log: one row per write (who, what, when, target), in the write's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from sco_monitor.store import schema

t = schema.audit_log


def record(conn: Connection, *, actor: str, scope: str, action: str, target: str, now: datetime,
           detail: dict[str, Any] | None = None) -> None:
    conn.execute(t.insert().values(at=now, actor=actor, scope=scope, action=action, target=target,
                                   detail=detail or {}))


def read(engine: Engine, *, actor: str | None = None, action: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first."""
    stmt = select(t).order_by(t.c.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(t.c.actor == actor)
    if action:
        stmt = stmt.where(t.c.action == action)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
