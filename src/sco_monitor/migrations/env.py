"""Alembic environment of the store.

`sco-monitor init` (via `sco_monitor.store.migrate`) hands in an open connection, so the store's
own engine settings apply (SQLite pragmas, a PostgreSQL search_path in the URL options). A
contributor running `python -m sco_monitor.store.migrate ...` names a database with `-x url=...`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from sco_monitor.store.repo import normalize_url
from sco_monitor.store.schema import metadata

config = context.config
# Autogenerate renders batch operations so that a revision also runs on SQLite (no ALTER COLUMN).
OPTIONS = {"target_metadata": metadata, "render_as_batch": True, "compare_type": True}


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("migrations: name the database with -x url=sqlite:///path/to/store.db")
    return normalize_url(url)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    _run(shared)
else:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
