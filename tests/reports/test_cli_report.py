"""`sco-monitor report` as a user runs it: files and lines on stdout, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from sco_monitor.store import Store, schema
from sco_monitor.store.assessments import load_saved_assessment, save_assessment

from ..conftest import ROOT
from . import fixtures as fx


@pytest.fixture
def site_config(tmp_path: Path) -> dict:
    """The shipped config and playbooks in a temp folder, with a mail receiver for the digest."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "alerts", tmp_path / "alerts")
    main = tmp_path / "config" / "sco-monitor.yaml"
    cfg = yaml.safe_load(main.read_text())
    db = tmp_path / "var" / "store.db"
    cfg["store"] = {"url": f"sqlite:///{db}"}
    cfg["receivers"].append({"name": "desk", "email": {"host": "127.0.0.1", "port": 2525, "security": "none",
                                                       "from": "monitor@sco.example", "to": ["desk@sco.example"]}})
    cfg["report"]["digest_receivers"] = ["desk"]
    main.write_text(yaml.safe_dump(cfg, sort_keys=False))
    assessment = tmp_path / "assessment-2008-10-10.json"
    assessment.write_text(fx.assessment().model_dump_json())
    return {"config": str(main), "db": db, "assessment": str(assessment)}


@pytest.fixture
def site(site_config: dict) -> dict:
    """The same with a store seeded as of 2008-10-10."""
    from sco_monitor.config import load_config

    store = Store(f"sqlite:///{site_config['db']}")
    store.init()
    store.sync_series(load_config(site_config["config"]).universe.series)
    fx.seed(store)
    return {**site_config, "store": store}


def test_report_from_a_saved_assessment_writes_files_and_queues_the_digest(site: dict, run_cli, tmp_path: Path) -> None:
    proc = run_cli("--config", site["config"], "report", "--assessment", site["assessment"], "--format", "json,html",
                   "--out", "out", "--digest")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("report 2008-10-10: overall risk SEVERE: Overall risk is SEVERE; world stress 0.87")
    assert any(line.strip().startswith("html") and "out/2008-10-10/report.html" in line for line in lines)
    assert lines[-1].strip() == "digest queued for 1 receiver(s)"
    day = tmp_path / "out" / "2008-10-10"
    assert sorted(p.name for p in day.iterdir()) == ["report.html", "report.json"]
    assert (tmp_path / "out" / "index.html").is_file()
    doc = json.loads((day / "report.json").read_text())
    assert {j["category"] for j in doc["joint_actions"]} == {"equity", "commodity", "stress"}
    with site["store"].engine.connect() as conn:
        assert sorted(r.format for r in conn.execute(select(schema.reports.c.format))) == ["html", "json"]
        keys = [r.idempotency_key for r in conn.execute(select(schema.notifications.c.idempotency_key))]
    assert keys == ["digest:2008-10-10:desk"]
    assert "Traceback" not in proc.stderr


def test_unknown_format_is_one_line_and_exit_2(site_config: dict, run_cli) -> None:
    proc = run_cli("--config", site_config["config"], "report", "--format", "html,pdf")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["sco-monitor: unknown report format 'pdf'; expected one of: html, json, md"]


@pytest.mark.parametrize(
    ("as_of", "assessment", "message"),
    [
        ("2008-13-01", None, "--as-of: expected a date YYYY-MM-DD, got '2008-13-01'"),
        (None, "missing.json", "cannot read assessment missing.json: No such file or directory"),
        ("2008-10-09", "SAVED", "--as-of 2008-10-09 differs from the assessment's as_of 2008-10-10"),
    ],
    ids=["bad-date", "missing-assessment", "as-of-mismatch"],
)
def test_bad_arguments_are_usage_errors(site_config: dict, as_of: str | None, assessment: str | None, message: str) -> None:
    from sco_monitor.context import Context
    from sco_monitor.cycle import report_command
    from sco_monitor.errors import UsageError

    path = Path(site_config["assessment"] if assessment == "SAVED" else assessment) if assessment else None
    with pytest.raises(UsageError) as info:
        report_command(Context(config_path=site_config["config"]), as_of, None, None, path, False)
    assert str(info.value) == message


def test_without_a_saved_assessment_the_store_is_assessed(site: dict, run_cli, tmp_path: Path) -> None:
    """Until the assessment engine lands this says so and exits 2; once it has, the report is written."""
    site["store"].dispose()
    proc = run_cli("--config", site["config"], "report", "--as-of", "2008-10-10", "--format", "json", "--out", "out")
    if proc.returncode == 2:
        assert proc.stderr.strip().splitlines() == [
            "sco-monitor: 'sco-monitor assess' is not available yet: it arrives with issue #4 (assessment engine)"]
        assert not (tmp_path / "out").exists()
    else:
        assert proc.returncode == 0, proc.stderr
        doc = json.loads((tmp_path / "out" / "2008-10-10" / "report.json").read_text())
        assert doc["as_of"] == "2008-10-10"
        assert doc["source"].startswith("No assessment was saved for 2008-10-10 yet: it was computed and saved")
        saved = load_saved_assessment(Store(f"sqlite:///{site['db']}"), date(2008, 10, 10))
        assert saved is not None and saved.body["as_of"] == "2008-10-10"  # the next report reads this one


def test_the_report_of_a_day_is_built_from_the_assessment_saved_for_it(site: dict, run_cli, tmp_path: Path) -> None:
    """One assessment a day: the report shows the saved numbers (here a world stress no recomputation
    would give) and says when they were saved."""
    a = fx.assessment()
    a.stress_index["WLD"].value = 0.4242
    save_assessment(site["store"], a.as_of, {}, body=a.model_dump(mode="json"),
                    saved_at=datetime(2008, 10, 10, 6, 30, tzinfo=UTC))
    site["store"].dispose()
    proc = run_cli("--config", site["config"], "report", "--as-of", "2008-10-10", "--format", "json,md", "--out", "out")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "2008-10-10" / "report.json").read_text())
    assert doc["overall"]["world_value"] == pytest.approx(0.4242)
    assert doc["source"] == "Built from the assessment saved at 2008-10-10 06:30 UTC."
    assert "*Built from the assessment saved at 2008-10-10 06:30 UTC.*" in (
        tmp_path / "out" / "2008-10-10" / "report.md").read_text()
