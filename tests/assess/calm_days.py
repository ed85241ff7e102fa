"""Calm-day noise of the shipped rules on real history: the alert engine fed day by day.

Data-based rules come from one causal pass (`evaluate_history`'s rule frames); the regime rules
from the two-regime model estimated at each stretch's start on the ten years before it and
filtered day by day (as a daily run extends it). Each day's evaluations go through the real
alert engine (state machine, grouping, repeat interval, outbox) on a SQLite store; what it
queues is what receivers would get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import pandas as pd
from sqlalchemy import select

from sco_monitor.alerting.engine import process
from sco_monitor.assess import rules as rule_kinds
from sco_monitor.assess.forecast.base import FitFailed
from sco_monitor.assess.forecast.regime import RegimeFitted, RegimeSpec
from sco_monitor.assess.model import Assessment, RuleEvaluation
from sco_monitor.assess.pipeline import History
from sco_monitor.config import AppConfig
from sco_monitor.store import Store, schema

#: Business days the engine runs before a stretch so that what was already firing is in its state.
WARMUP = 20
#: A resolved alert firing again within this many business days is flapping.
FLAP_DAYS = 5


def calm_stretches(frame: pd.DataFrame, years: range) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Four-month stretches (Jan-Apr, May-Aug, Sep-Dec) that are calm in domain terms: VIX below 25
    throughout, no watched equity index 15% or more below its high within the stretch (a bear-market
    start is 20%) and no watched currency 10% or more above its low (local per USD)."""
    out = []
    for y in years:
        for m in (1, 5, 9):
            a = pd.Timestamp(y, m, 1)
            b = a + pd.DateOffset(months=4) - pd.Timedelta(days=1)
            part = frame.loc[a:b]
            vix = part["vol.vix"].dropna()
            if len(vix) < 60 or vix.max() >= 25:
                continue
            eq = [c for c in part.columns if c.startswith("eq.") and part[c].notna().sum() > 40]
            fx = [c for c in part.columns if c.startswith("fx.") and part[c].notna().sum() > 40]
            falls = [(part[c].dropna() / part[c].dropna().cummax() - 1).min() for c in eq]
            rises = [(part[c].dropna() / part[c].dropna().cummin() - 1).max() for c in fx]
            if min(falls, default=0) > -0.15 and max(rises, default=0) < 0.10:
                out.append((a, b))
    return out


