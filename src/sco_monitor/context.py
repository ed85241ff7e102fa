"""What a CLI command or a daemon job works with: the loaded config and the opened store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sco_monitor.config import AppConfig, KnownNames, load_config
from sco_monitor.store import Store


@dataclass
class Context:
    """Loads the config and opens the store once, on first use.

    `known` gives the registered names to check the config against (`sco_monitor.app.known_names`,
    passed by the CLI); it is a callable so that commands which never read the config stay light."""

    config_path: str | Path | None = None
    run_id: str = ""
    check: Callable[[AppConfig], None] | None = field(default=None, repr=False)
    known: Callable[[], KnownNames] | None = field(default=None, repr=False)
    _config: AppConfig | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> AppConfig:
        if self._config is None:
            config = load_config(self.config_path, self.known() if self.known else None)
            if self.check is not None:
                self.check(config)  # the CLI's network-free checks (load_checks), before any command acts
            self._config = config
        return self._config

    @property
    def store(self) -> Store:
        """The store with its tables created and the catalog synced."""
        if self._store is None:
            store = Store(self.config.settings.store.url)
            store.init()
            store.sync_series(self.config.universe.series)
            self._store = store
        return self._store

    @classmethod
    def from_parts(cls, config: AppConfig, store: Store | None = None, run_id: str = "") -> "Context":
        return cls(config_path=config.path, run_id=run_id, _config=config, _store=store)
