"""What the central banks' official-rate sources share: XML and number parsing, and one request per day.

The national banks of Kazakhstan, Uzbekistan and Tajikistan serve one file per date (every
currency's official rate on that day), so a window costs one request per business day, shared by
every series of the source; `DailyFileSource` plans that. Rates are quoted per `Nominal` units
(KZT per 100 RUB, RUB per 10 000 UZS, ...): the sources divide, so every stored value is per one unit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.catalog import Series
from sco_monitor.logs import get_logger
from sco_monitor.sources.base import EmptyResult, Fetched, Query, SourceError, values_frame
from sco_monitor.sources.http import HttpSource, snippet

log = get_logger("sco_monitor.sources.official")


def number(text: str | None, what: str) -> float:
    """A provider's number: decimal comma or point, spaces (also non-breaking) as thousands separators."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise SourceError(f"{what}: {text!r} is not a number") from None


def day_of(text: str | None, what: str, formats: Sequence[str] = ("%d.%m.%Y",)) -> date:
    """A provider's date in one of its formats (dd.mm.yyyy unless told otherwise)."""
    raw = (text or "").strip()
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise SourceError(f"{what}: cannot read the date {text!r} (expected {' or '.join(formats)})")


def xml_root(body: bytes, what: str) -> ET.Element:
    """The document's root; the XML declaration's encoding (windows-1251 at the CBR) is honoured."""
    try:
        return ET.fromstring(body)
    except ET.ParseError as e:
        text = body[:200].decode("utf-8", "replace")
        raise SourceError(f"{what}: not XML ({e}): {snippet(text)}") from None


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def child_text(el: ET.Element, name: str) -> str | None:
    """The text of the first child named `name` (any namespace)."""
    for c in el:
        if local(c.tag) == name:
            return c.text
    return None


def xml_rates(body: bytes, what: str, *, roots: tuple[str, ...], item: str, code: Callable[[ET.Element], str],
              day: Callable[[ET.Element, ET.Element], date], value: str = "Value",
              nominal: str = "Nominal") -> dict[str, DayRate]:
    """Code → rate from an XML rates file: `item` elements under a root named one of `roots`.

    `code(item)` names the currency; `day(root, item)` dates it; `value` and `nominal` are the
    child elements holding the rate and the number of units it is for.
    """
    root = xml_root(body, what)
    if local(root.tag) not in roots:
        raise SourceError(f"{what}: expected <{'> or <'.join(roots)}>, got <{local(root.tag)}>")
    out: dict[str, DayRate] = {}
    for el in root.iter():
        if local(el.tag) != item:
            continue
        cur = code(el).strip().upper()
        out[cur] = DayRate(day(root, el), number(child_text(el, value), f"{what} {cur}"),
                           number(child_text(el, nominal) or "1", f"{what} {cur} {nominal}"))
    return out


def business_days(start: date, end: date) -> list[date]:
    return [d.date() for d in pd.bdate_range(start, end)]


class DailyParams(BaseModel):
    """Options of a per-day official-rate series: the symbol is the currency's ISO code."""

    model_config = ConfigDict(extra="forbid")

    backfill_days: int = Field(default=31, ge=1, le=20000,
                               description="Calendar days fetched (one request per business day) when nothing is stored yet.")


@dataclass(frozen=True)
class DayRate:
    """One currency's official rate on one day: `value` local-currency units per `nominal` foreign units."""

    day: date
    value: float
    nominal: float = 1.0

    @property
    def per_unit(self) -> float:
        return self.value / self.nominal


class DailyFileSource(HttpSource):
    """A provider with one file per date holding every currency: one shared query per window."""

    Params = DailyParams
    #: A human name for error messages, e.g. "NBK".
    label: ClassVar[str]

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        """One query for every series: the widest window asked for, a fresh series its backfill."""
        if not series:
            return []
        firsts = []
        for s in series:
            start = starts.get(s.id)
            firsts.append(start if start is not None else end - timedelta(days=self.params(s).backfill_days - 1))
        return [Query(tuple(series), min(firsts), end)]

    def days(self, query: Query) -> list[date]:
        assert query.start is not None  # plan always sets it
        return business_days(query.start, query.end) or [query.end]

    @abstractmethod
    def request(self, day: date, single: bool) -> tuple[str, dict[str, Any] | None]:
        """URL and query parameters of the file for `day` (`single`: the window is that one day)."""

    @abstractmethod
    def parse(self, body: bytes, day: date, what: str) -> dict[str, DayRate]:
        """ISO code → rate, from one day's file (pure)."""

    def extract(self, query: Query) -> list[tuple[date, bytes | SourceError]]:
        """One request per day; a failed day is kept as its error so the other days still count."""
        out: list[tuple[date, bytes | SourceError]] = []
        days = self.days(query)
        for day in days:
            url, params = self.request(day, len(days) == 1)
            try:
                out.append((day, self.fetch(url, params).content))
            except SourceError as e:
                out.append((day, e))
        if all(isinstance(b, SourceError) for _, b in out):
            first = out[0][1]
            assert isinstance(first, SourceError)
            raise SourceError(f"{self.label}: every one of {len(out)} daily request(s) failed; first: {first}",
                              retryable=first.retryable)
        return out

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        rates: dict[str, dict[date, float]] = {}
        problems: list[str] = []
        for day, body in raw:
            if isinstance(body, SourceError):
                problems.append(f"{day}: {body}")
                continue
            try:
                for code, rate in self.parse(body, day, f"{self.label} rates for {day:%d.%m.%Y}").items():
                    rates.setdefault(code, {})[rate.day] = rate.per_unit  # a repeated date keeps the last file's
            except SourceError as e:
                problems.append(str(e))
        warning = None
        if problems:
            warning = f"{len(problems)} of {len(raw)} daily file(s) failed, e.g. {problems[0]}"
            log.warning("official_rate_days_failed", source=self.name, failed=len(problems), days=len(raw))
        out: dict[str, Fetched] = {}
        for s in query.series:
            code = s.symbol.upper()
            got = rates.get(code)
            if not got:
                known = ", ".join(sorted(rates)) or "none"
                out[s.id] = Fetched.failed(EmptyResult(
                    f"{self.label}: no {code} rate between {query.start} and {query.end} (currencies seen: {known})"))
                continue
            values = values_frame(list(got), list(got.values()), what=f"{self.label} {code}")
            out[s.id] = Fetched(values, warning=warning)
        return out
