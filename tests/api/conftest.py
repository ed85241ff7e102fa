"""The API in-process over a real store (SQLite, or PostgreSQL where marked): tokens of every scope,
and a store seeded with what an assessment, the alert engine and the report writer save."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sco_monitor.api import create_app
from sco_monitor.api.scopes import SCOPES
from sco_monitor.api.tokens import create, revoke
from sco_monitor.context import Context
from sco_monitor.store import schema as t

from ..conftest import GOOD_CONFIG
from ..daemon.conftest import start_daemon  # noqa: F401 - the daemon-as-a-subprocess fixture, shared

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime(2008, 10, 10, 12, 0, tzinfo=UTC)
DAYS = [date(2008, 10, 9), date(2008, 10, 10)]


@dataclass
class Api:
    ctx: Context
    client: TestClient
    tokens: dict[str, str]  # scope (or "revoked") → token

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}


def make_api(tmp_path: Path, store_url: str, clock=lambda: NOW, **settings: object) -> Api:
    """The good test config on this store (with these top-level settings), tokens of every scope."""
    cfg = tmp_path / "config"
    shutil.copytree(GOOD_CONFIG, cfg, dirs_exist_ok=True)
    main = cfg / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["store"] = {"url": store_url}
    data["report"]["out_dir"] = str(tmp_path / "reports")
    data.update(settings)
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    ctx = Context(config_path=main)
    engine = ctx.store.engine
    tokens = {scope: create(engine, f"{scope}-token", scope, NOW, actor="test") for scope in SCOPES}
    tokens["revoked"] = create(engine, "old-token", "admin", NOW, actor="test")
    revoke(engine, "old-token", NOW, actor="test")
    client = TestClient(create_app(ctx, clock=clock), raise_server_exceptions=False)
    return Api(ctx, client, tokens)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    a = make_api(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    yield a
    a.ctx.store.dispose()


def seed(ctx: Context, tmp_path: Path) -> None:
    """Two assessed days, an alert, a report on disk and in `reports`, observations."""
    store = ctx.store
    store.upsert_observations(pd.DataFrame({
        "series_id": ["eq.us.spx", "eq.us.spx", "fx.usd_kzt"],
        "date": pd.to_datetime(["2008-10-09", "2008-10-10", "2008-09-01"]), "value": [909.9, 899.2, 120.5]}))
    report_dir = tmp_path / "reports" / "2008-10-10"
    report_dir.mkdir(parents=True)
    (report_dir / "report.html").write_text("<html><body>report of 2008-10-10</body></html>")
    (report_dir / "report.json").write_text('{"as_of": "2008-10-10", "overall": {"level": "severe"}}')
    with store.engine.begin() as conn:
        for i, d in enumerate(DAYS):
            conn.execute(t.stress_index.insert().values(
                scope="WLD", date=d, value=0.6 + 0.1 * i, level=["high", "severe"][i],
                segments={"equity": 0.3, "fx": 0.1}, details={}))
            conn.execute(t.stress_index.insert().values(
                scope="KAZ", date=d, value=0.4, level="elevated", segments={"fx": 0.4}, details={}))
            conn.execute(t.crisis_probability.insert().values(country="KAZ", date=d, horizon=20,
                                                              probability=0.2 + 0.1 * i, details={"n": 3}))
            conn.execute(t.rule_evaluations.insert().values(
                as_of=d, fingerprint="fp-kzt", rule="fx_jump", labels={"country": "KAZ", "series": "fx.usd_kzt"},
                value=0.12, threshold=0.10, severity="critical", kind="change", summary="USD/KZT up 12%", details={}))
            conn.execute(t.indicator_values.insert().values(series_id="fx.usd_kzt", indicator="change_20", date=d,
                                                            value=0.12))
        conn.execute(t.alerts.insert().values(
            fingerprint="fp-kzt", rule="fx_jump", kind="change", category="fx", series_id="fx.usd_kzt",
            labels={"country": "KAZ", "series": "fx.usd_kzt", "category": "fx"}, state="firing", severity="critical",
            value=0.12, threshold=0.10, summary="USD/KZT up 12%", updated_at=NOW, fired_at=NOW, starts_at=NOW))
        conn.execute(t.alert_history.insert().values(
            date=DAYS[1], fingerprint="fp-kzt", rule="fx_jump", labels={"country": "KAZ"}, state="firing",
            severity="critical", value=0.12, threshold=0.10, summary="USD/KZT up 12%"))
        for fmt in ("html", "json"):
            conn.execute(t.reports.insert().values(as_of=DAYS[1], format=fmt, path=str(report_dir / f"report.{fmt}"),
                                                   checksum="0" * 64, generated_at=NOW))


@pytest.fixture
def seeded(api: Api, tmp_path: Path) -> Api:
    seed(api.ctx, tmp_path)
    return api
