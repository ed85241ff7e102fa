"""The assessment: `assess` is a pure function of (frames, config, as_of); `run_assessment` does the IO.

indicators → (forecasts, from the forecast layer through the `forecaster` seam) → stress indices →
crisis probabilities → rule evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, select

from sco_monitor.assess import rules as rule_kinds
from sco_monitor.assess.ews import EwsParams, EwsResult, crisis_probability
from sco_monitor.assess.indicators import Indicators, Spec, validate_params
from sco_monitor.assess.indicators import registry as indicator_registry
from sco_monitor.assess.model import Assessment, Forecast, QualityFlag, RuleEvaluation
from sco_monitor.assess.stress import WORLD, StressParams, StressResult, scopes_for, stress_index
from sco_monitor.assess.summary import json_safe
from sco_monitor.config import AppConfig, ConfigError
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed
from sco_monitor.logs import get_logger
from sco_monitor.store import schema
from sco_monitor.store.upsert import upsert

log = get_logger(__name__)

#: The seam where the forecast layer plugs in: (ctx, point-in-time frame, as_of) →
#: (forecasts of series levels in their own units, P(high-volatility regime) per series id).
#: The forecast layer's run gives both (`ForecastRun.forecasts`, `ForecastRun.regime_prob`).
Forecaster = Callable[[Context, pd.DataFrame, date], tuple[list[Forecast], dict[str, float]]]

#: Quality flags that make a series' rules report no data instead of a value.
BLOCKING_FLAGS = frozenset({"stale", "failed"})


@dataclass
class AssessmentRun:
    """The assessment and the frames behind it (what `run_assessment` saves)."""

    assessment: Assessment
    indicators: Indicators
    specs: list[Spec]
    stress: StressResult
    ews: EwsResult


def indicator_specs(config: AppConfig) -> list[Spec]:
    a = config.settings.assessment
    return [Spec.of(s) for s in a.indicators] + [Spec.of(s) for s in a.spreads]


def check_config(config: AppConfig) -> None:
    """Names the config uses that only the assessment registries can check, as ConfigErrors."""
    a = config.settings.assessment
    for i, spec in enumerate(a.indicators):
        if spec.indicator not in indicator_registry:
            raise ConfigError(config.path, f"assessment.indicators[{i}].indicator",
                              f"unknown indicator {spec.indicator!r}; expected one of: {', '.join(indicator_registry.names())}")
        try:
            validate_params(spec.indicator, spec.params)
        except ValueError as e:
            raise ConfigError(config.path, f"assessment.indicators[{i}].params", str(e)) from None
    for i, sp in enumerate(a.spreads):
        for leg in ("a", "b"):
            sid = getattr(sp, leg)
            if sid not in config.series:
                raise ConfigError(config.path, f"assessment.spreads[{i}].{leg}", f"unknown series {sid!r}")
        if config.series[sp.a].frequency != config.series[sp.b].frequency:
            raise ConfigError(config.path, f"assessment.spreads[{i}]", "a and b must have the same frequency")
    names = {s.name for s in a.indicators}
    for i, rule in enumerate(config.rules.rules):
        name = rule.params.get("indicator")
        if name is not None and name not in names and name not in indicator_registry:
            raise ConfigError(config.path.parent / config.settings.rules, f"rules[{i}].params.indicator",
                              f"unknown indicator {name!r}; expected a name from assessment.indicators "
                              f"({', '.join(sorted(names))}) or a registered indicator")


def point_in_time(frame: pd.DataFrame, config: AppConfig, as_of: date) -> pd.DataFrame:
    """Drop what was not knowable at as_of: rows after it, macro values inside their publication lag."""
    frame = frame.sort_index().loc[: pd.Timestamp(as_of)]
    out = frame.copy()
    for sid in frame.columns:
        s = config.series.get(sid)
        if s is not None and s.publication_lag_days:
            out.loc[out.index > pd.Timestamp(as_of) - pd.Timedelta(days=s.publication_lag_days), sid] = np.nan
    return out


def evaluate(
    frames: pd.DataFrame,
    config: AppConfig,
    as_of: date,
    *,
    forecasts: Sequence[Forecast] | None = None,
    regime_prob: dict[str, float] | None = None,
    quality: Sequence[QualityFlag] | None = None,
) -> AssessmentRun:
    """The whole assessment at as_of with its intermediate frames. Pure: no IO, no clock."""
    check_config(config)
    a = config.settings.assessment
    series = config.series
    frame = point_in_time(frames, config, as_of)
    ind = Indicators(frame, series, as_of)
    specs = indicator_specs(config)
    everyone = list(series.values())
    scopes = scopes_for(everyone)
    stress = stress_index(ind, everyone, scopes, StressParams(level_quantiles=tuple(a.stress_levels)))
    members = [s for s in scopes if s != WORLD]
    ews = crisis_probability(ind, stress, everyone, members, as_of, a.episodes, EwsParams(horizon=a.crisis_horizon))
    quality = list(quality or [])
    unavailable = {q.series_id: f"{q.flag}: {q.detail}".rstrip(": ") for q in quality if q.flag in BLOCKING_FLAGS}
    forecasts = [f for f in (forecasts or []) if f.as_of <= as_of]
    inputs = rule_kinds.RuleInputs(
        series=series, indicators=ind, specs={s.name: s for s in specs}, stress=stress,
        probability=ews.probability, forecasts=forecasts, regime_prob=dict(regime_prob or {}),
        unavailable=unavailable,
    )
    evaluations = rule_kinds.evaluate(config.rules.rules, inputs)
    fresh = ind.fresh().iloc[-1] if len(ind.calendar) else pd.Series(dtype=bool)
    stale = sorted({s.id for s in everyone if s.enabled and not bool(fresh.get(s.id, False))} | set(unavailable))
    assessment = Assessment(
        as_of=as_of,
        stress_index=stress.values(as_of),
        probability=ews.probability,
        rules=evaluations,
        forecasts=_annotate(forecasts, evaluations),
        latest=ind.latest(specs),
        quality=quality,
        stale_series=stale,
    )
    return AssessmentRun(assessment, ind, specs, stress, ews)


def assess(
    frames: pd.DataFrame,
    config: AppConfig,
    as_of: date,
    *,
    forecasts: list[Forecast] | None = None,
    regime_prob: dict[str, float] | None = None,
    quality: list[QualityFlag] | None = None,
) -> Assessment:
    """Assess a wide frame (from Store.load_frame) at as_of. Pure."""
    return evaluate(frames, config, as_of, forecasts=forecasts, regime_prob=regime_prob, quality=quality).assessment


def _annotate(forecasts: Sequence[Forecast], evaluations: Sequence[RuleEvaluation]) -> list[Forecast]:
    """Mark forecasts judged by forecast_breach rules: threshold, breach probability, unfavourable."""
    worst: dict[tuple[str, str], RuleEvaluation] = {}
    rank = {"no_data": -1, "ok": 0, "warn": 1, "critical": 2}
    for ev in evaluations:
        if ev.kind != "forecast_breach" or "model" not in ev.details:
            continue
        key = (ev.series_id or "", ev.details["model"])
        if key not in worst or rank[ev.severity] > rank[worst[key].severity]:
            worst[key] = ev
    out = []
    for f in forecasts:
        ev = worst.get((f.series_id, f.model))
        if ev is None:
            out.append(f)
            continue
        out.append(f.model_copy(update={
            "threshold": ev.details.get("threshold_level"),
            "breach_probability": ev.details.get("breach_probability"),
            "unfavourable": ev.severity in ("warn", "critical"),
        }))
    return out


# --- IO -----------------------------------------------------------------------------------------------------


def _nothing_to_assess(ctx: Context, ids: list[str], as_of: date, history_days: int) -> str:
    """Why the frame is empty: an empty store, or a window (history_days before as_of) that misses what it holds."""
    from sco_monitor.store.collection import observation_span

    span = observation_span(ctx.store, ids)
    if span is None:
        return f"no observations in the store up to {as_of.isoformat()}; run `sco-monitor collect` first"
    start = as_of - timedelta(days=history_days)
    return (f"no observations between {start} and {as_of} (assessment.history_days = {history_days} before "
            f"--as-of); the store holds {span[0]} to {span[1]}: assess a date in that span or collect newer data")


def run_assessment(ctx: Context, as_of: date, save: bool = True, *, forecaster: Forecaster | None = None) -> Assessment:
    """Load the point-in-time frame, assess it, and save the results (idempotently)."""
    config = ctx.config
    a = config.settings.assessment
    check_config(config)
    ids = [s.id for s in config.universe.series]
    frame = ctx.store.load_frame(ids, start=as_of - timedelta(days=a.history_days), as_of=as_of)
    if frame.empty or frame.notna().sum().sum() == 0:
        raise RunFailed(_nothing_to_assess(ctx, ids, as_of, a.history_days))
    quality = load_quality(ctx, as_of)
    forecasts: list[Forecast] = []
    regime: dict[str, float] = {}
    if forecaster is not None:
        try:
            forecasts, regime = forecaster(ctx, frame, as_of)
        except Exception as e:  # noqa: BLE001 - the assessment goes on without forecasts
            log.error("forecaster_failed", error=f"{type(e).__name__}: {e}")
    run = evaluate(frame, config, as_of, forecasts=forecasts, regime_prob=regime, quality=quality)
    if save:
        save_run(ctx, run, a.save_days)
    res = run.assessment
    log.info("assessed", as_of=as_of.isoformat(), series=len(run.indicators.series), rules=len(res.rules),
             warn=sum(r.severity == "warn" for r in res.rules),
             critical=sum(r.severity == "critical" for r in res.rules), saved=save)
    return res


def load_quality(ctx: Context, as_of: date, days: int = 10) -> list[QualityFlag]:
    """Quality flags of the last `days` up to as_of."""
    t = schema.quality_flags
    stmt = select(t.c.series_id, t.c.date, t.c.flag, t.c.detail).where(
        t.c.date <= as_of, t.c.date >= as_of - timedelta(days=days))
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [QualityFlag(series_id=r[0], date=r[1], flag=r[2], detail=r[3] or "") for r in rows]


def _num(v: Any) -> float | None:
    return json_safe(None if v is None else float(v))


def save_run(ctx: Context, run: AssessmentRun, days: int) -> None:
    """Write indicator values and stress history of the last `days` (earlier days only where missing),
    and today's evaluations, probabilities and forecasts, in one transaction; re-running the same
    as_of replaces them."""
    res = run.assessment
    as_of = res.as_of
    recent = run.indicators.recent(run.specs, days)
    ind_rows = [{"series_id": s, "indicator": i, "date": d.date(), "value": _num(v)}
                for s, i, d, v in recent.itertuples(index=False, name=None)]
    since = pd.Timestamp(as_of) - pd.Timedelta(days=days)
    stress_rows = []
    for scope, sc in run.stress.scopes.items():
        for sv in sc.recent(since):
            stress_rows.append({
                "scope": scope, "date": sv.date, "value": _num(sv.value), "level": sv.level,
                "segments": json_safe(sv.segments),
                "details": json_safe({"subindices": sv.subindices, "thresholds": sv.thresholds,
                                   "missing": sv.missing, "note": sv.note}),
            })
    eval_rows = [{
        "as_of": as_of, "fingerprint": ev.fingerprint, "rule": ev.rule, "labels": ev.labels,
        "value": _num(ev.value), "threshold": _num(ev.threshold), "severity": ev.severity, "kind": ev.kind,
        "summary": ev.summary, "details": json_safe(ev.details),
    } for ev in res.rules]
    prob_rows = [{
        "country": c, "date": as_of, "horizon": cp.horizon, "probability": _num(cp.probability),
        "details": json_safe({"drivers": cp.drivers,
                           "method": run.ews.model.method if run.ews.model else None,
                           "thresholds": run.ews.model.thresholds if run.ews.model else {}}),
    } for c, cp in res.probability.items()]
    fc_rows = [{
        "series_id": f.series_id, "model": f.model, "as_of": f.as_of, "step": i + 1, "target_date": d,
        "mean": _num(m), "lower": _num(lo), "upper": _num(hi), "level": f.level,
    } for f in res.forecasts for i, (d, m, lo, hi) in enumerate(zip(f.dates, f.mean, f.lower, f.upper))]
    with ctx.store.engine.begin() as conn:
        conn.execute(delete(schema.rule_evaluations).where(schema.rule_evaluations.c.as_of == as_of))
        conn.execute(delete(schema.crisis_probability).where(schema.crisis_probability.c.date == as_of))
        # The stress value of day D is the one assessed as of D: earlier days only fill gaps, so a
        # later assessment (another window start) never rewrites what was known on D.
        today = [r for r in stress_rows if r["date"] == as_of]
        backfill = [r for r in stress_rows if r["date"] != as_of]
        for i in range(0, len(backfill), 5000):
            upsert(conn, schema.stress_index, backfill[i: i + 5000], update=[])
        for table, rows in ((schema.indicator_values, ind_rows), (schema.stress_index, today),
                            (schema.rule_evaluations, eval_rows), (schema.crisis_probability, prob_rows),
                            (schema.forecasts, fc_rows)):
            for i in range(0, len(rows), 5000):
                upsert(conn, table, rows[i: i + 5000])


# --- history (evaluation and replay) ---------------------------------------------------------------------


@dataclass
class History:
    """Every rule's severity on every calendar day, from one causal pass over the history."""

    indicators: Indicators
    stress: StressResult
    probability: pd.DataFrame  # calendar × country
    severities: dict[str, pd.DataFrame]  # rule → calendar × target key (-1 no data, 0 ok, 1 warn, 2 critical)
    labels: dict[str, dict[str, dict[str, str]]]  # rule → target key → labels

    def flags(self, level: int, where: Callable[[str, dict[str, str]], bool]) -> pd.Series:
        """Calendar → True where any selected (rule, labels) target is at `level` or worse."""
        out = pd.Series(False, index=self.indicators.calendar)
        for rule, codes in self.severities.items():
            keys = [k for k, lab in self.labels[rule].items() if where(rule, lab)]
            if keys:
                out |= (codes[keys].reindex(out.index) >= level).any(axis=1)
        return out


