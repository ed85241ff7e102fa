"""Real series for the forecasting tests (arch's bundled data: no network, no synthetic data)."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from sco_monitor.catalog import Series


@lru_cache
def sp500() -> pd.Series:
    """S&P 500 adjusted close, business days 1999-2018."""
    from arch.data import sp500 as data

    return data.load()["Adj Close"].rename("eq.us.sp500")


@lru_cache
def wti() -> pd.Series:
    """WTI spot, USD per barrel, 1986-2019 (missing days dropped)."""
    from arch.data import wti as data

    return data.load()["DCOILWTICO"].dropna().rename("cmd.wti")


@lru_cache
def core_cpi() -> pd.Series:
    """US core CPI index, monthly (first of month), 1957-2018."""
    from arch.data import core_cpi as data

    return data.load()["CPILFESL"].rename("macro.us.core_cpi")


def series(sid: str, kind: str, frequency: str = "B", direction: str = "down") -> Series:
    return Series(id=sid, name=sid, source="csv", kind=kind, country="USA", frequency=frequency,
                  unit="index", direction=direction)
