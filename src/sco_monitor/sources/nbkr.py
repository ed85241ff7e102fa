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

from sco_monitor.sources.base import Query
from sco_monitor.sources.official import DailyFileSource, DayRate, day_of, xml_rates


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
    return xml_rates(body, what, roots=("CurrencyRates",), item="Currency", code=lambda el: el.get("ISOCode", ""),
                     day=lambda root, _: day_of(root.get("Date"), what))
