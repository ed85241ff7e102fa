"""Models of alerts/rules.yaml: structured rules, never code."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.catalog import Kind

RuleKind = Literal[
    "level", "change", "zscore", "drawdown", "vol_regime", "forecast_breach", "stress_level", "probability"
]


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
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels for routing.")
    summary: str = Field(default="", description="Summary template with {series}, {value}, {threshold}, {severity}.")

    @model_validator(mode="after")
    def _thresholds(self) -> "Rule":
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
