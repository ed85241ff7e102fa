"""nbrb: the National Bank of the Republic of Belarus's official rouble rates (BYN per one unit).

The documented JSON API at api.nbrb.by, by the bank's currency id (`symbol`, 431 for USD):
- `{base}/exrates/rates/{id}?ondate=YYYY-MM-DD`: one rate, `{"Cur_ID": 431, "Date": "2024-01-15T00:00:00",
  "Cur_Abbreviation": "USD", "Cur_Scale": 1, "Cur_OfficialRate": 3.1805}`, for a one-day window;
- `{base}/exrates/rates/dynamics/{id}?startdate=..&enddate=..`: `[{"Cur_ID", "Date", "Cur_OfficialRate"}]`,
  at most 365 days per request, so a range is fetched in yearly pieces.
Rates are per `Cur_Scale` units; the dynamics omit the scale, so `params.scale` gives it (1 for USD).
The bank gives a currency a new id when its parameters change (USD was 145 before July 2021):
`params.history_start` is the first day of the id's history.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.logs import get_logger
from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource
from sco_monitor.sources.official import number

log = get_logger("sco_monitor.sources.nbrb")
MAX_SPAN_DAYS = 365


class NbrbParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scale: int = Field(default=1, ge=1, description="Units the rate is quoted for (Cur_Scale).")
    history_start: date = Field(default=date(2021, 7, 9), description="First day of the currency id's history.")


class Source(HttpSource):
    name = "nbrb"
    default_base_url = "https://api.nbrb.by"
    Params = NbrbParams

    def pieces(self, query: Query) -> list[tuple[date, date]]:
        p: NbrbParams = self.params(query.series[0])
        start = max(query.start or p.history_start, p.history_start)
        out = []
        while start <= query.end:
            stop = min(start + timedelta(days=MAX_SPAN_DAYS - 1), query.end)
            out.append((start, stop))
            start = stop + timedelta(days=1)
        return out or [(query.end, query.end)]

    def extract(self, query: Query) -> list[tuple[tuple[date, date], bytes | SourceError]]:
        (series,) = query.series
        if query.start is not None and query.start >= query.end:
            url = f"{self.base_url}/exrates/rates/{series.symbol}"
            return [((query.end, query.end), self.fetch(url, {"ondate": query.end.isoformat()}).content)]
        out: list[tuple[tuple[date, date], bytes | SourceError]] = []
        for a, b in self.pieces(query):
            try:
                body = self.fetch(f"{self.base_url}/exrates/rates/dynamics/{series.symbol}",
                                  {"startdate": a.isoformat(), "enddate": b.isoformat()}).content
                out.append(((a, b), body))
            except SourceError as e:
                out.append(((a, b), e))
        if all(isinstance(b, SourceError) for _, b in out):
            raise out[0][1]  # type: ignore[misc]
        return out

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        p: NbrbParams = self.params(series)
        what = f"NBRB {series.symbol}"
        dates: list[date] = []
        values: list[float] = []
        problems = []
        for (a, b), body in raw:
            if isinstance(body, SourceError):
                problems.append(f"{a}..{b}: {body}")
                continue
            for day, value in parse_rates(body, f"{what} {a}..{b}", p.scale):
                dates.append(day)
                values.append(value)
        if not dates:
            raise EmptyResult(f"{what}: no rates between {query.start or p.history_start} and {query.end}")
        warning = f"{len(problems)} of {len(raw)} request(s) failed, e.g. {problems[0]}" if problems else None
        return {series.id: Fetched(values_frame(dates, values, what=what), warning=warning)}


def parse_rates(body: bytes, what: str, scale: int) -> list[tuple[date, float]]:
    """One rate object or a list of them → (date, BYN per one unit)."""
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: malformed JSON ({e}); truncated response?") from None
    rows = payload if isinstance(payload, list) else [payload]
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "Date" not in row or "Cur_OfficialRate" not in row:
            raise SourceError(f"{what}: entry {i} has no Date/Cur_OfficialRate")
        try:
            day = datetime.fromisoformat(str(row["Date"])).date()
        except ValueError:
            raise SourceError(f"{what}: cannot read the date {row['Date']!r}") from None
        units = row.get("Cur_Scale") or scale
        out.append((day, number(str(row["Cur_OfficialRate"]), f"{what} {day}") / float(units)))
    return out
