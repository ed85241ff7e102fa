"""SDMX sources (sdmx1) on recorded specimens and a BIS message in its documented format, served locally."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources import registry
from sco_monitor.sources.base import EmptyResult, Query, SourceError
from sco_monitor.sources.sdmx_rest import pick, read_series

from .official import OfficialReplay, bis_data
from .providers import fast_settings


@pytest.fixture
def official(replay_server, shared_data: Path):  # noqa: ANN001, ANN201 - OfficialReplay
    replay_server.clear()
    yield OfficialReplay(replay_server).install()
    replay_server.clear()


def series(source: str, symbol: str, flow: str, frequency: str = "M", **params) -> Series:  # noqa: ANN003
    return Series(id="t.sdmx", name="t", source=source, symbol=symbol, params={"flow": flow, **params},
                  kind="macro", country="RUS", frequency=frequency, unit="u", direction="both")


def fetch(official: OfficialReplay, source: str, s: Series, start: date | None, end: date, prefix: str) -> pd.Series:
    src = registry.get(source)(fast_settings(official.url(prefix), timeout=5))
    try:
        (q,) = src.plan([s], {s.id: start}, end)
        return src.transform(q, src.extract(q))[s.id].values
    finally:
        src.close()


def test_ecb_exr_recorded_specimen_through_sdmx1(official: OfficialReplay) -> None:
    s = series("ecb_sdmx", "M.USD.EUR.SP00.A", "EXR")
    values = fetch(official, "ecb_sdmx", s, date(1999, 1, 1), date(2019, 12, 31), "/ecb")
    assert len(values) == 252
    assert values.index[0] == pd.Timestamp("1999-01-31")  # monthly values dated at the month's end
    assert values.iloc[0] == pytest.approx(1.16078)
    ((_, args),) = official.hits("/ecb/data/EXR")
    assert args == {"startPeriod": "1999-01", "endPeriod": "2019-12"}  # the window in the series' frequency


def test_imf_weo_structure_specific_specimen_without_its_dsd(official: OfficialReplay) -> None:
    s = series("imf", "SVK.NGDP_R.A", "IMF.RES,WEO,9.0.0", frequency="A")
    values = fetch(official, "imf", s, None, date(2025, 12, 31), "/imf")
    assert values.to_dict() == {pd.Timestamp("2018-12-31"): pytest.approx(94669000000.0)}
    ((path, args),) = official.hits("/imf/data/")
    assert path == "/imf/data/IMF.RES,WEO,9.0.0/SVK.NGDP_R.A" and "startPeriod" not in args


def test_imf_pcps_specimen(official: OfficialReplay) -> None:
    s = series("imf", "M.W00.PZINC", "PCPS")
    values = fetch(official, "imf", s, date(2020, 1, 1), date(2021, 12, 31), "/imf")
    assert values.to_dict() == {pd.Timestamp("2021-01-31"): pytest.approx(2705.345)}


def test_oecd_sdmx_json_without_a_time_dimension_is_a_clear_error(official: OfficialReplay) -> None:
    s = series("oecd", "all", "PART2")
    with pytest.raises(SourceError, match=r"OECD PART2/all: the message has no time dimension \(dimensions LOCATION"):
        fetch(official, "oecd", s, None, date(2021, 6, 30), "/oecd")


def test_bis_data_documented_format_fixture(official: OfficialReplay) -> None:
    """Russia's key rate from WS_CBPOL: 8.5 in January 2022, 20 after the 28 February hike."""
    s = series("bis", "M.RU", "WS_CBPOL")
    values = fetch(official, "bis", s, date(2021, 11, 1), date(2022, 3, 31), "/bis")
    assert values.to_dict() == {pd.Timestamp("2021-11-30"): 7.5, pd.Timestamp("2021-12-31"): 8.5,
                                pd.Timestamp("2022-01-31"): 8.5, pd.Timestamp("2022-02-28"): 20.0,
                                pd.Timestamp("2022-03-31"): 20.0}
    ((path, args),) = official.hits("/bis/data/")
    assert path == "/bis/data/WS_CBPOL/M.RU" and args == {"startPeriod": "2021-11", "endPeriod": "2022-03"}


def test_bis_data_documented_format_fixture_picks_the_keyed_series_of_several(shared_data: Path) -> None:  # skips without it
    found = read_series(bis_data(["RU", "IN", "CN"], "2022-01", "2022-03"), "BIS WS_CBPOL")
    assert len(found) == 3
    assert pick(found, "M.IN", "BIS").iloc[-1] == 4.0  # the RBI repo rate
    with pytest.raises(SourceError, match=r"the key matches 3 of the 3 series .*M\.RU"):
        pick(found, "M", "BIS WS_CBPOL")


def test_bis_unknown_country_is_an_error_naming_the_url(official: OfficialReplay) -> None:
    s = series("bis", "M.KZ", "WS_CBPOL")
    with pytest.raises(SourceError, match=r"HTTP 404 .* from 127\.0\.0\.1:\d+/bis/data/WS_CBPOL/M\.KZ"):
        fetch(official, "bis", s, None, date(2022, 3, 31), "/bis")


def test_bis_empty_window_is_empty_not_failed(official: OfficialReplay) -> None:
    s = series("bis", "M.RU", "WS_CBPOL")
    with pytest.raises(EmptyResult):
        fetch(official, "bis", s, date(2030, 1, 1), date(2030, 3, 31), "/bis")


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "empty response"),
    (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "got an HTML page"),
    (b"<?xml version='1.0'?><nothing/>", "cannot read the SDMX message"),
])
def test_unreadable_answers_are_one_line_errors(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as err:
        read_series(raw, "BIS WS_CBPOL/M.RU")
    assert "\n" not in str(err.value) and str(err.value).startswith("BIS WS_CBPOL/M.RU: ")


def test_generic_sdmx_source_needs_a_known_agency() -> None:
    src = registry.get("sdmx")()
    s = series("sdmx", "M.RU", "WS_CBPOL", agency="NOPE")
    with pytest.raises(SourceError, match="agency 'NOPE' is not known to sdmx1"):
        src.request(Query((s,), None, date(2022, 1, 1)))
    ok = series("sdmx", "M.RU", "WS_CBPOL", agency="BIS").model_copy(update={"id": "t.sdmx_bis"})
    url, _ = src.request(Query((ok,), None, date(2022, 1, 31)))
    assert url == "https://stats.bis.org/api/v1/data/WS_CBPOL/M.RU?endPeriod=2022-01"


@pytest.mark.parametrize("name", ["bis", "imf", "ecb_sdmx", "oecd"])
def test_default_base_urls_are_sdmx1s(name: str) -> None:
    """`doctor` probes default_base_url; it must be the URL sdmx1 itself would use for the agency."""
    from sdmx.source import get_source

    cls = registry.get(name)
    assert cls.default_base_url == get_source(cls.agency).url
