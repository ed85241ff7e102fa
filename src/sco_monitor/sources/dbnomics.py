"""dbnomics: the DBnomics aggregator (IMF DOT and IFS, WEO, national statistics), JSON API v22.

`GET {base}/v22/series/{provider}/{dataset}?dimensions={"REF_AREA":["KZ"],...}&observations=1
&offset=N&limit=1000`, paged until `series.num_found` docs are read. A series names its
`symbol` = the DBnomics series code (`M.KZ.TXG_FOB_USD.CN`) and `params` {provider, dataset,
dimensions}. Every series of one provider/dataset is fetched by ONE paged request whose
dimensions are the union of theirs (the answer may hold more series than asked for; each
series picks its own code out of it), so 90 bilateral IMF DOT pairs cost a few pages, not 90
requests. Series without dimensions are fetched by `GET {base}/v22/series?series_ids=...`.
`bilateral_series` writes the catalog entries of a reporter x partner matrix; `fetch_dataset`
reads a whole slice of a dataset outside the catalog. Values are dated at the end of their period.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.catalog import Series
from sco_monitor.config.settings import SourceSettings
from sco_monitor.sources.base import (
    EmptyResult,
    Fetched,
    Query,
    SourceError,
    plan_groups,
    values_frame,
)
from sco_monitor.sources.http import HttpSource, json_body, snippet
from sco_monitor.sources.periods import period_ends

#: The largest page the API serves.
PAGE_LIMIT = 1000
MAX_PAGES = 500
MISSING = ("NA", "", None)


class DbnomicsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, description="DBnomics provider code, e.g. IMF.")
    dataset: str = Field(min_length=1, description="Dataset code, e.g. DOT, IFS, CPI, WEO:latest.")
    dimensions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Dimension filters, e.g. {FREQ: [M], REF_AREA: [KZ]}; series of one dataset are fetched together.")


class Source(HttpSource):
    name = "dbnomics"
    default_base_url = "https://api.db.nomics.world"
    Params = DbnomicsParams

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        """One query per provider/dataset (and per kind of filter); the widest window asked for."""
        def group(s: Series) -> tuple[str, str, bool]:
            p: DbnomicsParams = self.params(s)
            return p.provider, p.dataset, bool(p.dimensions)

        return plan_groups(series, starts, end, group)

    def request(self, query: Query) -> tuple[str, dict[str, Any]]:
        """The URL and the parameters (without paging) of a query."""
        first: DbnomicsParams = self.params(query.series[0])
        if not first.dimensions:
            ids = ",".join(f"{first.provider}/{first.dataset}/{s.symbol}" for s in query.series)
            return f"{self.base_url}/v22/series", {"series_ids": ids, "observations": 1}
        union: dict[str, set[str]] = defaultdict(set)
        for s in query.series:
            for dim, codes in self.params(s).dimensions.items():
                union[dim].update(codes)
        dims = {dim: sorted(codes) for dim, codes in sorted(union.items())}
        return (f"{self.base_url}/v22/series/{first.provider}/{first.dataset}",
                {"dimensions": json.dumps(dims, separators=(",", ":")), "observations": 1})

    def extract(self, query: Query) -> list[bytes]:
        url, params = self.request(query)
        return fetch_pages(self, url, params, query.label)

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        first: DbnomicsParams = self.params(query.series[0])
        what = f"DBnomics {first.provider}/{first.dataset}"
        docs = read_docs(raw, what)
        out: dict[str, Fetched] = {}
        for s in query.series:
            doc = docs.get(s.symbol)
            if doc is None:
                out[s.id] = Fetched.failed(SourceError(f"{what}: no series {s.symbol!r} in the answer "
                                                       f"({len(docs)} series matched the dimensions)"))
                continue
            try:
                out[s.id] = Fetched(doc_values(doc, f"{what}/{s.symbol}"))
            except SourceError as e:
                out[s.id] = Fetched.failed(e)
        return out


def fetch_pages(source: HttpSource, url: str, params: dict[str, Any], label: str) -> list[bytes]:
    """Every page of a series listing (offset/limit), read until `num_found` docs are in."""
    pages: list[bytes] = []
    offset = 0
    for _ in range(MAX_PAGES):
        body = source.fetch(url, {**params, "offset": offset, "limit": PAGE_LIMIT}).content
        pages.append(body)
        listing = _listing(_payload(body, f"DBnomics {label} offset {offset}"), f"DBnomics {label}")
        got = len(listing.get("docs") or [])
        offset += got
        if got == 0 or offset >= int(listing.get("num_found") or 0):
            return pages
    raise SourceError(f"DBnomics {label}: more than {MAX_PAGES} pages; narrow the dimensions")


def _payload(body: bytes, what: str) -> dict[str, Any]:
    payload = json_body(body, what)
    if not isinstance(payload, dict):
        raise SourceError(f"{what}: unexpected JSON {snippet(body.decode('utf-8', 'replace'))}")
    return payload


def _listing(payload: dict[str, Any], what: str) -> dict[str, Any]:
    listing = payload.get("series")
    if not isinstance(listing, dict):
        errors = payload.get("errors") or payload.get("message") or "no series in the answer"
        raise SourceError(f"{what}: the API says {snippet(json.dumps(errors) if not isinstance(errors, str) else errors)}")
    return listing


def read_docs(pages: Iterable[bytes], what: str) -> dict[str, dict[str, Any]]:
    """series_code → its doc, over every page (a code seen twice keeps its last doc)."""
    docs: dict[str, dict[str, Any]] = {}
    for i, body in enumerate(pages, start=1):
        for doc in _listing(_payload(body, f"{what} page {i}"), what).get("docs") or []:
            docs[str(doc.get("series_code"))] = doc
    return docs


def doc_values(doc: dict[str, Any], what: str) -> pd.Series:
    """A doc's `period` and `value` lists as the standard value series ('NA' = missing)."""
    periods, values = doc.get("period"), doc.get("value")
    if not isinstance(periods, list) or not isinstance(values, list):
        raise SourceError(f"{what}: no observations in the answer; was observations=1 sent?")
    if len(periods) != len(values):
        raise SourceError(f"{what}: {len(periods)} periods but {len(values)} values")
    if not periods:
        raise EmptyResult(f"{what}: the series has no observations")
    clean = [None if v in MISSING else v for v in values]
    return values_frame(period_ends([str(p) for p in periods], what), clean, what=what)


