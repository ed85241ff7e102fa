"""SDMX REST web services (BIS, IMF, ECB, OECD, any agency sdmx1 knows) through the `sdmx1` library.

OpenBB's fetcher pattern: the query is turned into an SDMX REST request by sdmx1's own
`Client.get(..., dry_run=True)` against the agency's `Source` with its URL replaced by the
configured base URL; `extract` sends it through the shared HTTP policy (retries, rate limit)
and returns the bytes; `transform` parses them with `sdmx.read_sdmx` (SDMX-ML generic or
structure-specific, SDMX-JSON, SDMX-CSV) and picks the series whose key the catalog names.

One source per agency, so each has its own `sources.<name>.base_url`:

| source     | agency (sdmx1 id) | default base URL                          |
|------------|-------------------|-------------------------------------------|
| `bis`      | BIS               | https://stats.bis.org/api/v1              |
| `imf`      | IMF_DATA          | https://api.imf.org/external/sdmx/2.1     |
| `ecb_sdmx` | ECB               | https://data-api.ecb.europa.eu/service    |
| `oecd`     | OECD              | https://sdmx.oecd.org/public/rest         |
| `sdmx`     | `params.agency`   | that agency's URL in sdmx1                |

A series: `symbol` is the SDMX key (`M.RU`, `Q.CN.P.A.C`, `RUS.CPI._T.IX.M`), `params.flow`
the dataflow (`WS_CBPOL`, or `IMF.STA,CPI,5.0.0` with agency and version). Values are dated at
the end of their period (`sources/periods.py`).
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource, snippet
from sco_monitor.sources.periods import period_ends, period_label

#: Names an SDMX time dimension goes by.
TIME_DIMENSIONS = ("TIME_PERIOD", "TIME", "TIME_PERIOD_START")


class SdmxParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: str = Field(min_length=1, description="Dataflow id, e.g. WS_CBPOL, or 'AGENCY,ID,VERSION' (IMF.STA,CPI,5.0.0).")


class AnySdmxParams(SdmxParams):
    agency: str = Field(min_length=1, description="sdmx1 source id of the agency (BIS, IMF_DATA, ECB, OECD, ESTAT, ABS, ...).")


class SdmxSource(HttpSource):
    """One request per series: `{base}/data/{flow}/{key}?startPeriod=..&endPeriod=..`."""

    name: ClassVar[str] = "sdmx"
    agency: ClassVar[str | None] = None  # fixed by the per-agency subclasses
    Params: ClassVar[type[BaseModel]] = AnySdmxParams

    def agency_of(self, params: Any) -> str:
        return self.agency or params.agency

    def request(self, query: Query) -> tuple[str, dict[str, str]]:
        """The URL and headers sdmx1 builds for this query (no IO)."""
        import sdmx
        from sdmx.source import get_source

        (series,) = query.series
        p = self.params(series)
        agency = self.agency_of(p)
        try:
            source = copy.copy(get_source(agency))
        except KeyError:
            raise SourceError(f"SDMX agency {agency!r} is not known to sdmx1") from None
        if self.base_url:  # sources.<name>.base_url, or the agency's own URL
            source.url = self.base_url
        client = sdmx.Client()
        client.source = source
        params = {"endPeriod": period_label(query.end, series.frequency)}
        if query.start:
            params["startPeriod"] = period_label(query.start, series.frequency)
        req = client.get("data", p.flow, key=series.symbol, params=params, dry_run=True)
        headers = {k: v for k, v in req.headers.items() if k.lower() == "accept" and v != "*/*"}
        return str(req.url), headers

    def extract(self, query: Query) -> bytes:
        url, headers = self.request(query)
        return self.fetch(url, headers=headers or None).content

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        p = self.params(series)
        what = f"{self.agency_of(p)} {p.flow}/{series.symbol}"
        found = read_series(raw, what)
        if not found:
            raise EmptyResult(f"{what}: no observations between {query.start or 'the start'} and {query.end}")
        return {series.id: Fetched(pick(found, series.symbol, what))}


class BisSource(SdmxSource):
    """BIS statistics: WS_CBPOL (policy rates), WS_CREDIT_GAP, WS_TC, WS_EER, WS_DSR, ..."""

    name = "bis"
    default_base_url = "https://stats.bis.org/api/v1"  # as in sdmx1's sources.json (a test checks)
    agency = "BIS"
    Params = SdmxParams


class ImfSource(SdmxSource):
    """The IMF's SDMX 2.1 API (api.imf.org): CPI, IRFCL/IFS reserves, DOT/IMTS trade, ..."""

    name = "imf"
    default_base_url = "https://api.imf.org/external/sdmx/2.1"  # as in sdmx1's sources.json (a test checks)
    agency = "IMF_DATA"
    Params = SdmxParams


