"""Stored assessment results as frames: stress index, crisis probability, rule evaluations, alert history.

What the daemon and the replay save, read back for the track record and for `sco-monitor export`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Date, Select, func, insert, literal, select

from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.export import parse_range, write_frame
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.vocabulary import WORLD


def label_country(labels: dict[str, Any] | None) -> str:
    """The country an evaluation or alert is about: its country label, else its scope, else WLD."""
    labels = labels or {}
    return str(labels.get("country") or labels.get("scope") or WORLD)


def _between(stmt: Select, col: Any, start: date | None, end: date | None) -> Select:
    if start is not None:
        stmt = stmt.where(col >= start)
    if end is not None:
        stmt = stmt.where(col <= end)
    return stmt


def _frame(store: Store, stmt: Select, columns: list[str]) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=columns)
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame


def read_stress(store: Store, scopes: Sequence[str] | None = None, start: date | None = None,
                end: date | None = None) -> pd.DataFrame:
    """scope, date, value, level, segments (dict)."""
    s = t.stress_index
    stmt = select(s.c.scope, s.c.date, s.c.value, s.c.level, s.c.segments)
    if scopes:
        stmt = stmt.where(s.c.scope.in_(list(scopes)))
    stmt = _between(stmt, s.c.date, start, end).order_by(s.c.scope, s.c.date)
    return _frame(store, stmt, ["scope", "date", "value", "level", "segments"])


def read_probability(store: Store, countries: Sequence[str] | None = None, start: date | None = None,
                     end: date | None = None, horizon: int | None = None) -> pd.DataFrame:
    """country, date, horizon, probability, details (dict)."""
    p = t.crisis_probability
    stmt = select(p.c.country, p.c.date, p.c.horizon, p.c.probability, p.c.details)
    if countries:
        stmt = stmt.where(p.c.country.in_(list(countries)))
    if horizon is not None:
        stmt = stmt.where(p.c.horizon == horizon)
    stmt = _between(stmt, p.c.date, start, end).order_by(p.c.country, p.c.horizon, p.c.date)
    return _frame(store, stmt, ["country", "date", "horizon", "probability", "details"])


def read_breaches(store: Store, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Rule evaluations at warn or critical: date, fingerprint, rule, country, severity, labels."""
    r = t.rule_evaluations
    stmt = select(r.c.as_of, r.c.fingerprint, r.c.rule, r.c.severity, r.c.labels).where(
        r.c.severity.in_(["warn", "critical"]))
    frame = _frame(store, _between(stmt, r.c.as_of, start, end),
                   ["date", "fingerprint", "rule", "severity", "labels"])
    frame["country"] = [label_country(lb) for lb in frame["labels"]]
    return frame


def evaluation_days(store: Store, start: date | None = None, end: date | None = None) -> list[date]:
    """Days on which rules were evaluated and saved."""
    r = t.rule_evaluations
    stmt = _between(select(r.c.as_of).distinct(), r.c.as_of, start, end).order_by(r.c.as_of)
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(stmt).all()]


def watched(store: Store, day: date) -> dict[str, list[str]]:
    """rule → countries it evaluated on `day` (what each rule watches)."""
    r = t.rule_evaluations
    with store.engine.connect() as conn:
        rows = conn.execute(select(r.c.rule, r.c.labels).where(r.c.as_of == day)).all()
    out: dict[str, set[str]] = {}
    for rule, labels in rows:
        out.setdefault(rule, set()).add(label_country(labels))
    return {k: sorted(v) for k, v in out.items()}


def last_observation(store: Store) -> date | None:
    o = t.observations
    with store.engine.connect() as conn:
        return conn.execute(select(func.max(o.c.date))).scalar()


