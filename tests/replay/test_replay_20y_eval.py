"""`replay --score` over twenty years of the real history in ../shared/data.

The default configuration (rules, playbooks, and the default universe's entries for the daily
market series the shared data hold) (US stress inputs, equity indices of the US, China, India and Russia, USD/CNY, USD/INR,
USD/RUB, Brent), replayed day by day from 1998 to 2017, with the track record scored against
the episodes derived from the data. The one change to the shipped settings: models are
re-estimated every 91 days instead of weekly (and a report is written every 250 business days),
so the twenty years fit in CI's second step; degraded fits are still re-estimated when they
break. Run with -s for the track record.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from sco_monitor.app import known_names
from sco_monitor.context import Context
from sco_monitor.demo import demo_panels, filter_rules
from sco_monitor.replay.driver import run_replay
from sco_monitor.store import Store

from .. import realdata
from ..conftest import ROOT, SHARED_DATA

pytestmark = [pytest.mark.eval, pytest.mark.slow, pytest.mark.long, pytest.mark.timeout(3600)]

START, END = date(1998, 1, 2), date(2017, 9, 29)


def test_twenty_years_replayed_and_scored(tmp_path: Path) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    frame = realdata.load(str(SHARED_DATA))
    settings = yaml.safe_load((ROOT / "config" / "sco-monitor.yaml").read_text())
    # the default universe's entries of the series the shared data hold (the others would read no data)
    universe = yaml.safe_load((ROOT / "config" / "universe.yaml").read_text())
    universe["series"] = [s for s in universe["series"] if s["id"] in frame.columns]
    (tmp_path / "universe.yaml").write_text(yaml.safe_dump(universe, allow_unicode=True))
    # the packaged rules, narrowed to these series as the demo narrows them
    rules = filter_rules(yaml.safe_load((ROOT / "alerts" / "rules.yaml").read_text()), set(frame.columns))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    # the nowcast panels narrowed the same way (a panel without its targets here is dropped)
    settings["assessment"]["nowcasts"] = demo_panels(settings["assessment"].get("nowcasts") or [], set(frame.columns))
    settings.update({
        "universe": str(tmp_path / "universe.yaml"), "rules": str(tmp_path / "rules.yaml"),
        "playbooks": str(ROOT / "alerts" / "playbooks.yaml"),
        "store": {"url": f"sqlite:///{tmp_path / 'replay.db'}"},
    })
    present = set(frame.columns)
    a = dict(settings.get("assessment") or {})
    a.update({"reestimate_every": "91d",
              "spreads": [sp for sp in a.get("spreads") or [] if sp.get("a") in present and sp.get("b") in present],
              "forecast_series": [x for x in a.get("forecast_series") or [] if x in present]})
    settings["assessment"] = a
    report = dict(settings.get("report") or {})
    report["key_series"] = [x for x in report.get("key_series") or [] if x in present]
    settings["report"] = report
    config_path = tmp_path / "sco-monitor.yaml"
    config_path.write_text(yaml.safe_dump(settings))
    ctx = Context(config_path=config_path, known=known_names)
    known = {s.id for s in ctx.config.universe.series}
    ids = [c for c in frame.columns if c in known]
    assert len(ids) >= 12, ids
    store: Store = ctx.store
    store.init()
    store.sync_series(ctx.config.universe.series)
    long = frame[ids].stack().rename("value").reset_index().rename(columns={"level_1": "series_id"})
    store.upsert_observations(long[["series_id", "date", "value"]])

    began = time.monotonic()
    summary = run_replay(ctx, START, END, tmp_path / "out", report_every=250, score=True, progress=False)
    seconds = time.monotonic() - began
    print(f"\n20-year replay: {len(summary.ran)} business days of {len(ids)} series in {seconds:.0f} s "
          f"({1000 * seconds / len(summary.ran):.0f} ms per day)")
    print("\n".join(summary.lines()))
    track = summary.track
    assert track is not None and len(summary.ran) == summary.days > 5000
    for e in track.episodes:
        if e.start.year in (1998, 2008, 2014, 2015):
            print(f"  {e.country} {e.start} {e.name}: warning {'in time' if e.warning.came else 'missed'}"
                  f" (lead {e.warning.lead_days}), critical {'in time' if e.critical.came else 'missed'}")
    assert len(track.episodes) >= 5  # 1998, the 2000s bear market, 2008, 2014 and 2015 at least
    # domain bounds, not fitted: most episodes warned in time, and warnings better than noise
    warned = sum(e.warning.came for e in track.episodes)
    assert warned >= len(track.episodes) / 2
    assert track.summary.enough and track.summary.auroc_probability_ci is not None
    assert track.summary.warn.noise_to_signal is not None and track.summary.warn.noise_to_signal < 1
    assert (tmp_path / "out" / "track_record.json").is_file()
