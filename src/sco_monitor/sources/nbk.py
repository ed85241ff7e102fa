"""nbk: the National Bank of Kazakhstan's official tenge rates (KZT per one unit of the currency).

- `{base}/rates_all.xml`: the RSS feed of today's rates (`<item><title>USD</title><pubDate>18.04.16</pubDate>
  <description>334.41</description><quant>1</quant>`), used when the window is one day;
- `{base}/get_rates.cfm?fdate=dd.mm.yyyy`: the rates set for a date (`<rates><date>..</date><item>...`),
  one request per business day, for the overlap of a daily run and the backfill of a fresh one.
`quant` is how many units the rate is for (UZS and KRW per 100, IRR per 1000): values are divided by it.
An item's own `pubDate` dates it (a withdrawn currency keeps the date of its last rate).
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
    name = "nbk"
    label = "NBK"
    default_base_url = "https://nationalbank.kz/rss"

    def days(self, query: Query) -> list[date]:
        return [query.end] if query.start == query.end else super().days(query)

    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        if single:
            return f"{self.base_url}/rates_all.xml", None
        return f"{self.base_url}/get_rates.cfm", {"fdate": day.strftime("%d.%m.%Y")}

    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        return parse_rates(body, what)


def parse_rates(body: bytes, what: str) -> dict[str, DayRate]:
    """Either format: the RSS feed (items dated by pubDate) or a dated file (one <date> for all)."""
    root = xml_root(body, what)
    if local(root.tag) not in ("rss", "rates"):
        raise SourceError(f"{what}: expected an NBK <rss> or <rates> document, got <{local(root.tag)}>")
    file_day = next((el.text for el in root.iter() if local(el.tag) == "date"), None)
    out: dict[str, DayRate] = {}
    for item in root.iter():
        if local(item.tag) != "item":
            continue
        code = (child_text(item, "title") or "").strip().upper()
        stamp = child_text(item, "pubDate")
        when = day_of(stamp, what, ("%d.%m.%y", "%d.%m.%Y")) if stamp else day_of(file_day, what)
        out[code] = DayRate(when, number(child_text(item, "description"), f"{what} {code}"),
                            number(child_text(item, "quant") or "1", f"{what} {code} quant"))
    return out
