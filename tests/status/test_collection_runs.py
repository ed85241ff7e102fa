"""Bug 7: no `collection_runs` row stays `running` forever: a collection stopped mid-run (job timeout,
shutdown) finishes its rows in a `finally`, and rows of a run killed with -9 are marked
`interrupted` when the daemon next starts, as job_runs are."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from sco_monitor.store.schema import collection_runs

from ..daemon.conftest import runs_of, wait_for
from .support import csv_series, history, query, today, write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """An HTTP server that accepts a request and never answers (within a test's lifetime)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(60)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow.csv"
    server.shutdown()
    server.server_close()


def _config(root: Path, url: str, timeout: str) -> tuple[Path, str]:
    hang = csv_series("fx.hang", "unused.csv")
    del hang["params"]["path"]
    hang["params"]["url"] = url
    cfg = write_config(root, [csv_series("fx.a", "a.csv"), hang], files={"a.csv": history(today())},
                       sources={"csv": {"timeout": 60, "retries": 0}},
                       schedules={"collect": {"cron": "*/3 * * * * *", "timeout": timeout}},
                       http={"stale_after": "1h"}, daemon={"standby_poll": "1s", "shutdown_grace": "1s"})
    return cfg, yaml.safe_load(cfg.read_text())["store"]["url"]


def _rows(url: str) -> list:
    return query(url, select(collection_runs).order_by(collection_runs.c.id))


def test_a_collection_stopped_by_its_job_timeout_finishes_its_rows(tmp_path: Path, hanging_url: str,
                                                                   start_daemon) -> None:
    cfg, url = _config(tmp_path, hanging_url, timeout="2s")
    d = start_daemon(cfg)
    d.wait_role("active", timeout=60)
    wait_for(lambda: any(r.status == "timeout" for r in runs_of(url, "collect")), 60, "a collect run that timed out")
    assert d.terminate() == 0
    rows = _rows(url)
    assert rows and not [r for r in rows if r.status == "running"], [(r.series_id, r.status) for r in rows]
    hang = [r for r in rows if r.series_id == "fx.hang"]
    assert hang[0].status == "interrupted" and "stopped" in hang[0].error and hang[0].finished_at is not None
    assert {r.status for r in rows if r.series_id == "fx.a"} <= {"ok", "interrupted"}


def test_rows_of_a_daemon_killed_mid_collection_are_interrupted_at_the_next_start(
        tmp_path: Path, hanging_url: str, start_daemon) -> None:
    cfg, url = _config(tmp_path, hanging_url, timeout="1m")
    d = start_daemon(cfg)
    d.wait_role("active", timeout=60)
    wait_for(lambda: any(r.series_id == "fx.hang" and r.status == "running" for r in _rows(url)), 60,
             "a collection in flight")
    d.kill()
    stuck = [r.id for r in _rows(url) if r.status == "running"]
    assert stuck
    time.sleep(1.5)  # the orphaned worker notices its daemon is gone and exits
    again = start_daemon(cfg, name="again")
    again.wait_role("active", timeout=60)
    by_id = {r.id: r for r in _rows(url)}
    for i in stuck:
        assert by_id[i].status == "interrupted", by_id[i]
        assert "noticed by" in by_id[i].error and by_id[i].finished_at is not None
    again.close()
