"""What the report reads besides the assessment: the only IO of building a report.

Everything here is read point-in-time (nothing dated after as_of) and handed to the pure
`build.build_report` as plain data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select

from sco_monitor.assess.cooperation import is_trade_series
from sco_monitor.assess.model import Assessment, VarBacktest
from sco_monitor.assess.pipeline import point_in_time
from sco_monitor.config import AppConfig
from sco_monitor.logs import get_logger
from sco_monitor.reports.outlook import MODEL, outlook_targets, projection_series
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.store.partners import PartnerView, current_views
from sco_monitor.store.model_states import load_states
from sco_monitor.timeutil import to_date
from sco_monitor.vocabulary import WORLD

log = get_logger(__name__)

DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Calendar days of bilateral trade read for the cooperation section (three years and the year before).
TRADE_HISTORY_DAYS = 4 * 366
#: Calendar days of observations shown before a forecast in its fan chart (about three horizons).
FAN_HISTORY_DAYS = 92
#: Days of every scope's stress history read (the one-year charts and the day before); the world's is read whole.
STRESS_RECENT_DAYS = 370
#: Calendar days of stored nowcasts and of the targets' history read for the outlook section.
OUTLOOK_HISTORY_DAYS = 10 * 366
#: Failed notifications older than this no longer appear in the report.
FAILED_NOTIFICATIONS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class PreviousReport:
    as_of: date
    generated_at: datetime | None
    data: dict[str, Any]


@dataclass(frozen=True)
class ReportInputs:
    """Store reads and the previous report, as plain data."""

    stress_history: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["scope", "date", "value", "level"])
    )
    observations: pd.DataFrame = field(default_factory=pd.DataFrame)
    last_dates: dict[str, date] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alerts_recorded: bool = False
    silences: list[dict[str, Any]] = field(default_factory=list)
    failed_collections: list[dict[str, Any]] = field(default_factory=list)
    failed_notifications: list[dict[str, Any]] = field(default_factory=list)
    previous: PreviousReport | None = None
    since: datetime | None = None
    partner_views: list[PartnerView] = field(default_factory=list)
    var_backtests: list[VarBacktest] = field(default_factory=list)
    trade: pd.DataFrame = field(default_factory=pd.DataFrame)  # bilateral + world exports, point in time
    nowcast_history: pd.DataFrame = field(default_factory=pd.DataFrame)  # stored dfm forecasts, one row per step
    outlook_observations: pd.DataFrame = field(default_factory=pd.DataFrame)  # nowcast targets + projections, point in time


def find_previous(out_dir: Path, as_of: date) -> PreviousReport | None:
    """The newest report.json written for a date before as_of, if any is readable."""
    if not out_dir.is_dir():
        return None
    days = sorted((p for p in out_dir.iterdir() if p.is_dir() and DAY_DIR.match(p.name)), reverse=True)
    for day in days:
        d = date.fromisoformat(day.name)
        # report.json, else a report written only in other languages (report.ru.json): the numbers are the same
        path = next((p for p in (day / "report.json", *sorted(day.glob("report.*.json"))) if p.is_file()), None)
        if d >= as_of or path is None:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.warning("report_previous_unreadable", path=str(path), error=str(e))
            continue
        generated = data.get("generated_at")
        try:
            gen = datetime.fromisoformat(generated) if isinstance(generated, str) else None
        except ValueError:
            gen = None
        return PreviousReport(as_of=d, generated_at=gen, data=data)
    return None


def read_inputs(
    store: Store,
    config: AppConfig,
    assessment: Assessment,
    now: datetime,
    out_dir: Path,
    fan_series: list[str],
) -> ReportInputs:
    """Read, as of assessment.as_of and at `now`, everything the report shows besides the assessment."""
    as_of = assessment.as_of
    previous = find_previous(out_dir, as_of)
    since = previous.generated_at if previous and previous.generated_at else now - timedelta(days=1)
    with store.engine.connect() as conn:
        s = t.stress_index
        cols = (s.c.scope, s.c.date, s.c.value, s.c.level)
        recent = as_of - timedelta(days=STRESS_RECENT_DAYS)
        stress_rows = conn.execute(  # every scope's last year, and the world's whole history for the long chart
            select(*cols).where(s.c.date <= as_of, or_(s.c.date >= recent, s.c.scope == WORLD))
            .order_by(s.c.scope, s.c.date)
        ).all()
        o = t.observations
        by_lag: dict[int, list[str]] = {}
        for sid, series in config.series.items():
            by_lag.setdefault(series.publication_lag_days, []).append(sid)
        last: list[Any] = []
        for lag, ids in by_lag.items():  # a value is knowable only once its publication lag has passed
            last += conn.execute(
                select(o.c.series_id, func.max(o.c.date))
                .where(o.c.series_id.in_(ids), o.c.date <= as_of - timedelta(days=lag))
                .group_by(o.c.series_id)
            ).all()
        a = t.alerts
        recorded = conn.execute(select(func.count()).select_from(a)).scalar_one() > 0
        alert_rows = conn.execute(
            select(a).where(
                or_(
                    a.c.state.in_(["firing", "pending", "no_data"]),
                    and_(a.c.state == "resolved", a.c.ends_at >= since),
                )
            )
        ).mappings().all()
        si = t.silences
        silence_rows = conn.execute(
            select(si).where(si.c.starts_at <= now, si.c.ends_at > now)
        ).mappings().all()
        cr = t.collection_runs
        latest = (
            select(cr.c.series_id, func.max(cr.c.started_at).label("started_at"))
            .where(cr.c.started_at <= now)
            .group_by(cr.c.series_id)
            .subquery()
        )
        failed_runs = conn.execute(
            select(cr)
            .join(latest, and_(cr.c.series_id == latest.c.series_id, cr.c.started_at == latest.c.started_at))
            .where(cr.c.status == "failed")
            .order_by(cr.c.series_id)
        ).mappings().all()
        n = t.notifications
        failed_notes = conn.execute(
            select(n.c.receiver, n.c.kind, n.c.attempts, n.c.created_at, n.c.last_error)
            .where(n.c.status == "failed", n.c.created_at >= now - FAILED_NOTIFICATIONS_WINDOW)
            .order_by(n.c.created_at.desc())
            .limit(50)
        ).mappings().all()
    stress = pd.DataFrame(stress_rows, columns=["scope", "date", "value", "level"])
    if not stress.empty:
        stress["date"] = pd.to_datetime(stress["date"].astype(str))
    observations = pd.DataFrame()
    if fan_series:
        known = [sid for sid in fan_series if sid in config.series]
        if known:
            observations = store.load_frame(known, start=as_of - timedelta(days=FAN_HISTORY_DAYS), as_of=as_of)
    trade_ids = [s.id for s in config.series.values() if is_trade_series(s)]
    trade = pd.DataFrame()
    if trade_ids:
        trade = point_in_time(store.load_frame(trade_ids, start=as_of - timedelta(days=TRADE_HISTORY_DAYS), as_of=as_of),
                              config, as_of)
    history, outlook_obs = read_outlook(store, config, as_of, now)
    return ReportInputs(
        trade=trade,
        nowcast_history=history,
        outlook_observations=outlook_obs,
        partner_views=current_views(store.engine, as_of, now, config.settings.timezone),
        var_backtests=read_var_backtests(store, list(config.series), as_of),
        stress_history=stress,
        observations=observations,
        last_dates={sid: to_date(d) for sid, d in last if d is not None},
        alerts=[dict(r) for r in alert_rows],
        alerts_recorded=recorded,
        silences=[dict(r) for r in silence_rows],
        failed_collections=[dict(r) for r in failed_runs],
        failed_notifications=[dict(r) for r in failed_notes],
        previous=previous,
        since=since,
    )


def read_outlook(store: Store, config: AppConfig, as_of: date, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored DFM nowcasts of the panels' targets made by as_of (one row per step), the targets'
    observations as known at as_of, and their WEO projections as collected by `now` (the store keeps
    the latest vintage only)."""
    targets = [sid for sid in outlook_targets(config) if sid in config.series]
    if not targets:
        return pd.DataFrame(), pd.DataFrame()
    f = t.forecasts
    start = as_of - timedelta(days=OUTLOOK_HISTORY_DAYS)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(f.c.series_id, f.c.as_of, f.c.step, f.c.target_date, f.c.mean, f.c.lower, f.c.upper)
            .where(f.c.model == MODEL, f.c.series_id.in_(targets), f.c.as_of <= as_of, f.c.as_of >= start)
            .order_by(f.c.series_id, f.c.as_of, f.c.step)
        ).all()
    history = pd.DataFrame(rows, columns=["series_id", "as_of", "step", "target_date", "mean", "lower", "upper"])
    if not history.empty:
        history["as_of"] = [to_date(d) for d in history["as_of"]]
        history["target_date"] = [to_date(d) for d in history["target_date"]]
    obs = point_in_time(store.load_frame(targets, start=start, as_of=as_of), config, as_of)
    projections = [p for sid in targets if (p := projection_series(config, sid))]
    if projections:  # a projection is about later periods: known once collected, whatever date it is for
        o = t.observations
        with store.engine.connect() as conn:
            got = conn.execute(select(o.c.series_id, o.c.date, o.c.value).where(
                o.c.series_id.in_(projections), o.c.date >= start, o.c.fetched_at <= now)).all()
        if got:
            long = pd.DataFrame(got, columns=["series_id", "date", "value"])
            long["date"] = pd.to_datetime(long["date"].astype(str))
            obs = obs.join(long.pivot_table(index="date", columns="series_id", values="value"), how="outer")
    return history, obs


def read_var_backtests(store: Store, series_ids: list[str], as_of: date) -> list[VarBacktest]:
    """The VaR backtests the volatility models recorded at their last estimation, if it ends by as_of."""
    out = []
    for (sid, slot), state in sorted(load_states(store, series_ids).items()):
        var99 = ((state.get("metrics") or {}).get("backtest") or {}).get("var99") if slot == "volatility" else None
        if not var99:
            continue
        bt = VarBacktest.model_validate(var99)
        if bt.end is not None and bt.end <= as_of and bt.days:
            out.append(bt.model_copy(update={"series_id": sid}))
    return out
