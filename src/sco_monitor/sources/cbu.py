"""cbu: the Central Bank of Uzbekistan's official sum rates (UZS per one unit of the currency).

The documented JSON archive (`{base}` = https://cbu.uz/ru/arkhiv-kursov-valyut/json):
- `{base}/`: today's rates of every currency;
- `{base}/all/YYYY-MM-DD/`: the rates set for a date, one request per business day.
Each answer is a list of `{"Ccy": "USD", "Nominal": "1", "Rate": "12650.50", "Date": "15.01.2024", ...}`;
`Rate` is per `Nominal` units and is divided by it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sco_monitor.sources.base import SourceError
from sco_monitor.sources.official import DailyFileSource, DayRate, day_of, number


class Source(DailyFileSource):
    name = "cbu"
    label = "CBU"
    default_base_url = "https://cbu.uz/ru/arkhiv-kursov-valyut/json"

    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        return (f"{self.base_url}/", None) if single else (f"{self.base_url}/all/{day.isoformat()}/", None)

    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        return parse_rates(body, what)


def parse_rates(body: bytes, what: str) -> dict[str, DayRate]:
    try:
        rows = json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: malformed JSON ({e}); truncated response?") from None
    if not isinstance(rows, list):
        raise SourceError(f"{what}: expected a JSON list of rates, got {type(rows).__name__}")
    out: dict[str, DayRate] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "Ccy" not in row or "Rate" not in row:
            raise SourceError(f"{what}: entry {i} has no Ccy/Rate")
        code = str(row["Ccy"]).upper()
        out[code] = DayRate(day_of(row.get("Date"), f"{what} {code}"), number(str(row["Rate"]), f"{what} {code}"),
                            number(str(row.get("Nominal") or "1"), f"{what} {code} Nominal"))
    return out
