"""Backtests of the one-day VaR: exceptions, Kupiec, Christoffersen and the Basel traffic light.

Kupiec (1995) tests whether the exception rate matches 1 - level (unconditional coverage);
Christoffersen (1998) whether an exception today makes one tomorrow likelier (independence; a
model that under-reacts to a volatility burst fails it with clustered exceptions). The Basel
Committee's traffic light (1996) sorts a bank's 250-day record at 99% into green (0-4 exceptions),
yellow (5-9) and red (10+): green while the binomial probability of at most that many exceptions
is below 95%, red from 99.99%; for other windows and levels the same cumulative probabilities
decide.

The GARCH VaR these tests judge comes from `assess.forecast.var` (out of sample: parameters
estimated before the window).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from sco_monitor.assess.model import VarBacktest

#: Days of the Basel backtest window.
WINDOW = 250
#: Cumulative binomial probabilities where the yellow and the red zone begin (Basel 1996).
YELLOW_FROM, RED_FROM = 0.95, 0.9999

Zone = Literal["green", "yellow", "red"]


def kupiec(exceptions: int, days: int, level: float) -> tuple[float, float]:
    """Kupiec's proportion-of-failures LR and its chi2(1) p-value."""
    p, x, n = 1.0 - level, int(exceptions), int(days)
    if n <= 0:
        return float("nan"), float("nan")
    phat = x / n
    lr = -2.0 * ((n - x) * np.log1p(-p) + x * np.log(p)
                 - special.xlogy(n - x, 1.0 - phat) - special.xlogy(x, phat))
    lr = max(float(lr), 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(hits: np.ndarray) -> tuple[float, float]:
    """Christoffersen's independence LR (first-order Markov against independent exceptions), p-value."""
    h = np.asarray(hits, dtype=bool)
    if h.size < 2:
        return float("nan"), float("nan")
    prev, cur = h[:-1], h[1:]
    n00 = int(np.sum(~prev & ~cur))
    n01 = int(np.sum(~prev & cur))
    n10 = int(np.sum(prev & ~cur))
    n11 = int(np.sum(prev & cur))
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    ll_ind = special.xlogy(n00 + n10, 1 - pi) + special.xlogy(n01 + n11, pi)
    ll_dep = (special.xlogy(n00, 1 - pi0) + special.xlogy(n01, pi0)
              + special.xlogy(n10, 1 - pi1) + special.xlogy(n11, pi1))
    lr = max(float(-2.0 * (ll_ind - ll_dep)), 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def traffic_light(exceptions: int, days: int = WINDOW, level: float = 0.99) -> Zone:
    """Basel zone of a record of `exceptions` in `days` at `level` (250 days at 99%: 0-4, 5-9, 10+)."""
    cum = float(stats.binom.cdf(int(exceptions), int(days), 1.0 - level))
    if cum < YELLOW_FROM - 1e-12:
        return "green"
    return "yellow" if cum < RED_FROM - 1e-12 else "red"


def backtest(losses: pd.Series, var: pd.Series, level: float = 0.99, **fields: object) -> VarBacktest:
    """Exceptions (loss above the VaR) over the common dates of two series, with both tests and the zone."""
    both = pd.concat({"loss": losses, "var": var}, axis=1).dropna()
    hits = (both["loss"] > both["var"]).to_numpy()
    n, x = len(hits), int(hits.sum())
    if n == 0:
        return VarBacktest(level=level, note="no day with both a VaR and a realised return", **fields)
    k_lr, k_p = kupiec(x, n, level)
    c_lr, c_p = christoffersen(hits)
    def finite(v: float) -> float | None:
        return None if not np.isfinite(v) else float(v)

    return VarBacktest(
        level=level, start=both.index[0].date(), end=both.index[-1].date(), days=n, exceptions=x,
        expected=n * (1.0 - level), kupiec_lr=finite(k_lr), kupiec_p=finite(k_p),
        christoffersen_lr=finite(c_lr), christoffersen_p=finite(c_p), zone=traffic_light(x, n, level), **fields,
    )
