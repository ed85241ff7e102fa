"""Models of alerts/rules.yaml: structured rules, never code."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sco_monitor.catalog import Kind
from sco_monitor.config.template import TemplateError
from sco_monitor.config.template import check as check_template

RuleKind = Literal[
    "level", "change", "zscore", "drawdown", "vol_regime", "forecast_breach", "stress_level", "probability"
]

#: Stress levels in order; stress_level rules may name them as thresholds.
STRESS_LEVELS: tuple[str, ...] = ("low", "moderate", "elevated", "high", "severe")

#: The params each rule kind accepts: a type, or a tuple of allowed values.
RULE_PARAMS: dict[str, dict[str, Any]] = {
    "level": {"indicator": str},
    "change": {"window": int, "log": bool, "orient": bool},
    "zscore": {"of": ("level", "return", "change"), "window": int, "min_periods": int,
               "method": ("expanding", "ewma"), "lam": float, "orient": bool},
    "drawdown": {"window": int, "orient": bool},
    "vol_regime": {},
    "forecast_breach": {"horizon": int, "probability": float, "measure": ("level", "change"), "model": str,
                        "orient": bool},
    "stress_level": {"measure": ("level", "value")},
    "probability": {"cutoff": ("fixed", "estimated")},
}


def _check_param(kind: str, key: str, value: Any) -> None:
    allowed = RULE_PARAMS[kind]
    if key not in allowed:
        known = ", ".join(allowed) or "none"
        raise ValueError(f"params.{key}: unknown parameter for {kind} rules; expected one of: {known}")
    want = allowed[key]
    if isinstance(want, tuple):
        ok = value in want
        expect = " or ".join(want)
    elif want is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        expect = "a positive integer"
    elif want is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        expect = "a number"
    elif want is bool:
        ok = isinstance(value, bool)
        expect = "true or false"
    else:
        ok = isinstance(value, str) and value != ""
        expect = "a name"
    if not ok:
        raise ValueError(f"params.{key}: expected {expect}, got {value!r}")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class Selector(Model):
    series: list[str] = Field(default_factory=list, description="Series ids; empty = select by kind/country/tags.")
    kind: Kind | None = Field(default=None, description="Series kind to select.")
    country: list[str] = Field(default_factory=list, description="Countries (alpha-3) to select.")
    tags: list[str] = Field(default_factory=list, description="Select series carrying all these tags.")
    scope: list[str] = Field(
        default_factory=list, description="For stress_level and probability rules: WLD or countries."
    )
    exposed: list[str] = Field(
        default_factory=list,
        description="Countries exposed to the selected series (e.g. oil exporters to Brent): one evaluation per country.",
    )

    @field_validator("country", "scope", "exposed")
    @classmethod
    def _alpha3(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not (len(c) == 3 and c.isalpha() and c.isupper())]
        if bad:
            raise ValueError(f"expected ISO 3166 alpha-3 codes like KAZ or WLD, got {bad[0]!r}")
        return v


class Rule(Model):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="Unique rule name; part of the alert fingerprint.")
    kind: RuleKind = Field(description="level, change, zscore, drawdown, vol_regime, forecast_breach, stress_level or probability.")
    category: str = Field(description="Risk category, e.g. fx, equity, commodity, rates, volatility, macro, contagion.")
    select: Selector = Field(default_factory=Selector, description="What the rule watches.")
    params: dict[str, Any] = Field(default_factory=dict, description="Kind-specific options (window, horizon, probability).")
    direction: Literal["above", "below"] = Field(default="above", description="Which side of the thresholds is risk.")
    warn: float | None = Field(default=None, description="Warning threshold.")
    critical: float | None = Field(default=None, description="Critical threshold.")
    clear: float | None = Field(default=None, description="Resolve only once back past this (hysteresis).")
    for_: int = Field(default=1, ge=1, alias="for", description="Consecutive breaching evaluations before firing.")
    within: int | None = Field(
        default=None, ge=1, le=30,
        description="N-of-M confirmation: fire once `for` of the last `within` evaluations breached (a pending "
        "alert survives a day back inside); without it, `for` consecutive breaches.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels for routing.")
    summary: str = Field(default="", description="Summary template with {series}, {value}, {threshold}, {severity}.")

    @model_validator(mode="before")
    @classmethod
    def _level_names(cls, data: Any) -> Any:
        """stress_level rules may name levels (warn: high) instead of ranks 0-4."""
        if not isinstance(data, dict) or data.get("kind") != "stress_level":
            return data
        params = data.get("params") or {}
        if isinstance(params, dict) and params.get("measure") == "value":
            return data
        data = dict(data)
        for key in ("warn", "critical", "clear"):
            value = data.get(key)
            if isinstance(value, str):
                if value not in STRESS_LEVELS:
                    raise ValueError(f"{key}: expected a stress level ({', '.join(STRESS_LEVELS)}), got {value!r}")
                data[key] = float(STRESS_LEVELS.index(value))
        return data

    @model_validator(mode="after")
    def _params_labels_summary(self) -> Rule:
        for key, value in self.params.items():
            _check_param(self.kind, key, value)
        p = self.params.get("probability")
        if p is not None and not 0 < p < 1:
            raise ValueError(f"params.probability: expected a probability between 0 and 1, got {p!r}")
        if "severity" in self.labels:
            raise ValueError("labels: 'severity' is set by the evaluation, not by the rule")
        if self.summary:
            try:
                check_template(self.summary)
            except TemplateError as e:
                raise ValueError(f"summary: {e}") from None
        return self

    @model_validator(mode="after")
    def _within(self) -> Rule:
        if self.within is not None and self.within < self.for_:
            raise ValueError(f"within: {self.within} evaluations cannot hold `for: {self.for_}` breaches; "
                             f"expected within >= for")
        return self

    @model_validator(mode="after")
    def _thresholds(self) -> Rule:
        if self.warn is None and self.critical is None:
            raise ValueError("a rule needs a warn or a critical threshold")
        if self.warn is not None and self.critical is not None:
            worse = self.critical >= self.warn if self.direction == "above" else self.critical <= self.warn
            if not worse:
                raise ValueError(
                    f"critical ({self.critical}) must be beyond warn ({self.warn}) for direction {self.direction}"
                )
        return self


class RulePack(Model):
    rules: list[Rule] = Field(default_factory=list, description="The alert rules.")
