"""The outbox: notifications are rows first, deliveries second.

Producers (the alert engine, the heartbeat, the daily report) `enqueue` inside their own
transaction, so a notification exists exactly when the state change that caused it does.
`deliver_due` claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a claim token with a
lease on SQLite), sends them through their receiver's channel, and records the outcome:
delivered; retried with exponential backoff and jitter (or the receiver's `Retry-After`); or
failed, permanently or after the give-up time. Delivery is at-least-once; every message carries
its idempotency key (the webhook-id, the email Message-ID) so receivers can deduplicate.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, Update, bindparam, func, or_, select, update
from tenacity import wait_exponential_jitter

from sco_monitor import i18n
from sco_monitor.alerting.channels import Channel, Message, Outcome, channels, email, file, webhook  # noqa: F401 - the built-ins register on import
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.logs import get_logger
from sco_monitor.registry import UnknownName
from sco_monitor.store import schema
from sco_monitor.store.upsert import dialect_insert
from sco_monitor.timeutil import utcnow

log = get_logger("sco_monitor.outbox")
t = schema.notifications

KINDS = ("alert", "heartbeat", "digest", "test")
DEFAULT_GIVE_UP = timedelta(hours=24)
MIN_RETRY = timedelta(seconds=1)
_REQUIRED = {"digest": ("subject", "text", "html")}
#: Channels that deliver on this machine under one lock (the file channel appends and syncs a line):
#: threads add nothing to them, so a batch only for these (or for unknown receivers, failed without any
#: IO) is sent in the calling thread, without a pool, and its claims renewed and outcomes written at once.
LOCAL_CHANNELS: frozenset[str] = frozenset({"file"})


def enqueue(conn: Connection, receiver: str, kind: str, payload: Mapping[str, Any], idempotency_key: str,
            now: datetime, *, group_key: str = "", give_up_after: timedelta | None = None,
            not_before: datetime | None = None) -> int | None:
    """Put one notification in the outbox, in the caller's transaction.

    Returns its id, or None when a notification with this idempotency key already exists
    (so a producer that runs twice for the same event enqueues once).
    """
    ids = enqueue_many(conn, [row(receiver, kind, payload, idempotency_key, now, group_key=group_key,
                                  give_up_after=give_up_after, not_before=not_before)])
    return ids[0] if ids else None


def row(receiver: str, kind: str, payload: Mapping[str, Any], idempotency_key: str, now: datetime, *,
        group_key: str = "", give_up_after: timedelta | None = None, not_before: datetime | None = None) -> dict[str, Any]:
    """A checked outbox row (see `enqueue`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; expected one of: {', '.join(KINDS)}")
    missing = [k for k in _REQUIRED.get(kind, ()) if not isinstance(payload.get(k), str)]
    if missing:
        raise ValueError(f"a {kind} notification needs string payload keys: {', '.join(missing)}")
    if not idempotency_key:
        raise ValueError("a notification needs an idempotency key")
    return {"idempotency_key": idempotency_key, "receiver": receiver, "group_key": group_key, "kind": kind,
            "payload": dict(payload), "status": "pending", "attempts": 0, "next_attempt_at": not_before or now,
            "give_up_at": now + (give_up_after or DEFAULT_GIVE_UP), "created_at": now}


def enqueue_many(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert outbox rows in one statement; returns the ids of those that were new."""
    if not rows:
        return []
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(t.c.id)
    if len(rows) == 1:
        return [i for i in [conn.execute(stmt.values(**rows[0])).scalar()] if i is not None]
    return sorted(r[0] for r in conn.execute(stmt, rows))


# --- claiming and recording -------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    receiver: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    give_up_at: datetime
    token: str

    def message(self) -> Message:
        return Message(key=self.key, receiver=self.receiver, kind=self.kind, payload=self.payload,
                       created_at=self.created_at, attempt=self.attempts + 1, id=self.id)


def claim(engine: Engine, now: datetime, limit: int, lease: timedelta, token: str,
          due_by: datetime | None = None) -> list[Claimed]:
    """Take up to `limit` notifications due by `due_by` (default `now`) for this sender; no other sender
    gets them until `now` + lease."""
    due = select(t.c.id).where(
        t.c.status == "pending", t.c.next_attempt_at <= (due_by or now),
        or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
    ).order_by(t.c.id).limit(limit)
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (update(t).where(t.c.id.in_(due.scalar_subquery()))
            .values(claim_token=token, claimed_until=now + lease)
            .returning(t.c.id, t.c.idempotency_key, t.c.receiver, t.c.kind, t.c.payload, t.c.attempts,
                       t.c.created_at, t.c.give_up_at))
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    return sorted((Claimed(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], token) for r in rows), key=lambda c: c.id)


@dataclass(frozen=True)
class Policy:
    """Retry policy from `alerting.delivery`."""

    max_attempts: int = 12
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)

    @classmethod
    def of(cls, d: Delivery) -> Policy:
        return cls(d.max_attempts, d.backoff_base, d.backoff_max)

    def backoff(self, attempt: int) -> timedelta:
        """base·2^(attempt-1) plus up to `base` of jitter, capped at backoff_max (tenacity's strategy)."""
        base = self.backoff_base.total_seconds()
        wait = wait_exponential_jitter(multiplier=base, max=self.backoff_max.total_seconds(), jitter=base)
        return timedelta(seconds=wait(SimpleNamespace(attempt_number=attempt)))  # type: ignore[arg-type]


def plan(c: Claimed, outcome: Outcome, now: datetime, policy: Policy) -> tuple[str, dict[str, Any]]:
    """What one attempt's outcome makes of the row: (delivered | retrying | failed, column values)."""
    attempts = c.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now, "claim_token": None,
                              "claimed_until": None}
    if outcome.status == "ok":
        values.update(status="delivered", delivered_at=now, last_error=None)
        return "delivered", values
    if outcome.status == "permanent":
        values.update(status="failed", last_error=outcome.detail)
        return "failed", values
    if attempts >= policy.max_attempts or now >= c.give_up_at:
        why = f"{attempts} attempts" if attempts >= policy.max_attempts else "the give-up time"
        values.update(status="failed", last_error=f"gave up after {why}: {outcome.detail}")
        return "failed", values
    delay = timedelta(seconds=outcome.retry_after) if outcome.retry_after is not None else policy.backoff(attempts)
    values.update(next_attempt_at=min(now + max(delay, MIN_RETRY), c.give_up_at), last_error=outcome.detail)
    return "retrying", values


def write(engine: Engine, c: Claimed, status: str, values: dict[str, Any]) -> str:
    """Store a planned outcome if this sender still holds the claim; else 'lost' (the lease was taken over)."""
    return write_all(engine, [(c, status, values)])[0]


def record(engine: Engine, c: Claimed, outcome: Outcome, now: datetime, policy: Policy) -> str:
    """Write the outcome of one attempt; returns delivered, retrying, failed, or lost (lease taken over)."""
    return write(engine, c, *plan(c, outcome, now, policy))


def renew(engine: Engine, c: Claimed, until: datetime) -> bool:
    """Extend this sender's claim right before an attempt; False when the lease ran out and another
    sender took the notification over (then this one must not send it)."""
    return c.id in renew_all(engine, [c], until)


def renew_all(engine: Engine, batch: list[Claimed], until: datetime) -> set[int]:
    """`renew` for a whole batch in one statement: the ids this sender still holds (see `renew`). For a
    batch that goes out at once, right after (local channels: no network in between)."""
    if not batch:
        return set()
    token = batch[0].token
    stmt = (update(t).where(t.c.id.in_([c.id for c in batch]), t.c.claim_token == token, t.c.status == "pending")
            .values(claimed_until=until).returning(t.c.id))
    with engine.begin() as conn:
        return {r[0] for r in conn.execute(stmt)}


def write_all(engine: Engine, outcomes: list[tuple[Claimed, str, dict[str, Any]]]) -> list[str]:
    """`write` for several planned outcomes in one transaction (one commit, not one per notification);
    each row still only where this sender holds its claim, else 'lost'. Statuses in the given order."""
    out: list[str] = []
    with engine.begin() as conn:
        for c, status, values in outcomes:
            stmt = _outcome_update(tuple(values))
            n = conn.execute(stmt, {"b_id": c.id, "b_token": c.token, **{f"v_{k}": v for k, v in values.items()}}).rowcount
            out.append(status if n else "lost")
    for (c, status, _), written in zip(outcomes, out):
        if written == "lost":
            log.warning("notification_lease_lost", id=c.id, receiver=c.receiver, status=status)
    return out


@lru_cache(maxsize=32)
def _outcome_update(columns: tuple[str, ...]) -> Update:
    """`write`'s UPDATE setting these columns, with bound values: built once per set of columns (an
    outcome sets one of a few), not once per notification."""
    return update(t).where(t.c.id == bindparam("b_id"), t.c.claim_token == bindparam("b_token")).values(
        {k: bindparam(f"v_{k}", type_=t.c[k].type) for k in columns})


def postponed(until: datetime, why: str) -> dict[str, Any]:
    """Column values that release a claim without an attempt (its receiver just failed in this run)."""
    return {"next_attempt_at": until, "claim_token": None, "claimed_until": None, "last_error": why}


# --- the delivery run ---------------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    postponed: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed + self.lost

    @property
    def status(self) -> str:
        """partial when notifications were given up on in this run (retries are delays, not losses)."""
        return "partial" if self.failed else "ok"

    def problem(self) -> str | None:
        return "; ".join(self.problems[:3]) or None

    def summary(self) -> str:
        s = f"delivered {self.delivered}, retrying {self.retrying + self.postponed}, failed {self.failed}"
        return s + (f" ({self.lost} taken over by another sender)" if self.lost else "")


class _Senders:
    """Channel instances for one run (one HTTP connection pool, one per channel kind)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Channel] = {}

    def get(self, name: str) -> Channel:
        with self._lock:
            if name not in self._items:
                self._items[name] = channels.get(name)()
            return self._items[name]

    def close(self) -> None:
        for ch in self._items.values():
            try:
                ch.close()
            except Exception:  # noqa: BLE001 - closing must not lose the run's results
                log.warning("channel_close_failed", exc_info=True)


def send(receiver: Receiver | None, message: Message, senders: _Senders | None = None) -> Outcome:
    """One delivery attempt; channel bugs become retryable outcomes, never a crashed run."""
    if receiver is None:
        return Outcome.permanent(f"receiver {message.receiver!r} is not configured (any more)")
    own = senders is None
    senders = senders or _Senders()
    try:
        channel = senders.get(receiver.channel)
        with i18n.use(receiver.language):  # the channel renders subject and body in the receiver's language
            return channel.send(getattr(receiver, receiver.channel), message)
    except UnknownName as e:
        return Outcome.permanent(str(e))
    except Exception as e:  # noqa: BLE001 - a bug in one channel must not stop the others
        log.exception("channel_error", receiver=message.receiver, id=message.id)
        return Outcome.retryable(f"internal error in the {receiver.channel} channel: {type(e).__name__}: {e}")
    finally:
        if own:
            senders.close()


def send_all(receiver: Receiver, messages: list[Message], senders: _Senders) -> Outcome:
    """One delivery attempt of several notifications to one receiver whose channel takes them together
    (`BatchChannel`): one outcome for all; channel bugs become a retryable outcome, as in `send`."""
    try:
        channel = senders.get(receiver.channel)
        with i18n.use(receiver.language):
            return channel.send_all(getattr(receiver, receiver.channel), messages)  # type: ignore[attr-defined]
    except Exception as e:  # noqa: BLE001 - a bug in one channel must not stop the others
        log.exception("channel_error", receiver=receiver.name, ids=[m.id for m in messages])
        return Outcome.retryable(f"internal error in the {receiver.channel} channel: {type(e).__name__}: {e}")


def _takes_batches(senders: _Senders, receiver: Receiver) -> bool:
    try:
        return callable(getattr(senders.get(receiver.channel), "send_all", None))
    except UnknownName:
        return False


def deliver_due(engine: Engine, receivers: list[Receiver], delivery: Delivery, now: datetime | None = None,
                *, workers: int | None = None, clock: Callable[[], datetime] = utcnow) -> DeliveryReport:
    """Deliver every notification due when the run starts, `workers` at a time.

    The clock is read at each claim, before each attempt (the lease is renewed then, so a slow
    batch never outlives its lease) and when each outcome is recorded: `delivered_at` is the send
    time and a retry waits its backoff from the failure. `now` freezes the clock (a simulated day).
    Each notification is attempted at most once per run. A receiver's first notification probes
    it; after a retryable failure, the rest of that receiver's notifications wait for its next
    attempt instead of hammering it (and one failing receiver never holds up the others).
    A batch only for local channels (`LOCAL_CHANNELS`), or of one notification, goes out in this
    thread in id order (a receiver whose channel takes batches gets its share in one attempt); a pool
    of `workers` threads is started only for a batch that needs one.
    """
    at = (lambda: now) if now is not None else clock
    cutoff = at()
    by_name = {r.name: r for r in receivers}
    policy, lease, token = Policy.of(delivery), delivery.lease, str(uuid.uuid4())
    workers = workers or delivery.workers
    report = DeliveryReport()
    down: dict[str, datetime] = {}
    lock = threading.Lock()
    senders = _Senders()

    probes: dict[str, threading.Event] = {}

    def attempt(c: Claimed) -> tuple[Claimed, str, dict[str, Any], Outcome | None]:
        # Runs in a worker: the network part only. The first notification of a receiver in this
        # run probes it; the rest wait for the probe, then go out concurrently, or, if the receiver
        # is down, are postponed to its next attempt without an attempt of their own.
        with lock:
            probe = probes.get(c.receiver)
            prober = probe is None
            if prober:
                probe = probes[c.receiver] = threading.Event()
        assert probe is not None
        if not prober:
            probe.wait()
        try:
            with lock:
                until = down.get(c.receiver)
            if until is not None:
                why = f"postponed: {c.receiver} failed earlier in this run"
                return c, "postponed", postponed(max(until, at() + MIN_RETRY), why), None
            if not renew(engine, c, at() + lease):
                return c, "lost", {}, None
            outcome = send(by_name.get(c.receiver), c.message(), senders)
            status, values = plan(c, outcome, at(), policy)
            if outcome.status == "retryable":
                with lock:
                    down[c.receiver] = values.get("next_attempt_at") or at() + MIN_RETRY
            return c, status, values, outcome
        finally:
            if prober:
                probe.set()

    def outcome_of(c: Claimed, status: str, outcome: Outcome | None) -> None:
        # Counted and logged by this thread alone, after the outcome is stored (or lost before the attempt).
        setattr(report, status, getattr(report, status) + 1)
        if outcome is None:
            return
        log.info("notification_attempt", id=c.id, receiver=c.receiver, kind=c.kind,
                 attempt=c.attempts + 1, outcome=outcome.status, detail=outcome.detail or None,
                 status=status)
        if status == "failed":
            report.problems.append(f"notification {c.id} to {c.receiver} failed: {outcome.detail}")

    def locally(batch: list[Claimed]) -> None:
        # In this thread, in id order. A receiver whose channel takes batches (`send_all`: one append
        # and one sync of the file) gets all of its notifications of the batch in one attempt; if that
        # fails retryably, the first counts as the probe that failed and the rest are postponed, as
        # the pool would have it. Others go one by one, the first probing the receiver.
        held = renew_all(engine, batch, at() + lease)
        planned: dict[int, tuple[str, dict[str, Any], Outcome | None]] = {}
        together: dict[str, list[Claimed]] = {}

        def put_off(c: Claimed) -> None:
            why = f"postponed: {c.receiver} failed earlier in this run"
            planned[c.id] = ("postponed", postponed(max(down[c.receiver], at() + MIN_RETRY), why), None)

        def attempted(c: Claimed, outcome: Outcome) -> None:
            status, values = plan(c, outcome, at(), policy)
            planned[c.id] = (status, values, outcome)
            if outcome.status == "retryable":
                down.setdefault(c.receiver, values.get("next_attempt_at") or at() + MIN_RETRY)

        for c in batch:
            receiver = by_name.get(c.receiver)
            if c.receiver in down:
                put_off(c)
            elif c.id not in held:
                log.warning("notification_lease_lost", id=c.id, receiver=c.receiver, status="not sent")
            elif receiver is not None and _takes_batches(senders, receiver):
                together.setdefault(c.receiver, []).append(c)
            else:
                attempted(c, send(receiver, c.message(), senders))
        for name, group in together.items():
            outcome = send_all(by_name[name], [c.message() for c in group], senders)
            if outcome.status == "retryable":
                attempted(group[0], outcome)
                for c in group[1:]:
                    put_off(c)
            else:
                for c in group:
                    attempted(c, outcome)
        order = [c for c in batch if c.id in planned]
        written = dict(zip([c.id for c in order],
                           write_all(engine, [(c, planned[c.id][0], planned[c.id][1]) for c in order])))
        for c in batch:
            outcome_of(c, written.get(c.id, "lost"), planned[c.id][2] if c.id in planned else None)

    pool: ThreadPoolExecutor | None = None
    limit = workers * 4
    try:
        while batch := claim(engine, at(), limit, lease, token, due_by=cutoff):
            if len(batch) == 1 or all(_local(by_name.get(c.receiver)) for c in batch):
                locally(batch)
            else:
                pool = pool or ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver")
                # Outcomes are written here, one short transaction each, by this thread alone:
                # senders never queue on the database's write lock.
                for done in as_completed([pool.submit(attempt, c) for c in batch]):
                    c, status, values, outcome = done.result()
                    if status == "lost":
                        log.warning("notification_lease_lost", id=c.id, receiver=c.receiver, status="not sent")
                    else:
                        status = write(engine, c, status, values)
                    outcome_of(c, status, outcome)
            if len(batch) < limit:
                break  # everything due and free when this batch was claimed is in it
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        senders.close()
    return report


def _local(receiver: Receiver | None) -> bool:
    """A receiver delivered without network IO: a local channel, or none (its notification fails at once)."""
    return receiver is None or receiver.channel in LOCAL_CHANNELS


# --- what users see -----------------------------------------------------------------------------------
def failed(conn: Connection, since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Notifications that were given up on (newest first): shown by `alerts list` and the report."""
    stmt = select(t.c.id, t.c.receiver, t.c.kind, t.c.attempts, t.c.last_error, t.c.created_at,
                  t.c.last_attempt_at, t.c.idempotency_key, t.c.group_key).where(t.c.status == "failed")
    if since is not None:
        stmt = stmt.where(t.c.created_at >= since)
    rows = conn.execute(stmt.order_by(t.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def prune(conn: Connection, now: datetime, keep: timedelta) -> int:
    """Delete delivered and failed notifications created more than `keep` ago; pending ones stay."""
    stmt = t.delete().where(t.c.status.in_(["delivered", "failed"]), t.c.created_at < now - keep)
    return conn.execute(stmt).rowcount or 0


def counts(conn: Connection) -> dict[str, int]:
    """Notifications by status: pending, delivered, failed."""
    rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
    return {"pending": 0, "delivered": 0, "failed": 0} | {s: int(n) for s, n in rows}
