"""fred: FRED series by id, from the public CSV download or, with an API key, the JSON API.

CSV: `{base}/graph/fredgraph.csv?id=ID&cosd=START&coed=END` (no key needed; `.` = missing).
JSON: `{base}/fred/series/observations?series_id=ID&api_key=...&file_type=json`, used when
`sources.fred.api_key_env` names an env variable that is set. With `base_url` set, both paths
hang off it; by default they go to fred.stlouisfed.org and api.stlouisfed.org.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource, looks_like_html, snippet
from sco_monitor.sources.tabular import CsvOptions, read_values

CSV_BASE = "https://fred.stlouisfed.org"
API_BASE = "https://api.stlouisfed.org"
_CSV = CsvOptions(date_column=0, value_column=1)


class Source(HttpSource):
    """One request per series; the window goes to the provider (cosd/coed or observation_start/end)."""

    name = "fred"
    default_base_url = CSV_BASE

    def api_key(self) -> str | None:
        env = self.settings.api_key_env
        return os.environ.get(env) or None if env else None

    def extract(self, query: Query) -> tuple[str, bytes]:
        (series,) = query.series
        key = self.api_key()
        if key:
            base = (self.settings.base_url or API_BASE).rstrip("/")
            params: dict[str, Any] = {"series_id": series.symbol, "api_key": key, "file_type": "json",
                                      "observation_end": query.end.isoformat()}
            if query.start:
                params["observation_start"] = query.start.isoformat()
            return "json", self.fetch(f"{base}/fred/series/observations", params).content
        params = {"id": series.symbol, "coed": query.end.isoformat()}
        if query.start:
            params["cosd"] = query.start.isoformat()
        return "csv", self.fetch(f"{self.base_url}/graph/fredgraph.csv", params).content

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        kind, body = raw
        what = f"FRED {series.symbol}"
        if looks_like_html(body):
            raise SourceError(f"{what}: expected {kind.upper()}, got an HTML page: {snippet(body.decode('utf-8', 'replace'))}")
        values = parse_json(body, what) if kind == "json" else read_values(body, _CSV, what)
        if values.empty:
            raise EmptyResult(f"{what}: no observations between {query.start or 'the start'} and {query.end}")
        return {series.id: Fetched(values)}


def parse_json(body: bytes, what: str) -> Any:
    """The API's {"observations": [{"date", "value"}]} payload ('.' = missing)."""
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: malformed JSON ({e}); truncated response?") from None
    if not isinstance(payload, dict) or "observations" not in payload:
        msg = payload.get("error_message") if isinstance(payload, dict) else None
        raise SourceError(f"{what}: {msg or 'unexpected JSON without observations'}")
    obs = payload["observations"] or []
    dates = [o.get("date") for o in obs]
    values = [None if o.get("value") in (".", "", None) else o.get("value") for o in obs]
    return values_frame(dates, values, what=what)
