"""A simulated Russian economy under the default universe's ids, for the nowcast wiring's tests.

One AR(1) business-cycle factor drives monthly indicators (CPI index, reserves, exports, the policy
rate, daily USD/RUB) and the annual targets (GDP growth, CPI inflation, World Bank style: dated
31 December, published with a lag). `shock` makes the factor fall hard in its last `shock_months`:
a contraction the monthly indicators show before the annual GDP figure is out. Synthetic by design
(the shared data hold no GDP series): the tests check the wiring, not the model's skill.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.config.settings import NowcastPanel

TARGETS = ["macro.ru.gdp_growth", "macro.ru.inflation"]
MONTHLY = ["macro.ru.cpi_m", "macro.ru.reserves_m", "trade.ru.exports_world", "rate.ru.policy", "fx.usd_rub"]
PANEL = NowcastPanel(name="RUS", targets=TARGETS, monthly=MONTHLY, levels=["rate.ru.policy"], horizon=1)


def economy(end: date, *, shock: float = 0.0, shock_months: int = 10, seed: int = 11,
            start: str = "2012-01-31") -> pd.DataFrame:
    """Observations as a store would hold them up to `end` (monthly at month ends, FX each business day)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range(start, pd.Timestamp(end) + pd.offsets.MonthEnd(0), freq="ME")
    n = len(months)
    f = np.zeros(n)
    for t in range(1, n):
        f[t] = 0.85 * f[t - 1] + rng.normal(scale=0.6)
    if shock:
        f[-shock_months:] -= np.linspace(shock / 3, shock, shock_months)

    def level(load: float, drift: float, noise: float) -> np.ndarray:
        return 100 * np.exp(np.cumsum(drift + 0.01 * load * f + noise * rng.normal(size=n)))

    m = pd.DataFrame({
        "macro.ru.cpi_m": level(-0.4, 0.005, 0.001),
        "macro.ru.reserves_m": level(1.0, 0.002, 0.004),
        "trade.ru.exports_world": level(1.5, 0.003, 0.006),
        "rate.ru.policy": 8 - 0.8 * f + 0.2 * rng.normal(size=n),
    }, index=months)
    usd = pd.Series(level(-1.2, 0.003, 0.004), index=months)
    days = pd.bdate_range(months[0] - pd.offsets.MonthBegin(1), months[-1])
    fx = usd.reindex(days, method="bfill") * np.exp(0.002 * rng.normal(size=len(days)))
    growth = pd.Series(2.0 + 1.5 * f + 0.3 * rng.normal(size=n), index=months)
    inflation = 100 * (m["macro.ru.cpi_m"] / m["macro.ru.cpi_m"].shift(12) - 1)
    years = sorted(set(months.year))
    ann = pd.DataFrame({"macro.ru.gdp_growth": [growth[growth.index.year == y].mean() for y in years],
                        "macro.ru.inflation": [inflation[inflation.index.year == y].iloc[-1] for y in years]},
                       index=pd.DatetimeIndex([pd.Timestamp(y, 12, 31) for y in years]))
    ann = ann.iloc[1:]  # the first year's inflation needs a year before it
    frame = m.join(ann, how="outer").join(fx.rename("fx.usd_rub"), how="outer")
    return frame.loc[: pd.Timestamp(end)]


def point_in_time(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The frame as of `as_of`: monthly values 30 days after their month, the annual ones 120 days."""
    at = pd.Timestamp(as_of)
    out = frame.loc[:at].copy()
    for col, lag in {**dict.fromkeys(TARGETS, 120), **dict.fromkeys(MONTHLY[:4], 30)}.items():
        out.loc[out.index > at - pd.Timedelta(days=lag), col] = np.nan
    return out
