"""The track record: the model's warnings and every partner's views, scored against the same episodes."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request

from sco_monitor import results
from sco_monitor.api import queries
from sco_monitor.api.routes import ctx_of, router
from sco_monitor.api.routes.assessments import From, To, _order
from sco_monitor.partners.track import partner_records
from sco_monitor.replay.track import DerivedEpisodes, NothingToScore, track_record

read = router("read", "track record")


@read.get("/track-record", summary="How past warnings fared: the model's and each partner's")
def track(request: Request, start: From = None, end: To = None) -> dict[str, Any]:
    _order(start, end)
    ctx = ctx_of(request)
    days = queries.assessed_days(ctx.store, start, end)
    if not days:
        return {"available": False, "message": "no assessment results stored in the range; nothing to score",
                "model": None, "partners": []}
    known = max(results.last_observation(ctx.store) or days[-1], days[-1])
    derived = DerivedEpisodes(ctx, known)
    try:
        model: dict[str, Any] | None = track_record(ctx, start, end, known_until=known, derived=derived).model_dump(mode="json")
    except NothingToScore:
        model = None
    partners = partner_records(ctx, start, end, known_until=known, derived=derived)
    return {"available": model is not None, "outcomes_known_to": known.isoformat(),
            "message": _message(model, partners, days[0], days[-1]), "model": model, "partners": partners}


def _message(model: dict[str, Any] | None, partners: list[dict[str, Any]], first: date, last: date) -> str:
    if model is None:
        return "no assessment results to score"
    s = model["summary"]
    text = f"{first} .. {last}: {s['episodes']} episodes, {s['warned']} warned in time by the model"
    for p in partners:
        ps = p["track_record"]["summary"]
        text += f"; {p['author']}: {ps['warned']} of {ps['episodes']} ({p['views']} views)"
    return text
