"""Progress of a long replay: a rich bar on a terminal, with log lines printed above it instead of
through it; a log line every 5% of the days otherwise (files, pipes, CI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from sco_monitor.logs import get_logger

log = get_logger("sco_monitor.replay")


class _AboveBar:
    """A file for structlog that prints each line above the live bar (ANSI colours kept)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def write(self, text: str) -> int:
        if text.strip():
            self.console.print(Text.from_ansi(text.rstrip("\n")), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        return None


@contextmanager
def progress(total: int, console: Console | None = None,
             logs_above: bool = True) -> Iterator[Callable[[date], None]]:
    """Yields `advance(day)`, to be called once per finished day. `logs_above`: on a terminal, print
    log lines above the bar (False: leave logging where it goes, e.g. a log file)."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        step, count = max(-(-total // 20), 1), [0]  # at most 20 lines

        def advance(day: date) -> None:
            count[0] += 1
            if count[0] % step == 0 or count[0] == total:
                log.info("replay_progress", day=str(day), done=count[0], total=total)

        yield advance
        return
    bar = Progress(TextColumn("replay {task.fields[day]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=console, redirect_stdout=False, redirect_stderr=False)
    task = bar.add_task("replay", total=total, day="")
    previous = structlog.get_config()["logger_factory"]
    if logs_above:
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_AboveBar(console)))
    bar.start()
    try:
        yield lambda day: bar.update(task, advance=1, day=str(day))
    finally:
        bar.stop()
        if logs_above:
            structlog.configure(logger_factory=previous)
