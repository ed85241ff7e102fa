"""Collection end to end through the library: every source, the store, collection_runs, faults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sco_monitor.collect import collect
from sco_monitor.config import ConfigError, load_config
from sco_monitor.context import Context
from sco_monitor.cycle import step_collect
from sco_monitor.errors import UsageError
from sco_monitor.store import Store, collection, schema

from .providers import baa, sp500, write_config

NOW = datetime(2019, 1, 4, 6, 0, tzinfo=UTC)  # 12:00 in Almaty, the day after the newest test data


def _setup(replay, url: str, tmp_path: Path, yf_cache: str):  # noqa: ANN001, ANN202
    path = write_config(tmp_path / "config", replay.server.url_for("").rstrip("/"), url, yf_cache)
    config = load_config(path)
    store = Store(config.settings.store.url)
    store.init()
    store.sync_series(config.universe.series)
    return config, store


@pytest.fixture
def setup(replay, tmp_path: Path, yf_cache: str):  # noqa: ANN001, ANN201
    """Config and store on SQLite."""
    config, store = _setup(replay, f"sqlite:///{tmp_path / 'store.db'}", tmp_path, yf_cache)
    yield config, store
    store.dispose()


@pytest.fixture
def setup_any(replay, store_url: str, tmp_path: Path, yf_cache: str):  # noqa: ANN001, ANN201
    """Config and store, on SQLite and on PostgreSQL."""
    config, store = _setup(replay, store_url, tmp_path, yf_cache)
    yield config, store
    store.dispose()


def outcomes(summary) -> dict:  # noqa: ANN001
    return {o.series_id: o for o in summary.outcomes}


def run_rows(store: Store, run_id: str) -> dict[str, dict]:
    return {r["series_id"]: r for r in collection.runs_of(store, run_id)}


def test_first_run_fills_the_store_and_a_second_changes_nothing(setup_any, replay) -> None:  # noqa: ANN001
    config, store = setup_any
    first = collect(config, store, now=NOW, progress=None)
    got = outcomes(first)
    assert not first.failed, [(o.series_id, o.error) for o in first.failed]
    assert got["eq.kz.kase"].status == "skipped"  # disabled
    assert got["eq.us.spx"].new_rows == len(sp500()) == 5031
    assert got["eq.us.spx_file"].new_rows == 5031
    assert got["spread.us.baa"].new_rows == len(baa())
    assert got["macro.us.inflation"].last_date == date(2017, 12, 31)
    assert got["fx.usd_rub_ecb"].last_date == date(2019, 1, 4)
    frame = store.load_frame(["eq.us.spx", "eq.us.nasdaq", "fx.usd_cny_ecb"], start="2018-12-31", end="2018-12-31")
    assert frame.loc["2018-12-31", "eq.us.spx"] == pytest.approx(2506.850098)
    assert frame.loc["2018-12-31", "eq.us.nasdaq"] == pytest.approx(6635.279785)  # adj close
    assert len(replay.hits("eurofxref")) == 1  # one download for both ECB crosses

    rows = run_rows(store, first.run_id)
    assert {r["status"] for r in rows.values()} == {"ok"} and "eq.kz.kase" not in rows
    assert rows["eq.us.spx"]["rows"] == 5031 and rows["eq.us.spx"]["window_start"] is None
    assert rows["eq.us.spx"]["finished_at"] is not None

    second = collect(config, store, now=NOW, progress=None)
    assert second.new_rows == 0 and not second.failed
    rows2 = run_rows(store, second.run_id)
    assert rows2["eq.us.spx"]["window_start"] == date(2018, 12, 21)  # last date minus the overlap
    fred = [h[2] for h in replay.hits("fredgraph") if h[2]["id"] == "BAA"]
    assert fred[-1]["cosd"] == "2018-08-23"  # monthly: 100 days of overlap for revisions


def test_revisions_inside_the_overlap_are_picked_up(setup, replay) -> None:  # noqa: ANN001
    config, store = setup
    collect(config, store, series_ids=["spread.us.baa"], now=NOW, progress=None)
    revised = baa().copy()
    revised.iloc[-1] = 5.2
    replay.fred["BAA"] = revised
    again = collect(config, store, series_ids=["spread.us.baa"], now=NOW, progress=None)
    assert outcomes(again)["spread.us.baa"].new_rows == 1
    assert store.load_frame(["spread.us.baa"]).iloc[-1, 0] == 5.2


def test_faults_end_in_collection_runs_and_the_rest_is_stored(setup_any, replay) -> None:  # noqa: ANN001
    config, store = setup_any
    replay.fail("^GSPC", "always-429")               # rate limited for good
    replay.fail("BAA", "500")                        # 500 then success
    replay.fail("DCOILWTICO", "always-timeout")      # never answers in time
    replay.fail("WB:USA:FP.CPI.TOTL.ZG", "badjson")  # truncated JSON body
    replay.fail("ECB", "html")                       # a maintenance page instead of the zip
    summary = collect(config, store, now=NOW, progress=None)
    rows = run_rows(store, summary.run_id)

    assert rows["eq.us.spx"]["status"] == "failed" and "YFRateLimitError" in rows["eq.us.spx"]["error"]
    assert rows["eq.us.spx"]["attempts"] == 3
    assert rows["spread.us.baa"]["status"] == "ok" and rows["spread.us.baa"]["attempts"] == 2
    assert rows["cmd.wti_fred"]["status"] == "failed" and rows["cmd.wti_fred"]["attempts"] == 3
    assert rows["cmd.wti_fred"]["error"].startswith("timed out") and "gave up after 3 attempts" in rows["cmd.wti_fred"]["error"]
    assert "malformed JSON" in rows["macro.us.inflation"]["error"]
    for sid in ("fx.usd_cny_ecb", "fx.usd_rub_ecb"):
        assert rows[sid]["status"] == "failed" and "HTML page" in rows[sid]["error"]
    stored = store.last_dates()
    assert set(stored) == {"eq.us.nasdaq", "spread.us.baa", "eq.us.spx_file"}
    assert {o.series_id for o in summary.failed} == {"eq.us.spx", "cmd.wti_fred", "macro.us.inflation",
                                                     "fx.usd_cny_ecb", "fx.usd_rub_ecb"}


def test_delisted_and_empty_results(setup, replay) -> None:  # noqa: ANN001
    config, store = setup
    replay.fail("^IXIC", "always-delisted")
    replay.fail("BAA", "empty")
    summary = collect(config, store, series_ids=["eq.us.nasdaq", "spread.us.baa", "eq.us.spx"], now=NOW, progress=None)
    rows = run_rows(store, summary.run_id)
    assert rows["eq.us.nasdaq"]["status"] == "failed" and "delisted" in rows["eq.us.nasdaq"]["error"]
    assert rows["spread.us.baa"]["status"] == "empty" and "no observations" in rows["spread.us.baa"]["error"]
    assert rows["eq.us.spx"]["status"] == "ok" and rows["eq.us.spx"]["rows"] == 5031


def test_quality_flags_are_stored_and_dropped_values_never_reach_the_store(setup, replay) -> None:  # noqa: ANN001
    config, store = setup
    bad = sp500().copy()
    bad.loc["2018-06-01", "Close"] = -1.0  # an impossible print
    replay.charts["^GSPC"] = bad
    summary = collect(config, store, series_ids=["eq.us.spx"], now=NOW, progress=None)
    assert outcomes(summary)["eq.us.spx"].flags["non_positive"] == 1
    with store.engine.connect() as conn:
        flags = {(r.flag, r.date) for r in conn.execute(select(schema.quality_flags).where(
            schema.quality_flags.c.series_id == "eq.us.spx"))}
    assert ("non_positive", date(2018, 6, 1)) in flags and ("spike", date(2008, 10, 13)) in flags
    assert pd.Timestamp("2018-06-01") not in store.load_frame(["eq.us.spx"]).index


def test_staleness_at_collection_is_reported(setup) -> None:  # noqa: ANN001
    config, store = setup
    later = datetime(2019, 3, 1, tzinfo=UTC)
    summary = collect(config, store, series_ids=["eq.us.spx", "fx.usd_cny_ecb"], now=later, progress=None)
    got = outcomes(summary)
    assert got["eq.us.spx"].flags.get("stale") == 1  # Yahoo replay ends 2018-12-31
    assert "stale" not in got["fx.usd_cny_ecb"].flags


def test_filters_and_bad_requests(setup) -> None:  # noqa: ANN001
    config, store = setup
    summary = collect(config, store, sources=["ecb"], now=NOW, progress=None)
    assert {o.series_id for o in summary.outcomes} == {"fx.usd_cny_ecb", "fx.usd_rub_ecb"}
    with pytest.raises(UsageError, match="--series: unknown series 'eq.nowhere'"):
        collect(config, store, series_ids=["eq.nowhere"], now=NOW, progress=None)
    with pytest.raises(UsageError, match="--source: unknown source 'bloomberg'"):
        collect(config, store, sources=["bloomberg"], now=NOW, progress=None)
    since = collect(config, store, series_ids=["fx.usd_cny_ecb"], since=date(2018, 12, 1), now=NOW, progress=None)
    assert outcomes(since)["fx.usd_cny_ecb"].received == 22  # ECB fixings 2018-12-03 .. 2019-01-04


def test_bad_params_are_a_config_error_naming_the_series(setup, tmp_path: Path) -> None:  # noqa: ANN001
    config, store = setup
    uni = config.universe_path
    uni.write_text(uni.read_text().replace("params: {field: adj_close}", "params: {field: adjusted}"))
    bad = load_config(config.path)
    with pytest.raises(ConfigError) as err:
        collect(bad, store, now=NOW, progress=None)
    assert str(err.value).startswith("universe.yaml: series[1].params.field: Input should be 'close' or 'adj_close'")


def test_cycle_step_collect_uses_the_same_library(setup) -> None:  # noqa: ANN001
    config, store = setup
    ctx = Context.from_parts(config, store, run_id="cycle-1")
    summary = step_collect(ctx, series=["fx.usd_cny_ecb"])
    assert summary.run_id == "cycle-1" and outcomes(summary)["fx.usd_cny_ecb"].status == "ok"
    assert run_rows(store, "cycle-1")["fx.usd_cny_ecb"]["status"] == "ok"


def test_the_default_universe_fits_its_sources() -> None:
    """Every series shipped in config/universe.yaml (disabled ones too) has params its source accepts."""
    from sco_monitor.collect import check_params, make_sources

    from ..conftest import ROOT

    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    everything = list(config.universe.series)
    check_params(config, [s for s in everything if s.enabled], make_sources(config, [s.source for s in everything]))
    imoex = config.series["eq.ru.imoex"]
    assert imoex.source == "moex" and imoex.symbol == "IMOEX"  # paged ISS JSON, not the 100-row CSV
