"""One active daemon per store.

SQLite: an exclusive `flock` on a file beside the database; the kernel drops it when the process
dies, so a crash never leaves a stale lock, and a second daemon refuses to start.
PostgreSQL: a session advisory lock held on a dedicated connection (TCP keepalives on both ends),
keyed by database and schema. Replicas stand by and poll; when the active one dies its session
ends, the lock is free, and the first replica to poll takes over.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from sco_monitor.errors import UsageError
from sco_monitor.store import Store
from sco_monitor.timeutil import utcnow


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as far as the lock itself tells."""

    instance: str
    since: datetime | None = None


class StoreLock(Protocol):
    standby_allowed: bool
    where: str

    def try_acquire(self) -> bool: ...
    def verify(self) -> bool: ...
    def release(self) -> None: ...
    def holder(self) -> Holder | None: ...


F = TypeVar("F", bound=Callable[..., Any])


def _serialized(method: F) -> F:
    """The lock's connection is shared by the main, control and HTTP threads: one at a time."""

    def wrapper(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN001
        with self._mutex:
            return method(self, *args, **kwargs)

    wrapper.__doc__ = method.__doc__
    return wrapper  # type: ignore[return-value]


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def store_lock(store: Store, instance: str, purpose: str = "daemon") -> StoreLock:
    """The lock of one `purpose` per store: one active daemon, one replay at a time."""
    if store.dialect == "postgresql":
        return PgAdvisoryLock(store.engine.url, instance, purpose)
    db = store.engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        raise UsageError(f"the {purpose} needs a store on disk or PostgreSQL, not {store.display_url}: "
                         "its jobs run in worker processes")
    suffix = ".lock" if purpose == "daemon" else f".{purpose}.lock"
    return FileLock(Path(db).expanduser().resolve().with_name(Path(db).name + suffix), instance)


class FileLock:
    standby_allowed = False

    def __init__(self, path: Path, instance: str) -> None:
        self.path = path
        self.where = f"lock file {path}"
        self.instance = instance
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"instance": self.instance, "since": utcnow().isoformat()}).encode(), 0)
        self._fd = fd
        return True

    def verify(self) -> bool:
        """Still ours: the file we lock is the one at the path (nobody deleted or replaced it)."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)  # closing drops the flock
                self._fd = None

    def holder(self) -> Holder | None:
        """The live holder per the lock file: cleared on release, checked against the pid on this host."""
        try:
            info = json.loads(self.path.read_text() or "null")
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or "instance" not in info:
            return None
        host, _, pid = str(info["instance"]).rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
            return None
        since = datetime.fromisoformat(info["since"]) if info.get("since") else None
        return Holder(str(info["instance"]), since)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PgAdvisoryLock:
    standby_allowed = True

    def __init__(self, url, instance: str, purpose: str = "daemon") -> None:  # noqa: ANN001 - str or sqlalchemy URL
        url = make_url(url)
        self.purpose = purpose
        self.where = f"PostgreSQL advisory lock on {url.render_as_string(hide_password=True)}"
        self.instance = instance
        self._engine = create_engine(url, poolclass=NullPool, connect_args={
            "application_name": f"sco-monitor {instance}"[:63],
            "connect_timeout": 10,
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
        })
        self._conn: Connection | None = None
        self._key: int | None = None
        self._held = False
        self._mutex = threading.RLock()

    def _connect(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # the server notices a vanished client (crashed host, cut network) within ~25 s
            for setting in ("tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3"):
                conn.execute(text(f"SET {setting}"))
            ident = conn.execute(text("SELECT current_database() || ':' || current_schema()")).scalar()
            self._key = advisory_key(str(ident), self.purpose)
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except SQLAlchemyError:
                pass
        self._conn = None
        self._held = False

    @_serialized
    def try_acquire(self) -> bool:
        if self._held and self.verify():
            return True
        try:
            conn = self._connect()
            self._held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        except SQLAlchemyError:
            self._drop()
            return False
        return self._held

    @_serialized
    def verify(self) -> bool:
        """The lock is still held by this session (a dropped connection loses it)."""
        if not self._held or self._conn is None:
            return False
        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = :c AND objid = :o AND objsubid = 1 AND granted"), _split(self._key)).scalar()
        except SQLAlchemyError:
            self._drop()
            return False
        if not held:
            self._held = False
        return bool(held)

    @_serialized
    def release(self) -> None:
        if self._held and self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            except SQLAlchemyError:
                pass
        self._drop()
        self._engine.dispose()

    @_serialized
    def holder(self) -> Holder | None:
        try:
            conn = self._connect()
            row = conn.execute(text(
                "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.classid = :c AND l.objid = :o AND l.objsubid = 1 "
                "AND l.granted"), _split(self._key)).first()
        except SQLAlchemyError:
            self._drop()
            return None
        if row is None:
            return None
        name = str(row[0] or "").removeprefix("sco-monitor ") or f"a session from {row[1]}"
        return Holder(name)


def advisory_key(ident: str, purpose: str = "daemon") -> int:
    """A stable signed 64-bit key for 'database:schema', so deployments sharing a server never collide."""
    digest = hashlib.blake2b(f"sco-monitor {purpose} {ident}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _split(key: int | None) -> dict[str, int]:
    """pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits)."""
    unsigned = (key or 0) & 0xFFFFFFFFFFFFFFFF
    return {"c": unsigned >> 32, "o": unsigned & 0xFFFFFFFF}
