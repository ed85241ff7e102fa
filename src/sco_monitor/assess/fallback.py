"""Fallbacks: an official rate's market quote stands in on the days the official rate is missing.

A series with `fallback:` (e.g. the Bank of Russia's USD/RUB, falling back on the Yahoo quote)
feeds the assessment as its own values where it has them and the stand-in's everywhere else: before
its history starts, on days its provider failed or did not publish, and after a last value that a
failing source did not renew. The stand-in carries the `alternative` tag, so the market weighs once.
Pure: a function of the point-in-time frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sco_monitor.catalog import Series


def with_fallbacks(frame: pd.DataFrame, series: Iterable[Series]) -> pd.DataFrame:
    """The frame with every fallback series' gaps filled from its stand-in (a copy when anything changes)."""
    out = frame
    for s in series:
        if s.fallback is None or s.fallback.series not in frame.columns:
            continue
        alt = frame[s.fallback.series]
        own = frame[s.id] if s.id in frame.columns else pd.Series(np.nan, index=frame.index)
        if not own.isna().any():
            continue
        if out is frame:
            out = frame.copy()
        out[s.id] = own.where(own.notna(), alt)
    return out


def covered(unavailable: Mapping[str, str], series: Iterable[Series]) -> dict[str, str]:
    """Drop the stale/failed marks of series whose stand-in is itself available: its values carry on."""
    stand_in = {s.id: s.fallback.series for s in series if s.fallback is not None}
    return {sid: why for sid, why in unavailable.items() if sid not in stand_in or stand_in[sid] in unavailable}
