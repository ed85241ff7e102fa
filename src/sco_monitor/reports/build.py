"""Build the report model from an assessment and what the store said (`inputs.read_inputs`).

`build_report` is pure: the same assessment, inputs and `now` give the same report, which the
HTML, Markdown and JSON renderings then show alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from sco_monitor import coverage, i18n
from sco_monitor.assess.model import Assessment, Forecast, RuleEvaluation
from sco_monitor.catalog import COVERAGE_KINDS, SCO_MEMBERS
from sco_monitor.config import AppConfig
from sco_monitor.i18n import N_, _, ngettext
from sco_monitor.reports.alerts import alert_items
from sco_monitor.reports.cooperation import cooperation_section
from sco_monitor.reports.outlook import outlook_section, record_reference
from sco_monitor.reports.breaches import BREACHING, breach_of, country_of, worst_first
from sco_monitor.reports.inputs import ReportInputs
from sco_monitor.reports.mistakes import mistakes_section
from sco_monitor.reports.model import (
    AlertsSection,
    Change,
    CountryRow,
    CoverageRow,
    DataQuality,
    Driver,
    FailedCollection,
    FailedNotification,
    ForecastItem,
    ForecastSection,
    JointPlan,
    Overall,
    PartnerItem,
    PartnerSection,
    Point,
    Previous,
    QualityItem,
    Recommendation,
    Report,
    ScopeStress,
    SegmentCell,
    StaleSeries,
    StressSection,
    TrackRecord,
    VarBacktestItem,
)
from sco_monitor.reports.numbers import (
    LEVELS,
    country_name,
    finite,
    join_names,
    level_rank,
    severity_rank,
)
from sco_monitor.reports.recommend import plan
from sco_monitor.store.partners import REPORT_WINDOW_DAYS
from sco_monitor.vocabulary import WORLD, is_stale, json_safe

#: Stress-index segments (catalog.Segment) and the rule category that speaks for each.
SEGMENTS: dict[str, str] = {
    "equity": "equity",
    "fx": "fx",
    "money": "rates",
    "rates": "rates",
    "commodities": "commodity",
    "volatility": "volatility",
    "macro": "macro",
}
NO_REPLAY = N_(
    "No replay has been scored yet, so there is no record of how past warnings turned out. "
    "Run `sco-monitor replay --from DATE --to DATE` to score the rules against past crisis episodes."
)


def fan_selection(assessment: Assessment, config: AppConfig) -> tuple[str, list[str]]:
    """Series that get fan charts: `report.key_series`, else those with unfavourable forecasts."""
    with_forecast = {f.series_id for f in assessment.forecasts}
    key = [sid for sid in config.settings.report.key_series if sid in with_forecast]
    if config.settings.report.key_series:
        return "configured", key
    bad = list(dict.fromkeys(f.series_id for f in assessment.forecasts if f.unfavourable))
    return ("unfavourable", bad) if bad else ("none", [])


def build_report(
    assessment: Assessment,
    config: AppConfig,
    inputs: ReportInputs,
    now: datetime,
    track_record: dict[str, Any] | None = None,
    *,
    source: str | Callable[[], str] = "",
    mistakes: dict[str, Any] | None = None,
) -> Report:
    as_of = assessment.as_of
    catalog = config.series
    prev = inputs.previous.data if inputs.previous else None

    stress = _stress_section(assessment, inputs)
    recommendations, joint = plan(config, assessment.rules)
    kinds = {r.name: r.kind for r in config.rules.rules} | {e.rule: e.kind for e in assessment.rules}
    groups = alert_items(inputs.alerts, inputs.silences, inputs.since, kinds)
    breaches = [breach_of(e, catalog) for e in worst_first([e for e in assessment.rules if e.severity in BREACHING])]
    alerts = AlertsSection(since=inputs.since, recorded=inputs.alerts_recorded, breaches=breaches, **groups)
    countries = _countries(assessment, stress, alerts, catalog)
    forecasts = _forecasts(assessment, config, inputs)
    quality = _data_quality(assessment, config, inputs)
    overall = _overall(as_of, stress, countries, alerts, forecasts, recommendations, joint, quality, inputs, prev)
    outlook = outlook_section(assessment, config, inputs.nowcast_history, inputs.outlook_observations, prev)
    return Report(
        language=i18n.current(),
        as_of=as_of,
        generated_at=now,
        overall=overall,
        countries=countries,
        stress_index=stress,
        alerts=alerts,
        forecasts=forecasts,
        recommendations=recommendations,
        joint_actions=joint,
        data_quality=quality,
        track_record=_track_record(track_record).model_copy(update={"forecasts": record_reference(outlook, config)}),
        partners=_partners(inputs, stress),
        cooperation=cooperation_section(config, inputs.trade, prev),
        outlook=outlook,
        source=source() if callable(source) else source,
        mistakes=mistakes_section(mistakes),
    )


# --- partner centres' views ---------------------------------------------------------------------------------
def _partners(inputs: ReportInputs, stress: StressSection) -> PartnerSection:
    """Each partner's latest view per country, beside the model's stress level of that scope."""
    model = {s.scope: s.level for s in stress.scopes}
    items = [
        PartnerItem(author=v.author, country=v.country, country_name=country_name(v.country), episode=v.episode,
                    level=v.level, model_level=model.get(v.country), text=v.text, forecast_level=v.forecast_level,
                    forecast_horizon_days=v.forecast_horizon_days, forecast_text=v.forecast_text,
                    posted_at=v.created_at)
        for v in inputs.partner_views
    ]
    if not items:
        return PartnerSection()
    authors = sorted({i.author for i in items})
    return PartnerSection(
        message=f"{len(items)} view(s) from {join_names(authors)}, posted in the {REPORT_WINDOW_DAYS} days up to this report.",
        items=items,
    )


# --- stress index ---------------------------------------------------------------------------------------
def _scope_order(scope: str) -> tuple[int, int, str]:
    if scope == WORLD:
        return (0, 0, scope)
    if scope in SCO_MEMBERS:
        return (1, SCO_MEMBERS.index(scope), scope)
    return (2, 0, scope)


def _points(frame: pd.DataFrame) -> list[Point]:
    f = frame.dropna(subset=["value"])
    return [(d.date(), float(v)) for d, v in zip(f["date"], f["value"])]


def _stress_section(assessment: Assessment, inputs: ReportInputs) -> StressSection:
    as_of = assessment.as_of
    hist = inputs.stress_history
    previous_values: dict[str, float] = {}
    prev = inputs.previous.data if inputs.previous else None
    if prev:
        for s in (prev.get("stress_index") or {}).get("scopes", []):
            v = finite(s.get("value"))
            if v is not None and s.get("scope"):
                previous_values[s["scope"]] = v
    elif not hist.empty:
        before = hist[(hist["date"].dt.date < as_of) & hist["value"].notna()]
        for scope, rows in before.groupby("scope"):
            previous_values[str(scope)] = float(rows["value"].iloc[-1])

    scopes = sorted(set(assessment.stress_index) | set(hist["scope"].unique() if not hist.empty else []), key=_scope_order)
    out: list[ScopeStress] = []
    history: dict[str, list[Point]] = {}
    start = pd.Timestamp(as_of - timedelta(days=365))
    for scope in scopes:
        sv = assessment.stress_index.get(scope)
        rows = hist[hist["scope"] == scope] if not hist.empty else hist
        pts = _points(rows[rows["date"] >= start]) if not hist.empty else []
        value = finite(sv.value) if sv else None
        if value is not None and (not pts or pts[-1][0] < as_of):
            pts.append((as_of, value))
        if pts:
            history[scope] = pts
        if sv is None:
            continue
        out.append(
            ScopeStress(
                scope=scope,
                name=country_name(scope),
                value=value,
                level=sv.level,
                previous_value=previous_values.get(scope),
                segments={k: float(v) for k, v in sv.segments.items() if finite(v) is not None},
                thresholds={k: float(v) for k, v in sv.thresholds.items() if finite(v) is not None},
            )
        )
    long_scope = WORLD if (WORLD in assessment.stress_index or (not hist.empty and (hist["scope"] == WORLD).any())) else (out[0].scope if out else None)
    long_history: list[Point] = []
    if long_scope and not hist.empty:
        rows = hist[(hist["scope"] == long_scope) & hist["value"].notna()]
        if not rows.empty:
            weekly = rows.set_index("date")["value"].resample("W-FRI").last().dropna()
            long_history = [(d.date(), float(v)) for d, v in weekly.items()]
    if long_scope and history.get(long_scope):
        last = history[long_scope][-1]
        long_history = [p for p in long_history if p[0] < last[0]] + [last]
    thresholds = next((s.thresholds for s in out if s.scope == WORLD and s.thresholds), None) or next(
        (s.thresholds for s in out if s.thresholds), {}
    )
    return StressSection(
        scopes=out, thresholds=thresholds, history=history, long_history=long_history, long_scope=long_scope
    )


# --- member states ------------------------------------------------------------------------------------
def _countries(
    assessment: Assessment, stress: StressSection, alerts: AlertsSection, catalog: dict
) -> list[CountryRow]:
    by_country: dict[str, list[RuleEvaluation]] = {}
    for e in assessment.rules:
        by_country.setdefault(country_of(e, catalog) or "", []).append(e)
    scopes = {s.scope: s for s in stress.scopes}
    rows: list[CountryRow] = []
    for c in SCO_MEMBERS:
        evals = by_country.get(c, [])
        sv = scopes.get(c)
        cells: dict[str, SegmentCell] = {}
        for seg, category in SEGMENTS.items():
            mine = [e for e in evals if e.category == category]
            sev = max((e.severity for e in mine), key=severity_rank, default="none")
            cells[seg] = SegmentCell(
                contribution=sv.segments.get(seg) if sv else None,
                severity=sev,
                breaches=sum(e.severity in BREACHING for e in mine),
            )
        prob = assessment.probability.get(c)
        drivers = sorted(
            ((k, float(v)) for k, v in (prob.drivers if prob else {}).items() if finite(v) is not None),
            key=lambda kv: -abs(kv[1]),
        )
        if not drivers and sv:
            drivers = sorted(sv.segments.items(), key=lambda kv: -abs(kv[1]))
        change = None
        if sv and sv.value is not None and sv.previous_value is not None:
            change = sv.value - sv.previous_value
        rows.append(
            CountryRow(
                country=c,
                name=country_name(c),
                member=True,
                stress_value=sv.value if sv else None,
                stress_level=sv.level if sv else None,
                stress_change=change,
                segments=cells,
                probability=finite(prob.probability) if prob else None,
                horizon=prob.horizon if prob else None,
                drivers=[Driver(name=k, contribution=v) for k, v in drivers[:3]],
                severity=max((e.severity for e in evals), key=severity_rank, default="none"),
                breaches=sum(e.severity in BREACHING for e in evals),
                firing=sum(1 for a in alerts.firing if a.labels.get("country") == c or a.labels.get("scope") == c),
            )
        )
    return rows


# --- forecasts --------------------------------------------------------------------------------------------
def _last_value(sid: str, assessment: Assessment, obs: pd.DataFrame) -> tuple[date | None, float | None]:
    if sid in obs.columns:
        s = obs[sid].dropna()
        if not s.empty:
            return s.index[-1].date(), float(s.iloc[-1])
    latest = assessment.latest.get(sid, {})
    for key in ("level", "value", "close", "last"):
        if finite(latest.get(key)) is not None:
            return None, float(latest[key])
    return None, None


def _forecasts(assessment: Assessment, config: AppConfig, inputs: ReportInputs) -> ForecastSection:
    selection, charted = fan_selection(assessment, config)
    chosen: dict[str, Forecast] = {}
    for f in assessment.forecasts:  # one chart per series: its unfavourable forecast if any
        if f.series_id in charted and (f.series_id not in chosen or (f.unfavourable and not chosen[f.series_id].unfavourable)):
            chosen[f.series_id] = f
    obs = inputs.observations
    items: list[ForecastItem] = []
    for f in assessment.forecasts:
        s = config.series.get(f.series_id)
        is_chart = chosen.get(f.series_id) is f
        last_date, last_value = _last_value(f.series_id, assessment, obs)
        history: list[Point] = []
        if is_chart and f.series_id in obs.columns:
            col = obs[f.series_id].dropna()
            history = [(d.date(), float(v)) for d, v in col.items()]
        items.append(
            ForecastItem(
                series_id=f.series_id,
                name=s.name_in(i18n.current()) if s else f.series_id,
                unit=s.unit if s else "",
                model=f.model,
                level=f.level,
                last_date=last_date,
                last_value=last_value,
                dates=f.dates,
                mean=[finite(x) for x in f.mean],
                lower=[finite(x) for x in f.lower],
                upper=[finite(x) for x in f.upper],
                threshold=finite(f.threshold),
                breach_probability=finite(f.breach_probability),
                unfavourable=f.unfavourable,
                charted=is_chart,
                history=history,
            )
        )
    order = {sid: i for i, sid in enumerate(charted)}
    items.sort(key=lambda i: (not i.charted, order.get(i.series_id, 0), not i.unfavourable, i.series_id, i.model))
    zone_rank = {"red": 0, "yellow": 1, "green": 2, None: 3}
    backtests = sorted(
        (VarBacktestItem(name=config.series[b.series_id].name if b.series_id in config.series else b.series_id,
                         **b.model_dump(include=set(VarBacktestItem.model_fields) - {"name"}))
         for b in inputs.var_backtests),
        key=lambda b: (zone_rank[b.zone], -b.exceptions, b.series_id))
    return ForecastSection(selection=selection, items=items, backtests=backtests)


# --- data quality --------------------------------------------------------------------------------------------
def _data_quality(assessment: Assessment, config: AppConfig, inputs: ReportInputs) -> DataQuality:
    as_of = assessment.as_of
    enabled = config.universe.enabled()
    names = {s.id: s.name_in(i18n.current()) for s in config.universe.series}
    with_data = [s for s in enabled if s.id in inputs.last_dates]
    stale_ids = set(assessment.stale_series)
    for s in with_data:
        if is_stale(s.frequency, s.publication_lag_days, inputs.last_dates[s.id], as_of):
            stale_ids.add(s.id)
    stale = sorted(
        (
            StaleSeries(
                series_id=sid,
                name=names.get(sid, sid),
                last_date=inputs.last_dates.get(sid),
                days=(as_of - inputs.last_dates[sid]).days if sid in inputs.last_dates else None,
            )
            for sid in stale_ids
        ),
        key=lambda x: (x.last_date or date.min, x.series_id),
    )
    flags = [
        QualityItem(series_id=q.series_id, name=names.get(q.series_id, q.series_id), flag=q.flag, date=q.date, detail=q.detail)
        for q in sorted(assessment.quality, key=lambda q: (q.flag != "spike", q.series_id, q.date or date.min))
        if q.flag != "stale" or q.series_id not in stale_ids
    ]
    failed = [
        FailedCollection(
            series_id=r["series_id"], source=r["source"], started_at=r["started_at"],
            attempts=r.get("attempts") or 1, error=(r.get("error") or "")[:300],
        )
        for r in inputs.failed_collections
    ]
    notes = [
        FailedNotification(
            receiver=r["receiver"], kind=r["kind"], attempts=r["attempts"], created_at=r["created_at"],
            last_error=(r.get("last_error") or "")[:300],
        )
        for r in inputs.failed_notifications
    ]
    newest = max((inputs.last_dates[s.id] for s in with_data), default=None)
    fresh = [s for s in with_data if s.id not in stale_ids]
    if not with_data:
        status, message = "no_data", _(
            "The store holds no observations up to %(date)s: nothing could be assessed. "
            "Run `sco-monitor collect` (or `sco-monitor demo` for the bundled history) and report again.",
            date=i18n.day(as_of),
        )
    elif not fresh:
        days = (as_of - newest).days if newest else 0
        status, message = "stale", _(
            "Every one of the %(n)s series with data is stale: the newest observation is from "
            "%(newest)s (%(days)s days before %(date)s). The figures in this report describe the markets as of then, "
            "not today; check the collectors.",
            n=len(with_data), newest=i18n.day(newest), days=days, date=i18n.day(as_of),
        )
    elif stale or len(with_data) < len(enabled) or failed:
        status = "partial"
        parts = [_("%(n)s of %(total)s enabled series are up to date", n=len(fresh), total=len(enabled))]
        if stale:
            parts.append(_("%(n)s stale", n=len(stale)))
        if len(with_data) < len(enabled):
            parts.append(_("%(n)s without any data", n=len(enabled) - len(with_data)))
        if failed:
            parts.append(_("%(n)s failing to collect", n=len(failed)))
        message = _("%(text)s.", text=_("; ").join(parts))
    else:
        status, message = "ok", _("All %(n)s enabled series are up to date (newest observation %(date)s).",
                                  n=len(enabled), date=i18n.day(newest))
    cov = coverage.build(config.universe, inputs.last_dates, as_of)
    rows = [CoverageRow(country=c, statuses={k: cov.cell(c, k).status for k in COVERAGE_KINDS}) for c in SCO_MEMBERS]
    return DataQuality(
        coverage=rows,
        status=status,
        message=message,
        series_enabled=len(enabled),
        series_with_data=len(with_data),
        newest_date=newest,
        stale=stale,
        flags=flags,
        failed_collections=failed,
        failed_notifications=notes,
    )


# --- headline ---------------------------------------------------------------------------------------------------
def _previous(as_of: date, inputs: ReportInputs, prev: dict | None) -> Previous | None:
    if inputs.previous and prev:
        ov = prev.get("overall") or {}
        return Previous(
            as_of=inputs.previous.as_of, source="report", level=ov.get("level"), value=finite(ov.get("world_value"))
        )
    hist = inputs.stress_history
    if hist.empty:
        return None
    before = hist[(hist["date"].dt.date < as_of) & hist["value"].notna()]
    if before.empty:
        return None
    last_day = before["date"].max()
    day = before[before["date"] == last_day]
    world = day[day["scope"] == WORLD]
    levels = [lv for lv in day["level"].tolist() if lv in LEVELS]
    return Previous(
        as_of=last_day.date(),
        source="stress_history",
        level=max(levels, key=level_rank) if levels else None,
        value=float(world["value"].iloc[0]) if not world.empty else None,
    )


def _previous_levels(as_of: date, inputs: ReportInputs, prev: dict | None) -> dict[str, str]:
    """Scope → stress level in the previous report, else on the last stored day before as_of."""
    if prev:
        return {c["country"]: c["stress_level"] for c in prev.get("countries", []) if c.get("country") and c.get("stress_level")}
    hist = inputs.stress_history
    if hist.empty:
        return {}
    before = hist[(hist["date"].dt.date < as_of) & hist["level"].notna()]
    if before.empty:
        return {}
    day = before[before["date"] == before["date"].max()]
    return {str(sc): str(lv) for sc, lv in zip(day["scope"], day["level"])}


def _changes(
    overall_level: str,
    stress: StressSection,
    countries: list[CountryRow],
    alerts: AlertsSection,
    forecasts: ForecastSection,
    recommendations: list[Recommendation],
    previous: Previous | None,
    prev: dict | None,
    prev_levels: dict[str, str],
) -> list[Change]:
    out: list[Change] = []
    if previous is None:
        return out
    if previous.level and previous.level != overall_level:
        up = level_rank(overall_level) > level_rank(previous.level)
        text = _("Overall risk rose from %(before)s to %(after)s.") if up else _("Overall risk eased from %(before)s to %(after)s.")
        out.append(Change(kind="overall", subject="overall", before=previous.level, after=overall_level,
                          text=text % {"before": i18n.level_name(previous.level), "after": i18n.level_name(overall_level)}))
    for s in stress.scopes:
        if s.value is not None and s.previous_value is not None and abs(s.value - s.previous_value) >= 0.005 and s.scope == WORLD:
            out.append(Change(kind="stress", subject=s.scope, before=f"{s.previous_value:.2f}", after=f"{s.value:.2f}",
                              text=_("World stress index %(before)s → %(after)s (%(change)s).",
                                     before=i18n.decimal(s.previous_value, 2), after=i18n.decimal(s.value, 2),
                                     change=i18n.decimal(s.value - s.previous_value, 2, signed=True))))
    for c in countries:
        before = prev_levels.get(c.country)
        if c.stress_level and before and before != c.stress_level:
            up = level_rank(c.stress_level) > level_rank(before)
            text = _("%(name)s: stress rose from %(before)s to %(after)s.") if up else _("%(name)s: stress eased from %(before)s to %(after)s.")
            out.append(Change(kind="country", subject=c.country, before=before, after=c.stress_level,
                              text=text % {"name": c.name, "before": i18n.level_name(before), "after": i18n.level_name(c.stress_level)}))
    new = [a for a in alerts.firing if a.new]
    if new:
        out.append(Change(kind="alert", subject="firing", after=str(len(new)),
                          text=ngettext("%(num)s alert started firing: %(names)s.", "%(num)s alerts started firing: %(names)s.", len(new),
                                        names=", ".join(_alert_name(a.rule, a.labels) for a in new[:6]) + ("…" if len(new) > 6 else ""))))
    if alerts.resolved:
        out.append(Change(kind="alert", subject="resolved", after=str(len(alerts.resolved)),
                          text=ngettext("%(num)s alert resolved: %(names)s.", "%(num)s alerts resolved: %(names)s.", len(alerts.resolved),
                                        names=", ".join(_alert_name(a.rule, a.labels) for a in alerts.resolved[:6]) + ("…" if len(alerts.resolved) > 6 else ""))))
    if prev:
        before_bad = {f.get("series_id") for f in (prev.get("forecasts") or {}).get("items", []) if f.get("unfavourable")}
        now_bad = {f.series_id: f.name for f in forecasts.items if f.unfavourable}
        added = [now_bad[s] for s in now_bad if s not in before_bad]
        if added:
            out.append(Change(kind="forecast", subject="unfavourable", after=str(len(added)),
                              text=ngettext("New unfavourable forecast: %(names)s.", "New unfavourable forecasts: %(names)s.", len(added),
                                            names=_(", ").join(added))))
        before_recs = {(r.get("country"), r.get("category")) for r in prev.get("recommendations", [])}
        added_recs = [r for r in recommendations if (r.country, r.category) not in before_recs]
        if added_recs:
            out.append(Change(kind="recommendation", subject="new", after=str(len(added_recs)),
                              text=_("New recommendations: %(names)s.", names=_(", ").join(
                                  f"{r.country_name} ({i18n.category_name(r.category)}, {i18n.severity_name(r.level)})" for r in added_recs[:8])
                                  + ("…" if len(added_recs) > 8 else ""))))
    return out


def _alert_name(rule: str, labels: dict[str, str]) -> str:
    where = labels.get("series") or labels.get("scope") or labels.get("country")
    return f"{rule} ({where})" if where else rule


def _overall(
    as_of: date,
    stress: StressSection,
    countries: list[CountryRow],
    alerts: AlertsSection,
    forecasts: ForecastSection,
    recommendations: list[Recommendation],
    joint: list[JointPlan],
    quality: DataQuality,
    inputs: ReportInputs,
    prev: dict | None,
) -> Overall:
    world = next((s for s in stress.scopes if s.scope == WORLD), None)
    levels = [s.level for s in stress.scopes if s.level in LEVELS and (s.scope == WORLD or s.scope in SCO_MEMBERS)]
    level = max(levels, key=level_rank) if levels else "unknown"
    elevated = [c for c in countries if level_rank(c.stress_level) >= level_rank("elevated")]
    elevated.sort(key=lambda c: (-level_rank(c.stress_level), -(c.stress_value or 0)))
    crit = sum(b.severity == "critical" for b in alerts.breaches)
    warn = sum(b.severity == "warn" for b in alerts.breaches)
    bad = [f for f in forecasts.items if f.unfavourable]
    counts = {
        "firing": len(alerts.firing),
        "new": sum(a.new for a in alerts.firing),
        "resolved": len(alerts.resolved),
        "silenced": sum(a.silenced for a in alerts.firing),
        "critical_breaches": crit,
        "warn_breaches": warn,
        "unfavourable_forecasts": len({f.series_id for f in bad}),
        "recommendations": len(recommendations),
        "joint_actions": len(joint),
        "stale_series": len(quality.stale),
    }
    if quality.status == "no_data":
        headline = _("No data: the store holds no observations up to %(date)s, so no risk level can be given.", date=i18n.day(as_of))
    else:
        parts = [_("Overall risk is %(level)s", level=i18n.level_name(level).upper()) if level != "unknown"
                 else _("Overall risk is unknown (no stress index)")]
        if world and world.value is not None:
            parts.append(_("world stress %(value)s (%(level)s)", value=i18n.decimal(world.value, 2), level=i18n.level_name(world.level)))
        if elevated:
            names = join_names([_("%(name)s (%(level)s %(value)s)", name=c.name, level=i18n.level_name(c.stress_level),
                                    value=i18n.decimal(c.stress_value, 2)) for c in elevated[:4]])
            if len(elevated) > 4:
                names = _("%(names)s and others", names=names)
            parts.append(ngettext("%(num)s member state at elevated stress or worse: %(names)s",
                                  "%(num)s member states at elevated stress or worse: %(names)s", len(elevated), names=names))
        headline = _("%(text)s.", text=_("; ").join(parts))
        if quality.status == "stale":
            headline = _("Stale data (newest observation %(date)s).", date=i18n.day(quality.newest_date)) + " " + headline
    facts: list[str] = []
    if crit or warn:
        facts.append(ngettext("%(critical)s critical and %(warn)s warning rule breach in this assessment.",
                              "%(critical)s critical and %(warn)s warning rule breaches in this assessment.",
                              crit + warn, critical=crit, warn=warn))
    else:
        facts.append(_("No rule is breached in this assessment."))
    if alerts.recorded:
        facts.append(ngettext(
            "%(num)s alert firing (%(new)s new, %(silenced)s silenced), %(resolved)s resolved since the previous report.",
            "%(num)s alerts firing (%(new)s new, %(silenced)s silenced), %(resolved)s resolved since the previous report.",
            counts["firing"], new=counts["new"], silenced=counts["silenced"], resolved=counts["resolved"]))
    if bad:
        facts.append(ngettext("%(num)s unfavourable forecast: %(names)s.", "%(num)s unfavourable forecasts: %(names)s.",
                              counts["unfavourable_forecasts"],
                              names=_(", ").join(dict.fromkeys(f.name for f in bad[:5])) + ("…" if len(bad) > 5 else "")))
    if joint:
        facts.append(ngettext("%(num)s joint action plan: %(plans)s.", "%(num)s joint action plans: %(plans)s.", len(joint),
                              plans=_("; ").join(_("%(what)s (%(detail)s)", what=i18n.category_name(j.category),
                                                     detail=join_names(j.country_names)) for j in joint[:4])))
    if quality.status != "ok":
        facts.append(quality.message)
    previous = _previous(as_of, inputs, prev)
    changes = _changes(
        level, stress, countries, alerts, forecasts, recommendations, previous, prev, _previous_levels(as_of, inputs, prev)
    )
    if previous is None:
        facts.append(_("First report: there is no earlier report or stress history to compare with."))
    elif not changes:
        facts.append(_("Nothing material changed since %(date)s.", date=i18n.day(previous.as_of)))
    return Overall(
        level=level,
        status=quality.status,
        headline=headline,
        facts=facts,
        world_value=world.value if world else None,
        world_level=world.level if world else None,
        members_elevated=[c.country for c in elevated],
        counts=counts,
        previous=previous,
        changes=changes,
    )


def _track_record(data: dict[str, Any] | None) -> TrackRecord:
    if not data:
        return TrackRecord(available=False, message=_(NO_REPLAY))
    plain = json_safe(json.loads(json.dumps(data, default=str)))
    message = plain.pop("message", None) or _("How past warnings turned out, as scored by the replay.")
    plain.pop("available", None)
    return TrackRecord(available=True, message=str(message), **plain)


__all__ = ["build_report", "fan_selection"]