# --- alert history -------------------------------------------------------------------------------
def record_alert_history(store: Store, day: date) -> int:
    """Copy the alerts pending or firing now into the history under `day`; returns how many.

    One INSERT ... SELECT in the database: the rows never travel through Python (nor their labels
    through JSON and back), the day's earlier copy deleted first."""
    a, h = t.alerts, t.alert_history
    copied = ["fingerprint", "rule", "labels", "state", "severity", "value", "threshold", "summary"]
    active = select(literal(day, Date()), *(a.c[c] for c in copied)).where(a.c.state.in_(["pending", "firing"]))
    with store.engine.begin() as conn:
        conn.execute(h.delete().where(h.c.date == day))
        return len(conn.execute(insert(h).from_select(["date", *copied], active).returning(h.c.fingerprint)).all())


def read_alert_history(store: Store, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    h = t.alert_history
    cols = ["date", "fingerprint", "rule", "state", "severity", "value", "threshold", "summary", "labels"]
    stmt = select(*(h.c[c] for c in cols))
    stmt = _between(stmt, h.c.date, start, end).order_by(h.c.date, h.c.rule, h.c.fingerprint)
    frame = _frame(store, stmt, cols)
    frame.insert(3, "country", [label_country(lb) for lb in frame["labels"]])
    frame.insert(4, "series", [str((lb or {}).get("series", "")) for lb in frame["labels"]])
    return frame


# --- export ----------------------------------------------------------------------------------------
def _json_cells(frame: pd.DataFrame, columns: Sequence[str], fmt: str) -> pd.DataFrame:
    """Nested dicts stay nested in JSON and become compact JSON text in CSV."""
    if fmt == "csv":
        for c in columns:
            frame[c] = [json.dumps(v, sort_keys=True, separators=(",", ":")) for v in frame[c]]
    return frame


def _known(kind: str, option: str, asked: Sequence[str], stored: Sequence[str]) -> None:
    missing = [x for x in asked if x not in stored]
    if missing:
        have = ", ".join(stored) if stored else "none yet (run `sco-monitor assess`, `cycle` or `replay`)"
        raise UsageError(f"{option}: no {kind} stored for {', '.join(map(repr, missing))}; stored: {have}")


def _distinct(store: Store, col: Any) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(str(v) for (v,) in conn.execute(select(col).distinct()).all())


def export_stress(ctx: Context, scopes: Sequence[str], start: str | None, end: str | None, fmt: str,
                  out: Path | None) -> None:
    """scope, date, value, level and one column per segment."""
    a, b = parse_range(start, end)
    scopes = [s.upper() for s in scopes]
    _known("stress index", "--scope", scopes, _distinct(ctx.store, t.stress_index.c.scope))
    frame = read_stress(ctx.store, scopes, a, b)
    seg = pd.DataFrame([s or {} for s in frame["segments"]], index=frame.index)
    seg.columns = [f"segment_{c}" for c in seg.columns]
    write_frame(pd.concat([frame.drop(columns="segments"), seg.sort_index(axis=1)], axis=1), fmt, out)


def export_probability(ctx: Context, countries: Sequence[str], start: str | None, end: str | None,
                       horizon: int | None, fmt: str, out: Path | None) -> None:
    """country, date, horizon, probability, details."""
    a, b = parse_range(start, end)
    countries = [c.upper() for c in countries]
    _known("crisis probability", "--country", countries, _distinct(ctx.store, t.crisis_probability.c.country))
    frame = read_probability(ctx.store, countries, a, b, horizon)
    write_frame(_json_cells(frame, ["details"], fmt), fmt, out)


def export_alerts(ctx: Context, start: str | None, end: str | None, countries: Sequence[str],
                  rules: Sequence[str], fmt: str, out: Path | None) -> None:
    """One row per alert and day it was pending or firing."""
    a, b = parse_range(start, end)
    frame = read_alert_history(ctx.store, a, b)
    if countries:
        frame = frame[frame["country"].isin([c.upper() for c in countries])]
    if rules:
        known = {r.name for r in ctx.config.rules.rules} | set(frame["rule"])
        unknown = [r for r in rules if r not in known]
        if unknown:
            raise UsageError(f"--rule: unknown rule {', '.join(map(repr, unknown))}")
        frame = frame[frame["rule"].isin(list(rules))]
    write_frame(_json_cells(frame.reset_index(drop=True), ["labels"], fmt), fmt, out)
