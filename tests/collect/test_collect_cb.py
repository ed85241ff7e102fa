"""Central banks and MOEX end to end: `collect` from the local server into SQLite and PostgreSQL.

The CBR and NBK answers are the recorded payloads (../shared/data/payloads); the market quote the
official USD/RUB falls back on is the real ECB USD/RUB cross served as a Yahoo chart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sco_monitor.collect import collect
from sco_monitor.config import load_config
from sco_monitor.quality import quality_summary
from sco_monitor.store import Store, collection, schema

from ..realdata import _ecb_usd_rub
from .central_banks import imoex_history

UNIVERSE = """\
series:
  - {id: fx.usd_rub, name: USD/RUB, source: yahoo, symbol: RUB=X, kind: fx, country: RUS, frequency: B, unit: RUB per USD, direction: up, tags: [sco, alternative]}
  - {id: fx.usd_rub_cbr, name: USD/RUB official, source: cbr, symbol: R01235, kind: fx, country: RUS, frequency: B, unit: RUB per USD, direction: up, coverage: fx, fallback: {series: fx.usd_rub, tolerance: 0.03}, tags: [sco]}
  - {id: fx.usd_kzt_nbk, name: USD/KZT official, source: nbk, symbol: USD, kind: fx, country: KAZ, frequency: B, unit: KZT per USD, direction: up, coverage: fx, tags: [sco]}
  - {id: fx.uzs_kzt_nbk, name: UZS/KZT official, source: nbk, symbol: UZS, kind: fx, country: KAZ, frequency: B, unit: KZT per UZS, direction: up, tags: [sco]}
  - {id: eq.ru.imoex, name: MOEX Russia, source: moex, symbol: IMOEX, params: {board: SNDX}, kind: equity, country: RUS, frequency: B, unit: index, direction: down, coverage: equity, tags: [sco]}
  - {id: rate.ru.key_rate, name: CBR key rate, source: cbr_key_rate, kind: rate, country: RUS, frequency: B, unit: percent, direction: up, coverage: policy_rate, tags: [sco]}
