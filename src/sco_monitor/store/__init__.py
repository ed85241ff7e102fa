"""The SQL store: schema (SQLAlchemy Core tables) and the repository of reads and writes."""

from sco_monitor.store.repo import Store, StoreError

__all__ = ["Store", "StoreError"]