class EcbSdmxSource(SdmxSource):
    """The ECB Data Portal (any ECB dataflow; the `ecb` source reads the reference-rate files)."""

    name = "ecb_sdmx"
    default_base_url = "https://data-api.ecb.europa.eu/service"  # as in sdmx1's sources.json (a test checks)
    agency = "ECB"
    Params = SdmxParams


class OecdSource(SdmxSource):
    """OECD Data Explorer (sdmx.oecd.org): flows as 'OECD.SDD.TPS,DSD_PRICES@DF_PRICES_ALL,1.0'."""

    name = "oecd"
    default_base_url = "https://sdmx.oecd.org/public/rest"  # as in sdmx1's sources.json (a test checks)
    agency = "OECD"
    Params = SdmxParams


def read_series(raw: bytes, what: str) -> dict[tuple[tuple[str, str], ...], pd.Series]:
    """Every time series of an SDMX data message: its key (dimension, value) pairs → values.

    Parsed by sdmx1; structure-specific messages are read without their DSD, so attributes
    can appear among the key's values (matching therefore goes by position, see `pick`).
    """
    import sdmx
    from sdmx.message import DataMessage, ErrorMessage

    if not raw or not raw.strip():
        raise SourceError(f"{what}: empty response")
    if b"<html" in raw[:1024].lower():  # (an XML prolog alone is not HTML: SDMX-ML starts with one)
        raise SourceError(f"{what}: expected an SDMX message, got an HTML page: {snippet(raw.decode('utf-8', 'replace'))}")
    try:
        msg = sdmx.read_sdmx(io.BytesIO(raw))
    except Exception as e:  # noqa: BLE001 - sdmx1 raises many kinds; all mean "not readable"
        raise SourceError(f"{what}: cannot read the SDMX message ({type(e).__name__}: {snippet(str(e))})") from None
    if isinstance(msg, ErrorMessage):
        text = "; ".join(str(getattr(m, "text", m)) for m in (msg.footer.text if msg.footer else [])) or "error"
        raise SourceError(f"{what}: the service says {snippet(text)}")
    if not isinstance(msg, DataMessage):
        raise SourceError(f"{what}: expected a data message, got {type(msg).__name__}")
    groups: dict[tuple[tuple[str, str], ...], tuple[list[str], list[Any]]] = defaultdict(lambda: ([], []))
    for ds in msg.data:
        for obs in ds.obs:
            values = {k: str(v.value) for k, v in obs.key.values.items()}
            time_dim = next((t for t in TIME_DIMENSIONS if t in values), None)
            if time_dim is None:
                raise SourceError(f"{what}: the message has no time dimension (dimensions {', '.join(values)})")
            label = values.pop(time_dim)
            periods, obs_values = groups[tuple(values.items())]
            periods.append(label)
            obs_values.append(obs.value)
    return {key: values_frame(period_ends(periods, what), vals, what=what) for key, (periods, vals) in groups.items()}


def pick(found: dict[tuple[tuple[str, str], ...], pd.Series], key: str, what: str) -> pd.Series:
    """The one series of the answer the key names: the only one, or the one matching by position.

    Parts of a key are matched against the series' dimension values in order; an empty part
    (`M..A`) or one with alternatives (`M.RU+IN`) accepts any or any listed value.
    """
    if len(found) == 1:
        return next(iter(found.values()))
    parts = key.split(".") if key else []

    def matches(k: tuple[tuple[str, str], ...]) -> bool:
        vals = [v for _, v in k]
        return len(vals) >= len(parts) and all(not p or vals[i] in p.split("+") for i, p in enumerate(parts))

    hits = [k for k in found if matches(k)]
    if len(hits) == 1:
        return found[hits[0]]
    shown = ", ".join(".".join(v for _, v in k) for k in list(found)[:5])
    raise SourceError(f"{what}: the key matches {len(hits)} of the {len(found)} series in the answer ({shown}"
                      f"{' ...' if len(found) > 5 else ''}); give every dimension of the key")