"""


def ohlc(values: pd.Series) -> pd.DataFrame:
    """A daily chart whose every price is the value (what the Yahoo handler serves)."""
    return pd.DataFrame({c: values for c in ("Open", "High", "Low", "Close", "Adj Close")} | {"Volume": 0},
                        index=values.index)


def write(folder: Path, base: str, store_url: str, cache: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "universe.yaml").write_text(UNIVERSE, encoding="utf-8")
    (folder / "rules.yaml").write_text("rules: []\n")
    (folder / "playbooks.yaml").write_text("playbooks: []\n")
    knobs = "timeout: 2, retries: 1, backoff: 0.01, backoff_max: 0.02, retry_after_max: 0.05, rate_limit: 1000"
    bases = {"yahoo": f"{base}', cache_dir: '{cache}", "cbr": base, "cbr_key_rate": base, "nbk": f"{base}/rss",
             "moex": base}
    sources = "\n".join(f"  {n}: {{base_url: '{b}', {knobs}}}" for n, b in bases.items())
    (folder / "sco-monitor.yaml").write_text(
        "universe: universe.yaml\nrules: rules.yaml\nplaybooks: playbooks.yaml\ntimezone: Asia/Almaty\n"
        f"store: {{url: '{store_url}'}}\nexecutor: {{kind: inline}}\nsources:\n{sources}\n", encoding="utf-8")
    return folder / "sco-monitor.yaml"


@pytest.fixture
def setup_any(replay, banks, store_url: str, tmp_path: Path, yf_cache: str):  # noqa: ANN001, ANN201
    replay.charts["RUB=X"] = ohlc(_ecb_usd_rub()["2010":"2017-03-28"])
    config = load_config(write(tmp_path / "config", replay.server.url_for("").rstrip("/"), store_url, yf_cache))
    store = Store(config.settings.store.url)
    store.init()
    store.sync_series(config.universe.series)
    yield config, store
    store.dispose()


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T06:00:00").replace(tzinfo=UTC)  # noon in Almaty


def rows(store: Store, run_id: str) -> dict[str, dict]:
    return {r["series_id"]: r for r in collection.runs_of(store, run_id)}


def test_one_day_runs_store_the_recorded_official_rates_per_unit(setup_any, banks) -> None:  # noqa: ANN001
    config, store = setup_any
    ids = ["fx.usd_rub_cbr", "fx.usd_kzt_nbk", "fx.uzs_kzt_nbk"]
    ru = collect(config, store, series_ids=ids[:1], since=date(2022, 3, 15), now=at("2022-03-15"), progress=None)
    kz = collect(config, store, series_ids=ids[1:], since=date(2016, 4, 18), now=at("2016-04-18"), progress=None)
    assert not ru.failed and not kz.failed, [(o.series_id, o.error) for o in ru.failed + kz.failed]
    assert len(banks.hits("XML_daily")) == 1 and len(banks.hits("rates_all.xml")) == 1  # one file, every series
    frame = store.load_frame(ids)
    assert frame.loc["2022-03-15", "fx.usd_rub_cbr"] == pytest.approx(115.1963)
    assert frame.loc["2016-04-18", "fx.usd_kzt_nbk"] == pytest.approx(334.41)
    assert frame.loc["2016-04-18", "fx.uzs_kzt_nbk"] == pytest.approx(0.1159)  # 11.59 KZT per 100 UZS
    assert {r["status"] for r in rows(store, kz.run_id).values()} == {"ok"}


def test_fresh_collect_backfills_history_and_flags_disagreement(setup_any, banks) -> None:  # noqa: ANN001
    config, store = setup_any
    summary = collect(config, store, series_ids=["fx.usd_rub", "fx.usd_rub_cbr", "rate.ru.key_rate"],
                      now=at("2017-03-29"), progress=None)
    got = {o.series_id: o for o in summary.outcomes}
    assert not summary.failed and not summary.partial, [(o.series_id, o.error) for o in summary.outcomes]
    assert got["fx.usd_rub_cbr"].new_rows == 5581 and got["rate.ru.key_rate"].new_rows > 800
    frame = store.load_frame(["fx.usd_rub_cbr", "rate.ru.key_rate"], start="2014-12-16", end="2014-12-16")
    assert frame.iloc[0].tolist() == pytest.approx([58.3461, 17.0])
    # official and market apart by more than 3% on real days (the December 2014 rouble crash among them)
    t = schema.quality_flags
    with store.engine.connect() as conn:
        flagged = conn.execute(select(t.c.date, t.c.detail).where(t.c.series_id == "fx.usd_rub_cbr",
                                                                  t.c.flag == "disagreement")).all()
    days = {d for d, _ in flagged}
    assert got["fx.usd_rub_cbr"].flags["disagreement"] == len(flagged) > 5
    assert date(2014, 12, 16) in days and not any(d.year == 2013 for d in days)
    assert re.search(r"official [\d.]+ vs fx.usd_rub [\d.]+: \d+\.\d% apart \(tolerance 3\.0%\)", flagged[0][1])


def test_official_failure_falls_back_on_the_market_quote_as_partial(setup_any, banks) -> None:  # noqa: ANN001
    config, store = setup_any
    banks.fail("CBR", "always-500")
    summary = collect(config, store, series_ids=["fx.usd_rub", "fx.usd_rub_cbr"], now=at("2017-03-29"), progress=None)
    out = {o.series_id: o for o in summary.outcomes}["fx.usd_rub_cbr"]
    assert out.status == "partial" and not summary.failed and summary.partial == [out]
    assert "HTTP 500" in out.error and out.error.endswith("the fallback fx.usd_rub stands in")
    row = rows(store, summary.run_id)["fx.usd_rub_cbr"]
    assert row["status"] == "partial" and row["error"] == out.error
    flags = [f for f in quality_summary(store, date(2017, 3, 29)) if f.series_id == "fx.usd_rub_cbr"]
    assert any(f.flag == "partial" and "stands in" in f.detail for f in flags)


def test_official_and_market_both_failing_is_a_failure(setup_any, banks, replay) -> None:  # noqa: ANN001
    config, store = setup_any
    banks.fail("CBR", "always-500")
    replay.fail("RUB=X", "always-delisted")
    summary = collect(config, store, series_ids=["fx.usd_rub", "fx.usd_rub_cbr"], now=at("2017-03-29"), progress=None)
    out = {o.series_id: o for o in summary.outcomes}["fx.usd_rub_cbr"]
    assert out.status == "failed" and out.error.endswith("the fallback fx.usd_rub has no data either")


def test_fresh_moex_collect_backfills_every_session_by_paging(setup_any, banks, shared_data) -> None:  # noqa: ANN001
    config, store = setup_any
    summary = collect(config, store, series_ids=["eq.ru.imoex"], now=at("2026-06-30"), progress=None)
    assert not summary.failed, summary.outcomes[0].error
    ref = imoex_history(shared_data)
    stored = store.load_frame(["eq.ru.imoex"])["eq.ru.imoex"].dropna()
    assert len(stored) == len(ref) > 7000 and summary.outcomes[0].new_rows == len(ref)
    assert stored.index[0] == ref["date"].iloc[0] == pd.Timestamp("1997-09-22")
    assert stored.index[-1] == ref["date"].iloc[-1] and stored.iloc[-1] == pytest.approx(ref["close"].iloc[-1])
    assert len(banks.hits("IMOEX.json")) == -(-len(ref) // 100)  # every page, 100 sessions each
    again = collect(config, store, series_ids=["eq.ru.imoex"], now=at("2026-06-30"), progress=None)
    assert again.new_rows == 0 and len(banks.hits("IMOEX.json")) == -(-len(ref) // 100) + 1  # the overlap: one page


def test_collect_command_prints_partial_and_exits_1(setup_any, banks, capsys) -> None:  # noqa: ANN001
    from sco_monitor.collect_view import run_collect
    from sco_monitor.context import Context
    from sco_monitor.errors import RunFailed

    config, store = setup_any
    banks.fail("CBR", "always-500")
    with pytest.raises(RunFailed, match=r"partial: 1 of 2 series lost part of their work: fx.usd_rub_cbr"):
        run_collect(Context.from_parts(config, store), ["fx.usd_rub", "fx.usd_rub_cbr"], None, None, False)
    out = capsys.readouterr().out
    assert "1 ok, 1 partial" in out and "stands in" in out
