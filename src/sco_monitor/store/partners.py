"""Partner centres' assessments in the store: written by the API, read by the report and the track record."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from sco_monitor.store import schema

t = schema.partner_assessments


@dataclass(frozen=True)
class PartnerView:
    id: str
    author: str
    country: str
    level: str
    text: str
    created_at: datetime
    episode: str | None = None
    forecast_level: str | None = None
    forecast_horizon_days: int | None = None
    forecast_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d


def add(conn: Connection, *, author: str, country: str, level: str, text: str, now: datetime,
        episode: str | None = None, forecast_level: str | None = None,
        forecast_horizon_days: int | None = None, forecast_text: str | None = None) -> PartnerView:
    view = PartnerView(id=str(uuid.uuid4()), author=author, country=country, level=level, text=text,
                       created_at=now, episode=episode, forecast_level=forecast_level,
                       forecast_horizon_days=forecast_horizon_days, forecast_text=forecast_text)
    conn.execute(t.insert().values(**asdict(view)))
    return view


def read(engine: Engine, *, country: str | None = None, author: str | None = None,
         since: datetime | None = None, until: datetime | None = None) -> list[PartnerView]:
    """Views posted in [since, until], oldest first."""
    stmt = select(t).order_by(t.c.created_at, t.c.id)
    if country:
        stmt = stmt.where(t.c.country == country)
    if author:
        stmt = stmt.where(t.c.author == author)
    if since is not None:
        stmt = stmt.where(t.c.created_at >= since)
    if until is not None:
        stmt = stmt.where(t.c.created_at <= until)
    with engine.connect() as conn:
        return [PartnerView(**dict(r)) for r in conn.execute(stmt).mappings()]


def current(views: list[PartnerView]) -> list[PartnerView]:
    """Each author's latest view of each country (and episode), newest first."""
    latest: dict[tuple[str, str, str | None], PartnerView] = {}
    for v in views:  # oldest first, so the last one wins
        latest[(v.author, v.country, v.episode)] = v
    return sorted(latest.values(), key=lambda v: v.created_at, reverse=True)


#: Calendar days a partner's view stays in the report after it was posted.
REPORT_WINDOW_DAYS = 30


def current_views(engine: Engine, as_of: date, now: datetime, timezone: str) -> list[PartnerView]:
    """What the report of `as_of` shows: each author's latest view per country posted in the
    REPORT_WINDOW_DAYS up to the end of as_of (local time), and not after `now`."""
    tz = ZoneInfo(timezone)
    end = min(now, datetime.combine(as_of + timedelta(days=1), time(), tz))
    return current(read(engine, since=end - timedelta(days=REPORT_WINDOW_DAYS), until=end))
