"""Export of stored history as CSV or JSON."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.timeutil import to_date


def parse_date_option(value: str | None, option: str):  # noqa: ANN201 - date | None
    try:
        return to_date(value)
    except (ValueError, TypeError):
        raise UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def write_frame(frame: pd.DataFrame, fmt: str, out: Path | None) -> None:
    """CSV or JSON records to a file or stdout; dates as YYYY-MM-DD."""
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        text = frame.to_csv(index=False)
    else:
        records = json.loads(frame.to_json(orient="records", double_precision=15))
        text = json.dumps(records, indent=1) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--out: cannot write {out}: {e.strerror or e}") from None


def parse_range(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """--from / --to as dates; an inverted range is a usage error, not an empty export."""
    a, b = parse_date_option(start, "--from"), parse_date_option(end, "--to")
    if a is not None and b is not None and a > b:
        raise UsageError(f"--from {a} is after --to {b}")
    return a, b


def export_observations(
    ctx: Context, series: list[str], start: str | None, end: str | None, fmt: str, out: Path | None
) -> None:
    unknown = [s for s in series if s not in ctx.config.series]
    if unknown:
        raise UsageError(f"--series: unknown series {', '.join(map(repr, unknown))}")
    frame = ctx.store.load_long(series, *parse_range(start, end))
    write_frame(frame, fmt, out)
