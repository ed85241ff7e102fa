"""Every check that needs no network, run when a command loads the configuration.

`config/` validates each file and their cross-references (with the registered names
`sco_monitor.app` passes in), but cannot know what a source or an indicator accepts without
importing the registries above it. This module sits above both and asks them: each source
validates its series' params, each indicator its params; a delivery lease must outlast the
channels' timeouts (else a slow send is sent twice). `init`, `doctor`, the daemon and
every other command then refuse a mistake with one ConfigError line (exit 2) instead of failing at
3 a.m. in the first scheduled run.
"""

from __future__ import annotations

from pydantic import ValidationError

from sco_monitor.config import AppConfig
from sco_monitor.config.errors import ConfigError, from_validation


def check_config(config: AppConfig) -> None:
    """Raise the first ConfigError found; return quietly when everything fits."""
    _source_params(config)
    _indicator_params(config)
    _lease(config)


def _source_params(config: AppConfig) -> None:
    from sco_monitor.sources import registry

    for i, s in enumerate(config.universe.series):
        if not s.enabled:  # a placeholder is checked when it is enabled
            continue
        cls = registry.get(s.source)
        try:
            cls.validate_params(s.params)
        except ValidationError as e:
            raise from_validation(config.universe_path, e, prefix=f"series[{i}].params") from None
        except ValueError as e:
            raise ConfigError(config.universe_path, f"series[{i}].params", str(e)) from None
        if getattr(cls, "needs_symbol", False) and not s.symbol:
            raise ConfigError(config.universe_path, f"series[{i}].symbol",
                              f"source {s.source!r} needs the provider's symbol")


def _indicator_params(config: AppConfig) -> None:
    """Each configured indicator's params against its registered function (names and spread legs
    are checked by config's cross-references, with the names `sco_monitor.app` passes in)."""
    from sco_monitor.assess.indicators import registry, validate_params

    for i, spec in enumerate(config.settings.assessment.indicators):
        if spec.indicator not in registry:
            continue  # the cross-reference check names it
        try:
            validate_params(spec.indicator, spec.params)
        except ValueError as e:
            raise ConfigError(config.path, f"assessment.indicators[{i}].params", str(e)) from None


def _lease(config: AppConfig) -> None:
    lease = config.settings.alerting.delivery.lease.total_seconds()
    for i, r in enumerate(config.settings.receivers):
        channel = r.webhook or r.email
        timeout = getattr(channel, "timeout", None)
        if timeout is not None and timeout >= lease:
            raise ConfigError(config.path, "alerting.delivery.lease",
                              f"{lease:g}s must be longer than receivers[{i}] ({r.name}) timeout {timeout:g}s, "
                              "else a slow send outlives its claim and goes out twice")
