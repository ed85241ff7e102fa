"""Models of config/sco-monitor.yaml: store, schedules, executor, sources, report, HTTP."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sco_monitor.catalog import Kind
from sco_monitor.config.alerting import AlertingSettings, Receiver, Route
from sco_monitor.config.cron import parse_cron
from sco_monitor.config.types import Duration, ModelSlot
from sco_monitor.i18n import Language


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
    cron: str = Field(
        description="Cron in the configured timezone: 5 fields (minute hour day month weekday, "
        "weekday 0 or 7 = Sunday), or 6 with seconds first; @hourly, @daily, @weekly, @monthly."
    )
    timeout: Duration = Field(default="30m", description="A run longer than this is cancelled.")
    enabled: bool = Field(default=True, description="Disabled jobs are not scheduled.")
    job: str | None = Field(
        default=None,
        description="Registered job to run, or package.module:function; defaults to the schedule's name.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Options passed to the job, e.g. series.")
    catch_up: Duration = Field(
        default="7d",
        description="A run missed by up to this much (downtime, a crash) runs once at start-up; older misses are skipped.",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        parse_cron(v)
        return v


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
    backoff: float = Field(
        default=1.0, ge=0, description="First retry delay in seconds; doubles per retry, plus jitter."
    )
    backoff_max: float = Field(default=60.0, ge=0, description="Longest delay between two retries, in seconds.")
    retry_after_max: float = Field(
        default=300.0, ge=0, description="Longest Retry-After (from a 429 or 503) honoured, in seconds."
    )
    concurrency: int = Field(default=4, ge=1, description="Requests in flight to this source at most.")
    batch_size: int = Field(
        default=50, ge=1, description="Series per request where the provider serves several at once (yahoo)."
    )
    cache_dir: str | None = Field(
        default=None, description="Folder of the client's own caches (yfinance); the client's default when empty."
    )


class Episode(Model):
    name: str = Field(description="Short name of the crisis episode.")
    start: str = Field(description="Onset date, YYYY-MM-DD.")
    end: str | None = Field(default=None, description="End date, YYYY-MM-DD.")
    countries: list[str] = Field(default_factory=list, description="Affected countries (alpha-3).")


class IndicatorSpec(Model):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="Name the indicator is saved and cited under, e.g. change_20.")
    indicator: str = Field(
        description="Registered indicator: level, log_return, ewma_vol, shock, drawdown, change, zscore, fx_depreciation."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Its parameters, e.g. window, lam, min_periods.")
    kinds: list[Kind] = Field(default_factory=list, description="Series kinds it applies to; empty = every kind.")


class SpreadSpec(Model):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="Name the spread is saved under (on series a).")
    a: str = Field(description="Series id of the first leg.")
    b: str = Field(description="Series id of the second leg (same frequency as a).")
    log: bool = Field(default=False, description="log(a/b) instead of a - b.")


def default_indicators() -> list[IndicatorSpec]:
    """The indicators every series gets unless the config lists its own."""
    return [
        IndicatorSpec(name="log_return", indicator="log_return"),
        IndicatorSpec(name="ewma_vol", indicator="ewma_vol", params={"lam": 0.94}),
        IndicatorSpec(name="shock", indicator="shock", params={"lam": 0.94}),
        IndicatorSpec(name="drawdown", indicator="drawdown", params={"window": 252}, kinds=["equity", "commodity"]),
        IndicatorSpec(name="change_5", indicator="change", params={"window": 5}),
        IndicatorSpec(name="change_20", indicator="change", params={"window": 20}),
        IndicatorSpec(name="change_60", indicator="change", params={"window": 60}),
        IndicatorSpec(name="zscore_return", indicator="zscore", params={"of": "return", "min_periods": 250},
                      kinds=["equity", "fx", "commodity"]),
        IndicatorSpec(name="zscore_level", indicator="zscore", params={"of": "level", "min_periods": 250},
                      kinds=["rate", "spread", "volatility"]),
        IndicatorSpec(name="fx_depreciation_20", indicator="fx_depreciation", params={"window": 20}, kinds=["fx"]),
    ]


class NowcastPanel(Model):
    """One mixed-frequency nowcast panel (a DynamicFactorMQ): its targets and the indicators that move them."""

    name: str = Field(description="Name of the panel (e.g. world, RUS), shown in the report.")
    targets: list[str] = Field(
        min_length=1,
        description="Series nowcast: GDP growth or inflation in percent, monthly, quarterly or annual. An annual "
        "target enters the model as the fourth quarter of its year (a quarterly series observed once a year), "
        "and its nowcast is read at the fourth quarters. The panel's model state is stored under the first target.")
    monthly: list[str] = Field(
        min_length=1,
        description="Indicator series read by month (daily series as monthly averages, the rest as the month's "
        "last value); they enter as y/y % changes unless listed in `levels`.")
    quarterly: list[str] = Field(default_factory=list, description="Quarterly indicator series (y/y % changes unless in `levels`).")
    levels: list[str] = Field(
        default_factory=list,
        description="Indicators that enter as they are (already rates, spreads, balances or growth rates).")
    horizon: int = Field(default=2, ge=0, le=12,
                         description="Periods after as_of's forecast, in each target's own frequency (years for an annual target).")
    differenced: bool = Field(
        default=False,
        description="Every column (targets and indicators, after the y/y transformation) enters the model as its "
        "first difference (month on month, quarter on quarter), and each target's nowcast is its last published value "
        "plus the forecast changes: for y/y rates near a unit root, where it beat the random walk that the level "
        "model lost to (docs/world-economy.md). Monthly and quarterly targets only: an annual target fails the panel.")
    factors: int = Field(default=1, ge=1, le=4,
                         description="Common factors of the panel's model (choose by an information criterion on "
                         "past data, e.g. `dfm.factors_by_ic`, not by the forecasts' scores).")
    reestimate_every: Duration = Field(
        default="28d",
        description="The panel's model is re-estimated by EM this often, on the calendar of periods counted from "
        "2000-01-03, on the data up to the period's first day (from EM's own start: a warm start was "
        "measured not to pay); in between it is extended at fixed parameters (and a day whose panel is unchanged reuses its nowcast).")
    enabled: bool = Field(default=True, description="Whether the daily assessment runs the panel.")

    @field_validator("levels")
    @classmethod
    def _levels_are_indicators(cls, v: list[str], info: Any) -> list[str]:
        known = set(info.data.get("monthly", [])) | set(info.data.get("quarterly", []))
        for sid in v:
            if sid not in known:
                raise ValueError(f"{sid!r} is in levels but not among the panel's monthly or quarterly indicators")
        return v


class AssessmentConfig(Model):
    history_days: int = Field(default=3650, ge=60, description="Calendar days of history read per assessment at least: from 1 January of "
                              "as_of's year minus these days in whole years (every day of a year reads from the same day).")
    forecast_horizon: int = Field(default=20, ge=1, description="Forecast horizon in observations.")
    crisis_horizon: int = Field(default=60, ge=1, description="H in P(crisis within H trading days).")
    crisis_equity_boom: bool = Field(
        default=False,
        description="Offer the early-warning model the equity boom as a leading indicator: the monthly log equity "
        "index above its one-sided HP trend, as an expanding rank (Borio and Lowe 2002). Off by default: on the "
        "shared data it never passed the significance test at any refit (docs/methods-skill.md).")
    crisis_oil_fall: bool = Field(
        default=False,
        description="Offer the early-warning model the fall of the oil price over a year (Brent) for members "
        "tagged oil_exporter. Off by default: on the shared data it raised the pooled AUROC from 0.801 to 0.814, "
        "which a paired bootstrap does not find significant, and warned no more episodes (docs/methods-skill.md).")
    crisis_equity_runup: bool = Field(
        default=False,
        description="Offer the early-warning model the equity run-up as a leading indicator: the index up at least "
        "100% over two years (Greenwood, Shleifer and You 2019). Off by default: on the shared data it never passed "
        "the significance test at any refit (docs/methods-skill.md).")
    crisis_equity_fast_fall: bool = Field(
        default=False,
        description="Offer the early-warning model the equity index's fall from its 20-day high, as an expanding "
        "rank, so a sudden crash counts at once. Off by default: on the shared data it entered the model at most "
        "refits but lowered the pooled AUROC (0.801 to 0.796) and warned no more episodes (docs/methods-skill.md).")
    crisis_overlap_adjusted: bool = Field(
        default=True,
        description="The early-warning model keeps an indicator's signal only when its rate before crises is "
        "significantly above its rate on other days; with this on, the test counts the days of the training panel "
        "as days / H independent observations, because the label 'crisis within H days' of neighbouring days "
        "overlaps (off: every day counts as an independent draw, which lets noise through).")
    crisis_refit_every: Duration = Field(
        default="28d",
        description="The crisis-probability model (thresholds and coefficients) is re-estimated this often, on the "
        "outcomes known before the first day of each period (periods counted from 2000-01-03), so a day's "
        "probability is the same in the daily cycle and in a replay.")
    reestimate_every: Duration = Field(
        default="7d",
        description="Model parameters are re-estimated this often, on a calendar of periods counted from "
        "2000-01-03 (not from when a run or a replay started), on the data up to the period's first day, "
        "warm-started from the previous parameters; between re-estimations models are extended at fixed parameters.")
    reestimate_every_by_model: dict[ModelSlot, Duration] = Field(
        default_factory=dict,
        description="`reestimate_every` for one kind of model (level, volatility, regime), on the same calendar, "
        "e.g. {regime: 91d}. None by default: a quarterly regime calendar halved the replay's regime fits but let a "
        "replay and a cold cycle part (a degraded fit re-estimated inside the longer period; docs/forecasting.md).")
    reselect_every: Duration = Field(
        default="91d",
        description="The level model (ARIMA orders, ETS variants, random walk) is chosen again this often, on the "
        "same kind of calendar; in between, a re-estimation refits the chosen specification only.")
    level_window: int = Field(
        default=1260, ge=0,
        description="The level models (ARIMA, ETS, random walk) are estimated and chosen on at most this many of "
        "the latest observations (1260: five years of business days; every month of a monthly series since 1920); "
        "0 = all. A 20-step forecast needs years, not decades, of data, and the cost of a re-estimation grows "
        "with its length.")
    forecast_series: list[str] = Field(
        default_factory=list,
        description="Market series that also get level forecasts (ARIMA/ETS, fan charts); macro series always do, "
        "and every daily market series gets GARCH volatility, VaR and regime forecasts.",
    )
    episodes: list[Episode] = Field(default_factory=list, description="Dated crisis episodes for the early-warning model.")
    indicators: list[IndicatorSpec] = Field(
        default_factory=default_indicators, description="Indicators computed per series, saved and shown in reports."
    )
    spreads: list[SpreadSpec] = Field(default_factory=list, description="Spreads between two series of the same frequency.")
    stress_levels: list[float] = Field(
        default_factory=lambda: [0.5, 0.75, 0.9, 0.975],
        description="Quantiles of the stress index's own history where moderate, elevated, high and severe begin.",
    )
    save_days: int = Field(default=10, ge=1, description="Days of indicator and stress history written per run.")
    nowcasts: list[NowcastPanel] = Field(
        default_factory=list,
        description="Nowcast panels run by the forecast layer (mixed-frequency dynamic factor models of GDP growth "
        "and inflation, model `dfm`): see docs/world-economy.md.")
    contagion: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Contagion links of the early-warning model: country → large neighbour → weight in [0, 1] "
        "(e.g. KAZ: {RUS: 0.5, CHN: 0.3}); the neighbours' stress raises the country's crisis probability.",
    )

    @field_validator("contagion")
    @classmethod
    def _links(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for country, links in v.items():
            for code in (country, *links):
                if not (len(code) == 3 and code.isalpha() and code.isupper()):
                    raise ValueError(f"expected ISO 3166 alpha-3 codes like KAZ, got {code!r}")
            for neighbour, w in links.items():
                if neighbour == country:
                    raise ValueError(f"{country}: a country is not its own neighbour")
                if not 0 <= w <= 1:
                    raise ValueError(f"{country}.{neighbour}: expected a weight between 0 and 1, got {w!r}")
        return v

    @field_validator("nowcasts")
    @classmethod
    def _distinct_panels(cls, v: list[NowcastPanel]) -> list[NowcastPanel]:
        names, keys = set(), set()
        for p in v:
            if p.name in names:
                raise ValueError(f"duplicate nowcast panel name {p.name!r}")
            if p.targets[0] in keys:
                raise ValueError(f"panel {p.name!r}: another panel's first target is {p.targets[0]!r} (its state key)")
            names.add(p.name)
            keys.add(p.targets[0])
        return v

    @field_validator("stress_levels")
    @classmethod
    def _four_increasing(cls, v: list[float]) -> list[float]:
        if len(v) != 4 or any(not 0 < q < 1 for q in v) or any(a >= b for a, b in pairwise(v)):
            raise ValueError("expected four increasing quantiles between 0 and 1 (moderate, elevated, high, severe)")
        return v

    @field_validator("indicators")
    @classmethod
    def _unique_names(cls, v: list[IndicatorSpec]) -> list[IndicatorSpec]:
        seen: set[str] = set()
        for spec in v:
            if spec.name in seen:
                raise ValueError(f"duplicate indicator name {spec.name!r}")
            seen.add(spec.name)
        return v

    def reestimate_period(self, model: ModelSlot) -> timedelta:
        """The re-estimation calendar's period of one kind of model (one home for the override)."""
        return self.reestimate_every_by_model.get(model, self.reestimate_every)


