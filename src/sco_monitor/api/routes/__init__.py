"""The API's routes, one module per concept; each router carries the scope its routes need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from sco_monitor.api.auth import RequireScope
from sco_monitor.context import Context


class ScopedRouter(APIRouter):
    """Every route needs a token of `scope` (or higher); the schema says so (`x-scope`)."""

    def __init__(self, scope: str, tag: str) -> None:
        super().__init__(dependencies=[Depends(RequireScope(scope))], tags=[tag])
        self.scope = scope

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "x-scope": self.scope}
        kwargs["description"] = f"Needs a token of scope `{self.scope}` or higher. {kwargs.get('description') or ''}"
        super().add_api_route(path, endpoint, **kwargs)


def router(scope: str, tag: str) -> ScopedRouter:
    return ScopedRouter(scope, tag)


def ctx_of(request: Request) -> Context:
    return request.app.state.ctx


def now_of(request: Request) -> datetime:
    """The app's clock (UTC): real time in the daemon, a fixed one in tests."""
    return request.app.state.clock()
