"""Schema migrations: `sco-monitor init` creates a store at head, upgrades one made by release 0.1.0
without losing a row, and the models never drift from the revisions."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, insert, inspect, select

from sco_monitor.store import Store, StoreError, schema
from sco_monitor.store.migrate import BASELINE, BASELINE_TABLES, alembic_config, head_revision

from ..conftest import cli_env
from . import release_0_1_0 as v010

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
D0 = date(2024, 1, 2)


def _release_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows in every table of 0.1.0, with the awkward values: NULLs, JSON, bytes, non-ASCII text."""
    obs = [{"series_id": "eq.us.spx", "date": D0 + timedelta(days=i), "value": None if i == 3 else 4700.0 + i,
            "fetched_at": T0} for i in range(40)]
    obs += [{"series_id": "fx.usd_kzt", "date": D0, "value": 455.25, "fetched_at": T0}]
    alert = {"rule": "spx_drawdown", "kind": "drawdown", "category": "equity", "series_id": "eq.us.spx",
             "labels": {"country": "USA", "series": "eq.us.spx"}, "value": -0.12, "threshold": -0.1, "warn": -0.1,
             "critical": -0.2, "clear": -0.05, "direction": "below", "for_count": 2, "pending_count": 2,
             "updated_at": T0, "last_eval_date": D0}
    notification = {"receiver": "log", "group_key": "{category=\"equity\"}", "kind": "alert",
                    "next_attempt_at": T0, "give_up_at": T0 + timedelta(days=1), "created_at": T0}
    return {
        "series": [{"id": "legacy.only", "name": "Индекс (old)", "source": "csv", "symbol": "x.csv", "kind": "equity",
                    "country": "KAZ", "frequency": "B", "unit": "index", "direction": "down",
                    "publication_lag_days": 0, "params": {"path": "x.csv"}, "enabled": False, "updated_at": T0}],
        "observations": obs,
        "quality_flags": [{"series_id": "eq.us.spx", "date": D0, "flag": "spike", "detail": "z=9.1", "value": 1.5,
                           "run_id": "r1", "created_at": T0}],
        "collection_runs": [{"run_id": "r1", "source": "yahoo", "series_id": "eq.us.spx", "started_at": T0,
                             "finished_at": T0 + timedelta(seconds=3), "status": "ok", "rows": 40, "attempts": 1,
                             "received": 40, "window_start": None, "window_end": D0, "last_date": D0},
                            {"run_id": "r1", "source": "fred", "series_id": "rate.us.10y", "started_at": T0,
                             "status": "failed", "rows": 0, "attempts": 3, "error": "HTTP 503", "received": 0}],
        "indicator_values": [{"series_id": "eq.us.spx", "indicator": "ret", "date": D0, "value": 0.01}],
        "forecasts": [{"series_id": "eq.us.spx", "model": "arima", "as_of": D0, "step": 1,
                       "target_date": D0 + timedelta(days=1), "mean": 4701.0, "lower": 4600.0, "upper": 4800.0,
                       "level": 0.9}],
        "model_states": [{"series_id": "eq.us.spx", "model": "volatility", "family": "garch", "spec": {"p": 1},
                          "fitted_at": D0, "last_date": D0, "nobs": 40, "params": {"omega": 0.1},
                          "state": bytes(range(256)), "metrics": {"aic": 12.5}, "updated_at": T0}],
        "rule_evaluations": [{"as_of": D0, "fingerprint": "fp1", "rule": "spx_drawdown", "labels": {"a": "b"},
                              "value": -0.12, "threshold": -0.1, "severity": "warn", "kind": "drawdown",
                              "summary": "S&P 500 down 12%", "details": {}}],
        "stress_index": [{"scope": "WLD", "date": D0, "value": 0.42, "level": "elevated",
                          "segments": {"equity": 0.5}, "details": {"missing": []}}],
        "crisis_probability": [{"country": "KAZ", "date": D0, "horizon": 60, "probability": 0.07, "details": {}}],
        "alerts": [{"fingerprint": "fp1", "state": "firing", "severity": "warn", "summary": "S&P 500 down 12%",
                    "starts_at": T0, "fired_at": T0, **alert},
                   {"fingerprint": "fp2", "state": "resolved", "severity": "critical", "summary": "was down",
                    "starts_at": T0, "fired_at": T0, "ends_at": T0 + timedelta(hours=5), **alert}],
        "notifications": [{"idempotency_key": "k1", "payload": {"alerts": ["fp1"], "text": "Тревога"},
                           "status": "delivered", "attempts": 1, "delivered_at": T0, **notification},
                          {"idempotency_key": "k2", "payload": {"alerts": ["fp2"]}, "status": "pending",
                           "attempts": 2, "last_error": "timeout", "last_attempt_at": T0, **notification},
                          {"idempotency_key": "k3", "payload": {}, "status": "failed", "attempts": 8,
                           "last_error": "HTTP 410", **notification}],
        "notification_groups": [{"receiver": "log", "group_key": "{category=\"equity\"}", "route": "root",
                                 "group_labels": {"category": "equity"}, "first_seen_at": T0,
                                 "last_notified_at": T0, "firing": {"fp1": "warn"}, "resolved": ["fp2"]}],
        "silences": [{"id": "s1", "matchers": [{"name": "country", "value": "KAZ"}], "starts_at": T0,
                      "ends_at": T0 + timedelta(days=2), "created_by": "analyst", "comment": "holiday",
                      "created_at": T0}],
        "replay_days": [{"date": D0, "run_id": "r2", "reported": True, "finished_at": T0}],
        "alert_history": [{"date": D0, "fingerprint": "fp1", "rule": "spx_drawdown", "labels": {}, "state": "firing",
                           "severity": "warn", "value": -0.12, "threshold": -0.1, "summary": ""}],
        "reports": [{"as_of": D0, "format": "html", "path": "reports/2024-01-02.html", "checksum": "ab" * 32,
                     "generated_at": T0}],
        "job_runs": [{"job_id": "collect", "scheduled_at": T0, "started_at": T0, "finished_at": T0, "status": "ok",
                      "kind": "scheduled", "instance": "host:1", "detail": "41 rows"}],
    }


