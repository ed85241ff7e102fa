"""One active daemon per store: a file lock beside SQLite, an advisory lock on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from sco_monitor.daemon.lock import FileLock, PgAdvisoryLock, store_lock
from sco_monitor.errors import UsageError
from sco_monitor.store import Store

from .conftest import wait_for


def test_sqlite_lock_file_sits_beside_the_database_and_admits_one_holder(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'var' / 'db.sqlite'}")
    a, b = store_lock(store, "host:1"), store_lock(store, "host:2")
    assert isinstance(a, FileLock) and a.path == (tmp_path / "var" / "db.sqlite.lock")
    assert a.standby_allowed is False
    assert a.holder() is None
    assert a.try_acquire() is True
    assert b.try_acquire() is False  # a second daemon on the same store
    assert a.verify() is True
    assert FileLock(a.path, "x").holder().instance == "host:1"  # read from the file
    a.release()
    assert b.try_acquire() is True
    b.path.unlink()  # someone deleted the lock file: the lock no longer protects anything
    assert b.verify() is False
    b.release()


def test_sqlite_holder_is_the_live_process_named_in_the_file(tmp_path: Path) -> None:
    import os
    import socket

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    me = f"{socket.gethostname()}:{os.getpid()}"
    lock = store_lock(store, me)
    assert lock.try_acquire()
    holder = store_lock(store, "other").holder()
    assert holder is not None and holder.instance == me and holder.since is not None
    lock.release()
    assert store_lock(store, "other").holder() is None  # cleared on release


def test_in_memory_sqlite_cannot_run_a_daemon() -> None:
    with pytest.raises(UsageError, match="the daemon needs a store on disk or PostgreSQL"):
        store_lock(Store("sqlite://"), "host:1")


@pytest.mark.postgres
def test_postgres_advisory_lock_one_holder_per_schema_released_with_the_session(pg_url: str, pg_base_url: str) -> None:
    store = Store(pg_url)
    a, b = store_lock(store, "host:1"), store_lock(store, "host:2")
    assert isinstance(a, PgAdvisoryLock) and a.standby_allowed is True
    try:
        assert a.try_acquire() is True
        assert a.try_acquire() is True  # idempotent for the holder
        assert b.try_acquire() is False
        assert b.holder().instance == "host:1"
        assert a.verify() is True
        # another deployment (another schema) on the same server is not blocked
        other = store_lock(Store(pg_base_url), "host:3")
        try:
            assert other.try_acquire() is True
        finally:
            other.release()
        a._conn.invalidate()  # the holder's session dies (as with SIGKILL or a cut network)
        assert a.verify() is False
        wait_for(b.try_acquire, 10, "the server to end the dead session")  # what a standby's poll does
        assert b.verify() is True
    finally:
        a.release()
        b.release()
        store.dispose()
