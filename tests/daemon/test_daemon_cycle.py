"""The whole cycle under the daemon: real collectors (CSV files), the assessment, alerts, delivery
by SMTP and webhook, the daily report and the heartbeat, on a seconds schedule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import select

from sco_monitor.store import Store
from sco_monitor.store.schema import (
    alert_history,
    alerts,
    notifications,
    reports,
    saved_assessments,
)

from ..conftest import GOOD_CONFIG
from .conftest import free_port, http_get, runs_of, wait_for

pytestmark = pytest.mark.slow


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def _history(today: date) -> dict[str, pd.DataFrame]:
    """Business days up to today: a calm USD/KZT that jumps 15% in its last ten days, and an index."""
    days = pd.bdate_range(end=pd.Timestamp(today), periods=400)
    rng = np.random.default_rng(7)
    kzt = 450 * np.exp(np.cumsum(rng.normal(0, 0.002, len(days))))
    kzt[-10:] = kzt[-11] * np.linspace(1.015, 1.15, 10)
    spx = 4500 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(days))))
    return {"usd_kzt.csv": pd.DataFrame({"date": days.date, "close": kzt}),
            "spx.csv": pd.DataFrame({"date": days.date, "close": spx})}


def _write_config(root: Path, db: Path, smtp_port: int, hook_url: str) -> Path:
    cfg = root / "config"
    cfg.mkdir()
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty")).date()
    for name, frame in _history(today).items():
        frame.to_csv(cfg / name, index=False)
    universe = {"series": [
        {"id": "fx.usd_kzt", "name": "USD/KZT", "source": "csv", "symbol": "KZT",
         "params": {"path": "usd_kzt.csv", "date_column": "date", "value_column": "close"},
         "kind": "fx", "country": "KAZ", "frequency": "B", "unit": "KZT per USD", "direction": "up"},
        {"id": "eq.us.spx", "name": "S&P 500", "source": "csv", "symbol": "SPX",
         "params": {"path": "spx.csv", "date_column": "date", "value_column": "close"},
         "kind": "equity", "country": "USA", "frequency": "B", "unit": "index", "direction": "down"},
    ]}
    rules = {"rules": [{"name": "fx_jump", "kind": "change", "category": "fx", "select": {"series": ["fx.usd_kzt"]},
                        "params": {"window": 20}, "warn": 0.05, "critical": 0.10, "clear": 0.03, "for": 1}]}
    (cfg / "universe.yaml").write_text(yaml.safe_dump(universe, sort_keys=False))
    (cfg / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (cfg / "playbooks.yaml").write_text((GOOD_CONFIG / "playbooks.yaml").read_text())
    main = {
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml",
        "timezone": "Asia/Almaty",
        "store": {"url": f"sqlite:///{db}"},
        "executor": {"kind": "inline"},
        "schedules": {
            "collect_market": {"cron": "*/6 * * * * *", "timeout": "2m"},
            "assess": {"cron": "2/6 * * * * *", "timeout": "2m"},
            "deliver": {"cron": "* * * * * *", "timeout": "1m"},
            "report": {"cron": "4/6 * * * * *", "timeout": "2m"},
            "heartbeat": {"cron": "*/5 * * * * *", "timeout": "1m"},
        },
        "receivers": [
            {"name": "mail", "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                                       "from": "monitor@example.org", "to": ["desk@example.org"]}},
            {"name": "hook", "webhook": {"url": hook_url, "secret_env": "TEST_WEBHOOK_SECRET"}},
        ],
        "route": {"receiver": "mail", "group_by": ["category", "country"], "routes": [
            {"match": {"category": "fx"}, "receiver": "mail", "continue": True},
            {"match": {"category": "fx"}, "receiver": "hook"},
        ]},
        "alerting": {"group_wait": "0s", "heartbeat": {"receiver": "hook"}},
        "report": {"out_dir": str(root / "reports"), "formats": ["html", "md", "json"], "key_series": ["fx.usd_kzt"]},
        "http": {"stale_after": "1h"},
        "daemon": {"standby_poll": "1s", "shutdown_grace": "5s"},
    }
    path = cfg / "sco-monitor.yaml"
    path.write_text(yaml.safe_dump(main, sort_keys=False))
    return path


def test_the_daemon_runs_the_whole_cycle_and_delivers_by_mail_and_webhook(
        tmp_path: Path, smtp, httpserver, start_daemon) -> None:
    smtp_port, inbox = smtp
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    db = tmp_path / "var" / "store.db"
    cfg = _write_config(tmp_path, db, smtp_port, httpserver.url_for("/hook"))
    url = f"sqlite:///{db}"
    d = start_daemon(cfg, env={"TEST_WEBHOOK_SECRET": "whsec_dGVzdA=="})
    d.wait_role("active", timeout=60)

    def cycle_done() -> bool:
        ok = {r.job_id for r in runs_of(url) if r.status == "ok"}
        hooks = [json.dumps(req.get_json()) for req, _ in httpserver.log]
        return ({"collect_market", "assess", "deliver", "report", "heartbeat"} <= ok and inbox.messages
                and any("fx_jump" in h for h in hooks) and any("heartbeat" in h.lower() for h in hooks))

    wait_for(cycle_done, 150, "collect → assess → alert → deliver (mail, webhook) → report, and a heartbeat",
             every=1)

    code, health = d.health()
    assert code == 200, health
    code, metrics = http_get(f"{d.url}/metrics")
    assert "sco_monitor_series_collected 2.0" in metrics
    assert 'sco_monitor_alerts{severity="critical",state="firing"} 1.0' in metrics
    assert "sco_monitor_last_successful_cycle_timestamp_seconds" in metrics
    assert d.terminate(timeout=60) == 0

    rcpts, mail = inbox.messages[0]
    assert rcpts == ["desk@example.org"]
    assert "fx_jump" in mail.as_string()
    posts = [req for req, _ in httpserver.log if req.path == "/hook"]
    assert all({"webhook-id", "webhook-timestamp", "webhook-signature"} <= {k.lower() for k in p.headers.keys()}
               for p in posts)

    store = Store(url)
    try:
        with store.engine.connect() as conn:
            firing = conn.execute(select(alerts.c.rule, alerts.c.state, alerts.c.severity)).all()
            outbox = conn.execute(select(notifications.c.receiver, notifications.c.status)).all()
            written = conn.execute(select(reports.c.format, reports.c.path)).all()
            history = conn.execute(select(alert_history.c.rule, alert_history.c.state)).all()
            saved_days = conn.execute(select(saved_assessments.c.as_of)).scalars().all()
    finally:
        store.dispose()
    assert ("fx_jump", "firing", "critical") in [tuple(r) for r in firing]
    assert {"mail", "hook"} <= {r for r, _ in outbox}
    assert all(status == "delivered" for _, status in outbox), outbox
    assert {f for f, _ in written} == {"html", "md", "json"}
    assert all(Path(p).is_file() for _, p in written)
    # live operation keeps the replay's record: the alert history and the day's one saved assessment
    assert ("fx_jump", "firing") in [tuple(r) for r in history]
    assert saved_days
    doc = json.loads(Path(next(p for f, p in written if f == "json")).read_text())
    assert doc["source"].startswith(("Built from the assessment saved at", "No assessment was saved for")), doc["source"]
    assert "mistakes" in doc and doc["mistakes"]["available"]
    runs = runs_of(url)
    first_collect = min(r.finished_at for r in runs if r.job_id == "collect_market" and r.status == "ok")
    # an assess or report that fired before the first collection finished (or read the window while it
    # was writing) may say so; nothing else may fail
    early = ("collect` first", "published by")
    assert not [r for r in runs if r.status in ("running", "failed", "timeout")
                and not (r.job_id in ("assess", "report") and any(e in (r.error or "") for e in early)
                         and r.started_at <= first_collect)]
