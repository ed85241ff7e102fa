"""Fault injection: the daemon for real (a subprocess) against a webhook that answers 500, 429 and
timeouts in turn and an SMTP server that goes down and comes back, killed with -9 at seeded random
moments over a bounded run and restarted. Afterwards every notification the outbox ever held was
delivered to its receiver exactly once by its idempotency key (webhook-id / the X-SCO-Monitor-
Notification header, with one Message-ID per key), and job_runs and collection_runs hold no
`running` row.

A kill between a receiver's 2xx/250 and the daemon's commit, or an SMTP server that goes down
between taking a message and sending its 250, cannot be told from a lost answer, so the same key
may arrive twice (at-least-once); such repeats are counted, carry the same webhook-id /
Message-ID (the receiver drops them), and are bounded by those events x sends in flight.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from sco_monitor.store.schema import collection_runs, job_runs, notifications

from ..alerting.support import free_port
from ..daemon.conftest import wait_for
from .support import csv_series, history, query, today, write_config

pytestmark = [pytest.mark.slow, pytest.mark.long]

SEED = int(os.environ.get("SCO_MONITOR_FAULT_SEED", "20261201"))
RUN_SECONDS = 60  # the faulty part; then a drain with the faults still on, bounded too
WORKERS = 2


class FlakyHook:
    """Webhook endpoint: request n gets 500, 429 (Retry-After: 1), a timeout (no answer within the
    client's 1 s; then 503), or 200, in a fixed rotation. Records the ids it accepted (answered 200)."""

    ROTATION = ("500", "429", "timeout", "200", "200", "200")

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.answers: Counter[str] = Counter()
        self._n = 0
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with hook._lock:
                    kind = hook.ROTATION[hook._n % len(hook.ROTATION)]
                    hook._n += 1
                    hook.answers[kind] += 1
                status, headers = {"500": (500, {}), "429": (429, {"Retry-After": "1"}),
                                   "timeout": (503, {}), "200": (200, {})}[kind]
                if kind == "timeout":
                    time.sleep(1.6)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    self.wfile.flush()
                except OSError:
                    return
                if status == 200:
                    with hook._lock:
                        hook.accepted.append(self.headers["webhook-id"])

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FlakySmtp:
    """aiosmtpd on a fixed port, stopped and started again by `toggle` (down 2 s of every 6 s)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        self.outages = 0
        self._controller: Controller | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._toggle, daemon=True)
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
                box.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self._handler = Handler()

    def up(self) -> None:
        if self._controller is None:
            self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _toggle(self) -> None:
        while not self._stop.wait(4):
            self.down()
            self.outages += 1
            if self._stop.wait(2):
                break
            self.up()
        self.up()

    def start_toggling(self) -> None:
        self.up()
        self._thread.start()

    def stop_toggling(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.up()

    def close(self) -> None:
        self._stop.set()
        self.down()


@pytest.fixture
def faults() -> Iterator[tuple[FlakyHook, FlakySmtp]]:
    hook, smtp = FlakyHook(), FlakySmtp()
    smtp.start_toggling()
    yield hook, smtp
    hook.close()
    smtp.close()


def _config(root: Path, hook: FlakyHook, smtp: FlakySmtp, stop: Path) -> tuple[Path, str]:
    files = {"a.csv": history(today(), seed=3, jump=True), "b.csv": history(today(), seed=4)}
    cfg = write_config(
        root, [csv_series("fx.a", "a.csv"), csv_series("fx.b", "b.csv", country="UZB")], files=files,
        receivers=[
            {"name": "mail", "email": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "timeout": 2,
                                       "from": "monitor@example.org", "to": ["desk@example.org"]}},
            {"name": "hook", "webhook": {"url": hook.url, "timeout": 1}},
        ],
        route={"receiver": "mail", "group_by": ["category", "country"], "routes": [
            {"match": {"category": "fx"}, "receiver": "mail", "continue": True},
            {"match": {"category": "fx"}, "receiver": "hook"}]},
        alerting={"group_wait": "0s", "heartbeat": {"receiver": "hook"},
                  "delivery": {"workers": WORKERS, "lease": "4s", "backoff_base": "1s", "backoff_max": "3s",
                               "max_attempts": 1000, "give_up_after": "1h"}},
        schedules={
            "deliver": {"cron": "* * * * * *", "timeout": "30s"},
            "enqueue": {"cron": "* * * * * *", "job": "tests.status.jobs:enqueue", "timeout": "20s",
                        "params": {"n": 2, "receivers": ["mail", "hook"], "stop": str(stop)}},
            "collect": {"cron": "*/5 * * * * *", "timeout": "30s"},
            "assess": {"cron": "3/10 * * * * *", "timeout": "60s"},
            "heartbeat": {"cron": "*/7 * * * * *", "timeout": "20s"},
        },
        http={"stale_after": "1h"}, daemon={"standby_poll": "1s", "shutdown_grace": "2s"})
    return cfg, yaml.safe_load(cfg.read_text())["store"]["url"]


def _outbox(url: str) -> list:
    n = notifications.c
    return query(url, select(n.idempotency_key, n.receiver, n.status, n.attempts))


def _enqueue_runs(url: str) -> int:
    (n,), = query(url, select(func.count()).where(job_runs.c.job_id == "enqueue", job_runs.c.status == "ok"))
    return int(n)


def _running(url: str) -> tuple[int, int]:
    (jr,), = query(url, select(func.count()).where(job_runs.c.status == "running"))
    (cr,), = query(url, select(func.count()).where(collection_runs.c.status == "running"))
    return int(jr), int(cr)


def test_kill_9_outages_and_flaky_receivers_lose_and_duplicate_nothing(tmp_path: Path, faults, start_daemon) -> None:
    hook, smtp = faults
    stop = tmp_path / "stop-enqueueing"
    cfg, url = _config(tmp_path, hook, smtp, stop)
    rng = random.Random(SEED)
    kills = 0
    began = time.monotonic()
    n = 0
    while time.monotonic() - began < RUN_SECONDS or kills < 3:
        d = start_daemon(cfg, name=f"daemon-{n}")
        n += 1
        d.wait_role("active", timeout=60)
        done = _enqueue_runs(url)  # a worker's first run pays for its imports: let each daemon make progress
        wait_for(lambda done=done: _enqueue_runs(url) > done, 120, "an enqueue run of this daemon", every=0.5)
        time.sleep(rng.uniform(0.5, 6.0))
        d.kill()  # SIGKILL: no shutdown, no finally
        kills += 1
    stop.write_text("drain")
    last = start_daemon(cfg, name="daemon-final")
    last.wait_role("active", timeout=60)

    def drained() -> bool:
        rows = _outbox(url)
        return bool(rows) and all(r.status == "delivered" for r in rows)

    wait_for(drained, 120, "every notification delivered", every=1)
    assert last.terminate(timeout=60) == 0
    smtp.stop_toggling()

    rows = _outbox(url)
    by_receiver = Counter(r.receiver for r in rows)
    hooks = Counter(hook.accepted)
    mail_keys = Counter(m["X-SCO-Monitor-Notification"] for m in smtp.mails)
    ids_per_key: dict[str, set[str]] = {}
    for m in smtp.mails:
        ids_per_key.setdefault(m["X-SCO-Monitor-Notification"], set()).add(m["Message-ID"])
    missing = [r.idempotency_key for r in rows
               if (hooks if r.receiver == "hook" else mail_keys)[r.idempotency_key] == 0]
    strangers = (set(hooks) | set(mail_keys)) - {r.idempotency_key for r in rows}
    hook_repeats = sum(c - 1 for c in hooks.values())
    mail_repeats = sum(c - 1 for c in mail_keys.values())
    jr, cr = _running(url)
    print(f"\nfault injection (seed {SEED}): {n + 1} daemon starts, {kills} kill -9, "
          f"{smtp.outages} SMTP outages, webhook answers {dict(hook.answers)}")
    print(f"enqueued {len(rows)} notifications ({dict(by_receiver)}); attempts {sum(r.attempts for r in rows)}; "
          f"delivered by key: webhook {len(hooks)}, mail {len(mail_keys)}; missing {len(missing)}; "
          f"repeats with the same id: webhook {hook_repeats}, mail {mail_repeats}; "
          f"running rows: job_runs {jr}, collection_runs {cr}")
    assert len(rows) >= 12 and by_receiver["mail"] and by_receiver["hook"]
    assert missing == [], missing[:10]
    assert strangers == set()
    assert all(len(v) == 1 for v in ids_per_key.values()), "a key reached the mailbox under two Message-IDs"
    # a repeat needs an answer lost in flight: a kill before the commit, or (mail) the server going
    # down between taking the message and its 250; at most one per send in flight at that moment
    assert hook_repeats <= kills * WORKERS, (hook_repeats, kills)
    assert mail_repeats <= (kills + smtp.outages) * WORKERS, (mail_repeats, kills, smtp.outages)
    assert hook.answers["500"] and hook.answers["429"] and hook.answers["timeout"] and smtp.outages
    assert (jr, cr) == (0, 0)
