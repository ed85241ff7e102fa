"""What a CLI command or a daemon job works with: the loaded config and the opened store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sco_monitor.config import AppConfig, KnownNames, load_config
from sco_monitor.store import Store


@dataclass
class Context:
    """Loads the config and opens the store once, on first use.

    `known` gives the registered names to check the config against (`sco_monitor.app.known_names`,
    passed by the CLI); it is a callable so that commands which never read the config stay light.
    `mistakes` builds the report's "Mistakes and their reasons" from the live record (the CLI passes
    `replay.live.mistakes_section`; without it the section says it is unavailable)."""

    config_path: str | Path | None = None
    run_id: str = ""
    check: Callable[[AppConfig], None] | None = field(default=None, repr=False)
    known: Callable[[], KnownNames] | None = field(default=None, repr=False)
    mistakes: Callable[[Any, date], dict[str, Any]] | None = field(default=None, repr=False)
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
    def from_parts(cls, config: AppConfig, store: Store | None = None, run_id: str = "",
                   mistakes: Callable[[Any, date], dict[str, Any]] | None = None) -> "Context":
        return cls(config_path=config.path, run_id=run_id, mistakes=mistakes, _config=config, _store=store)
