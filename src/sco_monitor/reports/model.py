"""The report model: the one structure the HTML, Markdown and JSON renderings are made from.

Its JSON form is the public contract described by `report.schema.json`; fields may be added,
never renamed.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Point = tuple[date, float]
DataStatus = Literal["ok", "partial", "stale", "no_data"]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- 1. headline ----------------------------------------------------------------------------------
class Change(Part):
    kind: Literal["overall", "stress", "country", "alert", "forecast", "recommendation", "data"]
    subject: str
    before: str | None = None
    after: str | None = None
    text: str


class Previous(Part):
    as_of: date
    source: Literal["report", "stress_history"]
    level: str | None = None
    value: float | None = None


class Overall(Part):
    level: str = Field(description="Worst stress level among the world and the member states; 'unknown' without data")
    status: DataStatus
    headline: str
    facts: list[str] = Field(default_factory=list)
    world_value: float | None = None
    world_level: str | None = None
    members_elevated: list[str] = Field(default_factory=list, description="Members at elevated stress or worse")
    counts: dict[str, int] = Field(default_factory=dict)
    previous: Previous | None = None
    changes: list[Change] = Field(default_factory=list)


# --- 2. member states -------------------------------------------------------------------------------
class SegmentCell(Part):
    contribution: float | None = None
    severity: str = Field(description="Worst rule severity in the matching category: ok, warn, critical, no_data or none")
    breaches: int = 0


class Driver(Part):
    name: str
    contribution: float


class CountryRow(Part):
    country: str
    name: str
    member: bool
    stress_value: float | None = None
    stress_level: str | None = None
    stress_change: float | None = Field(default=None, description="Change since the previous report")
    segments: dict[str, SegmentCell]
    probability: float | None = None
    horizon: int | None = None
    drivers: list[Driver] = Field(default_factory=list)
    severity: str = "ok"
    breaches: int = 0
    firing: int = 0


# --- 3. stress index ----------------------------------------------------------------------------------
class ScopeStress(Part):
    scope: str
    name: str
    value: float | None = None
    level: str | None = None
    previous_value: float | None = None
    segments: dict[str, float] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)


class StressSection(Part):
    scopes: list[ScopeStress] = Field(default_factory=list)
    thresholds: dict[str, float] = Field(default_factory=dict, description="Level name → lower bound (world index)")
    history: dict[str, list[Point]] = Field(default_factory=dict, description="Scope → last year of (date, value)")
    long_history: list[Point] = Field(default_factory=list, description="World index, full history, weekly")
    long_scope: str | None = None


# --- 4. alerts ------------------------------------------------------------------------------------------
class AlertItem(Part):
    fingerprint: str
    rule: str
    state: str
    severity: str
    labels: dict[str, str] = Field(default_factory=dict)
    value: float | None = None
    threshold: float | None = None
    value_text: str = ""
    threshold_text: str = ""
    summary: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    new: bool = False
    silenced: bool = False
    silenced_until: datetime | None = None


class Breach(Part):
    subject: str = Field(description="What breached, in words: a series name, 'Russia stress index', or the rule")
    rule: str
    kind: str
    category: str
    severity: str
    country: str | None = None
    series_id: str | None = None
    series_name: str | None = None
    value: float | None = None
    threshold: float | None = None
    value_text: str = ""
    threshold_text: str = ""
    direction: str = "above"
    summary: str = ""


class AlertsSection(Part):
    since: datetime | None = Field(default=None, description="'New' and 'resolved' are counted from here")
    recorded: bool = Field(description="Whether the alerting engine has recorded any alert yet")
    firing: list[AlertItem] = Field(default_factory=list)
    pending: list[AlertItem] = Field(default_factory=list)
    resolved: list[AlertItem] = Field(default_factory=list)
    no_data: list[AlertItem] = Field(default_factory=list)
    breaches: list[Breach] = Field(default_factory=list, description="Rule breaches of this assessment")


# --- 5. forecasts -----------------------------------------------------------------------------------------
class ForecastItem(Part):
    series_id: str
    name: str
    unit: str = ""
    model: str
    level: float
    last_date: date | None = None
    last_value: float | None = None
    dates: list[date]
    mean: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    threshold: float | None = None
    breach_probability: float | None = None
    unfavourable: bool = False
    charted: bool = False
    history: list[Point] = Field(default_factory=list, description="Recent observations before the forecast")


class VarBacktestItem(Part):
    """The 99% one-day VaR of one series against the returns of its last 250 days (out of sample)."""

    series_id: str
    name: str
    model: str
    side: str
    start: date | None = None
    end: date | None = None
    days: int
    exceptions: int
    expected: float
    kupiec_p: float | None = None
    christoffersen_p: float | None = None
    zone: Literal["green", "yellow", "red"] | None = None
    estimated_to: date | None = None


class ForecastSection(Part):
    selection: Literal["configured", "unfavourable", "none"]
    items: list[ForecastItem] = Field(default_factory=list)
    backtests: list[VarBacktestItem] = Field(default_factory=list, description="VaR backtests (Basel traffic light)")


# --- 6. recommendations -----------------------------------------------------------------------------------
class ActionItem(Part):
    who: str
    addressee: Literal["national", "joint"]
    text: str


class Recommendation(Part):
    category: str
    level: Literal["warn", "critical"]
    country: str
    country_name: str
    title: str
    triggers: list[Breach]
    actions: list[ActionItem] = Field(default_factory=list)
    note: str = ""


class JointPlan(Part):
    category: str
    level: Literal["warn", "critical"]
    title: str
    countries: list[str]
    country_names: list[str]
    triggers: list[Breach]
    common_drivers: list[Breach] = Field(default_factory=list)
    actions: list[ActionItem]


# --- 7. data quality --------------------------------------------------------------------------------------
class StaleSeries(Part):
    series_id: str
    name: str
    last_date: date | None = None
    days: int | None = None


Day = date  # the field named `date` below would shadow the type in its own annotation


class QualityItem(Part):
    series_id: str
    name: str
    flag: str
    date: Day | None = None
    detail: str = ""


class FailedCollection(Part):
    series_id: str
    source: str
    started_at: datetime
    attempts: int = 1
    error: str = ""


class FailedNotification(Part):
    receiver: str
    kind: str
    attempts: int
    created_at: datetime
    last_error: str = ""


class CoverageRow(Part):
    """One member's coverage: status per kind (stored, stale, configured, missing)."""

    country: str
    statuses: dict[str, Literal["stored", "stale", "configured", "missing"]]


