"""nbt: the National Bank of Tajikistan's official somoni rates (TJS per one unit).

The documented XML export, one request per business day:
`{base}/export_xml.php?date=YYYY-MM-DD&export=xmlout` (base https://nbt.tj/ru/kurs) answers
`<ValCurs Date="15.01.2024" name="..."><Valute ID="840"><CharCode>USD</CharCode><Nominal>1</Nominal>
<Name>..</Name><Value>10.9318</Value></Valute>...`; values per `Nominal` units are divided by it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sco_monitor.sources.official import DailyFileSource, DayRate, child_text, day_of, xml_rates


class Source(DailyFileSource):
    name = "nbt"
    label = "NBT"
    default_base_url = "https://nbt.tj/ru/kurs"

    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        return f"{self.base_url}/export_xml.php", {"date": day.isoformat(), "export": "xmlout"}

    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        return parse_rates(body, what)


def parse_rates(body: bytes, what: str) -> dict[str, DayRate]:
    return xml_rates(body, what, roots=("ValCurs",), item="Valute", code=lambda el: child_text(el, "CharCode") or "",
                     day=lambda root, _: day_of(root.get("Date"), what, ("%d.%m.%Y", "%Y-%m-%d")))
