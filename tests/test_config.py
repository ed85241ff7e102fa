"""Loading the configuration: good files load, every bad file fails with one precise line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sco_monitor.app import (
    load_app_config as load_config,  # every name checked, as the CLI loads it
)
from sco_monitor.config import ConfigError
from sco_monitor.config.load import packaged_defaults

from .conftest import ROOT, TEST_DATA

BAD = sorted((TEST_DATA / "configs" / "bad").glob("*.yaml"))
TARGET = {"main": "sco-monitor.yaml", "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml"}


def test_good_config_loads_with_cross_references(config_dir: Path) -> None:
    cfg = load_config(config_dir / "sco-monitor.yaml")
    assert set(cfg.series) >= {"eq.us.spx", "fx.usd_kzt", "macro.kz.cpi_yoy"}
    assert cfg.series["macro.kz.cpi_yoy"].publication_lag_days == 200
    assert [r.name for r in cfg.rules.rules] == ["fx_depreciation_20d", "spx_drawdown"]
    assert cfg.rules.rules[0].for_ == 2
    assert cfg.settings.route.routes[0].continue_ is True
    assert cfg.settings.alerting.repeat_interval.total_seconds() == 86400
    assert cfg.universe_dir == config_dir.resolve()


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_file_path_and_expectation(config_dir: Path, bad: Path) -> None:
    expect = bad.read_text().splitlines()[0].removeprefix("# expect: ")
    target = TARGET[bad.stem.split("--")[0]]
    shutil.copy(bad, config_dir / target)
    with pytest.raises(ConfigError) as info:
        load_config(config_dir / "sco-monitor.yaml")
    assert str(info.value).startswith(expect), str(info.value)


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_config_is_one_line_and_exit_2_on_the_cli(config_dir: Path, bad: Path, run_cli) -> None:
    expect = bad.read_text().splitlines()[0].removeprefix("# expect: ")
    shutil.copy(bad, config_dir / TARGET[bad.stem.split("--")[0]])
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "init")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"sco-monitor: {expect}")
    assert "Traceback" not in proc.stderr


def test_env_overrides_db_url(config_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCO_MONITOR_DB_URL", f"sqlite:///{tmp_path}/other.db")
    cfg = load_config(config_dir / "sco-monitor.yaml")
    assert cfg.settings.store.url == f"sqlite:///{tmp_path}/other.db"


def test_env_names_the_config_file(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCO_MONITOR_CONFIG", str(config_dir / "sco-monitor.yaml"))
    assert load_config().path == config_dir / "sco-monitor.yaml"
    monkeypatch.setenv("SCO_MONITOR_CONFIG", str(config_dir / "missing.yaml"))
    with pytest.raises(ConfigError, match="missing.yaml: config file named by \\$SCO_MONITOR_CONFIG not found"):
        load_config()


def test_defaults_load_outside_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCO_MONITOR_CONFIG", raising=False)
    cfg = load_config()
    assert cfg.path == packaged_defaults()
    assert len(cfg.universe.series) >= 60


def test_shipped_universe_covers_every_member_currency() -> None:
    cfg = load_config(ROOT / "config" / "sco-monitor.yaml")
    fx_countries = {s.country for s in cfg.universe.series if s.kind == "fx"}
    assert {"KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"} <= fx_countries
    kinds = {s.kind for s in cfg.universe.series}
    assert kinds == {"equity", "fx", "commodity", "rate", "spread", "bond", "volatility", "macro"}
    for s in cfg.universe.series:
        if not s.enabled:
            assert s.note, f"{s.id} is disabled without a note saying why"
