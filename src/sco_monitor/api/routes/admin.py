"""For admins: the audit log of writes and the list of tokens (names and scopes, never secrets)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from sco_monitor.api import audit, tokens
from sco_monitor.api.plain import plain
from sco_monitor.api.routes import ctx_of, router

admin = router("admin", "admin")


@admin.get("/audit", summary="The audit log, newest first")
def audit_log(
    request: Request,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    rows = audit.read(ctx_of(request).store.engine, actor=actor, action=action, limit=limit)
    return plain({"entries": rows, "count": len(rows)})


@admin.get("/tokens", summary="API tokens: name, scope, created, revoked")
def list_tokens(request: Request) -> dict[str, Any]:
    found = tokens.list_tokens(ctx_of(request).store.engine)
    return {"tokens": [i.to_dict() for i in found], "count": len(found)}
