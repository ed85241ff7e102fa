"""structlog set-up: a pipeline of small processors; readable on a terminal, JSON lines otherwise."""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Literal

import structlog

LogFormat = Literal["auto", "console", "json"]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id)
    return run_id


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name) if name else structlog.get_logger()
