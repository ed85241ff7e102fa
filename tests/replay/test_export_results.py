"""`sco-monitor export stress|probability|alerts`: the stored history as a user gets it."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sco_monitor.config import load_config
from sco_monitor.errors import UsageError
from sco_monitor.results import (
    export_alerts,
    export_probability,
    export_stress,
    read_alert_history,
    record_alert_history,
)
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.store.upsert import upsert

from .conftest import save_results


def _alert(fp: str, rule: str, labels: dict, state: str, severity: str, value: float) -> dict:
    at = datetime(2008, 9, 15, 2, tzinfo=UTC)
    return {"fingerprint": fp, "rule": rule, "labels": labels, "state": state, "severity": severity, "value": value,
            "threshold": 0.05, "summary": f"{rule} {value}", "pending_count": 0, "starts_at": at, "ends_at": None,
            "updated_at": at, "last_eval_date": date(2008, 9, 15)}


def test_alert_history_snapshots_pending_and_firing_alerts(store: Store) -> None:
    with store.engine.begin() as conn:
        upsert(conn, t.alerts, [
            _alert("a", "fx_depreciation_20d", {"country": "RUS", "series": "fx.usd_rub"}, "firing", "critical", 0.11),
            _alert("b", "spx_drawdown", {"country": "USA", "series": "eq.us.spx"}, "pending", "warn", -0.12),
            _alert("c", "spx_drawdown", {"country": "USA", "series": "eq.us.nasdaq"}, "resolved", "warn", -0.02),
        ])
    assert record_alert_history(store, date(2008, 9, 15)) == 2
    assert record_alert_history(store, date(2008, 9, 15)) == 2  # idempotent for a day
    with store.engine.begin() as conn:
        conn.execute(t.alerts.update().where(t.alerts.c.fingerprint == "b").values(state="resolved"))
    record_alert_history(store, date(2008, 9, 16))
    h = read_alert_history(store)
    assert list(zip(h["date"].dt.date, h["fingerprint"])) == [
        (date(2008, 9, 15), "a"), (date(2008, 9, 15), "b"), (date(2008, 9, 16), "a")]
    assert list(h["country"]) == ["RUS", "USA", "RUS"] and h["series"].iloc[1] == "eq.us.spx"
    copied = ["fingerprint", "rule", "labels", "state", "severity", "value", "threshold", "summary"]
    with store.engine.connect() as conn:  # every column copied as the alert held it (labels as a mapping)
        stored = [dict(r) for r in conn.execute(select(*(t.alert_history.c[c] for c in copied))
                                                .where(t.alert_history.c.date == date(2008, 9, 15))
                                                .order_by(t.alert_history.c.fingerprint)).mappings()]
    assert stored == [{k: _alert(*args)[k] for k in copied} for args in (
        ("a", "fx_depreciation_20d", {"country": "RUS", "series": "fx.usd_rub"}, "firing", "critical", 0.11),
        ("b", "spx_drawdown", {"country": "USA", "series": "eq.us.spx"}, "pending", "warn", -0.12))]


@pytest.fixture
def filled(config_dir: Path, tmp_path: Path, real_prices) -> str:
    """The CLI's store (var/test.db under the working folder) with a replay's results in it."""
    config = load_config(config_dir / "sco-monitor.yaml")
    store = Store(f"sqlite:///{tmp_path / 'var' / 'test.db'}")
    store.init()
    store.sync_series(config.universe.series)
    save_results(store, real_prices, "2008-09-01", "2008-10-31")
    with store.engine.begin() as conn:
        upsert(conn, t.alerts, [
            _alert("a", "fx_depreciation_20d", {"country": "RUS", "series": "fx.usd_rub", "category": "fx"},
                   "firing", "critical", 0.11)])
    for d in (date(2008, 10, 1), date(2008, 10, 2)):
        record_alert_history(store, d)
    store.dispose()
    return str(config_dir / "sco-monitor.yaml")


def test_export_stress_csv_and_json(run_cli, filled: str, tmp_path: Path) -> None:
    proc = run_cli("--config", filled, "export", "stress", "--scope", "USA", "--from", "2008-10-01", "--to", "2008-10-03")
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(io.StringIO(proc.stdout))
    assert list(frame.columns) == ["scope", "date", "value", "level", "segment_fx"]
    assert list(frame["date"]) == ["2008-10-01", "2008-10-02", "2008-10-03"] and set(frame["scope"]) == {"USA"}
    assert (frame["value"] > 0.2).all()  # the S&P 500 was more than 20% below its high
    out = tmp_path / "stress.json"
    proc = run_cli("--config", filled, "export", "stress", "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(out.read_text())
    assert {r["scope"] for r in records} == {"USA", "RUS"} and len(records) == 2 * len(pd.bdate_range("2008-09-01", "2008-10-31"))
    assert records[0]["segment_fx"] == 0.5


@pytest.fixture
def filled_ctx(filled: str, tmp_path: Path):  # a Context over the CLI's store
    from sco_monitor.context import Context

    store = Store(f"sqlite:///{tmp_path / 'var' / 'test.db'}")
    yield Context.from_parts(load_config(filled), store=store)
    store.dispose()


def test_export_probability_keeps_details(run_cli, filled: str, filled_ctx, capsys) -> None:
    proc = run_cli("--config", filled, "export", "probability", "--country", "rus", "--from", "2008-10-01",
                   "--to", "2008-10-01", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (rec,) = json.loads(proc.stdout)
    assert rec["country"] == "RUS" and rec["horizon"] == 60 and 0 <= rec["probability"] <= 1
    assert set(rec["details"]["drivers"]) == {"fx.usd_rub"}
    export_probability(filled_ctx, ["RUS"], None, None, 20, "csv", None)
    assert capsys.readouterr().out.strip() == "country,date,horizon,probability,details"
    export_probability(filled_ctx, [], "2008-10-01", "2008-10-01", None, "csv", None)
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame["country"]) == ["RUS", "USA"] and json.loads(frame["details"][0])["drivers"]


def test_export_alerts_history(run_cli, filled: str, filled_ctx, capsys) -> None:
    proc = run_cli("--config", filled, "export", "alerts", "--country", "RUS")
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(io.StringIO(proc.stdout))
    assert list(frame["date"]) == ["2008-10-01", "2008-10-02"]
    assert list(frame.columns[:7]) == ["date", "fingerprint", "rule", "country", "series", "state", "severity"]
    assert set(frame["severity"]) == {"critical"} and json.loads(frame["labels"][0])["category"] == "fx"
    export_alerts(filled_ctx, None, None, ["USA"], [], "csv", None)
    assert len(capsys.readouterr().out.strip().splitlines()) == 1  # the header only
    export_alerts(filled_ctx, "2008-10-02", None, [], ["fx_depreciation_20d"], "json", None)
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["labels"]["series"] == "fx.usd_rub" and rec["state"] == "firing"


def test_export_errors_are_one_line_exit_2(run_cli, filled: str, filled_ctx) -> None:
    proc = run_cli("--config", filled, "export", "stress", "--scope", "KAZ")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "sco-monitor: --scope: no stress index stored for 'KAZ'; stored: RUS, USA"
    with pytest.raises(UsageError, match="--from 2008-10-05 is after --to 2008-10-01"):
        export_probability(filled_ctx, [], "2008-10-05", "2008-10-01", None, "csv", None)
    with pytest.raises(UsageError, match="--rule: unknown rule 'nope'"):
        export_alerts(filled_ctx, None, None, [], ["nope"], "csv", None)


def test_export_on_an_empty_store_says_what_to_run(ctx) -> None:
    with pytest.raises(UsageError, match=r"stored: none yet \(run `sco-monitor assess`, `cycle` or `replay`\)"):
        export_stress(ctx, ["USA"], None, None, "csv", None)
