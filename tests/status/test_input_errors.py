"""Bugs 5, 6, 8, 9, 10: bad input gets one clear line and the right exit code, never a traceback,
never a silent `ok`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import cli_env
from ..daemon.conftest import wait_for
from .support import csv_series, history, today, write_config


@pytest.fixture
def collected(tmp_path: Path, run_cli) -> Path:
    """A store holding two CSV series up to 2008-10-31."""
    from datetime import date

    end = date(2008, 10, 31)
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv"), csv_series("fx.b", "b.csv")],
                       files={"a.csv": history(end, seed=1, periods=400), "b.csv": history(end, seed=2, periods=400)})
    r = run_cli("--config", str(cfg), "collect")
    assert r.returncode == 0, r.stdout + r.stderr
    return cfg


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("sco-monitor:")]
    return line


# --- bug 5 -----------------------------------------------------------------------------------------------
def test_assess_past_the_history_window_says_what_the_store_holds(collected: Path, run_cli) -> None:
    r = run_cli("--config", str(collected), "assess", "--as-of", "2030-01-01")
    assert r.returncode == 1
    line = _one_line(r)
    assert "the store holds 2007-04-23" in line and "to 2008-10-31" in line, line
    assert "assessment.history_days" in line and "run `sco-monitor collect` first" not in line
    c = run_cli("--config", str(collected), "cycle", "--no-collect", "--as-of", "2030-01-01")
    assert c.returncode == 1
    assert "Traceback" not in c.stderr, c.stderr
    assess = next(x for x in c.stdout.splitlines() if x.startswith("assess:"))
    assert assess.startswith("assess: failed (") and "the store holds" in assess


# --- bug 6 -----------------------------------------------------------------------------------------------
def test_a_bad_listen_address_is_one_line_exit_2(collected: Path, run_cli) -> None:
    r = run_cli("--config", str(collected), "run", "--listen", "foo", timeout=30)
    assert r.returncode == 2 and _one_line(r) == (
        "sco-monitor: --listen (or SCO_MONITOR_HTTP_LISTEN): expected host:port like 127.0.0.1:9464, got 'foo'")
    r = run_cli("--config", str(collected), "run", env={"SCO_MONITOR_HTTP_LISTEN": "bar"}, timeout=30)
    assert r.returncode == 2 and "got 'bar'" in _one_line(r)


def test_export_to_an_unwritable_path_is_one_line_exit_2(collected: Path, run_cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.csv").mkdir()  # a folder where the file should go: unwritable even for root
    r = run_cli("--config", str(collected), "export", "observations", "-s", "fx.a", "-o", str(locked / "x.csv"))
    assert r.returncode == 2
    assert _one_line(r).startswith(f"sco-monitor: --out: cannot write {locked / 'x.csv'}: ")


# --- bug 8 -----------------------------------------------------------------------------------------------
def test_an_inverted_export_range_is_refused(collected: Path, run_cli) -> None:
    r = run_cli("--config", str(collected), "export", "observations", "-s", "fx.a", "--from", "2008-10-01",
                "--to", "2008-09-01")
    assert r.returncode == 2 and r.stdout == ""
    assert _one_line(r) == "sco-monitor: --from 2008-10-01 is after --to 2008-09-01"


def test_collect_since_a_future_date_is_refused(collected: Path, run_cli) -> None:
    r = run_cli("--config", str(collected), "collect", "--since", "2030-01-01")
    assert r.returncode == 2
    assert _one_line(r).startswith("sco-monitor: --since 2030-01-01 is after today (")


def test_a_header_only_or_all_missing_csv_is_empty_not_ok(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.header", "header.csv"), csv_series("fx.na", "na.csv"),
                                  csv_series("fx.ok", "ok.csv")], files={"ok.csv": history(today())})
    (cfg.parent / "header.csv").write_text("date,close\n")
    (cfg.parent / "na.csv").write_text("date,close\n2024-01-02,N/A\n2024-01-03,\n")
    r = run_cli("--config", str(cfg), "collect")
    assert r.returncode == 1
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in r.stdout.splitlines() if "│" in line]
    rows = {c[0]: c for c in cells}
    assert rows["fx.header"][3] == "empty" and rows["fx.na"][3] == "empty", r.stdout
    assert "no observations" in rows["fx.header"][6]
    assert rows["fx.ok"][3] == "ok"


def test_a_schedules_block_replaces_the_defaults_and_status_says_which_are_off(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())},
                       schedules={"collect": {"cron": "0 3 * * *"}})
    r = run_cli("--config", str(cfg), "status")
    assert r.returncode == 1  # no daemon runs
    assert ("note: `schedules:` in sco-monitor.yaml replaces the defaults; not scheduled: "
            "collect_market, collect_macro, assess, deliver, report, heartbeat") in r.stdout, r.stdout
    j = json.loads(run_cli("--config", str(cfg), "status", "--json").stdout)
    assert j["unscheduled_defaults"] == ["collect_market", "collect_macro", "assess", "deliver", "report", "heartbeat"]
    plain = write_config(tmp_path / "plain", [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())})
    assert "not scheduled" not in run_cli("--config", str(plain), "status").stdout


@pytest.mark.slow
def test_a_second_replay_into_the_same_store_refuses(collected: Path, run_cli, tmp_path: Path) -> None:
    first = subprocess.Popen([sys.executable, "-m", "sco_monitor", "--log-format", "json", "--config", str(collected),
                              "replay", "--from", "2008-09-01", "--to", "2008-10-31", "--out", str(tmp_path / "r1")],
                             cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "store.db.replay.lock"
    try:
        wait_for(lambda: lock.is_file() and lock.read_text(), 60, "the first replay's lock")
        second = run_cli("--config", str(collected), "replay", "--from", "2008-09-01", "--to", "2008-09-05",
                         "--out", str(tmp_path / "r2"))
        assert first.poll() is None, "the first replay ended too soon to test"
        assert second.returncode == 1
        assert _one_line(second).startswith("sco-monitor: another replay is running on this store: ")
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert not lock.read_text()  # released


# --- bug 9 -----------------------------------------------------------------------------------------------
def test_doctor_skips_sources_no_enabled_series_uses(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())},
                       sources={"fred": {"api_key_env": "FRED_KEY_NOT_SET", "base_url": "http://127.0.0.1:9"}})
    assert run_cli("--config", str(cfg), "init").returncode == 0
    r = run_cli("--config", str(cfg), "doctor", "--timeout", "1", env={"FRED_KEY_NOT_SET": ""})
    fred = next(x for x in r.stdout.splitlines() if "source fred" in x)
    assert fred.startswith("skip") and "no enabled series uses it" in fred, r.stdout
    assert r.returncode == 0, r.stdout


# --- bug 10 ----------------------------------------------------------------------------------------------
def test_a_missing_universe_file_names_its_full_path_and_key(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())})
    (cfg.parent / "universe.yaml").unlink()
    r = run_cli("--config", str(cfg), "init")
    assert r.returncode == 2
    assert _one_line(r) == f"sco-monitor: sco-monitor.yaml: universe: file not found: {cfg.parent / 'universe.yaml'}"


def test_a_yaml_error_points_at_its_own_line(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())})
    lines = cfg.read_text().splitlines()
    lines.insert(2, 'timezone "Asia/Almaty"')  # line 3: a key without its colon
    cfg.write_text("\n".join(lines) + "\n")
    r = run_cli("--config", str(cfg), "init")
    assert r.returncode == 2
    assert _one_line(r).startswith("sco-monitor: sco-monitor.yaml: line 3, column 1: malformed YAML"), r.stderr


def test_duplicate_yaml_keys_are_refused(tmp_path: Path, run_cli) -> None:
    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())})
    cfg.write_text(cfg.read_text() + "timezone: Europe/Moscow\n")
    r = run_cli("--config", str(cfg), "init")
    assert r.returncode == 2
    line = _one_line(r)
    assert "sco-monitor.yaml: line " in line and "duplicate key 'timezone'" in line, line


def test_a_bad_regex_is_reported_as_the_user_wrote_it(collected: Path, run_cli) -> None:
    r = run_cli("--config", str(collected), "alerts", "silence", "-m", "series=~[unclosed", "--for", "1h",
                "--comment", "test")
    assert r.returncode == 2
    line = _one_line(r)
    assert "[unclosed" in line and "unterminated character set at position 0" in line and "\\Z" not in line, line


def test_a_give_up_after_retries_is_not_called_permanent(tmp_path: Path, run_cli) -> None:
    from sco_monitor.alerting import outbox
    from sco_monitor.store import Store
    from sco_monitor.timeutil import utcnow

    from ..alerting.support import free_port

    cfg = write_config(tmp_path, [csv_series("fx.a", "a.csv")], files={"a.csv": history(today())},
                       receivers=[{"name": "hook", "webhook": {"url": f"http://127.0.0.1:{free_port()}/x",
                                                               "timeout": 1}}],
                       route={"receiver": "hook"}, alerting={"delivery": {"max_attempts": 1}})
    store = Store(yaml.safe_load(cfg.read_text())["store"]["url"])
    store.init()
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "hook", "test", {"text": "x"}, "k-1", utcnow())
    store.dispose()
    r = run_cli("--config", str(cfg), "deliver")
    assert r.returncode == 1
    line = _one_line(r)
    assert "permanently" not in line and "given up" in line, line
