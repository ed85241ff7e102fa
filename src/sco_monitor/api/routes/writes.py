"""A write and its audit row in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Connection

from sco_monitor.api import audit
from sco_monitor.api.auth import Principal
from sco_monitor.api.routes import ctx_of, now_of
from sco_monitor.logs import get_logger

log = get_logger("sco_monitor.api")


class Write:
    """What a write route has at hand: who, when, and the open transaction."""

    def __init__(self, conn: Connection, principal: Principal, now: datetime) -> None:
        self.conn, self.principal, self.now = conn, principal, now

    def audit(self, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        audit.record(self.conn, actor=self.principal.name, scope=self.principal.scope, action=action,
                     target=target, now=self.now, detail=detail)
        log.info("api_write", action=action, target=target, actor=self.principal.name)


@contextmanager
def writing(request: Request) -> Iterator[Write]:
    principal: Principal = request.state.principal
    with ctx_of(request).store.engine.begin() as conn:
        yield Write(conn, principal, now_of(request))