def _make_release_store(url: str) -> Engine:
    """A store exactly as release 0.1.0's `sco-monitor init` made it, holding rows in every table."""
    engine = create_engine(url)
    v010.metadata.create_all(engine)
    with engine.begin() as conn:
        for name, rows in _release_rows().items():
            for row in rows:  # one by one: the rows leave different columns to their defaults
                conn.execute(insert(v010.metadata.tables[name]), row)
    return engine


def _dump(engine: Engine, metadata: MetaData) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for name, t in metadata.tables.items() if name in BASELINE_TABLES}


def _drift(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)


def test_release_store_is_upgraded_by_init_without_losing_a_row(store_url: str, run_cli, config_dir: Path) -> None:
    engine = _make_release_store(store_url)
    before = _dump(engine, v010.metadata)
    assert "alembic_version" not in inspect(engine).get_table_names()
    assert sum(map(len, before.values())) >= 60

    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "init", env={"SCO_MONITOR_DB_URL": store_url})
    assert proc.returncode == 0, proc.stderr
    assert f"(schema revision {head_revision()}): 6 series in the catalog" in proc.stdout
    assert '"outcome": "stamped"' in proc.stderr

    after = _dump(engine, schema.metadata)
    for name, rows in before.items():
        if name == "series":  # init syncs the catalog: the 6 configured series are added beside the old row
            assert rows[0] in after[name] and len(after[name]) == len(rows) + 6
        else:
            assert after[name] == rows, f"{name} changed"
    store = Store(store_url)
    assert store.schema_revision() == head_revision()
    assert _drift(store.engine) == []
    assert store.load_long(["eq.us.spx"]).shape[0] == 40  # read back through the current code
    store.dispose()
    engine.dispose()


def test_init_creates_a_new_store_at_head_and_models_match_the_revisions(store_url: str) -> None:
    store = Store(store_url)
    assert store.init() == "created"
    assert store.schema_revision() == head_revision()
    assert set(inspect(store.engine).get_table_names()) == set(schema.metadata.tables) | {"alembic_version"}
    # A column or table added to schema.py without a revision shows up here and fails CI.
    assert _drift(store.engine) == []
    assert store.init() == "current"
    store.dispose()


def test_baseline_revision_is_the_schema_of_release_0_1_0(store_url: str) -> None:
    """Stamping a 0.1.0 store at the baseline is honest only if the baseline built the same tables."""
    store = Store(store_url)
    with store.engine.begin() as conn:  # the baseline alone, not the later revisions
        command.upgrade(alembic_config(conn), BASELINE)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), v010.metadata)
    assert [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")] == []
    store.dispose()


def test_stores_opened_at_once_are_created_once(store_url: str) -> None:
    stores = [Store(store_url) for _ in range(3)]
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def open_it(s: Store) -> None:
        try:
            outcomes.append(s.init())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(outcomes) == ["created", "current", "current"]
    for s in stores:
        s.dispose()


def test_store_with_only_some_release_tables_is_refused_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    v010.metadata.tables["observations"].create(engine)
    with pytest.raises(StoreError, match=r"cannot upgrade store .*old\.db: the store has sco-monitor tables but not "
                                         r"all of release 0\.1\.0 \(missing: alert_history, alerts, "):
        Store(url).init()
    assert "alembic_version" not in inspect(engine).get_table_names()


def test_doctor_says_a_release_store_needs_init(tmp_path: Path, run_cli, config_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _make_release_store(url).dispose()
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "doctor", env={"SCO_MONITOR_DB_URL": url})
    store_line = next(line for line in proc.stdout.splitlines() if line.split()[1:2] == ["store"])
    assert store_line.startswith("FAIL"), proc.stdout
    assert f"schema revision none (release 0.1.0), this version expects {head_revision()}" in store_line


def test_contributor_command_line_upgrades_and_checks_for_drift(tmp_path: Path) -> None:
    """`python -m sco_monitor.store.migrate` is the alembic CLI on the shipped revisions (docs/contributing.md)."""
    url = f"sqlite:///{tmp_path / 'dev.db'}"

    def migrate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sco_monitor.store.migrate", "-x", f"url={url}", *args],
                              capture_output=True, text=True, timeout=120, env=cli_env(), check=False)

    assert migrate("upgrade", "head").returncode == 0
    current = migrate("current")
    assert current.returncode == 0 and f"{head_revision()} (head)" in current.stdout
    check = migrate("check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout
    assert BASELINE in migrate("history").stdout
