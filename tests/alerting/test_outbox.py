"""The outbox on SQLite and PostgreSQL: idempotent enqueue, exclusive claims, retries, give-up."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sco_monitor.alerting import outbox
from sco_monitor.alerting.channels import Outcome
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store, schema

from .support import T0

DIGEST = {"subject": "Daily risk report 2024-03-01", "text": "All quiet.", "html": "<p>All quiet.</p>"}


def rows(store: Store) -> list[dict]:
    t = schema.notifications
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def put(store: Store, n: int = 1, receiver: str = "log", kind: str = "digest", **kw) -> list[int]:  # noqa: ANN003
    with store.engine.begin() as conn:
        return [outbox.enqueue(conn, receiver, kind, DIGEST, f"k{i}-{receiver}", T0, **kw) for i in range(n)]


def test_enqueue_is_idempotent_per_key(store: Store) -> None:
    first = put(store)
    again = put(store)
    assert first[0] is not None and again == [None]
    r = rows(store)
    assert len(r) == 1 and r[0]["status"] == "pending" and r[0]["give_up_at"] == T0 + timedelta(hours=24)


def test_enqueue_refuses_what_a_channel_could_not_deliver(store: Store) -> None:
    with store.engine.begin() as conn:
        with pytest.raises(ValueError, match="needs string payload keys: html"):
            outbox.enqueue(conn, "log", "digest", {"subject": "s", "text": "t"}, "x", T0)
        with pytest.raises(ValueError, match="unknown notification kind 'sms'"):
            outbox.enqueue(conn, "log", "sms", {}, "y", T0)
    assert rows(store) == []


def test_concurrent_claimers_never_share_a_row(store: Store) -> None:
    ids = set(put(store, 120))
    got: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        token = threading.current_thread().name
        while batch := outbox.claim(store.engine, T0, 7, timedelta(minutes=5), token):
            with lock:
                got.extend(c.id for c in batch)

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == sorted(ids)  # every row once, none twice


def test_a_lease_expires_so_a_dead_senders_rows_are_taken_over(store: Store) -> None:
    put(store, 2)
    lease = timedelta(minutes=5)
    assert len(outbox.claim(store.engine, T0, 10, lease, "dead")) == 2
    assert outbox.claim(store.engine, T0 + timedelta(minutes=4), 10, lease, "other") == []
    taken = outbox.claim(store.engine, T0 + timedelta(minutes=5), 10, lease, "other")
    assert [c.token for c in taken] == ["other", "other"]
    # the dead sender's late outcome no longer counts
    assert outbox.record(store.engine, outbox.Claimed(**{**taken[0].__dict__, "token": "dead"}), Outcome.ok(), T0,
                         outbox.Policy()) == "lost"


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    p = outbox.Policy(backoff_base=timedelta(seconds=30), backoff_max=timedelta(minutes=10))
    for attempt, low in [(1, 30), (2, 60), (3, 120), (4, 240)]:
        waits = {p.backoff(attempt).total_seconds() for _ in range(20)}
        assert all(low <= w <= low + 30 for w in waits) and len(waits) > 1
    assert p.backoff(12) == timedelta(minutes=10)


def test_retry_bookkeeping_retry_after_and_give_up(store: Store) -> None:
    put(store, 3)
    policy = outbox.Policy(max_attempts=2, backoff_base=timedelta(seconds=30))
    a, b, c = outbox.claim(store.engine, T0, 10, timedelta(minutes=5), "t")
    assert outbox.record(store.engine, a, Outcome.retryable("HTTP 503"), T0, policy) == "retrying"
    assert outbox.record(store.engine, b, Outcome.retryable("HTTP 429", retry_after=120), T0, policy) == "retrying"
    assert outbox.record(store.engine, c, Outcome.permanent("HTTP 400: bad"), T0, policy) == "failed"
    ra, rb, rc = rows(store)
    assert T0 + timedelta(seconds=30) <= ra["next_attempt_at"] <= T0 + timedelta(seconds=60)
    assert rb["next_attempt_at"] == T0 + timedelta(seconds=120) and rb["attempts"] == 1
    assert (rc["status"], rc["last_error"]) == ("failed", "HTTP 400: bad")
    later = T0 + timedelta(minutes=3)
    a2, b2 = outbox.claim(store.engine, later, 10, timedelta(minutes=5), "t2")
    assert outbox.record(store.engine, a2, Outcome.retryable("HTTP 503"), later, policy) == "failed"
    assert outbox.record(store.engine, b2, Outcome.ok(), later, policy) == "delivered"
    ra, rb, _ = rows(store)
    assert ra["last_error"] == "gave up after 2 attempts: HTTP 503"
    assert (rb["status"], rb["attempts"], rb["delivered_at"]) == ("delivered", 2, later)


def test_past_the_give_up_time_a_failure_is_final(store: Store) -> None:
    put(store, 1, give_up_after=timedelta(hours=1))
    (c,) = outbox.claim(store.engine, T0 + timedelta(hours=2), 10, timedelta(minutes=5), "t")
    assert outbox.record(store.engine, c, Outcome.retryable("timeout"), T0 + timedelta(hours=2), outbox.Policy()) == "failed"
    with store.engine.connect() as conn:
        failed = outbox.failed(conn)
        assert outbox.counts(conn) == {"pending": 0, "delivered": 0, "failed": 1}
    assert failed[0]["last_error"] == "gave up after the give-up time: timeout"


def test_deliver_due_writes_digests_to_a_file_and_fails_unknown_receivers(store: Store, tmp_path: Path) -> None:
    put(store, 2, receiver="log")
    put(store, 1, receiver="gone")
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "out.jsonl")}})]
    report = outbox.deliver_due(store.engine, receivers, Delivery(), T0)
    assert (report.delivered, report.failed) == (2, 1)
    assert report.problems == ["notification 3 to gone failed: receiver 'gone' is not configured (any more)"]
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(x["id"], x["kind"], x["payload"]["subject"]) for x in lines] == [
        ("k0-log", "digest", DIGEST["subject"]), ("k1-log", "digest", DIGEST["subject"])]
    assert outbox.deliver_due(store.engine, receivers, Delivery(), T0 + timedelta(days=1)).attempted == 0


def test_old_history_is_pruned_but_pending_notifications_stay(store: Store) -> None:
    put(store, 3)
    policy = outbox.Policy()
    a, b, _ = outbox.claim(store.engine, T0, 10, timedelta(minutes=5), "t")
    outbox.record(store.engine, a, Outcome.ok(), T0, policy)
    outbox.record(store.engine, b, Outcome.permanent("no"), T0, policy)
    with store.engine.begin() as conn:
        assert outbox.prune(conn, T0 + timedelta(days=89), timedelta(days=90)) == 0
        assert outbox.prune(conn, T0 + timedelta(days=91), timedelta(days=90)) == 2
    assert [r["idempotency_key"] for r in rows(store)] == ["k2-log"]


def _delivered(store: Store) -> list[tuple]:
    return [(r["id"], r["receiver"], r["status"], r["attempts"], r["delivered_at"], r["last_attempt_at"],
             r["last_error"], r["claim_token"], r["claimed_until"]) for r in rows(store)]


@pytest.mark.parametrize("pooled", [False, True])
def test_a_local_batch_is_delivered_in_id_order_as_the_pool_delivers_it(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pooled: bool) -> None:
    """File receivers are sent in this thread (no pool), claims renewed and outcomes written per batch:
    every notification delivered once, in id order, with the rows the pool writes; over several batches."""
    if pooled:
        monkeypatch.setattr(outbox, "LOCAL_CHANNELS", frozenset())
    put(store, 21, receiver="log")
    put(store, 2, receiver="gone")
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "out.jsonl")}})]
    report = outbox.deliver_due(store.engine, receivers, Delivery(workers=2), T0)  # batches of 8
    assert (report.delivered, report.failed, report.retrying, report.postponed, report.lost) == (21, 2, 0, 0, 0)
    keys = [json.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    want = [f"k{i}-log" for i in range(21)]
    if pooled:  # threads finish in any order
        keys = sorted(keys, key=lambda k: int(k[1:].split("-")[0]))
    assert keys == want
    assert _delivered(store) == [(i + 1, "log", "delivered", 1, T0, T0, None, None, None) for i in range(21)] + [
        (22 + i, "gone", "failed", 1, None, T0, "receiver 'gone' is not configured (any more)", None, None)
        for i in range(2)]


@pytest.mark.parametrize("pooled", [False, True])
def test_a_local_receiver_that_fails_is_probed_once_and_the_rest_postponed(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pooled: bool) -> None:
    if pooled:
        monkeypatch.setattr(outbox, "LOCAL_CHANNELS", frozenset())
    put(store, 5, receiver="log")
    (tmp_path / "dir.jsonl").mkdir()  # appending to a directory fails: retryable
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "dir.jsonl")}})]
    report = outbox.deliver_due(store.engine, receivers, Delivery(), T0)
    assert (report.retrying, report.postponed, report.delivered) == (1, 4, 0)
    r = rows(store)
    assert [x["attempts"] for x in r] == [1, 0, 0, 0, 0]
    assert all(x["last_error"] == "postponed: log failed earlier in this run" for x in r[1:])
    assert all(x["next_attempt_at"] == r[0]["next_attempt_at"] > T0 for x in r[1:])
    assert all(x["claim_token"] is None and x["status"] == "pending" for x in r)


def test_a_local_batch_whose_lease_was_taken_over_sends_nothing_of_it(store: Store, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    put(store, 3, receiver="log")
    real = outbox.renew_all

    def taken_over(engine, batch, until):  # noqa: ANN001, ANN202 - another sender took the 2nd over
        with engine.begin() as conn:
            conn.execute(schema.notifications.update().where(schema.notifications.c.id == batch[1].id)
                         .values(claim_token="other"))
        return real(engine, batch, until)

    monkeypatch.setattr(outbox, "renew_all", taken_over)
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "out.jsonl")}})]
    report = outbox.deliver_due(store.engine, receivers, Delivery(), T0)
    assert (report.delivered, report.lost) == (2, 1)
    assert [json.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == ["k0-log", "k2-log"]
    assert [(x["status"], x["claim_token"]) for x in rows(store)] == [
        ("delivered", None), ("pending", "other"), ("delivered", None)]


def test_a_file_receiver_takes_its_notifications_of_a_batch_in_one_sync(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sco_monitor.alerting.channels import file

    syncs: list[int] = []
    real_fsync = file.os.fsync
    monkeypatch.setattr(file.os, "fsync", lambda fd: (syncs.append(fd), real_fsync(fd))[1])
    put(store, 6, receiver="log")
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "out.jsonl")}})]
    assert outbox.deliver_due(store.engine, receivers, Delivery(), T0).delivered == 6
    assert len(syncs) == 1
    assert [json.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        f"k{i}-log" for i in range(6)]
    r = rows(store)
    assert [(x["status"], x["attempts"], x["delivered_at"]) for x in r] == [("delivered", 1, T0)] * 6


def test_when_a_batch_fails_together_its_first_is_the_failed_probe_and_the_rest_wait(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sco_monitor.alerting.channels import file

    monkeypatch.setattr(file.FileChannel, "send_all", lambda self, config, messages: Outcome.retryable("disk full"))
    put(store, 4, receiver="log")
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(tmp_path / "out.jsonl")}})]
    report = outbox.deliver_due(store.engine, receivers, Delivery(), T0)
    assert (report.delivered, report.retrying, report.postponed) == (0, 1, 3)
    r = rows(store)
    assert [(x["status"], x["attempts"], x["last_error"]) for x in r] == [("pending", 1, "disk full")] + [
        ("pending", 0, "postponed: log failed earlier in this run")] * 3
    assert all(x["next_attempt_at"] == r[0]["next_attempt_at"] > T0 for x in r)


_CRASHING_SENDER = """
import os, sys
from datetime import datetime
from sco_monitor.alerting import outbox
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store

