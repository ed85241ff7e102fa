"""Fixtures of the alerting tests: a real local webhook endpoint, a real local SMTP server, the CLI in-process."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

from .support import Hook, Smtp


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    s = Smtp().start()
    yield s
    s.stop()


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Ran]]:
    """The console entry point (`sco_monitor.cli.main`) run in this process, in tmp_path: the same
    parsing, output and exit codes as `sco-monitor ...` without an interpreter start per call
    (the `run_cli` fixture runs the real subprocess where that matters)."""
    from sco_monitor.cli import main

    for name in ("SCO_MONITOR_CONFIG", "SCO_MONITOR_DB_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(sys, "argv", ["sco-monitor", "--log-format", "json", *args])
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
        return Ran(code, out.getvalue(), err.getvalue())

    yield run
    structlog.reset_defaults()
