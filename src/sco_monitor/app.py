"""The application as the CLI, the daemon and the demo load it: the config checked against every
name the registries of the upper layers know (sources, jobs, indicators).

The top of the layers: config (below) takes these names as arguments instead of importing the
registries.
"""

from __future__ import annotations

from pathlib import Path

from sco_monitor.assess.indicators import registry as indicators
from sco_monitor.config import AppConfig, KnownNames, load_config
from sco_monitor.daemon.jobs import registry as jobs
from sco_monitor.sources import registry as sources


def known_names() -> KnownNames:
    """What config may name: registered sources, jobs and indicators."""
    return KnownNames(sources=sources.names(), jobs=jobs.names(), indicators=indicators.names())


def load_app_config(path: str | Path | None = None) -> AppConfig:
    """`load_config` with every cross-reference checked."""
    return load_config(path, known_names())


def mistakes_section(ctx: object, as_of: object) -> dict:
    """The report's "Mistakes and their reasons" from the live record (the hook every Context gets
    from the top layer; deferred so that only report days load the replay's scoring)."""
    from sco_monitor.replay.live import mistakes_section as build

    return build(ctx, as_of)  # type: ignore[arg-type]
