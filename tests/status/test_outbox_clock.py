"""Bug 2: the outbox reads the clock at each claim, attempt and record, not once at the start of a run.

`cycle` (whose collect and assess take seconds before it delivers) and `deliver` run side by side
against a slow webhook with a short lease: each notification arrives exactly once, `delivered_at`
is when it was sent, and a retry is scheduled a backoff after the failure, not after the cycle began.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sco_monitor.alerting import outbox
from sco_monitor.store import Store
from sco_monitor.store.schema import notifications
from sco_monitor.timeutil import utcnow

from ..conftest import cli_env
from .support import TimedHook, csv_series, history, query, today, write_config


@pytest.fixture
def slow_hook():
    h = TimedHook(delay=0.7)
    yield h
    h.close()


def _config(root: Path, hook_url: str, **delivery: object) -> tuple[Path, str]:
    files = {f"s{i}.csv": history(today(), seed=i) for i in range(4)}
    series = [csv_series(f"fx.s{i}", f"s{i}.csv") for i in range(4)]
    cfg = write_config(root, series, files=files, receivers=[{"name": "hook", "webhook": {"url": hook_url, "timeout": 2.5}}],
                       route={"receiver": "hook"},
                       alerting={"delivery": {"workers": 1, "lease": "3s", **delivery}})
    return cfg, f"sqlite:///{root / 'store.db'}"


def _enqueue(url: str, n: int) -> None:
    store = Store(url)
    store.init()
    with store.engine.begin() as conn:
        for i in range(n):
            outbox.enqueue(conn, "hook", "test", {"text": f"n{i}"}, f"test-{i}", utcnow())
    store.dispose()


def _cli(cfg: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sco_monitor", "--log-format", "json", "--config", str(cfg), *args],
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(url: str) -> list:
    return query(url, select(notifications).order_by(notifications.c.id))


def test_cycle_and_deliver_side_by_side_deliver_each_notification_once_at_its_send_time(
        tmp_path: Path, slow_hook: TimedHook) -> None:
    cfg, url = _config(tmp_path, slow_hook.url)
    _enqueue(url, 8)
    cycle = _cli(cfg, "cycle")
    deliverers = []
    deadline = time.monotonic() + 60
    while cycle.poll() is None and time.monotonic() < deadline:  # a `deliver` always running beside the cycle
        d = _cli(cfg, "deliver")
        d.wait(60)
        deliverers.append(d)
    cycle.wait(60)
    out, err = cycle.communicate()
    for d in [_cli(cfg, "deliver")]:  # anything left over
        d.wait(60)
    counts = Counter(slow_hook.ids())
    assert len(counts) == 8, (counts, out)
    assert [k for k, n in counts.items() if n > 1] == [], f"sent more than once: {counts}"
    assert "notification_lease_lost" not in err
    arrived = {wid: t for t, wid, _ in slow_hook.received}
    for row in _rows(url):
        assert row.status == "delivered", row
        sent = arrived[row.idempotency_key]
        # recorded when the answer came (arrival + the endpoint's 0.7 s), not when the run began
        assert sent <= row.delivered_at.timestamp() <= sent + 0.7 + 1.5, (row.idempotency_key, sent, row.delivered_at)


def test_a_retry_is_scheduled_a_backoff_after_the_failure(tmp_path: Path) -> None:
    hook = TimedHook(delay=2.0, status=500)
    try:
        cfg, url = _config(tmp_path, hook.url, backoff_base="3s")
        _enqueue(url, 1)
        r = subprocess.run([sys.executable, "-m", "sco_monitor", "--log-format", "json", "--config", str(cfg), "cycle"],
                           env=cli_env(), capture_output=True, text=True, timeout=120, check=False)
        assert "deliver: ok (delivered 0, retrying 1, failed 0)" in r.stdout, r.stdout + r.stderr
        (arrived, _, _), = hook.received
        (row,) = _rows(url)
        assert row.status == "pending" and row.attempts == 1
        # the attempt is dated when the 500 came back, and the retry waits a backoff (3-6 s) from then
        assert arrived + 2.0 <= row.last_attempt_at.timestamp() <= arrived + 3.5, (arrived, row.last_attempt_at)
        wait = row.next_attempt_at - row.last_attempt_at
        assert timedelta(seconds=3) <= wait <= timedelta(seconds=6), wait
    finally:
        hook.close()