def fetch_dataset(provider: str, dataset: str, dimensions: dict[str, list[str]], *,
                  settings: SourceSettings | None = None) -> dict[str, pd.Series]:
    """Every series of a dataset slice (series_code → values): for matrices built outside the catalog."""
    src = Source(settings)
    try:
        probe = Series(id="dbnomics.slice", name=f"{provider}/{dataset}", source="dbnomics", symbol="*",
                       params={"provider": provider, "dataset": dataset, "dimensions": dimensions},
                       kind="macro", country="WLD", frequency="A", unit="", direction="both")
        url, params = src.request(Query((probe,), None, date.today()))
        what = f"DBnomics {provider}/{dataset}"
        docs = read_docs(fetch_pages(src, url, params, what), what)
        return {code: doc_values(doc, f"{what}/{code}") for code, doc in docs.items() if doc.get("period")}
    finally:
        src.close()


def bilateral_series(*, provider: str, dataset: str, code: str, pairs: Iterable[tuple[str, str]],
                     dimensions: dict[str, str], id_prefix: str, name: str, **fields: Any) -> list[Series]:
    """Catalog entries for reporter x partner pairs of one dataset, fetched together.

    `code` and every value of `dimensions` are templates over {reporter} and {partner} (IMF
    country codes); `id_prefix` and `name` too. Example, IMF DOT exports in USD:
    `bilateral_series(provider="IMF", dataset="DOT", code="M.{reporter}.TXG_FOB_USD.{partner}",
    dimensions={"FREQ": "M", "REF_AREA": "{reporter}", "INDICATOR": "TXG_FOB_USD",
    "COUNTERPART_AREA": "{partner}"}, pairs=[("KZ", "CN"), ...], id_prefix="trade.{reporter}_{partner}",
    name="Exports {reporter} to {partner}", kind="macro", country="KAZ", frequency="M", ...)`;
    `fields` go to every Series (a `country` may be a template too).
    """
    out = []
    for reporter, partner in pairs:
        def fill(text: str, r: str = reporter, p: str = partner) -> str:
            return text.format(reporter=r, partner=p)

        extra = {k: fill(v) if isinstance(v, str) else v for k, v in fields.items()}
        out.append(Series(
            id=fill(id_prefix).lower(), name=fill(name), source="dbnomics", symbol=fill(code),
            params={"provider": provider, "dataset": dataset,
                    "dimensions": {dim: [fill(v)] for dim, v in dimensions.items()}}, **extra))
    return out
