"""csv: a local file or a URL, read with pandas.read_csv through the options in the series' params."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, resolve_path
from sco_monitor.sources.http import HttpSource, looks_like_html, where
from sco_monitor.sources.tabular import CsvOptions, read_values


class CsvParams(CsvOptions):
    """Where the file is, plus how to read it (`CsvOptions`)."""

    path: str | None = Field(default=None, description="Local file; relative paths resolve against the universe file's folder.")
    url: str | None = Field(default=None, description="http(s) URL of the file.")

    @model_validator(mode="after")
    def _one_location(self) -> "CsvParams":
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path or url")
        return self


class Source(HttpSource):
    """One file per series; rows outside the collection window are dropped by the collector."""

    name = "csv"
    Params = CsvParams
    needs_symbol = False

    def extract(self, query: Query) -> bytes:
        (series,) = query.series
        p: CsvParams = self.params(series)
        if p.url is not None:
            return self.fetch(p.url).content
        path = resolve_path(p.path or "", self.universe_dir)
        try:
            return path.read_bytes()
        except OSError as e:
            raise SourceError(f"cannot read {path}: {e.strerror or e}") from None

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        (series,) = query.series
        p: CsvParams = self.params(series)
        what = where(p.url) if p.url else str(resolve_path(p.path or "", self.universe_dir))
        if looks_like_html(raw):
            raise SourceError(f"{what}: expected CSV, got an HTML page")
        values = read_values(raw, p, what)
        if not values.notna().any():  # a file is read whole: nothing in it is `empty`, not ok with 0 rows
            raise EmptyResult(f"{what}: no observations (only a header, or every value missing)")
        return {series.id: Fetched(values)}
