"""The report run against a real store (SQLite and PostgreSQL): files, index, `reports` rows,
the digest in the outbox, and plain words when the store is empty or stale."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from sco_monitor.assess.model import Assessment
from sco_monitor.config.alerting import Receiver
from sco_monitor.context import Context
from sco_monitor.cycle import step_report
from sco_monitor.reports.daily import ReportRun, write_report
from sco_monitor.store import schema

from . import fixtures as fx
from .conftest import with_report_settings


def rows(ctx: Context, table) -> list[dict]:  # noqa: ANN001 - a Table
    with ctx.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def test_cycle_step_writes_files_index_and_checksummed_rows(report_ctx: Context, out_dir: Path) -> None:
    ctx = Context.from_parts(with_report_settings(report_ctx.config, out_dir=str(out_dir)), report_ctx.store)
    run = step_report(ctx, fx.assessment(), fx.NOW)
    assert isinstance(run, ReportRun)
    day = out_dir / "2008-10-10"
    assert sorted(p.name for p in day.iterdir()) == ["charts", "report.html", "report.json", "report.md"]
    assert sorted(p.name for p in (day / "charts").iterdir()) == [
        "fan-cmd.wti.svg", "fan-eq.us.spx.svg", "segments.svg", "stress-1y.svg", "stress-long.svg"]
    md = (day / "report.md").read_text(encoding="utf-8")
    assert "](charts/fan-cmd.wti.svg)" in md
    recorded = {r["format"]: r for r in rows(ctx, schema.reports)}
    assert set(recorded) == {"html", "md", "json"}
    for fmt, r in recorded.items():
        assert r["as_of"] == date(2008, 10, 10)
        assert r["checksum"] == hashlib.sha256((day / f"report.{fmt}").read_bytes()).hexdigest()
        assert Path(r["path"]) == (day / f"report.{fmt}").resolve()
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="2008-10-10/report.html"' in index and "severe" in index
    # the store was read point-in-time and the alerts table reached the report
    doc = json.loads((day / "report.json").read_text(encoding="utf-8"))
    assert doc["alerts"]["recorded"] is True
    assert [a["labels"]["series"] for a in doc["alerts"]["resolved"]] == ["fx.usd_cny"]
    assert any(a["silenced"] for a in doc["alerts"]["firing"])
    assert doc["overall"]["previous"]["source"] == "stress_history"
    assert doc["stress_index"]["long_history"][0][0] < "2000-01-01"


def test_rerun_replaces_and_the_next_day_compares_with_the_previous_report(report_ctx: Context, out_dir: Path) -> None:
    first = write_report(report_ctx, fx.assessment(), fx.NOW, out_dir=out_dir, formats=["json", "md"])
    again = write_report(report_ctx, fx.assessment(), fx.NOW + timedelta(minutes=5), out_dir=out_dir, formats="json,md")
    assert set(first.files) == {"json", "md"}
    recorded = rows(report_ctx, schema.reports)
    assert len(recorded) == 2  # one row per (as_of, format), replaced by the rerun
    assert {r["checksum"] for r in recorded} == set(again.checksums.values())
    nxt = fx.assessment().model_copy(update={"as_of": date(2008, 10, 13)})
    run = write_report(report_ctx, nxt, fx.NOW + timedelta(days=3), out_dir=out_dir, formats=["json"])
    doc = json.loads(run.files["json"].read_text(encoding="utf-8"))
    assert doc["overall"]["previous"] == {"as_of": "2008-10-10", "source": "report", "level": "severe",
                                           "value": doc["overall"]["previous"]["value"]}
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    assert index.index("2008-10-13") < index.index("2008-10-10")


def test_digest_goes_to_the_outbox_once_per_receiver(report_ctx: Context, out_dir: Path) -> None:
    cfg = report_ctx.config
    receivers = [Receiver.model_validate({"name": "desk", "email": {"host": "127.0.0.1", "from": "monitor@sco.example",
                                                                    "to": ["desk@sco.example"]}}),
                 Receiver.model_validate({"name": "hook", "webhook": {"url": "http://127.0.0.1:9/hook"}})]
    settings = cfg.settings.model_copy(update={"receivers": receivers})
    import dataclasses

    cfg = with_report_settings(dataclasses.replace(cfg, settings=settings), digest_receivers=["desk", "hook"])
    ctx = Context.from_parts(cfg, report_ctx.store)
    run = write_report(ctx, fx.assessment(), fx.NOW, out_dir=out_dir, formats=["json"])
    assert run.digests_queued == 2
    again = write_report(ctx, fx.assessment(), fx.NOW + timedelta(hours=1), out_dir=out_dir, formats=["json"])
    assert again.digests_queued == 0
    notes = sorted(rows(ctx, schema.notifications), key=lambda r: r["receiver"])
    assert [n["idempotency_key"] for n in notes] == ["digest:2008-10-10:desk", "digest:2008-10-10:hook"]
    for n in notes:
        assert n["kind"] == "digest" and n["status"] == "pending" and n["attempts"] == 0
        assert n["next_attempt_at"] == fx.NOW
        assert n["give_up_at"] == fx.NOW + timedelta(hours=24)
        p = n["payload"]
        assert set(p) == {"subject", "text", "html"}
        assert p["subject"].startswith("SCO risk report 2008-10-10: SEVERE")
        assert "## 6. Recommendations" in p["text"] and "![" not in p["text"]
        assert p["html"].startswith("<!DOCTYPE html>") and "<svg" not in p["html"].split("<main>")[1].replace(
            '<svg class="spark"', "")
        assert "Oil-price fall: WTI crude oil −23.5%" in p["html"]


def test_failed_collections_and_notifications_are_listed(report_ctx: Context, out_dir: Path) -> None:
    t0 = fx.NOW - timedelta(hours=3)
    with report_ctx.store.engine.begin() as conn:
        def run_row(run_id: str, source: str, sid: str, started: datetime, status: str, error: str | None = None) -> dict:
            return {"run_id": run_id, "source": source, "series_id": sid, "started_at": started, "status": status,
                    "rows": 0 if error else 1, "attempts": 5 if error else 1, "error": error}

        conn.execute(schema.collection_runs.insert(), [
            run_row("r1", "yahoo", "fx.usd_kgs", t0 - timedelta(days=1), "ok"),
            run_row("r2", "yahoo", "fx.usd_kgs", t0, "failed", "HTTP 404 for KGS=X"),
            run_row("r2", "yahoo", "eq.us.spx", t0, "ok"),
            run_row("r1", "fred", "rate.us.10y", t0 - timedelta(days=1), "failed", "timeout"),  # recovered since
            run_row("r2", "fred", "rate.us.10y", t0, "ok"),
        ])

        def note(key: str, status: str, error: str | None, created: datetime) -> dict:
            return {"idempotency_key": key, "receiver": "desk", "kind": "alert", "payload": {}, "status": status,
                    "attempts": 12 if error else 1, "next_attempt_at": t0, "give_up_at": t0, "last_error": error,
                    "created_at": created}

        conn.execute(schema.notifications.insert(), [
            note("a1", "failed", "535 authentication failed", t0 - timedelta(hours=20)),
            note("a2", "delivered", None, t0),
            note("a3", "failed", "old failure", t0 - timedelta(days=30)),  # outside the report's window
        ])
    run = write_report(report_ctx, fx.assessment(), fx.NOW, out_dir=out_dir, formats=["json"])
    dq = json.loads(run.files["json"].read_text(encoding="utf-8"))["data_quality"]
    assert [(f["series_id"], f["error"]) for f in dq["failed_collections"]] == [("fx.usd_kgs", "HTTP 404 for KGS=X")]
    assert [(n["receiver"], n["last_error"]) for n in dq["failed_notifications"]] == [("desk", "535 authentication failed")]
    assert dq["status"] == "partial" and "1 failing to collect" in dq["message"]


def test_empty_store_yields_a_report_that_says_so(shipped_config, store, out_dir: Path) -> None:  # noqa: ANN001
    ctx = Context.from_parts(shipped_config, store)
    run = write_report(ctx, Assessment(as_of=date(2024, 5, 6)), datetime(2024, 5, 6, 2, tzinfo=UTC), out_dir=out_dir)
    doc = json.loads(run.files["json"].read_text(encoding="utf-8"))
    assert doc["overall"]["status"] == "no_data" and doc["overall"]["level"] == "unknown"
    html = run.files["html"].read_text(encoding="utf-8")
    md = run.files["md"].read_text(encoding="utf-8")
    for text in (html, md):
        assert "The store holds no observations up to 2024-05-06: nothing could be assessed." in text
        assert "No replay has been scored yet" in text
    assert run.overall == "unknown"


def test_store_with_only_stale_data_says_so(shipped_config, store, out_dir: Path) -> None:  # noqa: ANN001
    store.sync_series(shipped_config.universe.series)
    old = fx.observations()
    store.upsert_observations(old[old["date"] <= pd.Timestamp("2008-06-30")])
    ctx = Context.from_parts(shipped_config, store)
    run = write_report(ctx, Assessment(as_of=fx.AS_OF), fx.NOW, out_dir=out_dir, formats=["json", "md"])
    doc = json.loads(run.files["json"].read_text(encoding="utf-8"))
    dq = doc["data_quality"]
    assert dq["status"] == "stale" and doc["overall"]["status"] == "stale"
    assert dq["message"].startswith("Every one of the 2 series with data is stale: the newest observation is from 2008-06-30")
    assert {s["series_id"] for s in dq["stale"]} == {"eq.us.spx", "cmd.wti"}
    assert doc["overall"]["headline"].startswith("Stale data (newest observation 2008-06-30).")
    assert "Every one of the 2 series with data is stale" in run.files["md"].read_text(encoding="utf-8")


def test_observations_after_as_of_are_not_seen(report_ctx: Context, out_dir: Path) -> None:
    later = pd.DataFrame({"series_id": ["eq.us.spx", "cmd.wti"], "date": pd.to_datetime(["2008-10-13", "2008-10-13"]),
                          "value": [1003.35, 81.2]})
    report_ctx.store.upsert_observations(later)
    run = write_report(report_ctx, fx.assessment(), fx.NOW, out_dir=out_dir, formats=["json"])
    doc = json.loads(run.files["json"].read_text(encoding="utf-8"))
    spx = next(f for f in doc["forecasts"]["items"] if f["series_id"] == "eq.us.spx")
    assert spx["history"][-1][0] == "2008-10-10" and spx["last_value"] == spx["history"][-1][1]
    assert doc["data_quality"]["newest_date"] == "2008-10-10"
