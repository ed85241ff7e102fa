"""A small all-CSV configuration for the status tests: real files, no network, one series can be broken."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml

from ..conftest import GOOD_CONFIG

TZ = "Asia/Almaty"


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()


def history(end: date, seed: int = 7, periods: int = 300, jump: bool = False) -> pd.DataFrame:
    days = pd.bdate_range(end=pd.Timestamp(end), periods=periods)
    rng = np.random.default_rng(seed)
    values = 450 * np.exp(np.cumsum(rng.normal(0, 0.002, len(days))))
    if jump:
        values[-10:] = values[-11] * np.linspace(1.015, 1.15, 10)
    return pd.DataFrame({"date": days.date, "close": values})


def csv_series(sid: str, path: str, kind: str = "fx", country: str = "KAZ", **params: Any) -> dict[str, Any]:
    return {"id": sid, "name": sid, "source": "csv", "symbol": sid.upper(),
            "params": {"path": path, "date_column": "date", "value_column": "close", **params},
            "kind": kind, "country": country, "frequency": "B", "unit": "x", "direction": "up"}


def write_config(root: Path, series: list[dict[str, Any]], *, files: dict[str, pd.DataFrame] | None = None,
                 rules: list[dict[str, Any]] | None = None, **settings: Any) -> Path:
    """config/ under root with these series and CSV files; returns the main file's path."""
    cfg = root / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    for name, frame in (files or {}).items():
        frame.to_csv(cfg / name, index=False)
    (cfg / "universe.yaml").write_text(yaml.safe_dump({"series": series}, sort_keys=False))
    (cfg / "rules.yaml").write_text(yaml.safe_dump({"rules": rules if rules is not None else [
        {"name": "fx_jump", "kind": "change", "category": "fx", "select": {"kind": "fx"},
         "params": {"window": 20}, "warn": 0.05, "critical": 0.10, "clear": 0.03, "for": 1}]}, sort_keys=False))
    (cfg / "playbooks.yaml").write_text((GOOD_CONFIG / "playbooks.yaml").read_text())
    main: dict[str, Any] = {
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml", "timezone": TZ,
        "store": {"url": f"sqlite:///{root / 'store.db'}"}, "executor": {"kind": "inline"},
        "report": {"out_dir": str(root / "reports"), "formats": ["json"]},
    }
    main.update(settings)
    path = cfg / "sco-monitor.yaml"
    path.write_text(yaml.safe_dump(main, sort_keys=False))
    return path


# --- a webhook endpoint that records when each request arrived -----------------------------------------
class TimedHook:
    """A real threaded HTTP endpoint: answers `status` after `delay` seconds (or per `plan(n)`), and records
    (arrival time, webhook-id, body) of every POST."""

    def __init__(self, delay: float = 0.0, status: int = 200) -> None:
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.delay, self.status = delay, status
        self.plan: Any = None  # optional: n -> (status, delay, headers); n counts requests from 0
        self.received: list[tuple[float, str, bytes]] = []
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with hook._lock:
                    n = len(hook.received)
                    hook.received.append((time.time(), self.headers.get("webhook-id", ""), body))
                status, delay, headers = hook.plan(n) if hook.plan else (hook.status, hook.delay, {})
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client timed out and went away

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def ids(self) -> list[str]:
        with self._lock:
            return [i for _, i, _ in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def query(url: str, stmt: Any) -> list[Any]:
    """Rows of one SELECT on the store at `url` (what a user would read with their SQL client)."""
    from sco_monitor.store import Store

    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return list(conn.execute(stmt).all())
    finally:
        store.dispose()
