"""The assessment result: what alerting, reports and the replay consume.

This is the contract between the engine and its consumers; fields may be added, never renamed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["ok", "warn", "critical", "no_data"]
StressLevel = Literal["low", "moderate", "elevated", "high", "severe"]


def fingerprint(rule: str, labels: dict[str, str]) -> str:
    """Alertmanager-style identity of an alert: the rule and its labels, order-free."""
    items = tuple(sorted(labels.items()))
    try:
        return _fingerprint(rule, items)
    except TypeError:  # an unhashable label value: not memoisable, the same digest
        return _digest(rule, items)


@lru_cache(maxsize=200_000)
def _fingerprint(rule: str, labels: tuple[tuple[str, Any], ...]) -> str:
    """Memoised: every day's evaluations and saved rows name the same targets again."""
    return _digest(rule, labels)


def _digest(rule: str, labels: tuple[tuple[str, Any], ...]) -> str:
    body = json.dumps({"rule": rule, "labels": dict(labels)}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleEvaluation(Result):
    """One rule on one target (series or scope) at as_of."""

    rule: str
    kind: str
    category: str
    labels: dict[str, str] = Field(description="category, country, series or scope, plus the rule's labels; never severity")
    series_id: str | None = None
    value: float | None = None
    threshold: float | None = Field(default=None, description="The threshold breached; warn's when none is")
    severity: Severity = "ok"
    warn: float | None = None
    critical: float | None = None
    clear: float | None = None
    direction: Literal["above", "below"] = "above"
    for_: int = 1
    within: int | None = Field(default=None, description="N-of-M: fire once for_ of the last `within` breached")
    summary: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.labels)


class StressValue(Result):
    scope: str = Field(description="WLD or a country code")
    value: float | None = None
    level: StressLevel | None = None
    segments: dict[str, float] = Field(default_factory=dict, description="segment → contribution to the index")
    thresholds: dict[str, float] = Field(default_factory=dict, description="level name → lower bound")
    date: dt.date | None = Field(default=None, description="Date of the value (the last business day up to as_of)")
    subindices: dict[str, float] = Field(default_factory=dict, description="segment → sub-index in [0, 1]")
    missing: list[str] = Field(default_factory=list, description="segments without usable series for this scope")
    note: str = Field(default="", description="Caveats, e.g. a partial index built from few segments")


class Forecast(Result):
    series_id: str
    model: str
    as_of: date
    dates: list[date]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    std: list[float] = Field(default_factory=list, description="Predictive standard deviation per step")
    level: float = 0.9
    threshold: float | None = None
    breach_probability: float | None = None
    unfavourable: bool = False


class VarBacktest(Result):
    """Exceptions of a one-day VaR over a window, with the coverage tests and the Basel zone."""

    series_id: str = ""
    model: str = ""
    level: float = 0.99
    side: str = "down"
    start: date | None = None
    end: date | None = None
    days: int = 0
    exceptions: int = 0
    expected: float = 0.0
    kupiec_lr: float | None = Field(default=None, description="Kupiec's unconditional-coverage LR, chi2(1)")
    kupiec_p: float | None = None
    christoffersen_lr: float | None = Field(default=None, description="Christoffersen's independence LR, chi2(1)")
    christoffersen_p: float | None = None
    zone: Literal["green", "yellow", "red"] | None = None
    estimated_to: date | None = Field(default=None, description="Parameters from data up to this date (before start)")
    note: str = ""


class CrisisProbability(Result):
    country: str
    horizon: int
    probability: float | None
    drivers: dict[str, float] = Field(default_factory=dict, description="signal → contribution")
    cutoff: float | None = Field(default=None, description="Warning cut-off on P estimated with the model "
                                 "(noise-to-signal minimising, data before as_of only)")


class QualityFlag(Result):
    series_id: str
    flag: str = Field(description="stale, gap, spike, duplicate, non_finite, non_positive, disagreement, failed, partial")
    date: dt.date | None = None  # `date | None` here would see the field, not the type
    detail: str = ""


class Assessment(Result):
    as_of: date
    stress_index: dict[str, StressValue] = Field(default_factory=dict)
    probability: dict[str, CrisisProbability] = Field(default_factory=dict)
    rules: list[RuleEvaluation] = Field(default_factory=list)
    forecasts: list[Forecast] = Field(default_factory=list)
    latest: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="series → indicator → latest value (for reports)"
    )
    quality: list[QualityFlag] = Field(default_factory=list)
    stale_series: list[str] = Field(default_factory=list)
