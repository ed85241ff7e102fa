"""The daemon as users run it: `python -m sco_monitor run` in a subprocess, on a fast schedule."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sco_monitor.daemon.runs import JobRun, JobRuns
from sco_monitor.store import Store

from ..conftest import GOOD_CONFIG, ROOT, SRC, cli_env

# The CLI in a subprocess, able to import the test jobs (tests.daemon.jobs) named in schedules.
TEST_JOBS_ENV = {"PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class DaemonProcess:
    """One `sco-monitor run` subprocess with its own /healthz port; stderr goes to a file."""

    def __init__(self, config: Path, cwd: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("w")
        full_env = cli_env(**TEST_JOBS_ENV, **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sco_monitor", "--log-format", "json", "--config", str(config),
             "run", "--listen", f"127.0.0.1:{self.port}"],
            cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=self._log, text=True)

    def health(self) -> tuple[int, dict[str, Any]] | None:
        try:
            code, body = http_get(f"{self.url}/healthz", timeout=2)
        except (OSError, urllib.error.URLError):
            return None
        return code, json.loads(body)

    def wait_up(self, timeout: float = 30) -> tuple[int, dict[str, Any]]:
        def up() -> tuple[int, dict[str, Any]] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.logs()}")
            return self.health()

        return wait_for(up, timeout, "the daemon's /healthz")

    def wait_role(self, role: str, timeout: float = 30) -> dict[str, Any]:
        return wait_for(lambda: (h := self.health()) and h[1]["role"] == role and h[1], timeout, f"role {role}")

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs().splitlines() if line.startswith("{")]

    def terminate(self, timeout: float = 20) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def write_config(dest: Path, store_url: str, schedules: dict[str, Any], **extra: Any) -> Path:
    """The good test config with these schedules (and any other top-level keys) in `dest`."""
    shutil.copytree(GOOD_CONFIG, dest, dirs_exist_ok=True)
    main = dest / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["store"] = {"url": store_url}
    data["schedules"] = schedules
    data.setdefault("daemon", {"standby_poll": "1s", "shutdown_grace": "1s"})
    data.update(extra)
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    return main


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, name: str = "daemon", env: dict[str, str] | None = None) -> DaemonProcess:
        d = DaemonProcess(config, tmp_path, name, env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.close()


def runs_of(store_url: str, job: str | None = None) -> list[JobRun]:
    store = Store(store_url)
    try:
        return JobRuns(store.engine).list(job)
    finally:
        store.dispose()


def ticks(store_url: str, job: str) -> list[tuple[str, int]]:
    """(scheduled_at, job run id) of every finished `tick` run of a job."""
    from sqlalchemy import text

    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            if "test_ticks" not in store.engine.dialect.get_table_names(conn):
                return []
            return [tuple(r) for r in conn.execute(
                text("SELECT scheduled_at, run FROM test_ticks WHERE job = :j ORDER BY scheduled_at"), {"j": job})]
    finally:
        store.dispose()
