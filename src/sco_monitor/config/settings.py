"""Models of config/sco-monitor.yaml: store, schedules, executor, sources, report, HTTP."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sco_monitor.config.alerting import AlertingSettings, Receiver, Route
from sco_monitor.config.types import Duration


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class StoreConfig(Model):
    url: str = Field(
        default="sqlite:///var/sco-monitor.db",
        description="SQLAlchemy URL of the store; env SCO_MONITOR_DB_URL overrides it.",
    )


class ExecutorConfig(Model):
    kind: Literal["inline", "process", "dask"] = Field(
        default="process", description="Where per-series work runs: inline, a process pool, or Dask."
    )
    workers: int | None = Field(default=None, ge=1, description="Pool size; all cores when empty.")
    address: str | None = Field(
        default=None, description="Dask scheduler address; a LocalCluster when empty."
    )


class Schedule(Model):
    cron: str = Field(description="Five-field cron expression in the configured timezone.")
    timeout: Duration = Field(default="30m", description="A run longer than this is cancelled.")
    enabled: bool = Field(default=True, description="Disabled jobs are not scheduled.")


def _default_schedules() -> dict[str, Schedule]:
    return {
        "collect_market": Schedule(cron="30 6 * * tue-sat", timeout="45m"),
        "collect_macro": Schedule(cron="0 5 * * *", timeout="30m"),
        "assess": Schedule(cron="15 7 * * tue-sat", timeout="45m"),
        "deliver": Schedule(cron="* * * * *", timeout="5m"),
        "report": Schedule(cron="0 8 * * tue-sat", timeout="15m"),
        "heartbeat": Schedule(cron="0 */6 * * *", timeout="2m"),
    }


class SourceSettings(Model):
    base_url: str | None = Field(default=None, description="Override of the provider's base URL.")
    timeout: float = Field(default=30.0, gt=0, description="Per-request timeout in seconds.")
    retries: int = Field(default=4, ge=0, description="Retries on timeouts, 429 and 5xx.")
    rate_limit: float = Field(default=2.0, gt=0, description="Requests per second at most.")
    api_key_env: str | None = Field(
        default=None, description="Name of the env variable holding an API key (never the key)."
    )


class Episode(Model):
    name: str = Field(description="Short name of the crisis episode.")
    start: str = Field(description="Onset date, YYYY-MM-DD.")
    end: str | None = Field(default=None, description="End date, YYYY-MM-DD.")
    countries: list[str] = Field(default_factory=list, description="Affected countries (alpha-3).")


class AssessmentConfig(Model):
    history_days: int = Field(default=3650, ge=60, description="Calendar days of history read per assessment.")
    forecast_horizon: int = Field(default=20, ge=1, description="Forecast horizon in observations.")
    crisis_horizon: int = Field(default=60, ge=1, description="H in P(crisis within H trading days).")
    reestimate_every: Duration = Field(default="7d", description="Model parameters are re-estimated this often.")
    forecast_series: list[str] = Field(
        default_factory=list,
        description="Market series that also get level forecasts (ARIMA/ETS, fan charts); macro series always do, "
        "and every daily market series gets GARCH volatility, VaR and regime forecasts.",
    )
    episodes: list[Episode] = Field(default_factory=list, description="Dated crisis episodes for the early-warning model.")


class ReportConfig(Model):
    out_dir: str = Field(default="reports", description="Folder the daily reports are written to.")
    formats: list[Literal["html", "md", "json"]] = Field(
        default_factory=lambda: ["html", "md", "json"], description="Formats written each day."
    )
    key_series: list[str] = Field(default_factory=list, description="Series that get fan charts.")
    digest_receivers: list[str] = Field(
        default_factory=list, description="Receivers that get the report as a daily mail digest."
    )


class HttpConfig(Model):
    listen: str = Field(default="127.0.0.1:9464", description="Address of /healthz and /metrics.")
    stale_after: Duration = Field(default="36h", description="/healthz fails when the last cycle is older.")


class Settings(Model):
    """The main config file."""

    universe: str = Field(default="universe.yaml", description="Series catalog, relative to this file.")
    rules: str = Field(default="../alerts/rules.yaml", description="Alert rules, relative to this file.")
    playbooks: str = Field(default="../alerts/playbooks.yaml", description="Playbooks, relative to this file.")
    timezone: str = Field(default="Asia/Almaty", description="Timezone of schedules and report dates.")
    store: StoreConfig = Field(default_factory=StoreConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    schedules: dict[str, Schedule] = Field(default_factory=_default_schedules)
    sources: dict[str, SourceSettings] = Field(
        default_factory=dict, description="Per-source settings, keyed by source name."
    )
    assessment: AssessmentConfig = Field(default_factory=AssessmentConfig)
    receivers: list[Receiver] = Field(default_factory=list, description="Where notifications go.")
    route: Route | None = Field(default=None, description="Route tree from labels to receivers.")
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    report: ReportConfig = Field(default_factory=ReportConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown timezone {v!r}; expected an IANA name like Asia/Almaty") from e
        return v
