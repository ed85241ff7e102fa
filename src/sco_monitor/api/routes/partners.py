"""Partner centres' assessments: posted with a `partner` token, read with any."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Query, Request

from sco_monitor.api import queries
from sco_monitor.api.bodies import PartnerAssessmentIn
from sco_monitor.api.errors import ApiError
from sco_monitor.api.routes import ctx_of, router
from sco_monitor.api.routes.assessments import From, To, _order
from sco_monitor.api.routes.writes import writing
from sco_monitor.store import partners as views

read = router("read", "partner assessments")
partner = router("partner", "partner assessments")


@partner.post("/partner-assessments", status_code=201, summary="Post a partner centre's assessment")
def post_assessment(request: Request, body: PartnerAssessmentIn) -> dict[str, Any]:
    if body.country not in queries.known_countries(ctx_of(request).config):
        raise ApiError(422, f"body.country: {body.country!r} is neither WLD, an SCO member nor a country of the catalog")
    f = body.forecast
    with writing(request) as w:
        view = views.add(w.conn, author=w.principal.name, country=body.country, level=body.level, text=body.text,
                         now=w.now, episode=body.episode, forecast_level=f.level if f else None,
                         forecast_horizon_days=f.horizon_days if f else None, forecast_text=f.text if f else None)
        w.audit("partner_assessment.create", view.id, {"country": view.country, "level": view.level})
    return view.to_dict()


@read.get("/partner-assessments", summary="Partner assessments, newest first")
def list_assessments(
    request: Request, start: From = None, end: To = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    _order(start, end)
    tz = ZoneInfo(ctx_of(request).config.settings.timezone)
    found = views.read(ctx_of(request).store.engine, country=country.upper() if country else None, author=author,
                       since=_edge(start, tz), until=_edge(end + timedelta(days=1) if end else None, tz))
    rows = [v.to_dict() for v in reversed(found)]
    return {"partner_assessments": rows, "count": len(rows)}


def _edge(day: date | None, tz: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time(), tz) if day is not None else None
