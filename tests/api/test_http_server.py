"""The daemon's HTTP server in-process: uvicorn in a thread, /healthz and /metrics answered as
before (same bytes, status and headers), the API beside them, a clear error when the port is taken."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sco_monitor.daemon.http import HttpEndpoints
from sco_monitor.errors import RunFailed

from ..daemon.conftest import free_port
from .conftest import make_api

DOC = {"status": "failing", "role": "active", "jobs": {"assess": {"state": "overdue"}}}
METRICS = (b"# HELP sco_monitor_up 1\nsco_monitor_up 1.0\n", "text/plain; version=0.0.4; charset=utf-8")


def test_health_metrics_and_api_on_one_address(tmp_path: Path) -> None:
    api = make_api(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    listen = f"127.0.0.1:{free_port()}"
    server = HttpEndpoints(listen, lambda: (503, DOC), lambda: METRICS, api.ctx)
    server.start()
    try:
        assert server.address == listen
        with httpx.Client(base_url=f"http://{listen}", timeout=10) as http:
            health = http.get("/healthz")
            assert health.status_code == 503
            assert health.content == json.dumps(DOC, indent=1).encode()
            assert health.headers["content-type"] == "application/json"
            assert health.headers["cache-control"] == "no-store"
            head = http.head("/healthz")
            assert head.status_code == 503 and head.content == b""
            metrics = http.get("/metrics")
            assert (metrics.status_code, metrics.content) == (200, METRICS[0])
            assert metrics.headers["content-type"] == METRICS[1]
            assert http.get("/").text.startswith("sco-monitor daemon: /healthz /metrics")
            assert http.get("/nothing").status_code == 404
            assert http.get("/api/v1/coverage").status_code == 401
            assert http.get("/api/v1/coverage", headers=api.auth("read")).json()["series_total"] == 6
        taken = HttpEndpoints(listen, lambda: (200, {}), lambda: METRICS, api.ctx)
        with pytest.raises(RunFailed, match=f"cannot serve /healthz and /metrics on {listen}: .*set http.listen"):
            taken.start()
    finally:
        server.stop()
        api.ctx.store.dispose()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{listen}/healthz", timeout=2)
