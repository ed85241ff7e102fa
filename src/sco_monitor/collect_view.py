"""What `sco-monitor collect` shows: a progress bar on a terminal, log lines otherwise, a summary table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sco_monitor.collect import CollectSummary, SeriesOutcome, collect_context, log_progress
from sco_monitor.errors import RunFailed

_STYLE = {"ok": "green", "skipped": "dim", "partial": "yellow", "empty": "yellow", "failed": "red"}


def run_collect(ctx: Any, series: Sequence[str] | None, sources: Sequence[str] | None, since: date | None,
                full: bool) -> CollectSummary:
    """Collect with progress, print the summary table; RunFailed (exit 1) when any series failed."""
    err = Console(stderr=True)
    kwargs = {"series_ids": list(series or []) or None, "sources": list(sources or []) or None,
              "since": since, "full": full}
    if err.is_terminal:
        with Progress(TextColumn("collecting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("", total=None)

            def advance(o: SeriesOutcome) -> None:
                bar.update(task, advance=1, description=f"{o.series_id} {o.status}")

            summary = collect_context(ctx, progress=advance, on_plan=lambda n: bar.update(task, total=n), **kwargs)
    else:
        summary = collect_context(ctx, progress=log_progress, **kwargs)
    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200, soft_wrap=not sys.stdout.isatty())
    out.print(summary_table(summary))
    out.print(summary_line(summary), highlight=False)
    if summary.failed:
        ids = ", ".join(o.series_id for o in summary.failed)
        raise RunFailed(f"{len(summary.failed)} of {len(summary.outcomes)} series failed: {ids}")
    if summary.partial:
        ids = ", ".join(o.series_id for o in summary.partial)
        raise RunFailed(f"partial: {len(summary.partial)} of {len(summary.outcomes)} series lost part of their work: {ids}")
    return summary


def summary_table(summary: CollectSummary) -> Table:
    table = Table(title=f"collection {summary.run_id}", title_justify="left")
    table.add_column("series")
    table.add_column("source")
    table.add_column("new rows", justify="right")
    table.add_column("status")
    table.add_column("last date")
    table.add_column("flags")
    table.add_column("error", overflow="fold")
    order = {"failed": 0, "empty": 1, "partial": 2, "ok": 3, "skipped": 4}
    for o in sorted(summary.outcomes, key=lambda o: (order.get(o.status, 9), o.series_id)):
        flags = ", ".join(f"{k}×{n}" if n > 1 else k for k, n in sorted(o.flags.items()))
        table.add_row(o.series_id, o.source, str(o.new_rows), f"[{_STYLE.get(o.status, '')}]{o.status}[/]",
                      str(o.last_date or ""), flags, o.error or "")
    return table


def summary_line(summary: CollectSummary) -> str:
    counts: dict[str, int] = {}
    for o in summary.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return (f"{len(summary.outcomes)} series ({parts or 'none'}), {summary.new_rows} new rows "
            f"in {summary.seconds:.1f}s")
