"""The central banks' and MOEX ISS's real client code against their answers on a local server.

Tests named `..._recorded_payload` read real recorded responses (../shared/data/payloads); tests
named `..._documented_format_fixture` use answers built from the provider's documented format,
because no recorded response exists.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources import registry
from sco_monitor.sources.base import EmptyResult, Query, SourceError

from .central_banks import KEY_RATE_STEPS, NBRB_USD, imoex_history
from .providers import fast_settings


def fx(sid: str, source: str, symbol: str, country: str = "RUS", **params) -> Series:
    return Series(id=sid, name=sid, source=source, symbol=symbol, params=params, kind="fx", country=country,
                  frequency="B", unit="u", direction="up")


def make(name: str, banks, path: str = ""):  # noqa: ANN001, ANN202
    return registry.get(name)(fast_settings(banks.server.url_for(path).rstrip("/")))


def run(source, members, start: date | None, end: date) -> dict:  # noqa: ANN001
    """plan → extract → transform, as collect does."""
    out = {}
    for q in source.plan(list(members), {s.id: start for s in members}, end):
        out.update(source.transform(q, source.extract(q)))
    return out


# --- Bank of Russia -------------------------------------------------------------------------------
def test_cbr_daily_recorded_payload_rates_per_unit(banks) -> None:  # noqa: ANN001
    usd, kzt, uzs = fx("fx.usd_rub_cbr", "cbr", "R01235"), fx("fx.kzt_rub", "cbr", "R01335"), fx("fx.uzs_rub", "cbr", "UZS")
    got = run(make("cbr", banks), [usd, kzt, uzs], date(2022, 3, 15), date(2022, 3, 15))
    assert len(banks.hits("XML_daily")) == 1 and banks.hits("XML_daily")[0][1] == {"date_req": "15/03/2022"}
    assert got["fx.usd_rub_cbr"].values.to_dict() == {pd.Timestamp("2022-03-15"): 115.1963}
    assert got["fx.kzt_rub"].values.iloc[0] == pytest.approx(22.4903 / 100)  # Nominal 100
    assert got["fx.uzs_rub"].values.iloc[0] == pytest.approx(105.423 / 10000)  # by ISO code, Nominal 10000


def test_cbr_daily_unknown_currency_names_what_the_file_lists(banks) -> None:  # noqa: ANN001
    got = run(make("cbr", banks), [fx("fx.x", "cbr", "R99999")], date(2022, 3, 15), date(2022, 3, 15))
    err = got["fx.x"].error
    assert isinstance(err, EmptyResult) and "no currency R99999" in str(err) and "R01235" in str(err)


def test_cbr_dynamic_recorded_payload_full_history_redenominated(banks, shared_data) -> None:  # noqa: ANN001
    got = run(make("cbr", banks), [fx("fx.usd_rub_cbr", "cbr", "R01235")], None, date(2017, 3, 30))
    values = got["fx.usd_rub_cbr"].values
    args = banks.hits("XML_dynamic")[0][1]
    assert args == {"date_req1": "01/07/1992", "date_req2": "30/03/2017", "VAL_NM_RQ": "R01235"}
    assert len(values) == 5581 and values.index[0] == pd.Timestamp("1992-07-01")
    assert values["1992-07-01"] == pytest.approx(0.12526)  # 125,2600 old roubles
    assert values["2014-12-16"] == pytest.approx(58.3461, abs=1e-4)
    # the published CSV built from the same payload (rounded to 4 decimals) agrees day by day
    ref = pd.read_csv(shared_data / "fx" / "cbr-usdrub-daily-1992-2017.csv", index_col=0, parse_dates=True).iloc[:, 0]
    both = pd.concat([values, ref], axis=1, join="inner")
    assert len(both) == 5581 and (both.iloc[:, 0] - both.iloc[:, 1]).abs().max() < 6e-5


def test_cbr_dynamic_window_goes_to_the_provider(banks) -> None:  # noqa: ANN001
    got = run(make("cbr", banks), [fx("fx.usd_rub_cbr", "cbr", "R01235")], date(2014, 12, 1), date(2014, 12, 31))
    values = got["fx.usd_rub_cbr"].values
    assert banks.hits("XML_dynamic")[0][1]["date_req1"] == "01/12/2014"
    assert values.index.min() >= pd.Timestamp("2014-12-01") and values.index.max() <= pd.Timestamp("2014-12-31")
    assert 18 <= len(values) <= 23 and values.max() > 60


def test_cbr_html_or_broken_answer_is_one_clear_error(banks) -> None:  # noqa: ANN001
    # every answer is the page (a one-time fault was used up by a request that timed out on a loaded
    # machine, and the retry got the real file)
    banks.fail("CBR", "always-html")
    src = make("cbr", banks)
    q = Query((fx("fx.usd_rub_cbr", "cbr", "R01235"),), date(2014, 1, 1), date(2014, 2, 1))
    with pytest.raises(SourceError, match=r"CBR XML_dynamic R01235: expected <ValCurs>, got <html>"):
        src.transform(q, src.extract(q))


def test_cbr_key_rate_documented_format_fixture(banks) -> None:  # noqa: ANN001
    s = Series(id="rate.ru.key_rate", name="k", source="cbr_key_rate", kind="rate", country="RUS", frequency="B",
               unit="percent", direction="up")
    got = run(make("cbr_key_rate", banks), [s], None, date(2015, 1, 30))["rate.ru.key_rate"].values
    ((_, _, body),) = banks.hits("DailyInfo.asmx")
    assert b"<KeyRateXML" in body and b"<fromDate>2013-09-13</fromDate>" in body and b"<ToDate>2015-01-30</ToDate>" in body
    assert got.index[0] == pd.Timestamp("2013-09-13") and got.iloc[0] == 5.5
    assert got["2014-12-15"] == 10.5 and got["2014-12-16"] == 17.0
    assert got.index.is_monotonic_increasing and len(got) == len(pd.bdate_range("2013-09-13", "2015-01-30"))  # sent newest first
    assert dict(KEY_RATE_STEPS)["2014-12-16"] == got["2014-12-16"]


# --- National Bank of Kazakhstan -----------------------------------------------------------------
def test_nbk_rates_all_recorded_payload_divides_by_the_quantity(banks) -> None:  # noqa: ANN001
    members = [fx(f"fx.{c.lower()}_kzt", "nbk", c, "KAZ") for c in ("USD", "UZS", "IRR", "RUB", "LVL")]
    got = run(make("nbk", banks, "rss"), members, date(2016, 4, 18), date(2016, 4, 18))
    assert len(banks.hits("rates_all.xml")) == 1 and not banks.hits("get_rates")
    assert got["fx.usd_kzt"].values.to_dict() == {pd.Timestamp("2016-04-18"): 334.41}
    assert got["fx.uzs_kzt"].values.iloc[0] == pytest.approx(11.59 / 100)
    assert got["fx.irr_kzt"].values.iloc[0] == pytest.approx(11.08 / 1000)
    assert got["fx.rub_kzt"].values.iloc[0] == pytest.approx(5.06)
    assert got["fx.lvl_kzt"].values.index[0] == pd.Timestamp("2013-12-31")  # its own pubDate, not today's


def test_nbk_dated_requests_documented_format_fixture_one_per_business_day(banks) -> None:  # noqa: ANN001
    banks.fail("NBK:13.04.2016", "always-500")
    got = run(make("nbk", banks, "rss"), [fx("fx.usd_kzt_nbk", "nbk", "USD", "KAZ")], date(2016, 4, 11), date(2016, 4, 18))
    asked = [a["fdate"] for _, a, _ in banks.hits("get_rates.cfm")]
    assert [d for d in dict.fromkeys(asked)] == ["11.04.2016", "12.04.2016", "13.04.2016", "14.04.2016",
                                                  "15.04.2016", "18.04.2016"]
    fetched = got["fx.usd_kzt_nbk"]
    assert list(fetched.values.index.strftime("%d.%m.%Y")) == ["11.04.2016", "12.04.2016", "14.04.2016",
                                                             "15.04.2016", "18.04.2016"]
    assert (fetched.values == 334.41).all()
    assert fetched.warning and "1 of 6 daily file(s) failed" in fetched.warning and "2016-04-13" in fetched.warning


def test_nbk_every_day_failing_is_a_failure_not_an_empty_success(banks) -> None:  # noqa: ANN001
    banks.fail("NBK", "always-500")
    src = make("nbk", banks, "rss")
    (q,) = src.plan([fx("fx.usd_kzt_nbk", "nbk", "USD", "KAZ")], {"fx.usd_kzt_nbk": date(2016, 4, 14)}, date(2016, 4, 15))
    with pytest.raises(SourceError, match=r"NBK: every one of 2 daily request\(s\) failed; first: HTTP 500"):
        src.extract(q)


# --- Belarus, Uzbekistan, Kyrgyzstan, Tajikistan: documented formats -------------------------------
def test_nbrb_documented_format_fixture_dynamics_in_yearly_pieces(banks) -> None:  # noqa: ANN001
    s = fx("fx.usd_byn_nbrb", "nbrb", "431", "BLR", history_start="2022-06-01")
    got = run(make("nbrb", banks), [s], None, date(2024, 1, 15))["fx.usd_byn_nbrb"].values
    pieces = [(a["startdate"], a["enddate"]) for _, a, _ in banks.hits("/dynamics/431")]
    assert pieces == [("2022-06-01", "2023-05-31"), ("2023-06-01", "2024-01-15")]  # at most 365 days each
    assert got.to_dict() == {pd.Timestamp(d): v for d, v in NBRB_USD.items()}


def test_nbrb_documented_format_fixture_one_day(banks) -> None:  # noqa: ANN001
    got = run(make("nbrb", banks), [fx("fx.usd_byn_nbrb", "nbrb", "431", "BLR")], date(2024, 1, 15), date(2024, 1, 15))
    assert banks.hits("/exrates/rates/431")[0][1] == {"ondate": "2024-01-15"}
    assert got["fx.usd_byn_nbrb"].values.to_dict() == {pd.Timestamp("2024-01-15"): 3.1805}


def test_cbu_documented_format_fixture(banks) -> None:  # noqa: ANN001
    members = [fx("fx.usd_uzs_cbu", "cbu", "USD", "UZB"), fx("fx.krw_uzs", "cbu", "KRW", "UZB")]
    got = run(make("cbu", banks, "cbu"), members, date(2024, 1, 11), date(2024, 1, 15))
    assert [p for p, _, _ in banks.hits("/cbu/")] == [f"/cbu/all/2024-01-{d}/" for d in ("11", "12", "15")]
    usd = got["fx.usd_uzs_cbu"].values
    assert usd.to_dict() == {pd.Timestamp("2024-01-11"): 12355.67, pd.Timestamp("2024-01-12"): 12356.67,
                             pd.Timestamp("2024-01-15"): 12359.67}
    assert got["fx.krw_uzs"].values.iloc[-1] == pytest.approx((94.11 + 14) / 10)  # Nominal 10
    one = run(make("cbu", banks, "cbu"), members[:1], date(2024, 1, 15), date(2024, 1, 15))
    assert banks.hits("/cbu/")[-1][0] == "/cbu/" and one["fx.usd_uzs_cbu"].values.iloc[0] == pytest.approx(12359.67)


def test_nbkr_documented_format_fixture_today_only(banks) -> None:  # noqa: ANN001
    members = [fx("fx.usd_kgs_nbkr", "nbkr", "USD", "KGZ"), fx("fx.kzt_kgs", "nbkr", "KZT", "KGZ")]
    got = run(make("nbkr", banks), members, None, date(2024, 1, 15))
    assert len(banks.hits("/XML/daily.xml")) == 1  # no dated request exists: one file, whatever the window
    assert got["fx.usd_kgs_nbkr"].values.to_dict() == {pd.Timestamp("2024-01-15"): 89.45}
    assert got["fx.kzt_kgs"].values.iloc[0] == pytest.approx(0.1962)


def test_nbt_documented_format_fixture(banks) -> None:  # noqa: ANN001
    members = [fx("fx.usd_tjs_nbt", "nbt", "USD", "TJK"), fx("fx.uzs_tjs", "nbt", "UZS", "TJK")]
    got = run(make("nbt", banks, "nbt"), members, date(2024, 1, 12), date(2024, 1, 15))
    assert [a for _, a, _ in banks.hits("export_xml.php")] == [{"date": "2024-01-12", "export": "xmlout"},
                                                                 {"date": "2024-01-15", "export": "xmlout"}]
    assert got["fx.usd_tjs_nbt"].values.tolist() == [10.9318, 10.9318]
    assert got["fx.uzs_tjs"].values.iloc[0] == pytest.approx(0.8856 / 1000)


# --- MOEX ISS ----------------------------------------------------------------------------------
def test_moex_iss_pages_through_the_whole_history(banks, shared_data) -> None:  # noqa: ANN001
    s = Series(id="eq.ru.imoex", name="IMOEX", source="moex", symbol="IMOEX", params={"board": "SNDX"}, kind="equity",
               country="RUS", frequency="B", unit="index", direction="down")
    values = run(make("moex", banks), [s], None, date(2026, 6, 30))["eq.ru.imoex"].values
    ref = imoex_history(shared_data)
    pages = banks.hits("IMOEX.json")
    assert len(pages) == -(-len(ref) // 100) and pages[1][1]["start"] == "100"
    assert len(values) == len(ref) > 7000
    assert values.index[0] == ref["date"].iloc[0] and values.index[-1] == ref["date"].iloc[-1]
    assert values["2008-10-08"] == pytest.approx(637.87)


def test_moex_window_and_unknown_security(banks) -> None:  # noqa: ANN001
    s = Series(id="eq.ru.imoex", name="IMOEX", source="moex", symbol="IMOEX", kind="equity", country="RUS",
               frequency="B", unit="index", direction="down")
    values = run(make("moex", banks), [s], date(2014, 12, 1), date(2014, 12, 31))["eq.ru.imoex"].values
    assert banks.hits("IMOEX.json")[0][1]["from"] == "2014-12-01" and len(banks.hits("IMOEX.json")) == 1
    assert values.index.min() >= pd.Timestamp("2014-12-01") and len(values) < 25
    nothing = s.model_copy(update={"symbol": "NOSUCH"})
    with pytest.raises(EmptyResult, match="MOEX ISS NOSUCH: no history"):
        run(make("moex", banks), [nothing], None, date(2024, 1, 1))
