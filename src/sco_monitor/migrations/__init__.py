"""Alembic revisions of the store schema; `sco_monitor.store.migrate` runs them (`sco-monitor init`)."""
