"""No look-ahead over years: days sampled across a multi-year replay equal `sco-monitor cycle
--as-of D --no-collect` on a fresh store holding only the history.

Data-based outputs (stress indices, crisis probabilities, every rule on indicators, the stress
index or the probability) must be equal exactly; model-based ones (regime probabilities,
forecast breaches) come from parameters estimated on the same dates on the same data (the
re-estimation calendar is anchored to dates), warm-started in the replay and cold in the cycle,
so they agree to the optimiser's tolerance: their severities must agree, and the largest
difference is printed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sco_monitor.context import Context
from sco_monitor.replay.driver import copy_history
from sco_monitor.store import Store

from .test_replay_e2e import MODEL_KINDS, _results

pytestmark = [pytest.mark.slow, pytest.mark.long, pytest.mark.timeout(1800)]

START, END = "2008-09-01", "2010-06-30"  # the demo store of test_replay_e2e (history from 1999)
SAMPLED = [date(2008, 10, 10), date(2009, 3, 31), date(2009, 12, 31), date(2010, 6, 30)]


def test_days_across_years_equal_the_daily_cycle(run_cli, demo_config: Path, tmp_path: Path) -> None:
    cfg = str(demo_config)
    ctx = Context(config_path=demo_config)
    fresh_urls = {d: f"sqlite:///{tmp_path / f'fresh-{d}.db'}" for d in SAMPLED}
    for url in fresh_urls.values():
        copy_history(ctx, url).dispose()
    proc = run_cli("--config", cfg, "replay", "--from", START, "--to", END, "--out", str(tmp_path / "out"),
                   "--report-every", "250", timeout=1500)
    assert proc.returncode == 0, proc.stderr
    worst, compared = 0.0, 0
    for d in SAMPLED:
        proc = run_cli("--config", cfg, "cycle", "--as-of", d.isoformat(), "--no-collect",
                       env={"SCO_MONITOR_DB_URL": fresh_urls[d]}, timeout=600)
        assert proc.returncode == 0, proc.stderr
        fresh = Store(fresh_urls[d])
        replayed, alone = _results(ctx.store, d), _results(fresh, d)
        fresh.dispose()
        assert replayed["stress"] and replayed["rules"] and replayed["probability"]
        assert replayed["stress"] == alone["stress"], d
        assert replayed["probability"] == alone["probability"], d
        assert len(replayed["rules"]) == len(alone["rules"])
        for x, y in zip(replayed["rules"], alone["rules"]):
            fingerprint, value, severity, kind = x
            assert (fingerprint, severity, kind) == (y[0], y[2], y[3]), (d, x, y)
            if kind in MODEL_KINDS:
                if value is not None and y[1] is not None:
                    worst = max(worst, abs(value - y[1]))
                    compared += 1
            else:
                assert value == y[1], (d, x, y)
    print(f"\nmodel-based rule values on {len(SAMPLED)} days: {compared} compared, largest difference {worst:.2e}")
    assert worst < 0.05
    ctx.store.dispose()
