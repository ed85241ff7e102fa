"""The saved assessment of a day, and the stress index and crisis probability over time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request

from sco_monitor import results
from sco_monitor.api import queries
from sco_monitor.api.errors import ApiError
from sco_monitor.api.plain import plain
from sco_monitor.api.routes import ctx_of, router

read = router("read", "assessments")
From = Annotated[date | None, Query(alias="from", description="First date, YYYY-MM-DD")]
To = Annotated[date | None, Query(alias="to", description="Last date, YYYY-MM-DD")]


@read.get("/assessments", summary="Days with a saved assessment")
def assessment_days(request: Request, start: From = None, end: To = None) -> dict[str, Any]:
    _order(start, end)
    days = queries.assessed_days(ctx_of(request).store, start, end)
    return {"days": [d.isoformat() for d in days], "count": len(days)}


@read.get("/assessments/latest", summary="The newest saved assessment")
def latest(request: Request) -> dict[str, Any]:
    store = ctx_of(request).store
    day = queries.latest_day(store)
    found = queries.saved_assessment(store, day) if day else None
    if found is None:
        raise ApiError(404, "no assessment saved yet; run `sco-monitor assess` or let the daemon's cycle run")
    return found


@read.get("/assessments/{day}", summary="The assessment saved for a date")
def on_day(request: Request, day: date) -> dict[str, Any]:
    found = queries.saved_assessment(ctx_of(request).store, day)
    if found is None:
        raise ApiError(404, f"no assessment saved for {day}; GET /api/v1/assessments lists the days")
    return found


@read.get("/stress-index", summary="Stress index history")
def stress_history(
    request: Request, start: From = None, end: To = None,
    scope: Annotated[list[str] | None, Query(description="WLD or a country (alpha-3); repeat for several",
                                             max_length=50)] = None,
) -> dict[str, Any]:
    _order(start, end)
    frame = results.read_stress(ctx_of(request).store, [s.upper() for s in scope or []], start, end)
    rows = [{"scope": r.scope, "date": r.date.date(), "value": r.value, "level": r.level, "segments": r.segments}
            for r in frame.itertuples(index=False)]
    return plain({"rows": rows, "count": len(rows)})


@read.get("/crisis-probability", summary="Crisis probability history")
def probability_history(
    request: Request, start: From = None, end: To = None,
    scope: Annotated[list[str] | None, Query(description="Country (alpha-3) or WLD; repeat for several",
                                             max_length=50)] = None,
    horizon: Annotated[int | None, Query(ge=1, le=1000, description="Only this horizon (trading days)")] = None,
) -> dict[str, Any]:
    _order(start, end)
    frame = results.read_probability(ctx_of(request).store, [s.upper() for s in scope or []], start, end, horizon)
    rows = [{"country": r.country, "date": r.date.date(), "horizon": r.horizon, "probability": r.probability}
            for r in frame.itertuples(index=False)]
    return plain({"rows": rows, "count": len(rows)})


def _order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise ApiError(400, f"from {start} is after to {end}")
