"""The daily reports the store recorded (`reports` table): a list, and one report as JSON or HTML."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from sqlalchemy import select

from sco_monitor.api.errors import ApiError
from sco_monitor.api.routes import ctx_of, router
from sco_monitor.store import schema as t

read = router("read", "reports")


@read.get("/reports", summary="Reports written, newest first")
def list_reports(request: Request) -> dict[str, Any]:
    r = t.reports
    with ctx_of(request).store.engine.connect() as conn:
        rows = conn.execute(select(r.c.as_of, r.c.format, r.c.checksum, r.c.generated_at)
                            .order_by(r.c.as_of.desc(), r.c.format)).all()
    days: dict[date, dict[str, Any]] = {}
    for as_of, fmt, checksum, generated in rows:
        d = days.setdefault(as_of, {"as_of": as_of.isoformat(), "formats": {}, "generated_at": generated.isoformat()})
        d["formats"][fmt] = {"sha256": checksum, "url": f"/api/v1/reports/{as_of.isoformat()}/{fmt}"}
    return {"reports": list(days.values()), "count": len(days)}


def _file(request: Request, day: date, fmt: str) -> str:
    r = t.reports
    with ctx_of(request).store.engine.connect() as conn:
        path = conn.execute(select(r.c.path).where(r.c.as_of == day, r.c.format == fmt)).scalar()
    if path is None:
        raise ApiError(404, f"no {fmt} report recorded for {day}; GET /api/v1/reports lists them")
    try:  # only paths the report writer recorded are ever read
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ApiError(410, f"the {fmt} report for {day} was recorded but its file is gone ({e.strerror})") from None


@read.get("/reports/{day}/json", summary="One report as JSON (report.schema.json)")
def report_json(request: Request, day: date) -> JSONResponse:
    try:
        return JSONResponse(json.loads(_file(request, day, "json")))
    except ValueError:
        raise ApiError(500, f"the JSON report for {day} is unreadable") from None


@read.get("/reports/{day}/html", summary="One report as self-contained HTML", response_class=HTMLResponse)
def report_html(request: Request, day: date) -> HTMLResponse:
    return HTMLResponse(_file(request, day, "html"))


@read.get("/reports/{day}/md", summary="One report as Markdown", response_class=PlainTextResponse)
def report_md(request: Request, day: date) -> PlainTextResponse:
    return PlainTextResponse(_file(request, day, "md"), media_type="text/markdown; charset=utf-8")
