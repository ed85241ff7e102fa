"""Partner views scored from the store: the IO around `score.score_partners`.

The calendar, the episodes and the horizon are the model's (`replay.track`), so a partner's
record can be read beside the model's rule by rule.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from sco_monitor import results
from sco_monitor.context import Context
from sco_monitor.partners.score import rule_name, score_partners
from sco_monitor.replay.track import DerivedEpisodes, country_episodes
from sco_monitor.store import partners as views_store

COLUMNS = ["author", "country", "day", "level", "forecast_level", "forecast_horizon_days"]


def views_frame(ctx: Context, until: date) -> pd.DataFrame:
    """Views posted up to the end of `until` (configured timezone), each on its local posting day."""
    tz = ZoneInfo(ctx.config.settings.timezone)
    end = datetime.combine(until + timedelta(days=1), time(), tz)
    rows = [
        {"author": v.author, "country": v.country, "day": v.created_at.astimezone(tz).date(), "level": v.level,
         "forecast_level": v.forecast_level, "forecast_horizon_days": v.forecast_horizon_days}
        for v in views_store.read(ctx.store.engine, until=end)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def partner_records(
    ctx: Context,
    start: date | None = None,
    end: date | None = None,
    known_until: date | None = None,
    horizon: int | None = None,
    derived: DerivedEpisodes | None = None,
) -> list[dict[str, Any]]:
    """One entry per partner: its views counted and its track record (as JSON), scored on the
    model's assessment days between start and end; empty while nothing is assessed or posted."""
    horizon = horizon or ctx.config.settings.assessment.crisis_horizon
    days = results.evaluation_days(ctx.store, start, end)
    if not days:
        return []
    known_until = known_until or max(results.last_observation(ctx.store) or days[-1], days[-1])
    views = views_frame(ctx, known_until)
    if views.empty:
        return []
    episodes = country_episodes(ctx, known_until, set(views["country"]), derived)
    records = score_partners(views, days=days, episodes=episodes, horizon=horizon, known_until=known_until)
    counts = views.groupby("author").size()
    return [
        {"author": author, "rule": rule_name(author), "views": int(counts[author]),
         "countries": sorted(set(views.loc[views["author"] == author, "country"])),
         "track_record": track.model_dump(mode="json")}
        for author, track in records.items()
    ]
