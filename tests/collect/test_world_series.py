"""The world-economy series of the default universe collected through the real SDMX client from the
recorded specimens in ../shared/data/payloads/sdmx, served by a local server at the configured base URL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.config import load_config
from sco_monitor.sources import registry

from .official import OfficialReplay
from .providers import fast_settings
from .test_source_sdmx import fetch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def universe():  # noqa: ANN201 - {id: Series}
    return load_config(ROOT / "config" / "sco-monitor.yaml").series


@pytest.fixture
def official(replay_server, shared_data: Path):  # noqa: ANN001, ANN201 - OfficialReplay
    replay_server.clear()
    yield OfficialReplay(replay_server).install()
    replay_server.clear()


def test_the_universe_holds_the_world_economy(universe) -> None:  # noqa: ANN001
    world = {sid for sid, s in universe.items() if "world" in s.tags}
    assert {"macro.wld.gdp_growth", "macro.wld.inflation", "cmd.imf.all", "lead.us.cli", "lead.ea.cli"} <= world
    assert universe["macro.wld.gdp_growth"].params == {"country": "WLD"}
    assert {s.country for s in universe.values() if s.id.startswith("lead.") and s.enabled} >= {"USA", "CHN", "IND"}
    assert not universe["lead.ru.cli"].enabled  # the OECD stopped publishing Russia in 2022
    assert {s.params["flow"] for s in universe.values() if "weo" in s.tags} == {"IMF.RES,WEO,9.0.0"}


def test_a_universe_pcps_series_replays_the_recorded_imf_answer(official: OfficialReplay, universe) -> None:  # noqa: ANN001
    values = fetch(official, "imf", universe["cmd.imf.zinc"], date(2020, 1, 1), date(2021, 12, 31), "/imf")
    assert values.to_dict() == {pd.Timestamp("2021-01-31"): pytest.approx(2705.345)}
    ((path, args),) = official.hits("/imf/data/PCPS")
    assert path == "/imf/data/PCPS/M.W00.PZINC" and args == {"startPeriod": "2020-01", "endPeriod": "2021-12"}


def test_universe_weo_series_ask_the_recorded_query_shape(official: OfficialReplay, universe) -> None:  # noqa: ANN001
    """The recorded WEO answer is for SVK.NGDP_R.A: the universe's WEO series go to the same flow with
    their own key (a 404 here, since only the recorded query is served), and the recorded key parses."""
    s = universe["weo.ru.gdp_growth"]
    src = registry.get("imf")(fast_settings(official.url("/imf"), timeout=5))
    try:
        (q,) = src.plan([s], {s.id: None}, date(2025, 12, 31))
        with pytest.raises(Exception, match=r"/imf/data/IMF\.RES,WEO,9\.0\.0/RUS\.NGDP_RPCH\.A"):
            src.extract(q)  # the local server serves only the recorded key
    finally:
        src.close()
    recorded = s.model_copy(update={"symbol": "SVK.NGDP_R.A", "id": "weo.sk.gdp"})
    got = fetch(official, "imf", recorded, None, date(2025, 12, 31), "/imf")
    assert got.to_dict() == {pd.Timestamp("2018-12-31"): pytest.approx(94669000000.0)}
