"""Official rates with a market fallback: the stand-in fills the gaps, weighs once, and is validated on load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.fallback import covered, with_fallbacks
from sco_monitor.assess.pipeline import evaluate
from sco_monitor.config import ConfigError
from sco_monitor.quality import disagreements

from .assess_helpers import random_walks, write_config

OFFICIAL = {"fx.usd_rub_cbr": {"kind": "fx", "country": "RUS", "direction": "up", "unit": "RUB per USD",
                               "source": "cbr", "tags": ["sco"], "fallback": {"series": "fx.usd_rub"}}}
MARKET_ALT = {"fx.usd_rub": {"kind": "fx", "country": "RUS", "direction": "up", "unit": "RUB per USD",
                             "tags": ["sco", "alternative"]}}


def config(tmp_path: Path, **over):  # noqa: ANN003, ANN201
    extra = {**MARKET_ALT, **OFFICIAL}
    for sid, meta in over.items():
        extra[sid.replace("__", ".")] = {**extra[sid.replace("__", ".")], **meta}
    return write_config(tmp_path, series=["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_rub_cbr"],
                        extra_series=extra)


def test_the_market_quote_fills_only_the_official_gaps(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    f = random_walks(["fx.usd_rub", "fx.usd_rub_cbr"], periods=10)
    f.loc[f.index[:3], "fx.usd_rub_cbr"] = np.nan  # before its history
    f.loc[f.index[-2:], "fx.usd_rub_cbr"] = np.nan  # the official source failed the last two days
    out = with_fallbacks(f, cfg.series.values())
    filled = f.index[:3].append(f.index[-2:])
    assert (out.loc[filled, "fx.usd_rub_cbr"] == f.loc[filled, "fx.usd_rub"]).all()
    own = f.index[3:-2]
    assert (out.loc[own, "fx.usd_rub_cbr"] == f.loc[own, "fx.usd_rub_cbr"]).all()
    assert f["fx.usd_rub_cbr"].isna().sum() == 5  # the input is not changed
    only_market = with_fallbacks(f.drop(columns=["fx.usd_rub_cbr"]), cfg.series.values())
    assert (only_market["fx.usd_rub_cbr"] == f["fx.usd_rub"]).all()  # no official column at all


def test_stale_official_is_covered_while_its_stand_in_is_fresh(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    series = list(cfg.series.values())
    assert covered({"fx.usd_rub_cbr": "failed: HTTP 500"}, series) == {}
    both = {"fx.usd_rub_cbr": "stale", "fx.usd_rub": "stale"}
    assert covered(both, series) == both


def test_russias_stress_index_reads_the_official_rate_not_the_quote(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    f = random_walks(["eq.us.spx", "eq.ru.imoex", "fx.usd_rub", "fx.usd_rub_cbr"], periods=400)
    f.loc[f.index[-5:], "fx.usd_rub_cbr"] = np.nan
    as_of = f.index[-1].date()
    run = evaluate(f, cfg, as_of)
    assert run.stress.scopes["RUS"].series == ["eq.ru.imoex", "fx.usd_rub_cbr"]
    # the official column the indicators saw was completed from the quote on the failed days
    assert run.indicators.frame.loc[f.index[-1], "fx.usd_rub_cbr"] == pytest.approx(f.iloc[-1]["fx.usd_rub"])


def test_a_fallback_must_be_an_alternative_of_the_same_country_and_kind(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"series\[3\]\.fallback\.series: tag fx\.usd_rub 'alternative'"):
        config(tmp_path / "a", fx__usd_rub={"tags": ["sco"]})
    with pytest.raises(ConfigError, match=r"fallback\.series: fx\.usd_rub is fx of KAZ; fx\.usd_rub_cbr needs fx of RUS"):
        config(tmp_path / "b", fx__usd_rub={"country": "KAZ"})
    with pytest.raises(ConfigError, match=r"fx\.usd_rub has publication_lag_days 0, fx\.usd_rub_cbr 7: a stand-in must"):
        config(tmp_path / "d", fx__usd_rub_cbr={"publication_lag_days": 7})  # its filled tail would lag too
    with pytest.raises(ConfigError, match=r"fallback\.series: unknown series 'fx\.nope'"):
        config(tmp_path / "c", fx__usd_rub_cbr={"fallback": {"series": "fx.nope"}})


def test_disagreements_are_days_beyond_the_relative_tolerance() -> None:
    idx = pd.bdate_range("2014-12-15", periods=4)
    official = pd.Series([58.35, 61.15, 67.79, np.nan], index=idx)
    market = pd.Series([58.0, 68.0, 66.0, 60.0], index=idx)
    flags = disagreements(official, market, "fx.usd_rub_cbr", "fx.usd_rub", 0.03)
    assert [f.date for f in flags] == [date(2014, 12, 16)]  # 10% apart; 0.6% and 2.7% are within 3%; NaN skipped
    assert flags[0].flag == "disagreement" and "10.1% apart (tolerance 3.0%)" in flags[0].detail
