"""ecb: ECB euro reference rates, turned into crosses against any quote currency (USD by default).

The ECB publishes EUR/XXX (units of XXX per euro) daily around 16:00 CET, as the history file
`eurofxref-hist.zip` and the one-day file `eurofxref.zip` (both a zipped CSV; the plain CSV
works too). USD/RUB = EUR/RUB / EUR/USD: `symbol` is the currency, `params.quote` the
denominator (EUR gives the ECB rate itself). One download serves every ecb series reading the
same file in a run.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.catalog import Series
from sco_monitor.sources.base import (
    Fetched,
    Query,
    SourceError,
    resolve_path,
    values_frame,
)
from sco_monitor.sources.http import SharedFileSource, looks_like_html, where

HIST_PATH = "/stats/eurofxref/eurofxref-hist.zip"


class EcbParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quote: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="Denominator currency; EUR = the ECB rate.")
    path: str | None = Field(default=None, description="Local copy of an ECB file (zip or csv), relative to the universe folder.")
    url: str | None = Field(default=None, description="URL of an ECB file; the history file under base_url when empty.")

    @model_validator(mode="after")
    def _one_location(self) -> "EcbParams":
        if self.path is not None and self.url is not None:
            raise ValueError("give at most one of path or url")
        return self


class Source(SharedFileSource):
    name = "ecb"
    default_base_url = "https://www.ecb.europa.eu"
    Params = EcbParams

    def location(self, series: Series) -> str:
        p: EcbParams = self.params(series)
        if p.path is not None:
            return str(resolve_path(p.path, self.universe_dir))
        return p.url or f"{self.base_url}{HIST_PATH}"

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        loc = self.location(query.series[0])
        what = f"ECB rates ({where(loc) if '://' in loc else loc})"
        rates = read_rates(raw, what)
        out: dict[str, Fetched] = {}
        for s in query.series:
            p: EcbParams = self.params(s)
            try:
                out[s.id] = Fetched(cross(rates, s.symbol.upper(), p.quote, what))
            except SourceError as e:
                out[s.id] = Fetched.failed(e)
        return out


def read_rates(raw: bytes, what: str) -> pd.DataFrame:
    """The ECB CSV (zipped or not) as a frame of EUR/XXX rates on a sorted DatetimeIndex."""
    data = raw
    if raw[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
                if not names:
                    raise SourceError(f"{what}: the zip holds no CSV file")
                data = zf.read(names[0])
        except zipfile.BadZipFile as e:
            raise SourceError(f"{what}: broken zip ({e}); truncated download?") from None
    elif looks_like_html(raw):
        raise SourceError(f"{what}: expected the ECB zip or CSV, got an HTML page")
    try:
        frame = pd.read_csv(io.BytesIO(data), na_values=["N/A"], skipinitialspace=True, dtype={"Date": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise SourceError(f"{what}: cannot parse ({str(e).strip().splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if "Date" not in frame.columns:
        raise SourceError(f"{what}: no Date column; is this an ECB reference-rate file?")
    frame = frame.loc[:, [c for c in frame.columns if c and not c.startswith("Unnamed")]]
    raw_dates = frame.pop("Date").astype(str).str.strip()
    try:
        dates = pd.to_datetime(raw_dates, format="ISO8601")
    except ValueError:
        dates = pd.to_datetime(raw_dates, format="%d %B %Y", errors="coerce")  # the one-day file
        if dates.isna().any():
            raise SourceError(f"{what}: cannot read the date {raw_dates[dates.isna()].iloc[0]!r}") from None
    frame.index = pd.DatetimeIndex(dates, name="date")
    return frame.apply(pd.to_numeric, errors="coerce").sort_index()


def cross(rates: pd.DataFrame, currency: str, quote: str, what: str) -> pd.Series:
    """Units of `currency` per one `quote`: (EUR/currency) / (EUR/quote)."""

    def leg(code: str) -> pd.Series:
        if code == "EUR":
            return pd.Series(1.0, index=rates.index)
        if code not in rates.columns:
            raise SourceError(f"{what}: no EUR/{code} rate; the file has {', '.join(rates.columns)}")
        return rates[code]

    values = (leg(currency) / leg(quote)).dropna()
    return values_frame(values.index, values.to_numpy(), what=f"{what} {currency}/{quote}")