url, path, now = sys.argv[1:4]
def killed(*args, **kwargs):
    os._exit(9)  # the process dies once the lines are appended, before a delivery is recorded
outbox.write_all = killed
receivers = [Receiver.model_validate({"name": "log", "file": {"path": path}})]
outbox.deliver_due(Store(url).engine, receivers, Delivery(), datetime.fromisoformat(now))
"""


def test_a_sender_killed_after_appending_does_not_write_the_lines_twice(store_url: str, store: Store,
                                                                          tmp_path: Path) -> None:
    """At-least-once delivery: a sender killed between appending to the file and recording the delivery
    leaves the rows claimed; once the lease expires the next run sends them again. The file, its own
    receiver, holds each notification once, and the rows end delivered."""
    import subprocess
    import sys

    from ..conftest import cli_env

    put(store, 3, receiver="log")
    path = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-c", _CRASHING_SENDER, store_url, str(path), T0.isoformat()],
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["k0-log", "k1-log", "k2-log"]
    assert [x["status"] for x in rows(store)] == ["pending"] * 3  # nothing recorded: the lease holds them
    receivers = [Receiver.model_validate({"name": "log", "file": {"path": str(path)}})]
    later = T0 + Delivery().lease
    report = outbox.deliver_due(store.engine, receivers, Delivery(), later)
    assert report.delivered == 3
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["k0-log", "k1-log", "k2-log"]
    assert [(x["status"], x["delivered_at"]) for x in rows(store)] == [("delivered", later)] * 3
    put(store, 4, receiver="log")  # k3 is new: it is appended after them
    assert outbox.deliver_due(store.engine, receivers, Delivery(), later).delivered == 1
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()][-1] == "k3-log"