class DataQuality(Part):
    status: DataStatus
    message: str
    series_enabled: int
    series_with_data: int
    newest_date: date | None = None
    stale: list[StaleSeries] = Field(default_factory=list)
    flags: list[QualityItem] = Field(default_factory=list)
    failed_collections: list[FailedCollection] = Field(default_factory=list)
    failed_notifications: list[FailedNotification] = Field(default_factory=list)
    coverage: list[CoverageRow] = Field(default_factory=list, description="Member x kind coverage (sco-monitor coverage)")


# --- 8. track record ----------------------------------------------------------------------------------------
class TrackRecord(Part):
    model_config = ConfigDict(extra="allow")

    available: bool
    message: str
    forecasts: ForecastRecordRef | None = Field(
        default=None, description="The scored nowcast record (World economy outlook); None without nowcast panels")


# --- 9. mistakes and their reasons ------------------------------------------------------------------------
class Mistake(Part):
    kind: Literal["false_alarm", "miss"]
    date: dt.date = Field(description="The warning's first day, or the episode's onset")
    country: str
    country_name: str
    rule: str | None = None
    severity: str | None = None
    title: str = Field(description="One line: what the mistake was")
    drivers: list[str] = Field(default_factory=list, description="What drove it on the day, from that day's saved assessment")
    followed: str = Field(default="", description="What followed in the outcome window")
    data: dict[str, Any] = Field(default_factory=dict, description="The numbers behind the sentences")


class MistakesSection(Part):
    available: bool = False
    message: str = ""
    counts: dict[str, int] = Field(default_factory=dict, description="warnings, hits, false_alarms, open, misses")
    items: list[Mistake] = Field(default_factory=list)


# --- partner centres' views (beside section 2) -------------------------------------------------------------
class PartnerItem(Part):
    author: str = Field(description="The partner's token name")
    country: str
    country_name: str
    episode: str | None = None
    level: str = Field(description="The partner's level: low..severe, or warning / critical")
    model_level: str | None = Field(default=None, description="The model's stress level of the same scope on as_of")
    text: str
    forecast_level: str | None = None
    forecast_horizon_days: int | None = None
    forecast_text: str | None = None
    posted_at: datetime


class PartnerSection(Part):
    message: str = "No partner centre has posted an assessment."
    items: list[PartnerItem] = Field(default_factory=list)


