"""Schema migrations: bring a store to the newest Alembic revision (`sco-monitor init`).

The revisions live in `sco_monitor/migrations/` (shipped in the wheel). A store made by release
0.1.0 (tables created by `metadata.create_all`, no `alembic_version`) is stamped at the baseline
revision, which is that schema, and then upgraded like any other.

Contributors: `python -m sco_monitor.store.migrate -x url=sqlite:///var/dev.db upgrade head`, then
`... revision --autogenerate --rev-id 0002 -m "what changes"`; the full alembic command line,
with the configuration built here instead of an alembic.ini.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import CommandLine, Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from sco_monitor.logs import get_logger

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
log = get_logger(__name__)
BASELINE = "0001"  # the schema of release 0.1.0
VERSION_TABLE = "alembic_version"
# Every table release 0.1.0 created: a store holding some of them and no version table is one of its.
BASELINE_TABLES = frozenset({
    "series", "observations", "quality_flags", "collection_runs", "indicator_values", "forecasts",
    "model_states", "rule_evaluations", "stress_index", "crisis_probability", "alerts", "notifications",
    "notification_groups", "silences", "replay_days", "alert_history", "reports", "job_runs",
})


class MigrationError(Exception):
    """The store cannot be brought to the newest schema; the message says why."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code; `connection` is the one the revisions run on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of sco-monitor."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no revision under {MIGRATIONS}"
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the store is at, or None for an empty store or one made by release 0.1.0."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Create the store or upgrade it to head; returns what was done (created | stamped | upgraded | current).

    One transaction under a lock (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory lock per schema),
    so two processes opening a new store at once do not both create it.
    """
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return "current"
    with engine.connect() as conn:
        _lock(conn)
        tables = set(inspect(conn).get_table_names())
        cfg = alembic_config(conn)
        outcome = "upgraded"
        if VERSION_TABLE not in tables:
            present = tables & BASELINE_TABLES
            if present:
                missing = sorted(BASELINE_TABLES - present)
                if missing:
                    raise MigrationError(
                        f"the store has sco-monitor tables but not all of release 0.1.0 (missing: "
                        f"{', '.join(missing)}); it predates 0.1.0: open it once with 0.1.0 or start a new store")
                command.stamp(cfg, BASELINE)
                outcome = "stamped"
            else:
                outcome = "created"
        elif current_revision(conn) == head:
            outcome = "current"  # another process upgraded it while we waited for the lock
        if outcome != "current":
            command.upgrade(cfg, "head")
        conn.commit()
    if outcome != "current":
        log.info("store_migrated", outcome=outcome, revision=head)
    return outcome


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # pysqlite opens no transaction for DDL by itself; this one also takes the write lock now.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('sco-monitor migrate ' || current_schema()))"))


def main(argv: Sequence[str] | None = None) -> None:
    """The alembic command line on the shipped revisions; `-x url=...` names the database."""
    cli = CommandLine(prog="python -m sco_monitor.store.migrate")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    cfg = alembic_config()
    cfg.cmd_opts = options
    cli.run_cmd(cfg, options)


if __name__ == "__main__":
    main(sys.argv[1:])