def regime_paths(frame: pd.DataFrame, ids: list[str], start: pd.Timestamp, end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Raw and calibrated P(high regime) per series over [start, end], estimated on the ten years before."""
    out = {}
    for sid in ids:
        y = frame[sid].dropna().rename(sid)
        before = y.loc[start - pd.Timedelta(days=3650): start - pd.Timedelta(days=1)]
        if len(before) < 500 or not (y > 0).all():
            continue
        try:
            fitted = RegimeFitted.fit(before, RegimeSpec())
        except FitFailed:  # a series whose model fails has no regime rule, as in the service
            continue
        out[sid] = fitted.path(y.loc[start:end])
    return out


@dataclass
class Variant:
    """What is compared: the regime probability the rules read, and rule overrides (e.g. `within`)."""

    name: str
    regime: str = "calibrated"  # or "raw"
    overrides: dict[str, dict] = field(default_factory=dict)  # rule name → fields to replace


@dataclass
class Noise:
    days: int = 0
    notifications: int = 0
    firings: int = 0
    flaps: int = 0
    warn_days: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    flaps_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def per_day(self) -> float:
        return self.notifications / self.days if self.days else float("nan")

    @property
    def flap_share(self) -> float:
        return self.flaps / self.firings if self.firings else 0.0

    @property
    def warn_share(self) -> float:
        return self.warn_days / self.days if self.days else float("nan")


def rule_frames(history: History, config: AppConfig) -> dict[str, tuple[object, pd.DataFrame, rule_kinds.RuleFrame]]:
    """rule name → (rule, severity codes, rule frame) for the data-based rules."""
    from sco_monitor.assess.pipeline import indicator_specs

    specs = indicator_specs(config)
    inputs = rule_kinds.RuleInputs(series=config.series, indicators=history.indicators,
                                   specs={s.name: s for s in specs}, stress=history.stress,
                                   probability_history=history.probability, cutoff_history=history.cutoff)
    out = {}
    for rule in config.rules.rules:
        rf = rule_kinds.registry.get(rule.kind)(rule, inputs)
        out[rule.name] = (rule, rule_kinds.severity_codes(rf, rule), rf, inputs)
    return out


def _severity(p: float, rule) -> str:
    if rule.critical is not None and p >= rule.critical:
        return "critical"
    if rule.warn is not None and p >= rule.warn:
        return "warn"
    return "ok"


def simulate(store: Store, config: AppConfig, frames: dict, paths: dict[str, pd.DataFrame], variant: Variant,
             start: pd.Timestamp, end: pd.Timestamp, noise: Noise) -> None:
    """Run the alert engine over [start - WARMUP, end]; count what it queues within [start, end]."""
    settings = config.settings
    cal = next(iter(frames.values()))[1].index
    lo = max(0, int(cal.searchsorted(start)) - WARMUP)
    hi = int(cal.searchsorted(end, side="right"))
    days = cal[lo:hi]
    # targets with data somewhere in the window (the rest never alert, they would only say "no data")
    plan = []
    for name, (rule, codes, rf, inputs) in frames.items():
        rule = replace_rule(rule, variant.overrides.get(name))
        if rule.kind == "vol_regime":
            for t in rule_kinds.series_targets(rule, inputs):
                if t.series.id in paths:
                    plan.append(("regime", rule, t, paths[t.series.id][variant.regime]))
            continue
        window = codes.iloc[lo:hi]
        for t in rf.targets:
            if t.key in window.columns and (window[t.key] >= 0).any():
                plan.append(("data", rule, t, (rf, codes)))
    last_resolved: dict[str, int] = {}
    prev_state: dict[str, str] = {}
    for i, d in enumerate(days):
        pos = lo + i
        evs: list[RuleEvaluation] = []
        for how, rule, t, src in plan:
            if how == "data":
                rf, codes = src
                evs.append(rule_kinds.evaluation_at(rule, rf, codes, t, pos))
            else:
                p = src.loc[:d]
                fresh = len(p) and (d - p.index[-1]).days <= 5
                value = float(p.iloc[-1]) if fresh else None
                evs.append(RuleEvaluation(
                    rule=rule.name, kind=rule.kind, category=rule.category, labels=t.labels, series_id=t.series.id,
                    value=value, threshold=rule.warn, severity=_severity(value, rule) if value is not None else "no_data",
                    warn=rule.warn, critical=rule.critical, clear=rule.clear, direction=rule.direction,
                    for_=rule.for_, within=rule.within))
        now = datetime.combine(d.date(), time(6), tzinfo=UTC)
        run = process(store.engine, settings, Assessment(as_of=d.date(), rules=evs), now)
        counted = d >= start
        if counted:
            noise.days += 1
            noise.notifications += len(run.notifications)
            noise.warn_days += any(e.severity in ("warn", "critical") for e in evs)
        with store.engine.connect() as conn:
            a = schema.alerts
            rows = conn.execute(select(a.c.fingerprint, a.c.state, a.c.rule, a.c.severity)).all()
        for fp, state, rule_name, severity in rows:
            before = prev_state.get(fp)
            if state == "firing" and before != "firing" and severity != "no_data" and counted:
                noise.firings += 1
                noise.by_rule[rule_name] = noise.by_rule.get(rule_name, 0) + 1
                if fp in last_resolved and i - last_resolved[fp] <= FLAP_DAYS:
                    noise.flaps += 1
                    noise.flaps_by_rule[rule_name] = noise.flaps_by_rule.get(rule_name, 0) + 1
            if state == "resolved" and before == "firing":
                last_resolved[fp] = i
            prev_state[fp] = state


def replace_rule(rule, fields: dict | None):
    return rule if not fields else rule.model_copy(update=fields)
