"""Coverage of the catalog and freshness of the stored data."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request

from sco_monitor.api import queries
from sco_monitor.api.routes import ctx_of, now_of, router

read = router("read", "data")


@read.get("/coverage", summary="Countries, kinds and series the catalog covers, and which have data")
def coverage(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    return queries.coverage(ctx.store, ctx.config)


@read.get("/freshness", summary="Each series' last stored date against the staleness its frequency allows")
def freshness(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    today = now_of(request).astimezone(ZoneInfo(ctx.config.settings.timezone)).date()
    return queries.freshness(ctx.store, ctx.config, today)
