"""The replay end to end on the demo's real history: CLI, files, stored results, resumption, and
no look-ahead (day D of a replay equals `sco-monitor cycle --as-of D --no-collect`).

These need the collectors, the assessment, alerting and reports: `cycle_steps` skips them in a
build that lacks those steps."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sco_monitor.assess import rules as rule_kinds
from sco_monitor.context import Context
from sco_monitor.replay.driver import copy_history
from sco_monitor.store import Store
from sco_monitor.store import schema as t

START, END = "2008-09-01", "2008-10-31"
SAMPLED = [date(2008, 9, 1), date(2008, 9, 29), date(2008, 10, 31)]


def _results(store: Store, day: date) -> dict[str, list[tuple]]:
    """Everything the assessment saved for one day, keyed and sorted."""
    with store.engine.connect() as conn:
        stress = conn.execute(select(t.stress_index.c.scope, t.stress_index.c.value, t.stress_index.c.level)
                              .where(t.stress_index.c.date == day)).all()
        prob = conn.execute(select(t.crisis_probability.c.country, t.crisis_probability.c.horizon,
                                   t.crisis_probability.c.probability)
                            .where(t.crisis_probability.c.date == day)).all()
        rules = conn.execute(select(t.rule_evaluations.c.fingerprint, t.rule_evaluations.c.value,
                                    t.rule_evaluations.c.severity, t.rule_evaluations.c.kind)
                             .where(t.rule_evaluations.c.as_of == day)).all()
    return {"stress": sorted(map(tuple, stress)), "probability": sorted(map(tuple, prob)),
            "rules": sorted(map(tuple, rules))}


#: Rules read from fitted models: both runs estimate on the same calendar dates on the same data
#: (the re-estimation calendar is anchored to dates), but the replay warm-starts from the previous
#: parameters, and a fit degraded in the turbulence is re-estimated on the day the replay saw it,
#: which a cold cycle never does; so their values differ by up to a few hundredths. Severities must
#: still agree exactly; everything computed from data agrees exactly.
MODEL_KINDS = rule_kinds.MODEL_KINDS


def _same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        rel, abs_ = (0.0, 0.05) if x[-1] in MODEL_KINDS else (0.0, 0.0)
        for u, v in zip(x, y):
            if isinstance(u, float) and isinstance(v, float):
                if u != pytest.approx(v, rel=rel, abs=abs_):
                    return False
            elif u != v:
                return False
    return True


@pytest.mark.slow
@pytest.mark.long  # a minute of CLI replays: CI's second step (`make test-long`)
def test_replay_cli_writes_reports_alerts_and_track_and_resumes(run_cli, demo_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "replay-out"
    cfg = str(demo_config)
    proc = run_cli("--config", cfg, "replay", "--from", START, "--to", END, "--out", str(out), "--score",
                   "--report-every", "5", timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "replayed 45 of 45 business days 2008-09-01 .. 2008-10-31" in proc.stdout
    latest = Path(proc.stdout.strip().splitlines()[-1].split("latest report: ", 1)[1])
    assert latest.is_file() and latest.is_relative_to(out / "reports")
    assert (out / "alerts.jsonl").is_file()
    for line in (out / "alerts.jsonl").read_text().splitlines():
        json.loads(line)  # JSON lines from the file receiver
    assert not (demo_config.parent.parent / "alerts.jsonl").exists()  # the configured receiver got nothing
    track = json.loads((out / "track_record.json").read_text())
    assert track["start"] == START and track["end"] == END and track["days"] == 45

    store = Store(f"sqlite:///{demo_config.parent.parent / 'var' / 'demo.db'}")
    with store.engine.connect() as conn:
        days = [r[0] for r in conn.execute(select(t.replay_days.c.date, t.replay_days.c.reported)
                                           .order_by(t.replay_days.c.date)).all()]
        reported = [r[0] for r in conn.execute(select(t.replay_days.c.date).where(t.replay_days.c.reported)).all()]
    assert days == [d.date() for d in pd.bdate_range(START, END)]
    assert len(reported) == 10 and date(2008, 10, 31) in reported  # every 5th business day and the last

    proc = run_cli("--config", cfg, "export", "stress", "--scope", "USA", "--from", START, "--to", END)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1 + 45
    proc = run_cli("--config", cfg, "export", "probability", "--country", "RUS", "--from", START, "--to", END,
                   "--format", "json")
    assert proc.returncode == 0 and len(json.loads(proc.stdout)) >= 45
    proc = run_cli("--config", cfg, "export", "alerts", "--from", START, "--to", END)
    assert proc.returncode == 0, proc.stderr

    proc = run_cli("--config", cfg, "replay", "--from", START, "--to", END, "--out", str(out))
    assert proc.returncode == 0 and "replayed 0 of 45" in proc.stdout and "(45 already done, skipped)" in proc.stdout
    proc = run_cli("--config", cfg, "replay", "--from", "2008-06-02", "--to", END, "--out", str(out))
    assert proc.returncode == 2 and "cannot go back in time. Use --force" in proc.stderr
    store.dispose()


@pytest.mark.slow
@pytest.mark.long
def test_no_look_ahead_replay_day_equals_the_daily_cycle(run_cli, demo_config: Path, tmp_path: Path) -> None:
    """Results for day D from the replay equal `sco-monitor cycle --as-of D --no-collect` on a store
    holding only the history: the replay never used what came after D."""
    cfg = str(demo_config)
    ctx = Context(config_path=demo_config)
    fresh_urls = {d: f"sqlite:///{tmp_path / f'fresh-{d}.db'}" for d in SAMPLED}
    for url in fresh_urls.values():  # copies taken before the replay: observations and catalog only
        copy_history(ctx, url).dispose()
    proc = run_cli("--config", cfg, "replay", "--from", START, "--to", END, "--out", str(tmp_path / "out"),
                   "--report-every", "50", timeout=900)
    assert proc.returncode == 0, proc.stderr
    for d in SAMPLED:
        proc = run_cli("--config", cfg, "cycle", "--as-of", d.isoformat(), "--no-collect",
                       env={"SCO_MONITOR_DB_URL": fresh_urls[d]}, timeout=600)
        assert proc.returncode == 0, proc.stderr
        fresh = Store(fresh_urls[d])
        replayed, alone = _results(ctx.store, d), _results(fresh, d)
        fresh.dispose()
        assert replayed["stress"] and replayed["rules"]
        for key in ("stress", "probability", "rules"):
            assert _same(replayed[key], alone[key]), f"{key} on {d}: replay {replayed[key]} != cycle {alone[key]}"
    ctx.store.dispose()


def test_replay_cli_usage_errors(run_cli, config_dir: Path) -> None:
    cfg = str(config_dir / "sco-monitor.yaml")
    proc = run_cli("--config", cfg, "replay", "--from", "2008-13-01", "--to", "2008-12-31")
    assert proc.returncode == 2 and "--from: expected a date YYYY-MM-DD, got '2008-13-01'" in proc.stderr
    proc = run_cli("--config", cfg, "replay", "--from", "2008-12-31", "--to", "2008-01-01")
    assert proc.returncode == 2 and "--from 2008-12-31 is after --to 2008-01-01" in proc.stderr
