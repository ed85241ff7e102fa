"""Delimited text → a value series, with pandas.read_csv doing the parsing.

Real files are messy: semicolons with decimal commas, `.` or `null` for missing values,
unnamed index columns, a BOM (even a mis-encoded one) in the header, a block-name line before
the header, newest-first rows, `YYYY-MM` dates, long files holding many instruments. The
options below cover them; errors name the column, the offending value and its line.
"""

from __future__ import annotations

import io
import warnings
from typing import Any, Literal

import pandas as pd
from pandas.tseries.api import guess_datetime_format
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.sources.base import EmptyResult, SourceError, values_frame

#: Missing-value markers on top of pandas' own ('', 'NA', 'N/A', 'null', 'NaN', ...).
EXTRA_NA = [".", "-", "--", "n.a.", "#N/A N/A"]
#: What a BOM looks like when a UTF-8 file was once decoded as cp1252 and saved again.
_BOMS = ("\ufeff", "ï»¿", "\u00ef\u00bb\u00bf")


class RowFilter(BaseModel):
    """Keep only the rows whose `column` equals `equals` (long files with many instruments)."""

    model_config = ConfigDict(extra="forbid")

    column: str | int = Field(description="Column name or 0-based position.")
    equals: str | int | float = Field(description="Value the column must have (compared as text).")


class CsvOptions(BaseModel):
    """How to read one delimited file."""

    model_config = ConfigDict(extra="forbid")

    date_column: str | int | None = Field(default=None, description="Date column (name or 0-based position); the first column when empty.")
    value_column: str | int | None = Field(default=None, description="Value column; the only other column when empty.")
    sep: str = Field(default=",", min_length=1, description="Field separator.")
    decimal: str = Field(default=".", min_length=1, max_length=1, description="Decimal mark.")
    thousands: str | None = Field(default=None, max_length=1, description="Thousands separator, if any.")
    date_format: str | None = Field(default=None, description="strftime format of the dates; ISO 8601 or inferred when empty.")
    dayfirst: bool = Field(default=False, description="Read ambiguous inferred dates day first.")
    na_values: list[str] = Field(default_factory=list, description="Extra missing-value markers.")
    encoding: str = Field(default="utf-8-sig", description="Text encoding.")
    skip_rows: int = Field(default=0, ge=0, description="Lines before the header to skip.")
    skip_footer: int = Field(default=0, ge=0, description="Lines at the end to skip.")
    invert: bool = Field(default=False, description="Store 1/x (e.g. USD per EUR → EUR per USD).")
    filter: RowFilter | None = Field(default=None, description="Row filter for long files.")

    @model_validator(mode="after")
    def _distinct_marks(self) -> "CsvOptions":
        # Equal marks only work when every value is quoted ("12.960,00"): say so by naming sep.
        if self.decimal == self.sep and "sep" not in self.model_fields_set:
            raise ValueError(f"decimal {self.decimal!r} equals the default sep: set sep explicitly "
                             "(equal marks need quoted values)")
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"thousands {self.thousands!r} cannot equal decimal")
        return self


def clean_name(name: Any) -> str:
    text = str(name).strip()
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom):]
    return text.strip().strip('"').strip()


