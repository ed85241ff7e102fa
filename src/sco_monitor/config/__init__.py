"""Configuration: pydantic models of the YAML files, their loading and cross-checks."""

from sco_monitor.config.errors import ConfigError
from sco_monitor.config.load import AppConfig, load_config

__all__ = ["AppConfig", "ConfigError", "load_config"]
