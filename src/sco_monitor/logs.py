"""structlog set-up: a pipeline of small processors; readable on a terminal, JSON lines otherwise."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import structlog

LogFormat = Literal["auto", "console", "json"]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class _CurrentStderr:
    """Whatever sys.stderr is when a line is written: a stream captured at configure time may be
    closed by then (a test's capture, a redirected stream), and a log line must never raise."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(fmt: LogFormat = "auto", level: str = "info", run_id: str | None = None) -> str:
    """Configure logging to stderr and bind the run id to every line; returns the run id."""
    run_id = run_id or new_run_id()
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()) if use_console else structlog.processors.JSONRenderer()
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id)
    return run_id


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name) if name else structlog.get_logger()


@contextmanager
def to_file(path: Path) -> Iterator[Path]:
    """Send every log line to `path` (JSON lines, appended) while inside; the previous set-up is
    restored after. For commands whose terminal output is a summary (the demo), not a log."""
    previous = structlog.get_config()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        processors = [p for p in previous["processors"]
                      if not isinstance(p, structlog.dev.ConsoleRenderer | structlog.processors.JSONRenderer)]
        structlog.configure(processors=[*processors, structlog.processors.JSONRenderer()],
                            logger_factory=structlog.PrintLoggerFactory(file=fh))
        try:
            yield path
        finally:
            structlog.configure(**previous)
