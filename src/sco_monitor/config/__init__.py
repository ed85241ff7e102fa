"""Configuration: pydantic models of the YAML files, their loading and cross-checks."""

from sco_monitor.config.crossref import KnownNames
from sco_monitor.config.errors import ConfigError
from sco_monitor.config.load import AppConfig, load_config

__all__ = ["AppConfig", "ConfigError", "KnownNames", "load_config"]