# --- economic cooperation -------------------------------------------------------------------------------------
class CooperationRow(Part):
    country: str
    country_name: str
    exports: float | None = Field(default=None, description="Exports to the other members in the period, million USD")
    imports: float | None = Field(default=None, description="Imports from the other members (their exports to it), million USD")
    export_share: float | None = Field(default=None, description="Exports to members / exports to the world")
    exports_yoy: float | None = Field(default=None, description="Exports to members on the same period a year earlier")


class CooperationSection(Part):
    message: str = ""
    period: date | None = Field(default=None, description="Newest period with bilateral trade knowable at as_of")
    previous_report_period: date | None = None
    members: list[str] = Field(default_factory=list, description="Alpha-3 codes, the matrix's row and column order")
    matrix: list[list[float | None]] = Field(default_factory=list, description="Row exports to column, million USD")
    intra_share: float | None = None
    intra_share_change: float | None = Field(default=None, description="Change of the share since the period before")
    index: float | None = None
    intra_yoy: float | None = None
    history: list[Point] = Field(default_factory=list, description="The intra-trade index, monthly")
    rows: list[CooperationRow] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list, description="What the newest release changed, in words")


class OutlookRow(Part):
    """The latest nowcast of one target: its first unpublished period, the next, and how it moved."""

    series_id: str
    name: str
    country: str
    country_name: str
    panel: str = ""
    period: date | None = Field(default=None, description="The nowcast period (the first unpublished one)")
    period_label: str = ""
    mean: float | None = None
    lower: float | None = None
    upper: float | None = None
    next_label: str = ""
    next_period: date | None = None
    next_mean: float | None = None
    last_date: date | None = Field(default=None, description="The last published period of the target")
    last_value: float | None = None
    previous_mean: float | None = Field(default=None, description="The previous report's nowcast of the same period")
    change: float | None = Field(default=None, description="mean - previous_mean, percentage points")
    month_ago_mean: float | None = Field(default=None, description="The stored nowcast of the same period a month earlier")
    month_change: float | None = None
    projection_series: str | None = Field(default=None, description="The stored projection (IMF WEO) of the same quantity")
    projection: float | None = Field(default=None, description="Its value for the nowcast period (latest vintage)")
    unfavourable: bool = False


class OutlookRecordRow(Part):
    """The stored nowcasts of one target at one horizon against the random walk, on published outcomes."""

    series_id: str
    name: str
    horizon: int
    n: int
    rmse: float | None = None
    rw_rmse: float | None = None
    ratio: float | None = Field(default=None, description="RMSE / the random walk's on the same periods")
    dm_p: float | None = Field(default=None, description="Diebold-Mariano p-value against the random walk")


class ForecastRecordRef(Part):
    """The scored nowcast record as the track record names it; the same rows as the outlook section's record."""

    message: str
    targets: int = Field(default=0, description="Targets with at least one scored nowcast")
    cells: int = Field(default=0, description="Target-horizon cells scored")
    beaten: int = Field(default=0, description="Cells where the nowcast's RMSE is below the random walk's")
    significant: int = Field(default=0, description="Of those, cells with a Diebold-Mariano p-value below 0.05")
    rows: list[OutlookRecordRow] = Field(default_factory=list)


class OutlookSection(Part):
    message: str = ""
    as_of: date | None = None
    previous_report: date | None = None
    rows: list[OutlookRow] = Field(default_factory=list, description="World first, then the members")
    charts: list[ForecastItem] = Field(default_factory=list, description="The fan charts, one per target")
    record: list[OutlookRecordRow] = Field(default_factory=list)
    record_note: str = ""
    changes: list[str] = Field(default_factory=list, description="How the nowcasts moved since the previous report, in words")


# --- the report ------------------------------------------------------------------------------------------------
class Report(Part):
    language: str = Field(default="en", description="Language of the texts (en, ru, zh); numbers are the same in every language")
    as_of: date
    generated_at: datetime
    overall: Overall
    countries: list[CountryRow]
    stress_index: StressSection
    alerts: AlertsSection
    forecasts: ForecastSection
    recommendations: list[Recommendation]
    joint_actions: list[JointPlan]
    data_quality: DataQuality
    track_record: TrackRecord
    partners: PartnerSection = Field(default_factory=PartnerSection)
    cooperation: CooperationSection = Field(default_factory=CooperationSection)
    outlook: OutlookSection = Field(default_factory=OutlookSection)
    mistakes: MistakesSection = Field(default_factory=MistakesSection)
    source: str = Field(default="", description="Where the assessment came from, e.g. the one saved for the day and when")

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