def _resolve(columns: list[str], wanted: str | int, role: str, what: str) -> int:
    """Column position by name (exact, then case-insensitive) or by 0-based position."""
    if isinstance(wanted, int):
        if 0 <= wanted < len(columns):
            return wanted
        raise SourceError(f"{what}: {role} {wanted} is out of range; the file has {len(columns)} columns")
    target = clean_name(wanted)
    for i, col in enumerate(columns):
        if col == target:
            return i
    lowered = [c.lower() for c in columns]
    if lowered.count(target.lower()) == 1:
        return lowered.index(target.lower())
    shown = ", ".join(repr(c) for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
    raise SourceError(f"{what}: no {role} {wanted!r}; the columns are {shown}")


def read_values(data: bytes, opts: CsvOptions, what: str) -> pd.Series:
    """Parse delimited bytes into the validated value series of `values_frame`."""
    common: dict[str, Any] = {"sep": opts.sep, "encoding": opts.encoding, "skiprows": opts.skip_rows,
                              "skipinitialspace": True}
    engine: Literal["c", "python"] = "python" if opts.skip_footer or len(opts.sep) > 1 else "c"
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, engine=engine, **common)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise SourceError(f"{what}: cannot read the header: {_first_line(e)}") from None
    columns = [clean_name(c) for c in header.columns]
    if len(columns) < 2:
        raise SourceError(f"{what}: found {len(columns)} column(s) {columns!r} with sep={opts.sep!r}; "
                          "is the separator right?")
    date_pos = _resolve(columns, opts.date_column, "date_column", what) if opts.date_column is not None else 0
    if opts.value_column is not None:
        value_pos = _resolve(columns, opts.value_column, "value_column", what)
    else:
        others = [i for i, c in enumerate(columns) if i != date_pos and not c.lower().startswith("unnamed:")]
        if len(others) != 1:
            raise SourceError(f"{what}: set params.value_column; the file has columns {columns!r}")
        value_pos = others[0]
    filter_pos = _resolve(columns, opts.filter.column, "filter column", what) if opts.filter else None
    wanted = sorted({date_pos, value_pos} | ({filter_pos} if filter_pos is not None else set()))
    text_cols = {date_pos} | ({filter_pos} if filter_pos is not None else set())
    raw_names = list(header.columns)  # as pandas names them in the full read (BOM and all)
    try:
        frame = pd.read_csv(
            io.BytesIO(data), header=0, usecols=[raw_names[p] for p in wanted],
            dtype={raw_names[p]: str for p in text_cols if p != value_pos},
            decimal=opts.decimal, thousands=opts.thousands, na_values=EXTRA_NA + list(opts.na_values),
            keep_default_na=True, skipfooter=opts.skip_footer, engine=engine, skip_blank_lines=True, **common,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise SourceError(f"{what}: cannot parse: {_first_line(e)}") from None
    frame.columns = [columns[p] for p in wanted]  # usecols keeps file order
    date_col, value_col = columns[date_pos], columns[value_pos]
    rows = frame.index.to_numpy() + 1  # 1-based data rows, for error messages
    if opts.filter is not None and filter_pos is not None:
        keep = frame[columns[filter_pos]].astype(str).str.strip() == str(opts.filter.equals)
        frame, rows = frame[keep.to_numpy()], rows[keep.to_numpy()]
        if frame.empty:
            raise EmptyResult(f"{what}: no rows with {columns[filter_pos]} = {opts.filter.equals!r}")
    raw_dates = frame[date_col]
    present = raw_dates.notna()  # blank dates are NaN already
    frame, raw_dates, rows = frame[present.to_numpy()], raw_dates[present], rows[present.to_numpy()]
    dates = parse_dates(raw_dates, opts, f"{what}: column {date_col!r}", rows)
    values = frame[value_col]
    if values.dtype == object:
        numeric = pd.to_numeric(values.astype(str).str.strip().str.replace("\u00a0", ""), errors="coerce")
        bad = numeric.isna() & values.notna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise SourceError(f"{what}: column {value_col!r} has a non-number {values.iloc[i]!r} in data row "
                              f"{rows[i]}; set params.decimal/thousands or add it to params.na_values")
        values = numeric
    out = values_frame(dates, values.to_numpy(dtype=float), what=what)
    return 1.0 / out if opts.invert else out


def parse_dates(raw: pd.Series, opts: CsvOptions, what: str, rows: Any) -> pd.DatetimeIndex:
    """Strict date parsing: the given format, else ISO 8601, else a format inferred from the first value."""
    if raw.empty:
        return pd.DatetimeIndex([])
    fmt = opts.date_format
    if fmt is None:
        try:
            return pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601", cache=False))
        except (ValueError, TypeError):
            with warnings.catch_warnings():  # pandas warns when the guess contradicts `dayfirst`
                warnings.simplefilter("ignore", UserWarning)
                fmt = guess_datetime_format(str(raw.iloc[0]), dayfirst=opts.dayfirst)
            if fmt is None:
                raise SourceError(f"{what}: cannot tell the date format of {raw.iloc[0]!r} (data row {rows[0]}); "
                                  "set params.date_format, e.g. '%d.%m.%Y'") from None
    parsed = pd.to_datetime(raw, format=fmt, errors="coerce", cache=False)
    bad = parsed.isna()
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise SourceError(f"{what}: date {raw.iloc[i]!r} in data row {rows[i]} does not match {fmt!r}; "
                          "set params.date_format")
    return pd.DatetimeIndex(parsed)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
