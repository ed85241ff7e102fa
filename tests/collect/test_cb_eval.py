"""Eval: the Bank of Russia's recorded USD/RUB history through collect → assess around the 2014 rouble crisis.

The CBR XML_dynamic payload (1992-2017, recorded) and the real IMOEX history (MOEX ISS JSON, paged)
are collected from the local server; the key rate comes from the documented KeyRateXML format with
the CBR's published decision dates. The assessment then runs point in time at month ends around
December 2014: the official rate (not its market fallback) is one of Russia's stress inputs, and
Russia's stress index rises into December 2014.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.assess.pipeline import evaluate
from sco_monitor.collect import collect
from sco_monitor.config import load_config
from sco_monitor.store import Store

from ..realdata import _ecb_usd_rub
from .test_collect_cb import at, ohlc, write

DAYS = ["2014-06-30", "2014-09-30", "2014-10-31", "2014-11-28", "2014-12-16", "2014-12-31", "2015-01-30"]


@pytest.mark.eval
def test_official_rub_feeds_russias_stress_index_in_the_2014_crisis(replay, banks, tmp_path: Path,
                                                                    yf_cache: str) -> None:  # noqa: ANN001
    replay.charts["RUB=X"] = ohlc(_ecb_usd_rub()["2005":"2017-03-28"])
    config = load_config(write(tmp_path / "config", replay.server.url_for("").rstrip("/"),
                               f"sqlite:///{tmp_path / 'store.db'}", yf_cache))
    store = Store(config.settings.store.url)
    store.init()
    store.sync_series(config.universe.series)
    ids = ["fx.usd_rub", "fx.usd_rub_cbr", "eq.ru.imoex", "rate.ru.key_rate"]
    summary = collect(config, store, series_ids=ids, now=at("2017-03-29"), progress=None)
    assert not summary.failed, [(o.series_id, o.error) for o in summary.failed]

    rows = []
    for day in DAYS:
        as_of = date.fromisoformat(day)
        run = evaluate(store.load_frame(ids, as_of=as_of), config, as_of)
        rus = run.stress.scopes["RUS"]
        value = rus.value(as_of)
        prob = run.ews.probability.get("RUS")
        rows.append({"as_of": day, "stress": value.value, "level": value.level,
                     "fx": value.subindices.get("fx"), "equity": value.subindices.get("equity"),
                     "rates": value.subindices.get("rates"),
                     "p_crisis": None if prob is None else prob.probability, "inputs": ",".join(rus.series)})
    store.dispose()
    table = pd.DataFrame(rows).set_index("as_of")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print("\nRussia's stress index, point in time, with the official CBR USD/RUB\n" + table.to_string())

    assert all("fx.usd_rub_cbr" in r["inputs"].split(",") for r in rows)
    assert not any("fx.usd_rub" in r["inputs"].split(",") for r in rows)  # the fallback weighs nothing
    stress = table["stress"]
    assert stress["2014-12-16"] > stress["2014-09-30"] and stress["2014-12-16"] > stress["2014-06-30"]
    assert table.loc["2014-12-16", "fx"] > 0.9  # the official rate's depreciation is at the top of its history
    assert table.loc["2014-12-16", "level"] in ("elevated", "high", "severe")
    assert table["p_crisis"].notna().all()
