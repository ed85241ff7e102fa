"""worldbank: World Bank indicators API v2 (JSON, paged) for one country per series.

`{base}/v2/country/{country}/indicator/{symbol}?format=json&per_page=N&page=P&date=Y1:Y2`.
Values are dated at the end of their period (2023 → 2023-12-31, 2023Q2 → 2023-06-30,
2023M04 → 2023-04-30), so a publication lag counts from when the period is over.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource, json_body, snippet
from sco_monitor.sources.periods import period_end

PER_PAGE = 1000
MAX_PAGES = 200


class WorldBankParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str = Field(pattern=r"^[A-Za-z0-9]{2,3}$", description="ISO alpha-3 (or alpha-2) country code, e.g. KAZ.")


class Source(HttpSource):
    name = "worldbank"
    default_base_url = "https://api.worldbank.org"
    Params = WorldBankParams

    def extract(self, query: Query) -> list[bytes]:
        (series,) = query.series
        p: WorldBankParams = self.params(series)
        url = f"{self.base_url}/v2/country/{p.country}/indicator/{series.symbol}"
        params: dict[str, Any] = {"format": "json", "per_page": PER_PAGE}
        if query.start:
            params["date"] = f"{query.start.year}:{query.end.year}"
        pages: list[bytes] = []
        page, total = 1, 1
        while page <= total and page <= MAX_PAGES:
            body = self.fetch(url, {**params, "page": page}).content
            pages.append(body)
            meta, _ = _page(body, f"World Bank {series.symbol} {p.country} page {page}")
            total = int(meta.get("pages") or 0)
            page += 1
        return pages

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        p: WorldBankParams = self.params(series)
        what = f"World Bank {series.symbol} {p.country}"
        dates: list[Any] = []
        values: list[Any] = []
        for i, body in enumerate(raw, start=1):
            _, rows = _page(body, f"{what} page {i}")
            for row in rows:
                dates.append(period_end(str(row.get("date")), what))
                values.append(row.get("value"))
        if not dates:
            raise EmptyResult(f"{what}: no observations between {query.start or 'the start'} and {query.end}")
        return {series.id: Fetched(values_frame(dates, values, what=what))}


def _page(body: bytes, what: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The paging header and rows of a response, or a SourceError with the API's own message."""
    payload = json_body(body, what)
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and "message" in payload[0]:
        msgs = payload[0]["message"] or [{}]
        text = "; ".join(f"{m.get('key', '')}: {m.get('value', '')}".strip(": ") for m in msgs)
        raise SourceError(f"{what}: the API says {text}")
    if not (isinstance(payload, list) and len(payload) >= 1 and isinstance(payload[0], dict) and "pages" in payload[0]):
        raise SourceError(f"{what}: unexpected JSON {snippet(body.decode('utf-8', 'replace'))}")
    rows = payload[1] if len(payload) > 1 else None
    if int(payload[0].get("total") or 0) and not isinstance(rows, list):
        raise SourceError(f"{what}: JSON page without its observations")
    return payload[0], rows or []
