"""dbnomics on the recorded v22 `series` answer (CEPII CHELEM bilateral trade), served locally with paging."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources import registry
from sco_monitor.sources.dbnomics import bilateral_series, fetch_dataset

from .official import OfficialReplay
from .providers import fast_settings

DIMS = {"exporter": ["AES"], "importer": ["AES", "AFA"], "secgroup": ["CAT"]}


@pytest.fixture
def official(replay_server, shared_data: Path):  # noqa: ANN001, ANN201 - OfficialReplay
    replay_server.clear()
    yield OfficialReplay(replay_server, page_cap=100).install()
    replay_server.clear()


def chelem(sid: str, code: str, dims: dict | None = None) -> Series:
    params = {"provider": "CEPII", "dataset": "CHELEM-TRADE-CHEL"} | ({"dimensions": dims} if dims else {})
    return Series(id=sid, name=sid, source="dbnomics", symbol=code, params=params, kind="macro", country="WLD",
                  frequency="A", unit="million USD", direction="down")


def run(official: OfficialReplay, series: list[Series]) -> tuple[dict, list]:
    src = registry.get("dbnomics")(fast_settings(official.url()))
    try:
        queries = src.plan(series, {s.id: None for s in series}, date(2023, 6, 8))
        out: dict = {}
        for q in queries:
            out.update(src.transform(q, src.extract(q)))
        return out, queries
    finally:
        src.close()


def test_series_of_one_dataset_share_one_paged_request(official: OfficialReplay) -> None:
    wanted = [chelem("trade.t.aes_aes_ba", "AES.AES.CAT.BA", {"exporter": ["AES"], "importer": ["AES"], "secgroup": ["CAT"]}),
              chelem("trade.t.aes_afa_ba", "AES.AFA.CAT.BA", {"exporter": ["AES"], "importer": ["AFA"], "secgroup": ["CAT"]})]
    got, queries = run(official, wanted)
    assert len(queries) == 1
    pages = official.hits("/v22/series/CEPII/CHELEM-TRADE-CHEL")
    # the union of both filters matches the CAT docs of two importers: 146 of the 1,000, so two pages of 100
    assert [args["offset"] for _, args in pages] == ["0", "100"]
    assert pages[0][1]["dimensions"] == '{"exporter":["AES"],"importer":["AES","AFA"],"secgroup":["CAT"]}'
    assert pages[0][1]["observations"] == "1"
    first = got["trade.t.aes_aes_ba"].values
    assert first.index[0] == pd.Timestamp("1967-12-31") and first.iloc[0] == pytest.approx(4.4180715605)
    assert len(first) == 55 and first.index[-1] == pd.Timestamp("2021-12-31")
    assert got["trade.t.aes_afa_ba"].error is None and len(got["trade.t.aes_afa_ba"].values) == 55


def test_a_code_outside_the_answer_fails_alone(official: OfficialReplay) -> None:
    wanted = [chelem("trade.t.ok", "AES.AES.CAT.BA", DIMS), chelem("trade.t.missing", "AES.ZZZ.CAT.BA", DIMS)]
    got, _ = run(official, wanted)
    assert got["trade.t.ok"].error is None
    assert "no series 'AES.ZZZ.CAT.BA' in the answer (146 series matched the dimensions)" in str(got["trade.t.missing"].error)


def test_series_without_dimensions_go_by_series_ids(official: OfficialReplay) -> None:
    got, _ = run(official, [chelem("trade.t.afn", "AES.AFN.STN.B-BC")])
    values = got["trade.t.afn"].values
    assert values[pd.Timestamp("2021-12-31")] == pytest.approx(5.119529)
    ((_, args),) = official.hits("/v22/series")
    assert args["series_ids"] == "CEPII/CHELEM-TRADE-CHEL/AES.AFN.STN.B-BC"


def test_an_unknown_dataset_is_a_one_line_error(official: OfficialReplay) -> None:
    s = Series(id="trade.t.x", name="x", source="dbnomics", symbol="M.KZ.TXG_FOB_USD.CN",
               params={"provider": "IMF", "dataset": "DOT", "dimensions": {"REF_AREA": ["KZ"]}}, kind="macro",
               country="KAZ", frequency="M", unit="USD", direction="down")
    src = registry.get("dbnomics")(fast_settings(official.url()))
    (q,) = src.plan([s], {s.id: None}, date(2023, 1, 1))
    with pytest.raises(Exception, match=r"HTTP 404 NOT FOUND from 127\.0\.0\.1:\d+/v22/series/IMF/DOT: .*not found"):
        src.extract(q)


def test_bilateral_series_build_a_matrix_fetched_in_one_query(official: OfficialReplay) -> None:
    pairs = [("AES", "AES"), ("AES", "AFA"), ("AES", "AFN")]
    series = bilateral_series(provider="CEPII", dataset="CHELEM-TRADE-CHEL", code="{reporter}.{partner}.CAT.BA",
                              dimensions={"exporter": "{reporter}", "importer": "{partner}", "secgroup": "CAT"},
                              pairs=pairs, id_prefix="trade.{reporter}_{partner}.ba", name="{reporter} to {partner}",
                              kind="macro", country="WLD", frequency="A", unit="million USD", direction="down")
    assert [s.id for s in series] == ["trade.aes_aes.ba", "trade.aes_afa.ba", "trade.aes_afn.ba"]
    got, queries = run(official, series)
    assert len(queries) == 1 and all(f.error is None for f in got.values())
    assert got["trade.aes_afn.ba"].values.index[-1] == pd.Timestamp("2021-12-31")


def test_fetch_dataset_reads_a_whole_slice(official: OfficialReplay) -> None:
    found = fetch_dataset("CEPII", "CHELEM-TRADE-CHEL", {"importer": ["AFN"], "secgroup": ["STN"]},
                          settings=fast_settings(official.url()))
    assert len(found) == 4  # the STN products exported to AFN in the recorded answer
    assert found["AES.AFN.STN.B-BC"].iloc[-1] == pytest.approx(5.119529)
