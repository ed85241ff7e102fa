"""The cooperation indices as catalog series: derived point in time in the assessment and watched by rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

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
