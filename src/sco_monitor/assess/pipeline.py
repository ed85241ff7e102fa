"""The assessment: a pure function of (frames, config, as_of); `cycle.step_assess` does its IO
(`store.assessments`, `store.model_states`).

indicators → (forecasts, from the forecast layer, passed in) → stress indices → crisis
probabilities → rule evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.assess import rules as rule_kinds
from sco_monitor.assess.cooperation import derive
from sco_monitor.assess.ews import EwsParams, EwsResult, EwsWindow, estimate_history
from sco_monitor.assess.fallback import covered, with_fallbacks
from sco_monitor.assess.indicators import Indicators, Spec
from sco_monitor.assess.model import Assessment, Forecast, QualityFlag, RuleEvaluation
from sco_monitor.assess.stress import StressParams, StressResult, scopes_for, stress_index
from sco_monitor.config import AppConfig
from sco_monitor.config.settings import AssessmentConfig
from sco_monitor.timeutil import period_start
from sco_monitor.vocabulary import WORLD, severity_rank

#: Quality flags that make a series' rules report no data instead of a value.
BLOCKING_FLAGS = frozenset({"stale", "failed"})


@dataclass
class AssessmentRun:
    """The assessment and the frames behind it (what `assess.rows.result_rows` turns into rows)."""

    assessment: Assessment
    indicators: Indicators
    specs: list[Spec]
    stress: StressResult
    ews: EwsResult


def indicator_specs(config: AppConfig) -> list[Spec]:
    a = config.settings.assessment
    return [Spec.of(s) for s in a.indicators] + [Spec.of(s) for s in a.spreads]


def ews_params(a: AssessmentConfig) -> EwsParams:
    """The early-warning model's parameters from the settings (one home for the mapping)."""
    return EwsParams(horizon=a.crisis_horizon, links=a.contagion, robust_z=a.crisis_overlap_adjusted,
                     equity_boom=a.crisis_equity_boom, oil_fall=a.crisis_oil_fall,
                     equity_runup=a.crisis_equity_runup, equity_fast_fall=a.crisis_equity_fast_fall)


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
    return Window.of(frames, config, as_of).day(as_of, forecasts=forecasts, regime_prob=regime_prob, quality=quality)


