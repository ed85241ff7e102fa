"""Live operation keeps the record the replay keeps: `cycle --as-of D` fills the alert history that
`export alerts` prints, and saves the day's one assessment."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd

from sco_monitor.config import load_config
from sco_monitor.store import Store
from sco_monitor.store.assessments import load_saved_assessment


def test_cycle_days_fill_the_alert_history_that_export_prints(config_dir: Path, tmp_path: Path, real_prices,
                                                              run_cli) -> None:
    config = load_config(config_dir / "sco-monitor.yaml")
    store = Store(f"sqlite:///{tmp_path / 'var' / 'test.db'}")
    store.init()
    store.sync_series(config.universe.series)
    store.upsert_observations(pd.concat(
        [pd.DataFrame({"series_id": sid, "date": s.index, "value": s.to_numpy()}) for sid, s in real_prices.items()]))
    store.dispose()
    days = ["2008-10-09", "2008-10-10"]
    for d in days:  # the S&P 500 is more than 20% below its high: the drawdown rule is critical
        proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "cycle", "--as-of", d, "--no-collect")
        assert "assess: ok" in proc.stdout and "alert: ok" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "export", "alerts", "--country", "USA")
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(io.StringIO(proc.stdout))
    assert sorted(set(frame["date"])) == days
    assert set(frame["rule"]) >= {"spx_drawdown"} and set(frame["severity"]) <= {"warn", "critical"}
    store = Store(f"sqlite:///{tmp_path / 'var' / 'test.db'}")
    saved = load_saved_assessment(store, date(2008, 10, 10))
    assert saved is not None and any(r["rule"] == "spx_drawdown" for r in saved.body["rules"])
