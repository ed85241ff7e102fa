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

from sqlalchemy import select

from sco_monitor.assess.pipeline import evaluate
from sco_monitor.collect import collect
from sco_monitor.config import load_config
from sco_monitor.context import Context
from sco_monitor.replay.driver import run_replay
from sco_monitor.store import Store, schema

from ..realdata import _ecb_usd_rub
from .test_collect_cb import at, ohlc, write

DAYS = ["2014-06-30", "2014-09-30", "2014-10-31", "2014-11-28", "2014-12-16", "2014-12-31", "2015-01-30"]


IDS = ["fx.usd_rub", "fx.usd_rub_cbr", "eq.ru.imoex", "rate.ru.key_rate"]


def collected(replay, tmp_path: Path, yf_cache: str):  # noqa: ANN001, ANN201 - (AppConfig, Store)
    """A store filled by `collect` from the local server: CBR, MOEX, the key rate and the market quote."""
    replay.charts["RUB=X"] = ohlc(_ecb_usd_rub()["2005":"2017-03-28"])
    config = load_config(write(tmp_path / "config", replay.server.url_for("").rstrip("/"),
                               f"sqlite:///{tmp_path / 'store.db'}", yf_cache))
    store = Store(config.settings.store.url)
    store.init()
    store.sync_series(config.universe.series)
    summary = collect(config, store, series_ids=IDS, now=at("2017-03-29"), progress=None)
    assert not summary.failed, [(o.series_id, o.error) for o in summary.failed]
    return config, store


@pytest.mark.eval
def test_official_rub_feeds_russias_stress_index_in_the_2014_crisis(replay, banks, tmp_path: Path,
                                                                    yf_cache: str) -> None:  # noqa: ANN001
    config, store = collected(replay, tmp_path, yf_cache)
    ids = IDS

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


@pytest.mark.eval
def test_short_replay_of_december_2014_with_the_official_rub(replay, banks, tmp_path: Path,
                                                             yf_cache: str) -> None:  # noqa: ANN001
    """The replay driver (assess → alert → report per day) over 2014-10-20..12-19 on the collected CBR history."""
    config, store = collected(replay, tmp_path, yf_cache)
    ctx = Context.from_parts(config, store)
    summary = run_replay(ctx, date(2014, 10, 20), date(2014, 12, 19), tmp_path / "replay", report_every=20,
                         progress=False)
    assert len(summary.ran) == 45 and summary.latest_report is not None
    with store.engine.connect() as conn:
        stress = {r.date: r for r in conn.execute(select(schema.stress_index).where(
            schema.stress_index.c.scope == "RUS", schema.stress_index.c.date >= date(2014, 10, 20)))}
        probs = conn.execute(select(schema.crisis_probability.c.date, schema.crisis_probability.c.probability).where(
            schema.crisis_probability.c.country == "RUS", schema.crisis_probability.c.date >= date(2014, 10, 20))).all()
    store.dispose()
    table = pd.DataFrame({"stress": {d: r.value for d, r in stress.items()},
                          "level": {d: r.level for d, r in stress.items()},
                          "fx": {d: (r.details.get("subindices") or {}).get("fx") for d, r in stress.items()}})
    table["p_crisis"] = pd.Series(dict(probs))
    table = table.sort_index()
    print("\nReplay 2014-10-20..12-19, Russia (official CBR USD/RUB)\n" + table.to_string())
    assert len(stress) == 45 and len(probs) == 45
    assert table["fx"].notna().all() and table.loc[date(2014, 12, 16), "fx"] > 0.9
    october = table.loc[date(2014, 10, 20):date(2014, 10, 31)]
    crash = table.loc[date(2014, 12, 15):date(2014, 12, 19)]
    assert crash["stress"].mean() > october["stress"].mean()
    assert crash["p_crisis"].mean() > october["p_crisis"].mean()
