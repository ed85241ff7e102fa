"""The ASGI app: /api/v1 (every route behind a scoped token), its OpenAPI schema and docs page,
and, when the daemon serves it, /healthz and /metrics exactly as before.

Public, without a token: /api/v1/openapi.json and /api/v1/docs (the contract, no data),
/healthz, /metrics and /. Everything else under /api/v1 needs a token (see `scopes`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sco_monitor import __version__
from sco_monitor.api import errors
from sco_monitor.api.docs import docs_page
from sco_monitor.api.limits import BodyLimit
from sco_monitor.api.routes import admin, alerts, assessments, data, notes, partners, reports, track
from sco_monitor.context import Context
from sco_monitor.logs import get_logger
from sco_monitor.timeutil import utcnow

PREFIX = "/api/v1"
OPENAPI_URL = f"{PREFIX}/openapi.json"
DOCS_URL = f"{PREFIX}/docs"
#: Largest request body accepted (bytes); a partner's text is at most 5000 characters.
MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = frozenset({OPENAPI_URL, DOCS_URL, "/healthz", "/metrics", "/"})

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[], tuple[bytes, str]]

ROUTERS = [
    assessments.read, alerts.read, alerts.operator, reports.read, track.read, data.read,
    partners.read, partners.partner, notes.read, notes.operator, admin.admin,
]
log = get_logger("sco_monitor.api")


def route_table() -> list[tuple[str, str, str]]:
    """(method, path, scope) of every API route, from the routers themselves."""
    return [(m, PREFIX + route.path, r.scope) for r in ROUTERS for route in r.routes
            if isinstance(route, APIRoute) for m in sorted(route.methods)]


def create_app(
    ctx: Context,
    *,
    health: HealthFn | None = None,
    metrics: MetricsFn | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The API over this context's store and config; `health`/`metrics` add the daemon's endpoints."""
    app = FastAPI(
        title="sco-monitor API",
        version=__version__,
        description="The assessment, alerts, reports and track record of sco-monitor, and what partner centres "
                    "and operators add to them. Send `Authorization: Bearer <token>`; each route names its scope.",
        openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None,
    )
    app.state.ctx, app.state.clock = ctx, clock
    errors.install(app)
    for r in ROUTERS:
        app.include_router(r, prefix=PREFIX)

    @app.get(DOCS_URL, include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.openapi()))

    if health is not None:
        def healthz(_: Request) -> Response:
            code, doc = health()
            return Response(json.dumps(doc, indent=1).encode(), status_code=code, media_type="application/json",
                            headers={"Cache-Control": "no-store"})

        app.add_route("/healthz", healthz, methods=["GET", "HEAD"], include_in_schema=False)
    if metrics is not None:
        def metrics_page(_: Request) -> Response:
            data, ctype = metrics()
            return Response(data, media_type=ctype, headers={"Cache-Control": "no-store"})

        app.add_route("/metrics", metrics_page, methods=["GET", "HEAD"], include_in_schema=False)

    def root(_: Request) -> Response:
        return PlainTextResponse(f"sco-monitor daemon: /healthz /metrics {DOCS_URL}\n", headers={"Cache-Control": "no-store"})

    app.add_route("/", root, methods=["GET", "HEAD"], include_in_schema=False)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(_AccessLog)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                         routes=app.routes)
    return app.openapi_schema


class _AccessLog:
    """One `api_request` line per request: method, path, status, token name. Never a header, so
    never a token."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            state = scope.get("state") or {}
            principal = state.get("principal")
            fields: dict[str, Any] = {
                "method": scope["method"], "path": scope["path"], "status": status["code"],
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "token": principal.name if principal else None,
            }
            if state.get("auth_failure"):
                fields["auth"] = state["auth_failure"]
            (log.debug if scope["path"] in ("/healthz", "/metrics") else log.info)("api_request", **fields)
