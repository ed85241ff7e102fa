"""Load sco-monitor.yaml and the files it names, validate them and check their cross-references."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sco_monitor.catalog import Series, Universe
from sco_monitor.config.crossref import KnownNames, check
from sco_monitor.config.errors import ConfigError, from_validation
from sco_monitor.config.playbooks import Playbooks
from sco_monitor.config.rules import RulePack
from sco_monitor.config.settings import Settings

ENV_CONFIG = "SCO_MONITOR_CONFIG"
ENV_DB_URL = "SCO_MONITOR_DB_URL"
DEFAULT_PATH = Path("config/sco-monitor.yaml")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class AppConfig:
    """Everything a run needs from configuration, validated and cross-checked."""

    settings: Settings
    universe: Universe
    rules: RulePack
    playbooks: Playbooks
    path: Path
    universe_path: Path
    series: dict[str, Series] = field(default_factory=dict)

    @property
    def universe_dir(self) -> Path:
        return self.universe_path.parent

    def receiver(self, name: str):  # noqa: ANN201 - a config.alerting.Receiver
        return next(r for r in self.settings.receivers if r.name == name)


def packaged_defaults() -> Path:
    """The defaults shipped in the wheel, or the checkout's config/ when running from source."""
    shipped = resources.files("sco_monitor") / "defaults" / "config" / "sco-monitor.yaml"
    if shipped.is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parents[3] / "config" / "sco-monitor.yaml"


def resolve_path(explicit: str | Path | None = None) -> Path:
    """--config, then $SCO_MONITOR_CONFIG, then ./config/sco-monitor.yaml, then the packaged defaults."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(p, "", "config file not found")
        return p
    env = os.environ.get(ENV_CONFIG)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(p, "", f"config file named by ${ENV_CONFIG} not found")
        return p
    if DEFAULT_PATH.is_file():
        return DEFAULT_PATH
    return packaged_defaults()


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping: the second would silently win and hide a typo."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {first + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def read_yaml(path: Path, named_by: tuple[Path, str] | None = None) -> Any:
    """Parse one YAML file; `named_by` = (config file, key) that named it, so a missing file names both."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if named_by is not None:
            raise ConfigError(named_by[0], named_by[1], f"file not found: {path}") from None
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, "", f"cannot read file: {e}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        raise ConfigError(path, *_yaml_where(e)) from None
    except yaml.YAMLError as e:
        raise ConfigError(path, "", f"malformed YAML: {e}") from None


def _yaml_where(e: yaml.MarkedYAMLError) -> tuple[str, str]:
    """(line/column, message): a scanner notices an unfinished key or quote on a later line; the
    mistake is where that key or quote began, so point there."""
    mark, problem = e.problem_mark, e.problem
    context = e.context or ""
    if e.context_mark is not None and mark is not None and context.startswith("while scanning"):
        problem = f"{problem} ({context}; noticed on line {mark.line + 1})"
        mark = e.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return where, f"malformed YAML: {problem}"



def parse(model: type[M], path: Path, data: Any, empty: dict[str, Any] | None = None) -> M:
    if data is None:
        data = empty if empty is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(path, "", f"expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise from_validation(path, e) from None


def load_config(explicit: str | Path | None = None, known: KnownNames | None = None) -> AppConfig:
    """Load and cross-check the whole configuration; every problem is a ConfigError.

    `known`: the registered source, job and indicator names to check references against
    (`sco_monitor.app.known_names()`); without it those names are taken on trust."""
    path = resolve_path(explicit)
    settings = parse(Settings, path, read_yaml(path))
    if os.environ.get(ENV_DB_URL):
        settings = settings.model_copy(
            update={"store": settings.store.model_copy(update={"url": os.environ[ENV_DB_URL]})}
        )
    base = path.parent
    universe_path = (base / settings.universe).resolve()
    universe = parse(Universe, universe_path, read_yaml(universe_path, (path, "universe")), empty={"series": []})
    rules_path = (base / settings.rules).resolve()
    rules = parse(RulePack, rules_path, read_yaml(rules_path, (path, "rules")), empty={"rules": []})
    playbooks_path = (base / settings.playbooks).resolve()
    playbooks = parse(Playbooks, playbooks_path, read_yaml(playbooks_path, (path, "playbooks")), empty={"playbooks": []})
    series = check(path, settings, universe_path, universe, rules_path, rules, playbooks_path, playbooks, known)
    return AppConfig(
        settings=settings,
        universe=universe,
        rules=rules,
        playbooks=playbooks,
        path=path,
        universe_path=universe_path,
        series=series,
    )
