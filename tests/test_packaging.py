"""A wheel installed outside the checkout carries its default configuration and its schema migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_defaults_and_loads_them_outside_the_checkout(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "dist").glob("sco_monitor-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("sco_monitor/defaults/config/sco-monitor.yaml", "sco_monitor/defaults/config/universe.yaml",
                    "sco_monitor/defaults/alerts/rules.yaml", "sco_monitor/defaults/alerts/playbooks.yaml",
                    "sco_monitor/migrations/env.py", "sco_monitor/migrations/script.py.mako",
                    "sco_monitor/migrations/versions/0001_baseline.py"):
        assert shipped in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("from sco_monitor.config import load_config; c = load_config(); "
            "print(c.path); print(len(c.universe.series), len(c.rules.rules)); "
            "from sco_monitor.store import Store; s = Store('sqlite:///store.db'); print(s.init(), s.schema_revision())")
    out = subprocess.run([sys.executable, "-c", code], cwd=work, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if "store_migrated" not in line]  # structlog's default: stdout
    path, counts, migrated = lines
    assert path.startswith(str(site)) and path.endswith("sco_monitor/defaults/config/sco-monitor.yaml")
    assert int(counts.split()[0]) >= 60
    assert migrated == "created 0001"  # the installed wheel carries its migrations
