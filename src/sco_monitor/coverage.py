"""What the universe covers for each member state: member x coverage kind, with status and reasons.

Pure: the table is a function of the universe, the last stored date per series and `as_of`
(the CLI reads the dates from the store, the report hands over its point-in-time ones, the docs
page uses none). A cell's status is the best of its enabled series:
`stored` (fresh data) > `stale` (data older than its frequency and lag allow) > `configured`
(no data yet) > `missing` (nothing enabled; the `gaps:` entry or a disabled series says why).

`python -m sco_monitor.coverage_docs > docs/coverage.md` writes the docs page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sco_monitor.catalog import COVERAGE_KINDS, SCO_MEMBERS, Series, Universe
from sco_monitor.vocabulary import is_stale

Status = Literal["stored", "stale", "configured", "missing"]
RANK: dict[str, int] = {"stored": 0, "stale": 1, "configured": 2, "missing": 3}
MEMBER_NAMES: dict[str, str] = {
    "KAZ": "Kazakhstan", "CHN": "China", "RUS": "Russia", "KGZ": "Kyrgyzstan", "TJK": "Tajikistan",
    "UZB": "Uzbekistan", "IND": "India", "PAK": "Pakistan", "IRN": "Iran", "BLR": "Belarus",
}


@dataclass(frozen=True)
class Entry:
    series_id: str
    source: str
    last_date: date | None
    status: Status


@dataclass(frozen=True)
class Cell:
    country: str
    kind: str
    status: Status
    series: tuple[Entry, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Coverage:
    as_of: date | None
    cells: tuple[Cell, ...] = field(default_factory=tuple)

    def cell(self, country: str, kind: str) -> Cell:
        return next(c for c in self.cells if c.country == country and c.kind == kind)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in RANK}
        for c in self.cells:
            out[c.status] += 1
        return out

    def unexplained(self) -> list[Cell]:
        """Missing cells without a reason: the catalog owes a `gaps:` note for each."""
        return [c for c in self.cells if c.status == "missing" and not c.note]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "kinds": list(COVERAGE_KINDS),
            "members": list(SCO_MEMBERS),
            "counts": self.counts(),
            "cells": [{"country": c.country, "kind": c.kind, "status": c.status, "note": c.note,
                       "series": [{"id": e.series_id, "source": e.source, "status": e.status,
                                   "last_date": e.last_date.isoformat() if e.last_date else None} for e in c.series]}
                      for c in self.cells],
        }


def entry_status(s: Series, last: date | None, as_of: date | None) -> Status:
    if last is None:
        return "configured"
    if as_of is not None and is_stale(s.frequency, s.publication_lag_days, last, as_of):
        return "stale"
    return "stored"


def build(universe: Universe, last_dates: dict[str, date], as_of: date | None) -> Coverage:
    """The member x kind table (pure). Without `as_of` nothing is judged stale."""
    enabled: dict[tuple[str, str], list[Series]] = {}
    disabled_notes: dict[tuple[str, str], list[str]] = {}
    for s in universe.series:
        kind = s.coverage_kind
        if kind is None or s.country not in SCO_MEMBERS:
            continue
        if s.enabled:
            enabled.setdefault((s.country, kind), []).append(s)
        elif s.note:
            disabled_notes.setdefault((s.country, kind), []).append(f"{s.id} is disabled: {s.note}")
    gaps = {(g.country, g.coverage): g.note for g in universe.gaps}
    cells = []
    for country in SCO_MEMBERS:
        for kind in COVERAGE_KINDS:
            members = enabled.get((country, kind), [])
            entries = tuple(sorted((Entry(s.id, s.source, last_dates.get(s.id),
                                          entry_status(s, last_dates.get(s.id), as_of)) for s in members),
                                   key=lambda e: (RANK[e.status], e.series_id)))
            if entries:
                cells.append(Cell(country, kind, entries[0].status, entries))
            else:
                note = gaps.get((country, kind)) or " ".join(disabled_notes.get((country, kind), [])) or None
                cells.append(Cell(country, kind, "missing", (), note))
    return Coverage(as_of, tuple(cells))


# --- renderings ---------------------------------------------------------------------------------------
SHORT: dict[str, str] = {"stored": "ok", "stale": "STALE", "configured": "conf", "missing": "--"}


def matrix_text(cov: Coverage) -> str:
    """The member x kind matrix of statuses, one line per member."""
    width = max(len(k) for k in COVERAGE_KINDS)
    head = "member " + " ".join(k.ljust(width) for k in COVERAGE_KINDS)
    lines = [head]
    for country in SCO_MEMBERS:
        row = [SHORT[cov.cell(country, k).status].ljust(width) for k in COVERAGE_KINDS]
        lines.append(f"{country:<6} " + " ".join(row))
    return "\n".join(line.rstrip() for line in lines)


def text(cov: Coverage) -> str:
    """What `sco-monitor coverage` prints: the matrix, then every cell's series or reason."""
    counts = cov.counts()
    when = f"as of {cov.as_of}" if cov.as_of else "as configured"
    out = [(f"Coverage of the SCO member states ({when}): ok = stored, STALE = stale, conf = configured without "
            "data yet, -- = missing"), "", matrix_text(cov), "",
           "  ".join(f"{k}: {v}" for k, v in counts.items()), ""]
    for c in cov.cells:
        label = f"{c.country} {c.kind:<11} {c.status:<10}"
        if c.series:
            parts = [f"{e.series_id} ({e.source}, {e.last_date or 'no data'}{', stale' if e.status == 'stale' else ''})"
                     for e in c.series]
            out.append(f"{label} " + "; ".join(parts))
        else:
            out.append(f"{label} {c.note or 'no series and no note'}")
    return "\n".join(out) + "\n"


def markdown(cov: Coverage, *, heading: str = "#") -> str:
    """The matrix with series ids in its cells, and the reasons for the empty ones."""
    out = ["| member | " + " | ".join(COVERAGE_KINDS) + " |", "|---" * (len(COVERAGE_KINDS) + 1) + "|"]
    for country in SCO_MEMBERS:
        cells = []
        for k in COVERAGE_KINDS:
            c = cov.cell(country, k)
            if c.series:
                ids = "<br>".join(f"`{e.series_id}` ({e.source}{'' if cov.as_of is None else ', ' + e.status})"
                                  for e in c.series)
                cells.append(ids)
            else:
                cells.append("missing")
        out.append(f"| {MEMBER_NAMES[country]} ({country}) | " + " | ".join(cells) + " |")
    missing = [c for c in cov.cells if c.status == "missing"]
    if missing:
        out += ["", f"{heading}# Why cells are empty", ""]
        out += [f"- **{MEMBER_NAMES[c.country]}, {c.kind}**: {c.note or 'no series and no note'}" for c in missing]
    return "\n".join(out) + "\n"
