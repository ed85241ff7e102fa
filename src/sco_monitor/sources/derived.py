"""derived: series computed in the assessment from other stored series (the cooperation indices).

Nothing is collected for them (`collect` leaves them out); the source exists so the catalog can
name them like any other series and rules can select them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.catalog import Series
from sco_monitor.sources.base import Fetched, Query, SourceError
from sco_monitor.sources.base import Source as BaseSource


class DerivedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: str = Field(min_length=1, description="Which index: intra_trade_share, intra_trade_index, intra_exports_yoy, "
                       "sco_exports, sco_imports, sco_export_share, sco_exports_yoy, sco_imports_yoy, fx_comovement, equity_comovement.")
    member: str | None = Field(default=None, description="IMF code of the member for per-member indices, e.g. KZ.")
    window: int = Field(default=60, ge=5, description="Business days of the co-movement window.")


class Source(BaseSource):
    name = "derived"
    Params = DerivedParams
    needs_symbol = False

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        return []

    def extract(self, query: Query) -> Any:
        raise SourceError("derived series are computed in the assessment, not collected")

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        raise SourceError("derived series are computed in the assessment, not collected")
