"""The daemon's HTTP server: one ASGI app (uvicorn in a thread) on `http.listen`, serving
/healthz (JSON, 200 or 503), /metrics (Prometheus text) and, the API (/api/v1) over the daemon's store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from sco_monitor.config.settings import parse_listen
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed
from sco_monitor.logs import get_logger

log = get_logger("sco_monitor.daemon.http")

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[], tuple[bytes, str]]
STARTUP_TIMEOUT = 20.0


class HttpEndpoints:
    def __init__(self, listen: str, health: HealthFn, metrics: MetricsFn, ctx: Context) -> None:
        self.listen = listen
        self.health, self.metrics, self.ctx = health, metrics, ctx
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        from sco_monitor.api.app import create_app

        host, port = parse_listen(self.listen)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            sock.close()
            raise RunFailed(f"cannot serve /healthz and /metrics on {self.listen}: {e.strerror or e}; "
                            "set http.listen or pass --listen") from None
        sock.listen(128)
        self._socket = sock
        app = create_app(self.ctx, health=self.health, metrics=self.metrics)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False,
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RunFailed(f"the HTTP server on {self.listen} did not start; see the log")
            time.sleep(0.02)
        log.info("http_listening", listen=self.address, api="/api/v1")

    @property
    def address(self) -> str:
        if self._socket is None:
            return self.listen
        host, port = self._socket.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(10)
            self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

