"""Bug 4: every check that needs no network runs when the config loads, so `init`, `doctor` and the
daemon's start refuse a mistake with one line and exit 2 instead of failing in the first run."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..alerting.support import free_port
from .support import csv_series, history, today, write_config


def _config(root: Path, mistake: str) -> Path:
    series = [csv_series("fx.a", "a.csv"), csv_series("fx.b", "b.csv")]
    rules: list[dict[str, Any]] = [{"name": "fx_level", "kind": "level", "category": "fx",
                                    "select": {"series": ["fx.a"]}, "warn": 500.0}]
    settings: dict[str, Any] = {"schedules": {"collect": {"cron": "0 3 * * *"}}}
    if mistake == "csv_param":
        series[0]["params"]["date_colum"] = "date"
    elif mistake == "level_indicator":
        rules[0]["params"] = {"indicator": "ewma_volatility"}
    elif mistake == "spread_leg":
        settings["assessment"] = {"spreads": [{"name": "a_b", "a": "fx.a", "b": "fx.nope"}]}
    elif mistake == "indicator_param":
        settings["assessment"] = {"indicators": [{"name": "ewma", "indicator": "ewma_vol", "params": {"lamda": 0.9}}]}
    elif mistake == "lease":
        settings["receivers"] = [{"name": "hook", "webhook": {"url": "http://127.0.0.1:9/hook", "timeout": 10}}]
        settings["alerting"] = {"delivery": {"lease": "5s"}}
    files = {"a.csv": history(today(), seed=1), "b.csv": history(today(), seed=2)}
    return write_config(root, series, files=files, rules=rules, **settings)


EXPECTED = {
    "csv_param": "universe.yaml: series[0].params.date_colum: unknown key",
    "level_indicator": "rules.yaml: rules[0].params.indicator: unknown indicator 'ewma_volatility'",
    "spread_leg": "sco-monitor.yaml: assessment.spreads[0].b: unknown series 'fx.nope'",
    "indicator_param": ("sco-monitor.yaml: assessment.indicators[0].params: indicator 'ewma_vol': "
                        "got an unexpected keyword argument 'lamda'"),
    "lease": "sco-monitor.yaml: alerting.delivery.lease: 5s must be longer than receivers[0] (hook) timeout 10s",
}


@pytest.mark.parametrize("mistake", list(EXPECTED))
def test_init_doctor_and_the_daemon_refuse_a_config_mistake_with_one_line(tmp_path: Path, run_cli,
                                                                          mistake: str) -> None:
    cfg = _config(tmp_path, mistake)
    init = run_cli("--config", str(cfg), "init")
    assert init.returncode == 2, init.stdout + init.stderr
    (line,) = init.stderr.strip().splitlines()
    assert line.startswith(f"sco-monitor: {EXPECTED[mistake]}"), line
    doctor = run_cli("--config", str(cfg), "doctor", "--timeout", "1")
    assert doctor.returncode == 2, doctor.stdout
    assert doctor.stdout.splitlines()[0].startswith(f"FAIL  config  {EXPECTED[mistake]}"), doctor.stdout
    try:
        daemon = run_cli("--config", str(cfg), "run", "--listen", f"127.0.0.1:{free_port()}", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the daemon started on a config with a mistake")
    assert daemon.returncode == 2
    assert daemon.stderr.strip().splitlines()[-1].startswith(f"sco-monitor: {EXPECTED[mistake]}")
    assert "Traceback" not in daemon.stderr


def test_the_same_config_without_mistakes_passes(tmp_path: Path, run_cli) -> None:
    cfg = _config(tmp_path, "none")
    assert run_cli("--config", str(cfg), "init").returncode == 0
    data = yaml.safe_load(cfg.read_text())
    data["assessment"] = {"indicators": [{"name": "ewma", "indicator": "ewma_vol", "params": {"lam": 0.9}}],
                          "spreads": [{"name": "a_b", "a": "fx.a", "b": "fx.b"}]}
    cfg.write_text(yaml.safe_dump(data))
    rules = yaml.safe_load((cfg.parent / "rules.yaml").read_text())
    rules["rules"][0]["params"] = {"indicator": "ewma"}
    (cfg.parent / "rules.yaml").write_text(yaml.safe_dump(rules))
    assert run_cli("--config", str(cfg), "collect").returncode == 0
    r = run_cli("--config", str(cfg), "assess")
    assert r.returncode == 0, r.stderr
