"""Dialect-aware upserts (INSERT ... ON CONFLICT DO UPDATE) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Insert, Table


def dialect_insert(conn: Connection, table: Table):  # noqa: ANN202 - dialect Insert
    """INSERT of this backend's dialect, which has `on_conflict_do_*`."""
    return _insert(conn.dialect.name)(table)


def _insert(name: str) -> Callable[[Table], Insert]:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"upsert is not implemented for {name}")
    return insert


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    update: Sequence[str] | None = None,
) -> None:
    """Insert rows; on a primary-key conflict overwrite `update` columns (default: all non-key)."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    cols = tuple(update) if update is not None else tuple(k for k in rows[0] if k not in keys)
    conn.execute(_upsert_statement(conn.dialect.name, table, cols), list(rows))


@lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: Table, update: tuple[str, ...]) -> Insert:
    """The upsert of `table` overwriting `update` on a key conflict, built once per backend, table and
    columns: statements are immutable, and building one (its `excluded` columns) costs more than
    executing it for a day's few rows."""
    stmt = _insert(dialect)(table)
    keys = [c.name for c in table.primary_key.columns]
    if update:
        return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
    return stmt.on_conflict_do_nothing(index_elements=keys)