def evaluate_history(
    frames: pd.DataFrame,
    config: AppConfig,
    *,
    probability_from: date | None = None,
    refit_every: int = 250,
    scopes: Sequence[str] | None = None,
) -> History:
    """Severities of every rule over the calendar of `frames` (indicators computed once, causally).

    Crisis probabilities are re-estimated every `refit_every` business days from
    `probability_from` (on data before each refit date). Rules fed by forecasts or regime
    probabilities have no history here and read no data.
    """
    check_config(config)
    a = config.settings.assessment
    series = config.series
    everyone = list(series.values())
    ind = Indicators(frames, series)
    scopes = list(scopes) if scopes is not None else scopes_for(everyone)
    stress = stress_index(ind, everyone, scopes, StressParams(level_quantiles=tuple(a.stress_levels)))
    members = [s for s in scopes if s != WORLD]
    from sco_monitor.assess.ews import probability_history

    start = pd.Timestamp(probability_from) if probability_from else ind.calendar[0]
    prob = probability_history(ind, stress, everyone, members, start, refit_every, a.episodes,
                               EwsParams(horizon=a.crisis_horizon))
    specs = indicator_specs(config)
    inputs = rule_kinds.RuleInputs(series=series, indicators=ind, specs={s.name: s for s in specs}, stress=stress,
                                   probability_history=prob)
    severities, labels = {}, {}
    for rule in config.rules.rules:
        rf = rule_kinds.registry.get(rule.kind)(rule, inputs)
        severities[rule.name] = rule_kinds.severity_codes(rf, rule)
        labels[rule.name] = {t.key: t.labels for t in rf.targets}
    return History(ind, stress, prob, severities, labels)
