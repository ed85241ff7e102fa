"""The cooperation indices as catalog series: derived point in time in the assessment and watched by rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.pipeline import assess
from sco_monitor.config import load_config
from sco_monitor.sources.dbnomics import doc_values, read_docs

from . import coop_fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config" / "sco-monitor.yaml")


def stored_frame(config) -> pd.DataFrame:
    """The fixture's bilateral and world series under their catalog ids, as Store.load_frame returns them."""
    by_symbol = {s.symbol: s.id for s in config.series.values() if s.source == "dbnomics"}
    docs = read_docs([coop_fixture.payload()], "fixture IMF/DOT")
    cols = {by_symbol[code]: doc_values(d, code) for code, d in docs.items()}
    return pd.DataFrame(cols)


def evaluations(config, as_of: date) -> dict:
    a = assess(stored_frame(config), config, as_of)
    return {(ev.rule, ev.series_id): ev for ev in a.rules if ev.rule.endswith("exports_fall")}


def test_intra_sco_exports_rule_fires_when_the_recorded_data_fall(config) -> None:
    # June 2025 (20% below June 2024) is knowable 90 days after the month: from 28 September
    got = evaluations(config, date(2025, 10, 15))
    ev = got[("intra_sco_exports_fall", "coop.sco.intra_exports_yoy")]
    assert ev.severity == "warn" and ev.value == pytest.approx(-0.20)
    assert "-20.0%" in ev.summary
    kz = got[("member_sco_exports_fall", "coop.kz.sco_exports_yoy")]
    # one member's 20% fall stays inside its own, wider threshold (-25%)
    assert kz.severity == "ok" and kz.value == pytest.approx(-0.20)


def test_the_fall_is_not_seen_before_its_publication_lag(config) -> None:
    # on 15 March 2025 the newest knowable month is December 2024: flat on a year earlier
    got = evaluations(config, date(2025, 3, 15))
    ev = got[("intra_sco_exports_fall", "coop.sco.intra_exports_yoy")]
    assert ev.severity == "ok" and ev.value == pytest.approx(0.0)


def test_fx_comovement_is_derived_from_the_member_currencies(config) -> None:
    import numpy as np

    from sco_monitor.assess.cooperation import comovement, derive

    fx = [s.id for s in config.series.values() if s.kind == "fx" and "sco" in s.tags and "alternative" not in s.tags
          and s.frequency == "B"][:3]
    assert len(fx) == 3
    days = pd.bdate_range("2024-01-01", periods=200)
    rng = np.random.default_rng(3)
    common = rng.normal(0, 0.01, (200, 1))
    levels = pd.DataFrame(100 * np.exp(np.cumsum(common + rng.normal(0, 0.005, (200, 3)), axis=0)), index=days, columns=fx)
    out = derive(levels, config.series.values())
    got = out["coop.sco.fx_comovement"]
    assert got.iloc[-1] == pytest.approx(comovement(levels, 60).iloc[-1]) and got.iloc[-1] > 0.6
    assert out["coop.sco.equity_comovement"].isna().all()  # no equity columns: no value, not a zero


def comoving_currencies(days: int = 900, together_from: int = 840, seed: int = 4) -> pd.DataFrame:
    """Four member currencies (official or the member's FX series) moving independently, then on one common factor."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-04", periods=days)
    own = rng.normal(0, 0.004, (days, 4))
    common = rng.normal(0, 0.004, days)
    own[together_from:] = 0.3 * own[together_from:] + common[together_from:, None]
    levels = 100 * np.exp(np.cumsum(own, axis=0))
    return pd.DataFrame(levels, index=idx, columns=["fx.usd_cny", "fx.usd_inr", "fx.usd_pkr", "fx.usd_kzt_nbk"])


def test_comovement_rule_fires_when_member_currencies_start_moving_together(config) -> None:
    frame = comoving_currencies()

    def ev(i: int):
        a = assess(frame.iloc[: i + 1], config, frame.index[i].date())
        return next(e for e in a.rules if e.rule == "member_markets_comove" and e.series_id == "coop.sco.fx_comovement")

    before, after = ev(835), ev(899)
    assert before.severity == "ok" and before.value < 2.0
    assert after.severity in ("warn", "critical") and after.value >= 2.0
    # the playbook the alert gets is the co-movement one, not the trade-fall one
    from sco_monitor.reports.recommend import Planner

    pb = Planner(config).choose(after, after.severity)
    assert pb.level == after.severity and pb.when.series_tags == ["comovement"]
    assert "together" in pb.title["en"] or "common shock" in pb.title["en"]
