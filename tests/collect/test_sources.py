"""Each source's real client code against recorded-format payloads on a local server."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources import registry
from sco_monitor.sources import worldbank as wb_module
from sco_monitor.sources.base import EmptyResult, Query, SourceError

from .providers import ECB_ZIP, baa, fast_settings, sp500, us_core_inflation, wti

END = date(2026, 11, 26)


def series(sid: str, source: str, symbol: str = "", kind: str = "equity", frequency: str = "B", **params) -> Series:
    return Series(id=sid, name=sid, source=source, symbol=symbol, params=params, kind=kind, country="USA",
                  frequency=frequency, unit="u", direction="up")


def run(source, *members: Series, start: date | None = None):  # noqa: ANN001, ANN202
    query = Query(tuple(members), start, END)
    return source.transform(query, source.extract(query))


def make(name: str, replay, tmp_path: Path | None = None, **over):  # noqa: ANN001, ANN202
    return registry.get(name)(fast_settings(replay.server.url_for("").rstrip("/"), **over), universe_dir=tmp_path)


# --- FRED ----------------------------------------------------------------------------------------
def test_fred_csv_full_history_keeps_missing_days_as_missing(replay) -> None:  # noqa: ANN001
    out = run(make("fred", replay), series("cmd.wti_fred", "fred", "DCOILWTICO", kind="commodity"))
    v = out["cmd.wti_fred"].values
    real = wti()
    assert len(v) == len(real) and v.isna().sum() == real.isna().sum() == 290
    assert v[pd.Timestamp("2008-07-03")] == real[pd.Timestamp("2008-07-03")] == 145.31


def test_fred_csv_window_goes_to_the_provider(replay) -> None:  # noqa: ANN001
    out = run(make("fred", replay), series("spread.baa", "fred", "BAA", kind="rate", frequency="M"),
              start=date(2018, 1, 1))
    assert out["spread.baa"].values.index[0] == pd.Timestamp("2018-01-01")
    assert replay.hits("fredgraph")[0][2]["cosd"] == "2018-01-01"
    assert out["spread.baa"].values.iloc[-1] == baa().iloc[-1] == 5.13


def test_fred_json_api_when_the_key_env_is_set(replay, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TEST_FRED_KEY", "k-123")
    src = make("fred", replay, api_key_env="TEST_FRED_KEY")
    out = run(src, series("cmd.wti_fred", "fred", "DCOILWTICO", kind="commodity"), start=date(2018, 12, 1))
    v = out["cmd.wti_fred"].values
    assert replay.hits("/fred/series/observations")[0][2]["api_key"] == "k-123"
    assert not replay.hits("fredgraph")
    assert v[pd.Timestamp("2018-12-28")] == 45.15
    assert v.isna().sum() == int(wti()["2018-12-01":].isna().sum()) == 4  # FRED "." days


def test_fred_api_error_message_never_shows_the_key(replay, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TEST_FRED_KEY", "k-secret")
    with pytest.raises(SourceError) as err:
        run(make("fred", replay, api_key_env="TEST_FRED_KEY"), series("x.y", "fred", "NOSUCH"))
    assert "The series does not exist" in str(err.value) and "k-secret" not in str(err.value)


def test_fred_without_the_env_var_uses_the_csv(replay, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("TEST_FRED_KEY", raising=False)
    run(make("fred", replay, api_key_env="TEST_FRED_KEY"), series("spread.baa", "fred", "BAA", kind="rate"))
    assert replay.hits("fredgraph") and not replay.hits("/fred/series/observations")


def test_fred_html_instead_of_csv_and_empty_answer(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "html")
    with pytest.raises(SourceError, match="expected CSV, got an HTML page"):
        run(make("fred", replay), series("spread.baa", "fred", "BAA", kind="rate"))
    replay.fail("BAA", "empty")
    with pytest.raises(EmptyResult, match="no observations"):
        run(make("fred", replay), series("spread.baa", "fred", "BAA", kind="rate"))


# --- World Bank --------------------------------------------------------------------------------------
def test_worldbank_pages_are_followed_and_dated_at_year_end(replay, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(wb_module, "PER_PAGE", 20)
    s = series("macro.us.inflation", "worldbank", "FP.CPI.TOTL.ZG", kind="macro", frequency="A", country="USA")
    v = run(make("worldbank", replay), s)[s.id].values
    real = us_core_inflation()
    pages = replay.hits("/indicator/")
    assert len(pages) == -(-len(real) // 20) >= 3
    assert [p[2]["page"] for p in pages] == [str(i) for i in range(1, len(pages) + 1)]
    assert len(v) == len(real)
    assert v[pd.Timestamp("2008-12-31")] == pytest.approx(real[2008])
    assert v.index.is_monotonic_increasing


def test_worldbank_window_and_errors(replay) -> None:  # noqa: ANN001
    s = series("macro.us.inflation", "worldbank", "FP.CPI.TOTL.ZG", kind="macro", frequency="A", country="USA")
    v = run(make("worldbank", replay), s, start=date(2015, 6, 1))[s.id].values
    assert list(v.index.year) == [2015, 2016, 2017]
    assert replay.hits("/indicator/")[0][2]["date"] == "2015:2026"
    bad = series("macro.us.nope", "worldbank", "NO.SUCH", kind="macro", frequency="A", country="USA")
    with pytest.raises(SourceError, match="Invalid value: The provided parameter value is not valid"):
        run(make("worldbank", replay), bad)
    replay.fail("WB:USA:FP.CPI.TOTL.ZG", "badjson")
    with pytest.raises(SourceError, match="malformed JSON"):
        run(make("worldbank", replay), s)
    replay.fail("WB:USA:FP.CPI.TOTL.ZG", "html")
    with pytest.raises(SourceError, match="expected JSON, got an HTML page"):
        run(make("worldbank", replay), s)
    replay.fail("WB:USA:FP.CPI.TOTL.ZG", "empty")
    with pytest.raises(EmptyResult):
        run(make("worldbank", replay), s)


# --- ECB -------------------------------------------------------------------------------------------
def ecb_rows() -> dict[str, dict[str, str]]:
    with zipfile.ZipFile(ECB_ZIP) as zf:
        text = zf.read("eurofxref-hist.csv").decode()
    return {row["Date"]: row for row in csv.DictReader(io.StringIO(text))}


def test_ecb_one_download_serves_every_cross(replay) -> None:  # noqa: ANN001
    src = make("ecb", replay)
    members = [series("fx.usd_cny_ecb", "ecb", "CNY", kind="fx"), series("fx.usd_rub_ecb", "ecb", "RUB", kind="fx"),
               series("fx.eur_inr", "ecb", "INR", kind="fx", quote="EUR")]
    (query,) = src.plan(members, {m.id: None for m in members}, END)
    out = src.transform(query, src.extract(query))
    assert len(replay.hits("eurofxref")) == 1
    rows = ecb_rows()
    day = "2015-08-11"
    assert out["fx.usd_cny_ecb"].values[pd.Timestamp(day)] == pytest.approx(float(rows[day]["CNY"]) / float(rows[day]["USD"]))
    assert out["fx.eur_inr"].values[pd.Timestamp(day)] == float(rows[day]["INR"])
    rub = out["fx.usd_rub_ecb"].values
    assert rub.index[-1] == pd.Timestamp("2022-03-01")  # the ECB suspended RUB on 1 March 2022


def test_ecb_local_path_and_unknown_currency(replay, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "ecb.zip").write_bytes(ECB_ZIP.read_bytes())
    src = make("ecb", replay, tmp_path)
    good = series("fx.usd_cny_ecb", "ecb", "CNY", kind="fx", path="ecb.zip")
    bad = series("fx.usd_xxx_ecb", "ecb", "XXX", kind="fx", path="ecb.zip")
    (query,) = src.plan([good, bad], {}, END)
    out = src.transform(query, src.extract(query))
    assert not replay.hits("eurofxref")
    assert len(out[good.id].values) > 5000 and out[good.id].error is None
    assert "no EUR/XXX rate" in str(out[bad.id].error)


def test_ecb_truncated_zip_is_a_clear_error(replay) -> None:  # noqa: ANN001
    replay.ecb_bytes = ECB_ZIP.read_bytes()[:5000]
    with pytest.raises(SourceError, match="broken zip"):
        run(make("ecb", replay), series("fx.usd_cny_ecb", "ecb", "CNY", kind="fx"))


# --- CSV ---------------------------------------------------------------------------------------------
def spx_close() -> pd.Series:
    return sp500()["Close"]


def test_csv_relative_path_resolves_against_the_universe_folder(replay, tmp_path: Path) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    data.mkdir()
    sp500().to_csv(data / "spx.csv")
    s = series("eq.us.spx", "csv", path="data/spx.csv", date_column="Date", value_column="Close")
    v = run(make("csv", replay, tmp_path), s)[s.id].values
    assert len(v) == len(spx_close()) and v.iloc[-1] == spx_close().iloc[-1]


def test_csv_moex_iss_style_block_line_semicolons_newest_first_from_a_url(replay, tmp_path: Path) -> None:  # noqa: ANN001
    close = spx_close().iloc[-100:]
    lines = ["history", "", "TRADEDATE;CLOSE"]
    lines += [f"{d:%Y-%m-%d};{v:.2f}" for d, v in close.iloc[::-1].items()]
    replay.server.expect_request("/iss/IMOEX.csv").respond_with_data(
        "\n".join(lines).encode("cp1251"), content_type="text/csv")
    s = series("eq.ru.imoex", "csv", url=replay.server.url_for("/iss/IMOEX.csv"), sep=";", skip_rows=1,
               date_column="TRADEDATE", value_column="CLOSE", encoding="cp1251")
    v = run(make("csv", replay, tmp_path), s)[s.id].values
    assert v.index.is_monotonic_increasing and len(v) == 100
    assert v.iloc[-1] == round(close.iloc[-1], 2)


def test_csv_decimal_comma_bom_null_filter_and_invert(replay, tmp_path: Path) -> None:  # noqa: ANN001
    close = spx_close().iloc[:50].copy()
    close.iloc[3] = float("nan")
    body = "\ufeffIndex;Date;Close\n" + "".join(
        f"{sym};{d:%d.%m.%Y};{'null' if pd.isna(v) else f'{v:.4f}'.replace('.', ',')}\n"
        for sym in ("OTHER", "^GSPC") for d, v in close.items())
    (tmp_path / "long.csv").write_text(body, encoding="utf-8")
    s = series("fx.inv", "csv", path="long.csv", sep=";", decimal=",", date_format="%d.%m.%Y",
               value_column="Close", date_column="Date", filter={"column": "Index", "equals": "^GSPC"}, invert=True)
    v = run(make("csv", replay, tmp_path), s)[s.id].values
    assert len(v) == 50 and v.isna().sum() == 1
    assert v.iloc[0] == pytest.approx(1 / round(close.iloc[0], 4))


def test_csv_errors_name_the_column_and_the_value(replay, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "a.csv").write_text("day,price\n2020-01-02,1.5\n2020-01-03,n/a!\n")
    src = make("csv", replay, tmp_path)
    with pytest.raises(SourceError, match=r"no value_column 'close'; the columns are 'day', 'price'"):
        run(src, series("a.b", "csv", path="a.csv", value_column="close"))
    with pytest.raises(SourceError, match=r"column 'price' has a non-number 'n/a!' in data row 2"):
        run(src, series("a.c", "csv", path="a.csv"))
    (tmp_path / "b.csv").write_text("day,price\n02/01/2020,1.5\n2020-01-03,1.6\n")
    with pytest.raises(SourceError, match=r"date '2020-01-03' in data row 2 does not match"):
        run(src, series("a.d", "csv", path="b.csv", date_format="%d/%m/%Y"))
    with pytest.raises(SourceError, match="cannot read"):
        run(src, series("a.e", "csv", path="missing.csv"))


def test_ecb_one_day_file_from_a_local_path(replay, tmp_path: Path) -> None:  # noqa: ANN001
    daily = ECB_ZIP.with_name("eurofxref.csv")  # the ECB's one-day file: "30 October 2026, 1.1172, ..."
    (tmp_path / "eurofxref.csv").write_bytes(daily.read_bytes())
    src = make("ecb", replay, tmp_path)
    s = series("fx.usd_cny_ecb", "ecb", "CNY", kind="fx", path="eurofxref.csv")
    v = run(src, s)[s.id].values
    day = next(iter(ecb_rows()))  # the history file's newest date is the same day
    assert list(v.index) == [pd.Timestamp(day)]
    assert v.iloc[0] == pytest.approx(float(ecb_rows()[day]["CNY"]) / float(ecb_rows()[day]["USD"]))