class ReportConfig(Model):
    out_dir: str = Field(default="reports", description="Folder the daily reports are written to.")
    formats: list[Literal["html", "md", "json"]] = Field(
        default_factory=lambda: ["html", "md", "json"], description="Formats written each day."
    )
    key_series: list[str] = Field(default_factory=list, description="Series that get fan charts.")
    digest_receivers: list[str] = Field(
        default_factory=list, description="Receivers that get the report as a daily mail digest."
    )
    languages: list[Language] = Field(
        default_factory=lambda: ["en"], min_length=1,
        description="Languages a report is written in (en, ru, zh), one file per language: report.html, "
        "report.ru.html, report.zh.html. The first is the one `sco-monitor report` prints.",
    )

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:9464', '[::1]:9464' or ':9464' (every interface) → (host, port)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port like 127.0.0.1:9464, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class HttpConfig(Model):
    listen: str = Field(
        default="127.0.0.1:9464",
        description="Address of /healthz and /metrics; `run --listen` or env SCO_MONITOR_HTTP_LISTEN override it.",
    )
    stale_after: Duration = Field(
        default="36h", description="/healthz fails when a job has been due without success for longer."
    )

    @field_validator("listen")
    @classmethod
    def _valid_listen(cls, v: str) -> str:
        parse_listen(v)
        return v


class DaemonConfig(Model):
    standby_poll: Duration = Field(
        default="15s", description="How often a standby replica tries to take the store lock over."
    )
    shutdown_grace: Duration = Field(
        default="5s", description="On SIGTERM, running jobs get this long to finish before they are cancelled."
    )
    keep_runs: Duration = Field(
        default="90d", description="job_runs rows older than this are deleted (checked hourly)."
    )


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
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)

    def languages(self) -> list[str]:
        """Every language the config asks for: the reports' and the receivers'; playbooks need them all."""
        return list(dict.fromkeys([*self.report.languages, *(r.language for r in self.receivers)]))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown timezone {v!r}; expected an IANA name like Asia/Almaty") from e
        return v
