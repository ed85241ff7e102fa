"""The facts every layer shares, defined once: severity order, staleness per frequency, the world
scope and JSON-safe conversion.

The lowest layer: it imports nothing from the package, so catalog, config, store, assess,
alerting, reports and the daemon can all read it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np

# --- severity --------------------------------------------------------------------------------------
#: Severities from least to most severe. `no_data` sits below `ok`: a missing value carries no risk
#: signal ("no data never fires a risk alert by itself"), so any measured value, even an ok one,
#: outranks it. This is the order of the rule codes (-1 no data, 0 ok, 1 warn, 2 critical) and what
#: the alert state machine needs when a target was evaluated twice (the real evaluation counts).
SEVERITIES: tuple[str, ...] = ("no_data", "ok", "warn", "critical")
SEVERITY_CODE: dict[str, int] = {s: i - 1 for i, s in enumerate(SEVERITIES)}


def severity_rank(severity: str | None) -> int:
    """no_data -1, ok 0, warn 1, critical 2; anything else (None, "none") ranks below all of them."""
    return SEVERITY_CODE.get(severity, -2) if severity is not None else -2


# --- staleness -------------------------------------------------------------------------------------
#: Days a frequency allows between the newest knowable observation and as_of before a series is
#: stale (plus its publication lag). One table for the assessment, the quality flags, the report's
#: data-freshness section and /metrics.
STALE_AFTER_DAYS: dict[str, int] = {"B": 5, "D": 4, "W": 12, "M": 45, "Q": 120, "A": 450}


#: Quality flags that judge the collection at the moment it ran (a series stale then, a collection
#: that failed or lost rows), not an observation: knowable only from when they were recorded, so a
#: day before that (a replay, a backfill) never sees them.
COLLECTION_FLAGS: frozenset[str] = frozenset({"stale", "failed", "partial"})


def is_stale(frequency: str, publication_lag_days: int, newest: date | None, as_of: date) -> bool:
    """True when the newest observation is older than its frequency allows at as_of, or missing."""
    if newest is None:
        return True
    allowed = STALE_AFTER_DAYS.get(frequency, STALE_AFTER_DAYS["B"]) + int(publication_lag_days or 0)
    return (as_of - newest).days > allowed


# --- scopes ----------------------------------------------------------------------------------------
#: The world scope: the stress index of everything the universe watches, and the country code of
#: series (commodities) and recommendations that belong to no single state.
WORLD = "WLD"


# --- JSON ------------------------------------------------------------------------------------------
def json_safe(value: Any) -> Any:
    """Nested dicts/lists with numpy scalars → plain JSON; NaN and infinities → None (PostgreSQL JSON
    and strict parsers reject them); dates as ISO strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, datetime):  # pandas Timestamps too: their day, as the stores keep dates
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value
