"""What the read routes serve, read from the store as plain JSON-ready data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from sco_monitor.api.plain import plain
from sco_monitor.catalog import SCO_MEMBERS
from sco_monitor.config import AppConfig
from sco_monitor.reports.numbers import level_rank
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.vocabulary import STALE_AFTER_DAYS, WORLD, is_stale


def assessed_days(store: Store, start: date | None = None, end: date | None = None) -> list[date]:
    """Days with saved results (rule evaluations or a stress index), oldest first."""
    r, s = t.rule_evaluations, t.stress_index
    out: set[date] = set()
    with store.engine.connect() as conn:
        for col in (r.c.as_of, s.c.date):
            stmt = select(col).distinct()
            if start is not None:
                stmt = stmt.where(col >= start)
            if end is not None:
                stmt = stmt.where(col <= end)
            out |= {row[0] for row in conn.execute(stmt)}
    return sorted(out)


def latest_day(store: Store) -> date | None:
    r, s = t.rule_evaluations, t.stress_index
    with store.engine.connect() as conn:
        days = [conn.execute(select(func.max(r.c.as_of))).scalar(), conn.execute(select(func.max(s.c.date))).scalar()]
    days = [d for d in days if d is not None]
    return max(days) if days else None


def saved_assessment(store: Store, day: date) -> dict[str, Any] | None:
    """The assessment as saved for `day`: stress index, crisis probability, rule evaluations and
    indicator values of that date; None when nothing was saved for it."""
    s, p, r, iv = t.stress_index, t.crisis_probability, t.rule_evaluations, t.indicator_values
    with store.engine.connect() as conn:
        stress = conn.execute(select(s.c.scope, s.c.value, s.c.level, s.c.segments, s.c.details)
                              .where(s.c.date == day).order_by(s.c.scope)).mappings().all()
        prob = conn.execute(select(p.c.country, p.c.horizon, p.c.probability, p.c.details)
                            .where(p.c.date == day).order_by(p.c.country, p.c.horizon)).mappings().all()
        rules = conn.execute(select(r.c.fingerprint, r.c.rule, r.c.kind, r.c.labels, r.c.value, r.c.threshold,
                                    r.c.severity, r.c.summary, r.c.details)
                             .where(r.c.as_of == day).order_by(r.c.rule, r.c.fingerprint)).mappings().all()
        indicators = conn.execute(select(iv.c.series_id, iv.c.indicator, iv.c.value)
                                  .where(iv.c.date == day).order_by(iv.c.series_id, iv.c.indicator)).mappings().all()
    if not (stress or prob or rules):
        return None
    scopes = [x for x in stress if x["scope"] == WORLD or x["scope"] in SCO_MEMBERS]
    worst = max((x["level"] for x in scopes if x["level"]), key=level_rank, default=None)
    counts: dict[str, int] = {}
    for x in rules:
        counts[x["severity"]] = counts.get(x["severity"], 0) + 1
    return plain({
        "as_of": day,
        "overall_level": worst,
        "rule_counts": counts,
        "stress_index": [dict(x) for x in stress],
        "crisis_probability": [dict(x) for x in prob],
        "rules": [dict(x) for x in rules],
        "indicators": [dict(x) for x in indicators],
    })


def coverage(store: Store, config: AppConfig) -> dict[str, Any]:
    """Which countries and kinds the catalog covers and how much of it has data."""
    o = t.observations
    with store.engine.connect() as conn:
        stats = {row[0]: row[1:] for row in conn.execute(
            select(o.c.series_id, func.min(o.c.date), func.max(o.c.date), func.count()).group_by(o.c.series_id))}
    series = []
    for s in config.universe.series:
        first, last, n = stats.get(s.id, (None, None, 0))
        series.append({"id": s.id, "name": s.name, "country": s.country, "kind": s.kind, "source": s.source,
                       "frequency": s.frequency, "enabled": s.enabled, "first_date": first, "last_date": last,
                       "observations": int(n)})
    countries: dict[str, dict[str, Any]] = {}
    for row in series:
        c = countries.setdefault(row["country"], {"country": row["country"], "member": row["country"] in SCO_MEMBERS,
                                                   "series": 0, "with_data": 0, "kinds": set()})
        c["series"] += 1
        c["with_data"] += int(row["observations"] > 0)
        c["kinds"].add(row["kind"])
    members_missing = [m for m in SCO_MEMBERS if m not in countries]
    return plain({
        "series_total": len(series),
        "series_with_data": sum(1 for r in series if r["observations"] > 0),
        "countries": [{**c, "kinds": sorted(c["kinds"])} for c in countries.values()],
        "members_without_series": members_missing,
        "series": series,
    })


def freshness(store: Store, config: AppConfig, today: date) -> dict[str, Any]:
    """Each enabled series' last stored date against the staleness allowed for its frequency
    (after its publication lag)."""
    last = store.last_dates([s.id for s in config.universe.enabled()])
    rows = []
    for s in config.universe.enabled():
        d = last.get(s.id)
        age = (today - timedelta(days=s.publication_lag_days) - d).days if d is not None else None
        allowed = STALE_AFTER_DAYS.get(s.frequency, STALE_AFTER_DAYS["B"])
        status = "no_data" if d is None else ("stale" if is_stale(s.frequency, s.publication_lag_days, d, today) else "fresh")
        rows.append({"series_id": s.id, "frequency": s.frequency, "last_date": d, "age_days": age,
                     "stale_after_days": allowed, "publication_lag_days": s.publication_lag_days, "status": status})
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return plain({"as_of": today, "counts": counts, "series": rows})


def known_countries(config: AppConfig) -> set[str]:
    """Where a partner or a note may point: the members, the world, and every catalog country."""
    return {WORLD, *SCO_MEMBERS, *(s.country for s in config.universe.series)}

