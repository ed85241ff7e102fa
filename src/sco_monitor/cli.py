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
def run(
    ctx: typer.Context,
    listen: Annotated[
        Optional[str],
        typer.Option("--listen", envvar="SCO_MONITOR_HTTP_LISTEN", help="host:port of /healthz and /metrics (default: http.listen)."),
    ] = None,
) -> None:
    """Run the daemon: the cycle on its schedules, until SIGTERM or Ctrl-C."""
    from sco_monitor.daemon.service import run_daemon

    root = ctx.find_root().params
    run_daemon(ctx_of(ctx), listen, LogFormat(root["log_format"]).value, root["log_level"])


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the schedule, the last and next runs and the health of each job (exit 1 if unhealthy)."""
    from sco_monitor.daemon.status import show_status

    raise typer.Exit(show_status(ctx_of(ctx), as_json))


@app.command()
def doctor(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(help="Seconds each network check may take.")] = 5.0,
) -> None:
    """Check config, store, sources, receivers and clock; exit 1 if any check fails."""
    from sco_monitor.doctor import run_doctor

    raise typer.Exit(run_doctor(ctx_of(ctx).config_path, timeout))


@app.command()
def replay(ctx: typer.Context) -> None:
    """Replay the cycle over past dates and score the warnings."""
    raise NotAvailable("replay", 8, "replay and track record")


@app.command()
def demo(ctx: typer.Context) -> None:
    """The embedded default: real bundled history → replay → reports."""
    raise NotAvailable("demo", 8, "replay and the embedded demo")


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
