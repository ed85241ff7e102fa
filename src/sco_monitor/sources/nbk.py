"""nbk: the National Bank of Kazakhstan's official tenge rates (KZT per one unit of the currency).

- `{base}/rates_all.xml`: the RSS feed of today's rates (`<item><title>USD</title><pubDate>18.04.16</pubDate>
  <description>334.41</description><quant>1</quant>`), used when the window is one day;
- `{base}/get_rates.cfm?fdate=dd.mm.yyyy`: the rates set for a date (`<rates><date>..</date><item>...`),
  one request per business day, for the overlap of a daily run and the backfill of a fresh one.
`quant` is how many units the rate is for (UZS and KRW per 100, IRR per 1000): values are divided by it.
An item's own `pubDate` dates it (a withdrawn currency keeps the date of its last rate).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from sco_monitor.sources.official import (
    DailyFileSource,
    DayRate,
    child_text,
    day_of,
    local,
    xml_rates,
)


class Source(DailyFileSource):
    name = "nbk"
    label = "NBK"
    default_base_url = "https://nationalbank.kz/rss"

    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        if single:
            return f"{self.base_url}/rates_all.xml", None
        return f"{self.base_url}/get_rates.cfm", {"fdate": day.strftime("%d.%m.%Y")}

    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        return parse_rates(body, what)


def parse_rates(body: bytes, what: str) -> dict[str, DayRate]:
    """Either format: the RSS feed (items dated by pubDate) or a dated file (one <date> for all)."""

    def day(root: ET.Element, item: ET.Element) -> date:
        stamp = child_text(item, "pubDate")
        if stamp:
            return day_of(stamp, what, ("%d.%m.%y", "%d.%m.%Y"))
        return day_of(next((el.text for el in root.iter() if local(el.tag) == "date"), None), what)

    return xml_rates(body, what, roots=("rss", "rates"), item="item", code=lambda el: child_text(el, "title") or "",
                     day=day, value="description", nominal="quant")
