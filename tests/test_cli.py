"""The CLI as a user runs it: init, export, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sco_monitor.store import Store


def test_help_lists_every_command(run_cli) -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("init", "collect", "assess", "report", "alerts", "cycle", "run", "replay", "export", "demo", "doctor"):
        assert cmd in proc.stdout


def test_init_creates_the_store_and_is_idempotent(run_cli, config_dir: Path, tmp_path: Path) -> None:
    for _ in range(2):
        proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "init")
        assert proc.returncode == 0, proc.stderr
        assert "6 series in the catalog" in proc.stdout
    assert (tmp_path / "var" / "test.db").is_file()
    logs = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert all("run_id" in rec for rec in logs)


def test_export_observations_csv_and_json(run_cli, config_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "var" / "test.db"
    store = Store(f"sqlite:///{db}")
    store.init()
    store.upsert_observations(pd.DataFrame({"series_id": "eq.us.spx", "date": pd.bdate_range("2024-01-01", periods=4),
                                            "value": [4700.5, 4704.8, 4688.7, 4697.2]}))
    cfg = str(config_dir / "sco-monitor.yaml")
    proc = run_cli("--config", cfg, "export", "observations", "--series", "eq.us.spx", "--from", "2024-01-02")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "series_id,date,value", "eq.us.spx,2024-01-02,4704.8", "eq.us.spx,2024-01-03,4688.7", "eq.us.spx,2024-01-04,4697.2"]
    out = tmp_path / "spx.json"
    proc = run_cli("--config", cfg, "export", "observations", "-s", "eq.us.spx", "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(out.read_text())
    assert records[0] == {"series_id": "eq.us.spx", "date": "2024-01-01", "value": 4700.5}
    assert len(records) == 4


def test_export_unknown_series_and_bad_date_exit_2(run_cli, config_dir: Path) -> None:
    cfg = str(config_dir / "sco-monitor.yaml")
    proc = run_cli("--config", cfg, "export", "observations", "--series", "eq.nowhere")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "sco-monitor: --series: unknown series 'eq.nowhere'"
    proc = run_cli("--config", cfg, "export", "observations", "--series", "eq.us.spx", "--from", "yesterday-ish")
    assert proc.returncode == 2
    assert "--from: expected a date YYYY-MM-DD, got 'yesterday-ish'" in proc.stderr


def test_unopenable_database_is_one_line_exit_2(run_cli, config_dir: Path) -> None:
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "init",
                   env={"SCO_MONITOR_DB_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        proc.stderr.strip().splitlines()[-1]] and "cannot open store postgresql+psycopg://nobody@127.0.0.1:1/none" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_file_exit_2(run_cli, tmp_path: Path) -> None:
    proc = run_cli("--config", str(tmp_path / "nope.yaml"), "init")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "sco-monitor: nope.yaml: config file not found"


def test_unknown_option_is_a_usage_error(run_cli) -> None:
    proc = run_cli("init", "--frobnicate")
    assert proc.returncode == 2
    assert "No such option" in proc.stderr


def test_a_secret_written_into_the_config_is_refused(config_dir: Path, run_cli) -> None:
    main = config_dir / "sco-monitor.yaml"
    main.write_text(main.read_text().replace("secret_env: TEST_WEBHOOK_SECRET", "secret: hunter2"))
    proc = run_cli("--config", str(main), "init")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "sco-monitor: sco-monitor.yaml: receivers[1].webhook.secret: unknown key"
    assert "hunter2" not in proc.stderr
