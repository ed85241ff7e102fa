"""cbr: the Bank of Russia's official rouble rates and its key rate.

Official rates (source `cbr`, symbol = the CBR's currency code, R01235 for USD):
- `{base}/scripts/XML_daily.asp?date_req=dd/mm/yyyy`: every currency on one day; used when the
  window is one day, one request for every cbr series;
- `{base}/scripts/XML_dynamic.asp?date_req1=..&date_req2=..&VAL_NM_RQ=R01235`: one currency over
  a range (the whole history from 1 July 1992 on a fresh install).
Both are windows-1251 XML with decimal commas; `Value` is roubles per `Nominal` units (KZT per
100, UZS per 10 000) and is divided by it. Values dated before 1 January 1998 are in pre-reform
roubles and are divided by 1000 (the redenomination), so the history is one unit throughout.

Key rate (source `cbr_key_rate`): the DailyInfo web service's documented SOAP call `KeyRateXML`
(`{base}/DailyInfoWebServ/DailyInfo.asmx`), answering `<KeyRate><KR><DT>..</DT><Rate>..</Rate></KR>`
per business day since the key rate's introduction on 13 September 2013.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from sco_monitor.catalog import Series
from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource
from sco_monitor.sources.official import child_text, day_of, local, number, xml_rates, xml_root

DEFAULT_BASE = "https://www.cbr.ru"
FIRST_DAY = date(1992, 7, 1)  # the first official rate in XML_dynamic
REDENOMINATION = date(1998, 1, 1)  # 1000 old roubles = 1 new rouble
KEY_RATE_FIRST_DAY = date(2013, 9, 13)


def _cbr_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def redenominate(day: date, value: float) -> float:
    """Pre-1998 values in new roubles."""
    return value / 1000.0 if day < REDENOMINATION else value


class Source(HttpSource):
    """Official RUB rates: XML_daily for a one-day window, XML_dynamic for a range."""

    name = "cbr"
    default_base_url = DEFAULT_BASE

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        one_day = [s for s in series if starts.get(s.id) is not None and starts[s.id] >= end]
        ranges = [Query((s,), starts.get(s.id), end) for s in series if s not in one_day]
        return ([Query(tuple(one_day), end, end)] if one_day else []) + ranges

    def extract(self, query: Query) -> tuple[str, bytes]:
        if query.start is not None and query.start >= query.end:
            return "daily", self.fetch(f"{self.base_url}/scripts/XML_daily.asp",
                                       {"date_req": _cbr_date(query.end)}).content
        (series,) = query.series
        params = {"date_req1": _cbr_date(max(query.start or FIRST_DAY, FIRST_DAY)),
                  "date_req2": _cbr_date(query.end), "VAL_NM_RQ": series.symbol}
        return "dynamic", self.fetch(f"{self.base_url}/scripts/XML_dynamic.asp", params).content

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        kind, body = raw
        if kind == "daily":
            rates = parse_daily(body, f"CBR XML_daily for {query.end:%d.%m.%Y}")
            out: dict[str, Fetched] = {}
            for s in query.series:
                got = rates.get(s.symbol)
                if got is None:
                    out[s.id] = Fetched.failed(EmptyResult(
                        f"CBR XML_daily for {query.end:%d.%m.%Y}: no currency {s.symbol}; "
                        f"it lists {', '.join(sorted(rates)) or 'none'}"))
                else:
                    out[s.id] = Fetched(values_frame([got[0]], [got[1]], what=f"CBR {s.symbol}"))
            return out
        (series,) = query.series
        what = f"CBR XML_dynamic {series.symbol}"
        values = parse_dynamic(body, what)
        if values.empty:
            raise EmptyResult(f"{what}: no records between {query.start or FIRST_DAY} and {query.end}")
        return {series.id: Fetched(values)}


def parse_daily(body: bytes, what: str) -> dict[str, tuple[date, float]]:
    """XML_daily → CBR code (R01235) and ISO code (USD) → (date, roubles per one unit)."""

    def rates(code: Callable[[ET.Element], str]) -> dict[str, tuple[date, float]]:
        got = xml_rates(body, what, roots=("ValCurs",), item="Valute", code=code,
                        day=lambda root, _: day_of(root.get("Date"), what))
        return {c: (r.day, redenominate(r.day, r.per_unit)) for c, r in got.items()}

    return {**rates(lambda el: child_text(el, "CharCode") or ""), **rates(lambda el: el.get("ID", ""))}


def parse_dynamic(body: bytes, what: str) -> Any:
    """XML_dynamic → roubles per one unit on each record's date (pre-1998 values redenominated)."""
    root = xml_root(body, what)
    if local(root.tag) != "ValCurs":
        raise SourceError(f"{what}: expected <ValCurs>, got <{local(root.tag)}>")
    dates: list[date] = []
    values: list[float] = []
    for rec in root:
        if local(rec.tag) != "Record":
            continue
        day = day_of(rec.get("Date"), what)
        value = number(child_text(rec, "Value"), f"{what} {day}")
        nominal = number(child_text(rec, "Nominal") or "1", f"{what} {day} Nominal")
        dates.append(day)
        values.append(redenominate(day, value / nominal))
    return values_frame(dates, values, what=what)


# --- the key rate ---------------------------------------------------------------------------------
SOAP_NS = "http://web.cbr.ru/"


def key_rate_envelope(start: date, end: date) -> bytes:
    """The documented SOAP 1.1 request of DailyInfo.KeyRateXML."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><KeyRateXML xmlns="{SOAP_NS}">'
        f"<fromDate>{escape(start.isoformat())}</fromDate><ToDate>{escape(end.isoformat())}</ToDate>"
        "</KeyRateXML></soap:Body></soap:Envelope>"
    ).encode()


class KeyRateSource(HttpSource):
    """The CBR key rate (percent a year) through the DailyInfo web service."""

    name = "cbr_key_rate"
    default_base_url = DEFAULT_BASE
    needs_symbol = False

    def extract(self, query: Query) -> bytes:
        start = max(query.start or KEY_RATE_FIRST_DAY, KEY_RATE_FIRST_DAY)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_NS}KeyRateXML"'}
        return self.http.post(f"{self.base_url}/DailyInfoWebServ/DailyInfo.asmx",
                              key_rate_envelope(start, query.end), headers).content

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        what = "CBR KeyRateXML"
        values = parse_key_rate(raw, what)
        if values.empty:
            raise EmptyResult(f"{what}: no key rate between {query.start or KEY_RATE_FIRST_DAY} and {query.end}")
        return {series.id: Fetched(values)}


def parse_key_rate(body: bytes, what: str) -> Any:
    """Every <KR><DT>2013-09-13T00:00:00+04:00</DT><Rate>5.50</Rate></KR> in the answer, by its date."""
    root = xml_root(body, what)
    fault = next((el for el in root.iter() if local(el.tag) == "faultstring"), None)
    if fault is not None:
        raise SourceError(f"{what}: SOAP fault: {fault.text}")
    dates: list[date] = []
    values: list[float] = []
    for kr in root.iter():
        if local(kr.tag) != "KR":
            continue
        dt = (child_text(kr, "DT") or "").strip()
        try:
            day = datetime.fromisoformat(dt).date()  # the date as the CBR wrote it, whatever its offset
        except ValueError:
            raise SourceError(f"{what}: cannot read the date {dt!r}") from None
        dates.append(day)
        values.append(number(child_text(kr, "Rate"), f"{what} {day}"))
    return values_frame(dates, values, what=what)
