"""moex: Moscow Exchange ISS history (IMOEX, RTSI, RGBI and any other security), paged.

`{base}/iss/history/engines/{engine}/markets/{market}/securities/{symbol}.json?from=..&till=..&start=N`
answers the documented ISS JSON: a `history` block (`columns` and `data` rows: BOARDID, TRADEDATE,
CLOSE, ...) and a `history.cursor` block whose one row gives INDEX, TOTAL and PAGESIZE. The server
returns one page (100 rows) per request, so the source follows `start=` until INDEX + PAGESIZE
reaches TOTAL: a fresh install gets the whole history (IMOEX from 1997, RTSI from 1995), not the
last page.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource, looks_like_html


class MoexParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str = Field(default="stock", description="ISS engine (stock for indices and shares).")
    market: str = Field(default="index", description="ISS market (index, shares, bonds...).")
    board: str | None = Field(default=None, description="Keep rows of this BOARDID only (e.g. SNDX); all when empty.")
    column: str = Field(default="CLOSE", description="The history column stored as the value.")
    max_pages: int = Field(default=2000, ge=1, description="Safety stop for a server that never ends its cursor.")


class Source(HttpSource):
    name = "moex"
    default_base_url = "https://iss.moex.com"
    Params = MoexParams

    def url(self, query: Query) -> str:
        (s,) = query.series
        p: MoexParams = self.params(s)
        return f"{self.base_url}/iss/history/engines/{p.engine}/markets/{p.market}/securities/{s.symbol}.json"

    def extract(self, query: Query) -> list[bytes]:
        """Every page of the window, following history.cursor."""
        (s,) = query.series
        p: MoexParams = self.params(s)
        params: dict[str, Any] = {"iss.meta": "off", "till": query.end.isoformat()}
        if query.start is not None:
            params["from"] = query.start.isoformat()
        pages: list[bytes] = []
        start = 0
        for _ in range(p.max_pages):
            body = self.fetch(self.url(query), {**params, "start": start}).content
            pages.append(body)
            cursor = read_cursor(body, f"MOEX ISS {s.symbol} (start={start})")
            if cursor is None:
                break
            index, total, size = cursor
            start = index + size
            if size <= 0 or start >= total:
                break
        else:
            raise SourceError(f"MOEX ISS {s.symbol}: still paging after {p.max_pages} pages; raise params.max_pages")
        return pages

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (s,) = query.series
        p: MoexParams = self.params(s)
        what = f"MOEX ISS {s.symbol}"
        dates: list[str] = []
        values: list[Any] = []
        for i, body in enumerate(raw):
            for day, value in read_history(body, f"{what} page {i + 1}", p.column, p.board):
                dates.append(day)
                values.append(value)
        if not dates:
            raise EmptyResult(f"{what}: no history between {query.start or 'the start'} and {query.end}")
        return {s.id: Fetched(values_frame(dates, values, what=what))}


def _json(body: bytes, what: str) -> dict[str, Any]:
    if looks_like_html(body):
        raise SourceError(f"{what}: expected ISS JSON, got an HTML page")
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: malformed JSON ({e}); truncated response?") from None
    if not isinstance(doc, dict) or "history" not in doc:
        raise SourceError(f"{what}: no 'history' block; is this an ISS history answer?")
    return doc


def _block(doc: dict[str, Any], name: str, what: str) -> list[dict[str, Any]]:
    block = doc.get(name) or {}
    cols, data = block.get("columns"), block.get("data")
    if not isinstance(cols, list) or not isinstance(data, list):
        raise SourceError(f"{what}: block {name!r} lacks columns/data")
    return [dict(zip(cols, row)) for row in data]


def read_cursor(body: bytes, what: str) -> tuple[int, int, int] | None:
    """(INDEX, TOTAL, PAGESIZE) of the page, or None when the answer has no cursor (one page only)."""
    doc = _json(body, what)
    if "history.cursor" not in doc:
        return None
    rows = _block(doc, "history.cursor", what)
    if not rows:
        return None
    try:
        return int(rows[0]["INDEX"]), int(rows[0]["TOTAL"]), int(rows[0]["PAGESIZE"])
    except (KeyError, TypeError, ValueError):
        raise SourceError(f"{what}: history.cursor needs INDEX, TOTAL and PAGESIZE") from None


def read_history(body: bytes, what: str, column: str, board: str | None) -> list[tuple[str, Any]]:
    rows = _block(_json(body, what), "history", what)
    if rows and ("TRADEDATE" not in rows[0] or column not in rows[0]):
        raise SourceError(f"{what}: no TRADEDATE or {column} column; it has {', '.join(rows[0])}")
    return [(r["TRADEDATE"], r[column]) for r in rows if board is None or r.get("BOARDID") == board]
