"""`sco-monitor collect` as a user runs it: summary table, exit codes, a second run with nothing new."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sco_monitor.store import Store, collection

from .providers import write_config


def cells_of(line: str) -> list[str]:
    """The cells of one summary-table line (rich draws them between │ or ┃ bars)."""
    return [c.strip() for c in re.split("[│┃]", line)[1:-1]]


def rows_of(table: str) -> dict[str, list[str]]:
    """Summary-table rows keyed by series id."""
    out = {}
    for line in table.splitlines():
        cells = cells_of(line)
        if cells and "." in cells[0] and cells[0] != "series":
            out[cells[0]] = cells
    return out


@pytest.fixture
def config(replay, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    return write_config(tmp_path / "config", replay.server.url_for("").rstrip("/"),
                        f"sqlite:///{tmp_path / 'var' / 'store.db'}", str(tmp_path_factory.mktemp("yf")))


@pytest.mark.slow
def test_collect_twice_summary_table_and_exit_codes(run_cli, config: Path, tmp_path: Path) -> None:
    proc = run_cli("--config", str(config), "collect")
    assert proc.returncode == 0, proc.stderr
    table = rows_of(proc.stdout)
    header = cells_of(next(line for line in proc.stdout.splitlines() if "new rows" in line))
    assert header == ["series", "source", "new rows", "status", "last date", "flags", "error"]
    assert table["eq.us.spx"][2:4] == ["5031", "ok"]
    assert table["eq.kz.kase"][3] == "skipped"
    assert "9 series (8 ok, 1 skipped)" in proc.stdout
    logs = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    collected = [r for r in logs if r.get("event") == "series_collected"]
    assert {r["series"] for r in collected} >= {"eq.us.spx", "fx.usd_cny_ecb"}  # log lines, not a bar

    again = run_cli("--config", str(config), "collect")
    assert again.returncode == 0, again.stderr
    assert all(cells[2] == "0" for sid, cells in rows_of(again.stdout).items())
    assert ", 0 new rows in" in again.stdout


def test_collect_exit_1_when_a_series_fails_and_the_rest_is_stored(run_cli, config: Path, replay, tmp_path: Path) -> None:  # noqa: ANN001
    replay.fail("DCOILWTICO", "always-500")
    proc = run_cli("--config", str(config), "collect", "--source", "fred", "--source", "ecb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    table = rows_of(proc.stdout)
    assert table["cmd.wti_fred"][3] == "failed" and "HTTP 500" in " ".join(table["cmd.wti_fred"][6:])
    assert table["spread.us.baa"][3] == "ok"
    assert proc.stderr.strip().splitlines()[-1] == "sco-monitor: 1 of 4 series failed: cmd.wti_fred"
    store = Store(f"sqlite:///{tmp_path / 'var' / 'store.db'}")
    assert set(store.last_dates()) == {"spread.us.baa", "fx.usd_cny_ecb", "fx.usd_rub_ecb"}
    assert collection.last_runs(store)["cmd.wti_fred"]["attempts"] == 3


def test_collect_one_series_since_a_date(run_cli, config: Path) -> None:
    proc = run_cli("--config", str(config), "collect", "--series", "spread.us.baa", "--since", "2018-01-01")
    assert proc.returncode == 0, proc.stderr
    assert rows_of(proc.stdout)["spread.us.baa"][2:4] == ["12", "ok"]
    assert list(rows_of(proc.stdout)) == ["spread.us.baa"]


def test_collect_usage_errors_exit_2(run_cli, config: Path) -> None:
    proc = run_cli("--config", str(config), "collect", "--series", "eq.nowhere")
    assert proc.returncode == 2 and "--series: unknown series 'eq.nowhere'" in proc.stderr
    proc = run_cli("--config", str(config), "collect", "--since", "2020-01-01", "--full")
    assert proc.returncode == 2 and "exclude each other" in proc.stderr