@dataclass
class Window:
    """The causal parts of the assessment over a window of days, computed once: indicators, stress
    indices, crisis-probability features. `day(D)` is the assessment of any day D of the window,
    equal to `evaluate` at D on D's own point-in-time frame (every part is causal; the
    probability model is refitted on the calendar of `crisis_refit_every`, the same for both)."""

    config: AppConfig
    indicators: Indicators
    specs: list[Spec]
    stress: StressResult
    ews: EwsWindow
    end: date
    rules: rule_kinds.CalendarRules  # the rules on indicators alone, computed over the window once

    @classmethod
    def of(cls, frames: pd.DataFrame, config: AppConfig, end: date) -> Window:
        a = config.settings.assessment
        series = config.series
        everyone = list(series.values())
        frame = derive(with_fallbacks(point_in_time(frames, config, end), everyone), everyone)
        ind = Indicators(frame, series, end)
        scopes = scopes_for(everyone)
        stress = stress_index(ind, everyone, scopes, StressParams(level_quantiles=tuple(a.stress_levels)))
        members = [s for s in scopes if s != WORLD]
        ews = EwsWindow.of(ind, stress, everyone, members, a.episodes,
                           ews_params(a))
        specs = indicator_specs(config)
        rules = rule_kinds.CalendarRules(rule_kinds.RuleInputs(
            series=series, indicators=ind, specs={s.name: s for s in specs}, stress=stress))
        return cls(config, ind, specs, stress, ews, end, rules)

    def day(
        self,
        as_of: date,
        *,
        forecasts: Sequence[Forecast] | None = None,
        regime_prob: dict[str, float] | None = None,
        quality: Sequence[QualityFlag] | None = None,
    ) -> AssessmentRun:
        """The assessment of `as_of` (a day of the window) with its intermediate frames."""
        if as_of > self.end:
            raise ValueError(f"{as_of} is after the window's last day {self.end}")
        config = self.config
        a = config.settings.assessment
        series = config.series
        everyone = list(series.values())
        ind = self.indicators if as_of == self.end else self.indicators.at(as_of)
        stress = self.stress
        ews = self.ews.at(as_of, fit_at=period_start(as_of, a.crisis_refit_every))
        quality = list(quality or [])
        unavailable = covered({q.series_id: f"{q.flag}: {q.detail}".rstrip(": ") for q in quality
                               if q.flag in BLOCKING_FLAGS}, everyone)
        forecasts = [f for f in (forecasts or []) if f.as_of <= as_of]
        inputs = rule_kinds.RuleInputs(
            series=series, indicators=ind, specs={s.name: s for s in self.specs}, stress=stress,
            probability=ews.probability, forecasts=forecasts, regime_prob=dict(regime_prob or {}),
            unavailable=unavailable,
        )
        evaluations = rule_kinds.evaluate(config.rules.rules, inputs, self.rules)
        fresh = ind.fresh().iloc[-1] if len(ind.calendar) else pd.Series(dtype=bool)
        stale = sorted({s.id for s in everyone if s.enabled and not bool(fresh.get(s.id, False))} | set(unavailable))
        assessment = Assessment(
            as_of=as_of,
            stress_index=stress.values(as_of),
            probability=ews.probability,
            rules=evaluations,
            forecasts=_annotate(forecasts, evaluations),
            latest=ind.latest(self.specs),
            quality=quality,
            stale_series=stale,
        )
        return AssessmentRun(assessment, ind, self.specs, stress.until(as_of) if as_of != self.end else stress, ews)


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
    for ev in evaluations:
        if ev.kind != "forecast_breach" or "model" not in ev.details:
            continue
        key = (ev.series_id or "", ev.details["model"])
        if key not in worst or severity_rank(ev.severity) > severity_rank(worst[key].severity):
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


# --- history (evaluation and replay) ---------------------------------------------------------------------


@dataclass
class History:
    """Every rule's severity on every calendar day, from one causal pass over the history."""

    indicators: Indicators
    stress: StressResult
    probability: pd.DataFrame  # calendar × country
    severities: dict[str, pd.DataFrame]  # rule → calendar × target key (-1 no data, 0 ok, 1 warn, 2 critical)
    labels: dict[str, dict[str, dict[str, str]]]  # rule → target key → labels
    cutoff: pd.DataFrame | None = None  # calendar × country: the crisis probability's estimated warning cut-off

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
    a = config.settings.assessment
    series = config.series
    everyone = list(series.values())
    ind = Indicators(derive(with_fallbacks(frames, everyone), everyone), series)
    scopes = list(scopes) if scopes is not None else scopes_for(everyone)
    stress = stress_index(ind, everyone, scopes, StressParams(level_quantiles=tuple(a.stress_levels)))
    members = [s for s in scopes if s != WORLD]
    start = pd.Timestamp(probability_from) if probability_from else ind.calendar[0]
    ews = estimate_history(ind, stress, everyone, members, start, refit_every, a.episodes,
                           ews_params(a))
    prob = ews.probability
    specs = indicator_specs(config)
    inputs = rule_kinds.RuleInputs(series=series, indicators=ind, specs={s.name: s for s in specs}, stress=stress,
                                   probability_history=prob, cutoff_history=ews.cutoff)
    severities, labels = {}, {}
    for rule in config.rules.rules:
        rf = rule_kinds.registry.get(rule.kind)(rule, inputs)
        severities[rule.name] = rule_kinds.severity_codes(rf, rule)
        labels[rule.name] = {t.key: t.labels for t in rf.targets}
    return History(ind, stress, prob, severities, labels, ews.cutoff)
