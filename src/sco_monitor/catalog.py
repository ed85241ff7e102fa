"""The series catalog: what is watched, where it comes from and how to read a move in it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["equity", "fx", "commodity", "rate", "spread", "bond", "volatility", "macro"]
Frequency = Literal["B", "D", "W", "M", "Q", "A"]
Direction = Literal["up", "down", "both"]
Segment = Literal["equity", "fx", "rates", "commodities", "volatility", "macro"]
Coverage = Literal["fx", "policy_rate", "cpi_monthly", "reserves", "credit", "equity", "bond", "trade", "external"]

#: The coverage kinds the coverage table shows for every member, in column order.
COVERAGE_KINDS: tuple[str, ...] = ("fx", "policy_rate", "cpi_monthly", "reserves", "credit", "equity", "bond",
                                   "trade", "external")
#: The coverage kind a series kind implies where that is unambiguous (others say `coverage:`).
DEFAULT_COVERAGE: dict[str, str] = {"equity": "equity", "fx": "fx"}

#: The stress-index segment a kind belongs to unless a series says otherwise.
DEFAULT_SEGMENT: dict[str, Segment] = {
    "equity": "equity",
    "fx": "fx",
    "rate": "rates",
    "spread": "rates",
    "bond": "rates",  # a government-bond price index: a fall (yields up) is the stress
    "commodity": "commodities",
    "volatility": "volatility",
    "macro": "macro",
}

SCO_MEMBERS: tuple[str, ...] = ("KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR")


class Fallback(BaseModel):
    """The series that stands in where this one has no value: an official rate's market quote.

    The stand-in carries the `alternative` tag, so only one of the two feeds the stress index;
    on days both have a value they must agree within `tolerance` (a quality flag otherwise).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    series: str = Field(description="Id of the stand-in series (same country and kind, tagged alternative).")
    tolerance: float = Field(default=0.03, gt=0, description="Largest relative gap |a/b - 1| on a common day before a disagreement flag.")


class Series(BaseModel):
    """One watched series. `id` is the user's stable name; `symbol` is the provider's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$",
        description="Stable dotted id chosen by the user, e.g. fx.usd_kzt or eq.cn.sse.",
    )
    name: str = Field(description="Human-readable name shown in reports.")
    source: str = Field(description="Source name from the source registry, e.g. yahoo, fred, worldbank, ecb, csv, bis, imf, dbnomics, moex, cbr.")
    symbol: str = Field(default="", description="The provider's own symbol or code.")
    params: dict[str, Any] = Field(default_factory=dict, description="Source-specific options.")
    kind: Kind = Field(description="equity, fx, commodity, rate, spread, bond, volatility or macro.")
    country: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 code, or WLD for the world.")
    frequency: Frequency = Field(description="B (business daily), D, W, M, Q or A.")
    unit: str = Field(description="Unit of the values, e.g. index, KZT per USD, percent.")
    direction: Direction = Field(
        description="Which move is a risk: up (a rise), down (a fall) or both."
    )
    publication_lag_days: int = Field(
        default=0, ge=0, description="Days after the observation date before a value is knowable."
    )
    segment: Segment | None = Field(
        default=None, description="Stress-index segment; defaults from the kind."
    )
    enabled: bool = Field(default=True, description="Disabled series are kept in the catalog but not collected.")
    note: str | None = Field(default=None, description="Why a series is disabled or sourced unusually.")
    tags: list[str] = Field(default_factory=list, description="Free labels, e.g. oil_exporter.")
    fallback: Fallback | None = Field(
        default=None, description="A second source that stands in where this series has no value (official rate -> market quote)."
    )
    coverage: Coverage | None = Field(
        default=None,
        description="What the series covers for its country in the coverage table; equity and fx series default to their kind.",
    )

    @property
    def coverage_kind(self) -> str | None:
        return self.coverage or DEFAULT_COVERAGE.get(self.kind)

    @property
    def stress_segment(self) -> Segment:
        return self.segment or DEFAULT_SEGMENT[self.kind]


class Gap(BaseModel):
    """A member x coverage kind no provider serves: the reason, shown in the coverage table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 code of the member.")
    coverage: Coverage = Field(description="The coverage kind left empty.")
    note: str = Field(min_length=1, description="Why nothing is configured.")


class Universe(BaseModel):
    """The contents of universe.yaml."""

    model_config = ConfigDict(extra="forbid")

    series: list[Series] = Field(description="The watched series.")
    gaps: list[Gap] = Field(default_factory=list, description="Member x coverage kinds left empty, with the reason.")

    def enabled(self) -> list[Series]:
        return [s for s in self.series if s.enabled]
