"""bis_csv: the BIS bulk-download CSV files (`WS_*_csv_col.csv`), a file fallback for the BIS API.

The "csv_col" layout has one row per series and one column per period. Two real vintages:
- 2022: label columns only (`"M:Monthly","RU:Russia",...`) and the series key (`M:RU`) in the
  column headed `Time Period`, the last one before the periods;
- 2026: code and label columns side by side (`FREQ,Frequency,REF_AREA,Reference area,...`)
  and the key in a column headed `Series`.
`symbol` is the BIS key with colons (`M:RU`, `Q:CN:P:A:C`, `Q:RU:C:A:M:770:A`). One read serves
every series of the same file in a run. Values are dated at the end of their period.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.catalog import Series
from sco_monitor.sources.base import (
    EmptyResult,
    Fetched,
    Query,
    SourceError,
    resolve_path,
    values_frame,
)
from sco_monitor.sources.http import SharedFileSource, looks_like_html, where
from sco_monitor.sources.periods import period_ends

#: Headers of the key column in the layouts seen so far (newest first).
KEY_COLUMNS = ("Series", "Time Period", "KEY", "Key", "SERIES_CODE")
_PERIOD = re.compile(r"^\d{4}(-?(Q[1-4]|S[12]|M?\d{2}|W\d{2}|\d{2}-\d{2}))?$")
_KEY = re.compile(r"^[A-Z0-9]+([:.][A-Za-z0-9_.]+)+$")


class BisCsvParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="Local BIS csv_col file, relative to the universe folder.")
    url: str | None = Field(default=None, description="URL of a BIS bulk-download CSV (unzipped).")

    @model_validator(mode="after")
    def _one_location(self) -> BisCsvParams:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path or url")
        return self


class Source(SharedFileSource):
    name = "bis_csv"
    Params = BisCsvParams

    def location(self, series: Series) -> str:
        p: BisCsvParams = self.params(series)
        return p.url if p.url is not None else str(resolve_path(p.path or "", self.universe_dir))

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        loc = self.location(query.series[0])
        what = f"BIS file {where(loc) if '://' in loc else loc}"
        table = read_table(raw, what)
        out: dict[str, Fetched] = {}
        for s in query.series:
            try:
                out[s.id] = Fetched(series_of(table, s.symbol, what))
            except SourceError as e:
                out[s.id] = Fetched.failed(e)
        return out


class Table:
    """A BIS file in memory: series keys → row numbers, period end dates, and the text cells."""

    def __init__(self, keys: list[str], dates: pd.DatetimeIndex, cells: np.ndarray) -> None:
        self.rows = {k: i for i, k in enumerate(keys)}  # a repeated key keeps its last row
        self.dates, self.cells = dates, cells


def read_table(raw: bytes, what: str) -> Table:
    """Parse the file (the stdlib csv reader: a few rows of tens of thousands of columns)."""
    if looks_like_html(raw):
        raise SourceError(f"{what}: expected a BIS CSV, got an HTML page")
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise SourceError(f"{what}: cannot parse ({e})") from None
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise SourceError(f"{what}: no data rows")
    header = [h.strip() for h in rows[0]]
    periods = [i for i, h in enumerate(header) if _PERIOD.match(h)]
    labels = [i for i, h in enumerate(header) if not _PERIOD.match(h)]
    if not periods:
        raise SourceError(f"{what}: no period columns; is this a BIS csv_col file?")
    width = len(header)
    body = np.array([(r + [""] * width)[:width] for r in rows[1:]], dtype=object)

    def is_key_column(i: int) -> bool:
        return all(_KEY.match(str(v).strip()) for v in body[:, i])

    by_name = [i for name in KEY_COLUMNS for i in labels if header[i] == name]
    key_col = next((i for i in by_name if is_key_column(i)), None)
    if key_col is None:
        key_col = next((i for i in reversed(labels) if is_key_column(i)), None)
    if key_col is None:
        raise SourceError(f"{what}: no column of series keys (like M:RU) among {', '.join(header[i] for i in labels)}")
    keys = [str(v).strip() for v in body[:, key_col]]
    return Table(keys, period_ends([header[i] for i in periods], what), body[:, periods])


def series_of(table: pd.DataFrame, key: str, what: str) -> pd.Series:
    """One key's values (empty cells dropped), or an error naming close keys."""
    key = key.strip()
    if key not in table.rows:
        country = key.split(":")[1] if ":" in key else key
        near = [k for k in table.rows if f":{country}:" in f"{k}:"][:6]
        hint = f"; keys for {country}: {', '.join(near)}" if near else ""
        raise SourceError(f"{what}: no series {key!r}{hint}")
    cells = pd.Series(table.cells[table.rows[key]], index=table.dates).astype(str).str.strip()
    present = cells[(cells != "") & (cells != "NaN")]
    if present.empty:
        raise EmptyResult(f"{what}: series {key!r} has no values")
    values = pd.to_numeric(present, errors="coerce")
    if values.isna().any():
        bad = present[values.isna()]
        raise SourceError(f"{what}: series {key!r} has a non-number {bad.iloc[0]!r} for {bad.index[0].date()}")
    return values_frame(values.index, values.to_numpy(), what=f"{what} {key}")
