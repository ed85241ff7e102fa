"""The daemon's HTTP endpoints: /healthz (JSON, 200 or 503) and /metrics (Prometheus text)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sco_monitor.config.settings import parse_listen
from sco_monitor.errors import RunFailed
from sco_monitor.logs import get_logger

log = get_logger("sco_monitor.daemon.http")

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[], tuple[bytes, str]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpEndpoints:
    def __init__(self, listen: str, health: HealthFn, metrics: MetricsFn) -> None:
        self.listen = listen
        self.health, self.metrics = health, metrics
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        host, port = parse_listen(self.listen)
        handler = _handler(self.health, self.metrics)
        server_cls = _Server
        if ":" in host:
            server_cls = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        try:
            self._server = server_cls((host, port), handler)
        except OSError as e:
            raise RunFailed(f"cannot serve /healthz and /metrics on {self.listen}: {e.strerror or e}; "
                            "set http.listen or pass --listen") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._thread.start()
        log.info("http_listening", listen=self.address)

    @property
    def address(self) -> str:
        if self._server is None:
            return self.listen
        host, port = self._server.server_address[:2]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(health: HealthFn, metrics: MetricsFn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sco-monitor"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    code, doc = health()
                    self._send(code, json.dumps(doc, indent=1).encode(), "application/json", body)
                elif path == "/metrics":
                    data, ctype = metrics()
                    self._send(200, data, ctype, body)
                elif path == "/":
                    self._send(200, b"sco-monitor daemon: /healthz /metrics\n", "text/plain; charset=utf-8", body)
                else:
                    self._send(404, b"not found; try /healthz or /metrics\n", "text/plain; charset=utf-8", body)
            except Exception as e:  # noqa: BLE001 - an endpoint error is a 500, never a dead thread
                log.exception("http_handler_failed", path=path)
                self._send(500, f"{type(e).__name__}: {e}\n".encode(), "text/plain; charset=utf-8", body)

        def _send(self, code: int, data: bytes, ctype: str, body: bool) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            log.debug("http_request", request=format % args)

    return Handler
