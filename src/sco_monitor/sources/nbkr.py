"""nbkr: the National Bank of the Kyrgyz Republic's official som rates (KGS per one unit).

The bank publishes one documented XML file of today's rates, `{base}/XML/daily.xml`:
`<CurrencyRates Name="Daily Exchange Rates" Date="15.01.2024"><Currency ISOCode="USD">
<Nominal>1</Nominal><Value>89,4500</Value></Currency>...`. There is no dated request, so
every run fetches that one file whatever its window: the history grows by a day per run and
the market quote (the series' fallback) stands in for the days before.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sco_monitor.sources.base import Query, SourceError
from sco_monitor.sources.official import (
    DailyFileSource,
    DayRate,
    child_text,
    day_of,
    local,
    number,
    xml_root,
)


class Source(DailyFileSource):
    name = "nbkr"
    label = "NBKR"
    default_base_url = "https://www.nbkr.kg"

    def days(self, query: Query) -> list[date]:
        return [query.end]

    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        return f"{self.base_url}/XML/daily.xml", None

    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        return parse_rates(body, "NBKR daily.xml")


def parse_rates(body: bytes, what: str) -> dict[str, DayRate]:
    root = xml_root(body, what)
    if local(root.tag) != "CurrencyRates":
        raise SourceError(f"{what}: expected <CurrencyRates>, got <{local(root.tag)}>")
    day = day_of(root.get("Date"), what)
    out: dict[str, DayRate] = {}
    for cur in root:
        if local(cur.tag) != "Currency":
            continue
        code = (cur.get("ISOCode") or "").upper()
        out[code] = DayRate(day, number(child_text(cur, "Value"), f"{what} {code}"),
                            number(child_text(cur, "Nominal") or "1", f"{what} {code} Nominal"))
    return out
