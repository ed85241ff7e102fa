"""The source contract, in the style of OpenBB Platform fetchers: query → extract → transform.

- `plan` turns series and their windows into queries (one per series, or batches where the
  provider serves several series in one request);
- `extract` is the only IO: it returns the provider's raw payload for a query;
- `transform` is pure: raw payload → one validated value series per series id, or a
  `SourceError` for the series that failed inside an otherwise good answer.

A source module exposes `Source` (see `sources/__init__.py`); its `Params` model validates the
series' `params:` in universe.yaml.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from sco_monitor.catalog import Series
from sco_monitor.config.settings import SourceSettings


class SourceError(Exception):
    """A provider failed for a series or a whole query; the message says what and where."""

    status = "failed"

    def __init__(self, message: str, *, retryable: bool = False, attempts: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.attempts = attempts


class EmptyResult(SourceError):
    """The provider answered, but with no observations for the window."""

    status = "empty"


class NoParams(BaseModel):
    """Sources without options reject any `params:` key."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Query:
    """What one `extract` call fetches: some series of one source over one window."""

    series: tuple[Series, ...]
    start: date | None  # inclusive; None = the provider's whole history
    end: date  # inclusive

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.series]

    @property
    def label(self) -> str:
        symbols = [s.symbol or s.id for s in self.series]
        return symbols[0] if len(symbols) == 1 else f"{symbols[0]} +{len(symbols) - 1}"


@dataclass(frozen=True)
class Fetched:
    """A transform's answer for one series: values, or the error that explains their absence."""

    values: pd.Series
    error: SourceError | None = None
    attempts: int | None = None  # set by sources that know the cost per series (yahoo)
    warning: str | None = None  # good values, but part of the work failed: the outcome is 'partial'

    @classmethod
    def failed(cls, error: SourceError, attempts: int | None = None) -> "Fetched":
        return cls(values=empty_values(), error=error, attempts=attempts)


def empty_values() -> pd.Series:
    return pd.Series([], index=pd.DatetimeIndex([], name="date"), dtype=float, name="value")


def values_frame(dates: Any, values: Any, *, what: str) -> pd.Series:
    """The validated shape every transform returns: float values on a naive, sorted DatetimeIndex.

    Duplicate dates are kept (quality checks flag them and keep the last); NaN means missing.
    """
    if isinstance(dates, pd.DatetimeIndex) or getattr(getattr(dates, "dtype", None), "kind", "") == "M":
        idx = pd.DatetimeIndex(dates)  # already parsed: skip to_datetime's per-element cache probe
    else:
        idx = pd.DatetimeIndex(pd.to_datetime(dates, cache=False))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    if idx.hasnans:
        raise SourceError(f"{what}: {int(idx.isna().sum())} observation(s) without a date")
    vals = pd.to_numeric(pd.Series(np.asarray(values), copy=False), errors="coerce").to_numpy(dtype=float)
    out = pd.Series(vals, index=idx.normalize().rename("date"), name="value")
    return out.sort_index(kind="stable")


class Source(ABC):
    """A provider. Subclasses set `name`, `default_base_url` and `Params`, and implement IO + parsing."""

    name: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, settings: SourceSettings | None = None, *, universe_dir: Path | None = None) -> None:
        self.settings = settings or SourceSettings()
        self.universe_dir = universe_dir or Path.cwd()
        self._params: dict[str, BaseModel] = {}
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return (self.settings.base_url or self.default_base_url).rstrip("/")

    def params(self, series: Series) -> Any:
        """The series' validated `params` (pydantic `ValidationError` when they do not fit)."""
        with self._lock:
            if series.id not in self._params:
                self._params[series.id] = self.Params.model_validate(series.params)
            return self._params[series.id]

    #: Whether a series of this source must name the provider's symbol.
    needs_symbol: ClassVar[bool] = True

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> None:
        """Check a series' `params` without IO or settings, when the config loads: raises ValueError
        (pydantic's ValidationError, naming the key, for params that do not fit `Params`)."""
        cls.Params.model_validate(dict(params))

    def check(self, series: Series) -> None:
        """Raise pydantic's ValidationError (bad params) or ValueError (no symbol) before any IO."""
        self.params(series)
        if self.needs_symbol and not series.symbol:
            raise ValueError(f"source {self.name!r} needs the provider's symbol")

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        """Default: one query per series over its own window."""
        return [Query((s,), starts.get(s.id), end) for s in series]

    @abstractmethod
    def extract(self, query: Query) -> Any:
        """Fetch the raw payload for a query: the only IO a source does."""

    @abstractmethod
    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        """Parse a raw payload into values per series id (pure)."""

    def reset_attempts(self) -> None:
        """Start counting HTTP attempts for the current thread's next extract."""

    def attempts(self) -> int | None:
        """HTTP attempts since `reset_attempts` on this thread, when the source counts them."""
        return None

    def close(self) -> None:
        """Release connections."""


def plan_groups(series: Sequence[Series], starts: dict[str, date | None], end: date,
                key: Callable[[Series], Hashable]) -> list[Query]:
    """One query per group of series sharing a download (a file, a dataset), over the widest window asked."""
    groups: dict[Hashable, list[Series]] = defaultdict(list)
    for s in series:
        groups[key(s)].append(s)
    out = []
    for members in groups.values():
        member_starts = [starts.get(s.id) for s in members]
        start = None if any(d is None for d in member_starts) else min(d for d in member_starts if d)
        out.append(Query(tuple(members), start, end))
    return out


def batched(items: Iterable[Series], size: int) -> list[tuple[Series, ...]]:
    items = list(items)
    return [tuple(items[i:i + size]) for i in range(0, len(items), size)]


def resolve_path(path: str, base: Path) -> Path:
    """A params path: absolute, or relative to the universe file's folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p)
