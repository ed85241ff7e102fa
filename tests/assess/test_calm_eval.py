"""Quiet calm days: notifications per calm day and flapping on real history, through the real
alert engine (see calm_days.py for how the days are fed), before and after the regime calibration
and the N-of-M confirmation of the regime rules.

Calm stretches are chosen in domain terms (VIX below 25, no equity index 15% below its high, no
currency 10% above its low within four months), not from the episode list. Run with -s for the table.
"""

from __future__ import annotations

import tempfile
from datetime import date

import pandas as pd
import pytest

from sco_monitor.assess.pipeline import evaluate_history
from sco_monitor.config import load_config
from sco_monitor.store import Store

from .. import realdata
from ..conftest import ROOT, SHARED_DATA
from . import calm_days as cd

pytestmark = [pytest.mark.eval, pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.long]

BEFORE = {"fx_high_vol_regime": {"for_": 3, "within": None}, "equity_high_vol_regime": {"for_": 3, "within": None}}
VARIANTS = [
    cd.Variant("before: raw regime probability, for 3", regime="raw", overrides=BEFORE),
    cd.Variant("calibrated regime probability, for 3", overrides=BEFORE),
    cd.Variant("shipped: calibrated, regime rules 5 of 10"),
]


@pytest.fixture(scope="module")
def measured() -> tuple[list, dict[str, cd.Noise], dict[str, pd.DataFrame]]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    frame = realdata.load(str(SHARED_DATA))
    history = evaluate_history(frame, config, probability_from=date(2000, 1, 1), refit_every=250,
                               scopes=["WLD", "USA", "RUS", "CHN", "IND"])
    frames = cd.rule_frames(history, config)
    stretches = cd.calm_stretches(frame, range(2003, 2020))
    ids = [c for c in frame.columns if c.startswith(("eq.", "fx."))]
    totals = {v.name: cd.Noise() for v in VARIANTS}
    rouble = {}
    cal = history.indicators.calendar
    for a, b in stretches:
        paths = cd.regime_paths(frame, ids, cal[max(0, int(cal.searchsorted(a)) - cd.WARMUP)], b)
        if a == pd.Timestamp("2012-09-01"):
            rouble = paths.get("fx.usd_rub", pd.DataFrame()).loc[a:b]
        for v in VARIANTS:
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(f"sqlite:///{tmp}/calm.db")
                store.init()
                cd.simulate(store, config, frames, paths, v, a, b, totals[v.name])
                store.dispose()
    return stretches, totals, rouble


def test_calm_days_are_quiet_and_alerts_do_not_flap(measured) -> None:
    stretches, totals, _ = measured
    print(f"\n{len(stretches)} calm stretches: " + ", ".join(a.strftime("%Y-%m") for a, _ in stretches))
    print(f"{'variant':45s} {'days':>5s} {'notif/day':>9s} {'firings':>7s} {'flapping':>9s} {'days w/ warn+':>13s}")
    for name, n in totals.items():
        print(f"{name:45s} {n.days:5d} {n.per_day:9.2f} {n.firings:7d} {n.flap_share:8.1%} {n.warn_share:12.1%}")
        top = sorted(n.by_rule.items(), key=lambda kv: -kv[1])[:5]
        print(f"{'':45s} firings by rule: {', '.join(f'{r} {c}' for r, c in top)}; flaps: {n.flaps_by_rule}")
    shipped = totals[VARIANTS[-1].name]
    before = totals[VARIANTS[0].name]
    assert stretches and shipped.days >= 500
    assert shipped.per_day <= 5.0
    assert shipped.flap_share <= 0.05
    assert shipped.flaps < before.flaps and shipped.per_day < before.per_day


def test_a_quiet_rouble_is_not_critical_for_weeks(measured) -> None:
    _, _, rouble = measured
    raw, calibrated = int((rouble["raw"] >= 0.95).sum()), int((rouble["calibrated"] >= 0.95).sum())
    print(f"\nUSD/RUB (ECB), 2012-09..12, {len(rouble)} days: P(high regime) >= 0.95 on {raw} days raw, "
          f"{calibrated} calibrated; >= 0.8 on {int((rouble['raw'] >= 0.8).sum())} raw, "
          f"{int((rouble['calibrated'] >= 0.8).sum())} calibrated")
    assert raw >= 15 and calibrated == 0
