"""Leading indicators of the early-warning model beyond the stress index, each as a causal feature in [0, 1].

The signals literature ranks these best for currency, banking and equity crises (Kaminsky,
Lizondo and Reinhart 1998; Drehmann and Juselius 2014; Babecky et al. 2014): credit growth above
trend, an overvalued exchange rate, falling reserves and exports, a sharp policy-rate rise, an
equity market already falling, and trouble in a large neighbour. Each becomes a feature in [0, 1]
that the signals approach thresholds (`ews.choose_thresholds`), so "high" is always "high for this
country, judged on data up to that day":

feature           from (series tag / kind)        transform
credit_gap        tag `credit_to_gdp` (quarterly)  credit-to-GDP ratio minus its one-sided HP trend
                                                   (lambda 400,000, the Basel III guide), mapped 0 at
                                                   2 pp and below, 1 at 10 pp and above (the guide's
                                                   buffer thresholds)
fx_overvaluation  kind fx (local per USD)          monthly log rate below its one-sided HP trend
                                                   (lambda 129,600): appreciation is overvaluation;
                                                   expanding percentile rank. A nominal proxy for the
                                                   real effective exchange rate, which is not collected
reserves_low      tag `reserves_months` (annual)   months of imports: 1 at 3 months and below, 0 at 6
                                                   and above (the IMF's rule of thumb)
reserves_fall     tag `reserves_months`            fall over a year, expanding percentile rank
export_fall       tag `exports` (monthly/annual)   year-on-year fall, expanding percentile rank; or tag
                                                   `export_growth` (a growth rate already): its fall
policy_shock      tag `policy_rate`                rise over 63 business days, expanding percentile rank
equity_drawdown   kind equity                      fall from the 252-day high, expanding percentile rank
equity_boom       kind equity                      monthly log index above its one-sided HP trend
                                                   (lambda 129,600): the equity price gap of Borio and
                                                   Lowe (2002), a run-up that crashes tend to follow;
                                                   expanding percentile rank
equity_runup      kind equity                      1 where the index rose at least 100% over the last
                                                   504 business days (two years), else 0: the price
                                                   run-up of Greenwood, Shleifer and You (2019)
equity_fast_fall  kind equity                      fall from the 20-business-day high, expanding
                                                   percentile rank: a sudden crash within a month
oil_fall          tag `oil` (business-daily), for  fall of the oil price over 252 business days (the
                  a country with a series tagged   signals literature's 12-month change in the terms
                  `oil_exporter`                   of trade), expanding percentile rank
contagion         bilateral trade (IMF DOT), else  trade-weighted sum of the neighbours' stress above
                  `assessment.contagion` links     their median (`assess.contagion`)

equity_boom, equity_runup, equity_fast_fall and oil_fall are computed here but left out of the
model by default (`EwsParams.equity_boom`, `.equity_runup`, `.equity_fast_fall`, `.oil_fall`):
measured, the boom and the run-up never pass the significance test, the fast fall passes it but
lowers the pooled AUROC and warns no episode more, and the oil fall's gain is not significant
(docs/methods-skill.md).

Every transform at day D uses observations knowable at D (publication lags through
`Indicators.align`); HP trends are recomputed at each observation from the data up to it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.structural import UnobservedComponents

from sco_monitor.assess.indicators import Indicators
from sco_monitor.catalog import Series

#: Basel III countercyclical buffer guide: credit-to-GDP gap where the buffer starts and is full (pp).
GAP_LOW, GAP_HIGH = 2.0, 10.0
#: HP smoothing of the one-sided trends: quarterly credit (Basel), monthly exchange rates (Ravn-Uhlig).
LAMBDA_CREDIT, LAMBDA_MONTHLY = 400_000.0, 129_600.0
#: Reserve adequacy rule of thumb, months of imports: alarming at 3, comfortable from 6.
RESERVES_LOW, RESERVES_OK = 3.0, 6.0
#: Observations before a trend or a percentile rank counts.
MIN_QUARTERS, MIN_MONTHS, MIN_DAYS = 20, 60, 250
POLICY_WINDOW = 63
DRAWDOWN_WINDOW = 252
OIL_WINDOW = 252
#: Greenwood, Shleifer and You (2019): a run-up is a price rise of at least 100% over two years.
RUNUP_WINDOW, RUNUP_RISE = 504, 1.0
#: The fast fall: from the high of the last month (20 business days, the stress index's change window).
FAST_FALL_WINDOW = 20
#: The optional features, left out unless asked for (`scope_features(skip=...)`).
OPTIONAL_FEATURES: tuple[str, ...] = ("equity_boom", "equity_runup", "equity_fast_fall", "oil_fall")

EXTRA_FEATURES: tuple[str, ...] = ("credit_gap", "fx_overvaluation", "reserves_low", "reserves_fall", "export_fall",
                                   "policy_shock", "equity_drawdown", "equity_boom", "equity_runup", "equity_fast_fall",
                                   "oil_fall", "contagion")


def one_sided_hp_gap(x: pd.Series, lamb: float, min_obs: int) -> pd.Series:
    """x minus its one-sided HP trend: at each date the end point of the HP filter of the data up to it.

    Computed in one pass: the HP trend is the smoothed trend of y = tau + e, D2 tau = u with
    var(e) / var(u) = lambda, and the end point of a smoother is the filtered state, so the Kalman
    filter (statsmodels' smooth-trend model at fixed variances) gives every one-sided trend at once
    (equal to re-running `hpfilter` on each prefix within 1e-4 after start-up; a test checks it).
    """
    x = x.dropna()
    v = x.to_numpy(dtype=float)
    gap = np.full(len(v), np.nan)
    if len(v) >= max(min_obs, 3):
        res = UnobservedComponents(v, level="smooth trend").filter([1.0, 1.0 / lamb])
        gap = v - np.asarray(res.filtered_state[0])
        gap[: min_obs - 1] = np.nan
    return pd.Series(gap, index=x.index)


def basel_scale(gap: pd.Series) -> pd.Series:
    """The Basel guide's mapping of the credit-to-GDP gap: 0 at 2 pp and below, 1 at 10 pp and above."""
    return ((gap - GAP_LOW) / (GAP_HIGH - GAP_LOW)).clip(0.0, 1.0)


def expanding_rank(x: pd.Series, min_obs: int) -> pd.Series:
    """Percentile rank of each value among all values up to it."""
    return x.expanding(min_periods=min_obs).rank(pct=True)


def _country_series(series: Sequence[Series], ind: Indicators, scope: str, *, tag: str | None = None,
                    kind: str | None = None) -> list[str]:
    return [s.id for s in series if s.country == scope and s.id in ind.observed and "alternative" not in s.tags
            and (tag is None or tag in s.tags) and (kind is None or s.kind == kind)]


def _mean_aligned(ind: Indicators, raws: list[pd.Series]) -> pd.Series | None:
    """Observation-dated features of several series → the calendar (knowable dates, carried forward), averaged."""
    raws = [r for r in raws if r.notna().any()]
    if not raws:
        return None
    return ind.align(pd.concat(raws, axis=1)).mean(axis=1)


def monthly_gap_rank(x: pd.Series, sign: float = 1.0) -> pd.Series:
    """Month-end dated: the expanding percentile rank of sign × (monthly mean of log x minus its
    one-sided HP trend, lambda 129,600); a month's value is dated at its end, when it is complete."""
    monthly = np.log(x[x > 0]).resample("ME").mean().dropna()
    return expanding_rank(sign * one_sided_hp_gap(monthly, LAMBDA_MONTHLY, MIN_MONTHS), MIN_MONTHS // 2)


def scope_features(ind: Indicators, series: Sequence[Series], scope: str,
                   skip: Collection[str] = ()) -> pd.DataFrame:
    """Calendar × extra features of one scope (columns only for what its data supports; none of `skip`)."""
    out = pd.DataFrame(index=ind.calendar)
    levels = ind.raw("level")

    def each(ids: list[str], fn) -> pd.Series | None:
        return _mean_aligned(ind, [fn(levels[i].dropna()).rename(i) for i in ids])

    credit = _country_series(series, ind, scope, tag="credit_to_gdp")
    feat = each(credit, lambda x: basel_scale(one_sided_hp_gap(x, LAMBDA_CREDIT, MIN_QUARTERS)))
    if feat is not None:
        out["credit_gap"] = feat
    fx = [i for i in _country_series(series, ind, scope, kind="fx") if ind.series[i].direction == "up"]

    feat = each(fx, lambda x: monthly_gap_rank(x, -1.0))
    if feat is not None:
        out["fx_overvaluation"] = feat
    reserves = _country_series(series, ind, scope, tag="reserves_months")
    feat = each(reserves, lambda x: ((RESERVES_OK - x) / (RESERVES_OK - RESERVES_LOW)).clip(0.0, 1.0))
    if feat is not None:
        out["reserves_low"] = feat
    feat = each(reserves, lambda x: expanding_rank(-x.diff(), 5))
    if feat is not None:
        out["reserves_fall"] = feat
    exports = _country_series(series, ind, scope, tag="exports")

    def export_fall(x: pd.Series) -> pd.Series:
        per_year = {"M": 12, "Q": 4, "A": 1}.get(ind.series[x.name].frequency, 12)
        growth = np.log(x[x > 0]).diff(per_year)
        return expanding_rank(-growth, max(5, 3 * per_year))

    growth = _country_series(series, ind, scope, tag="export_growth")
    feat = _mean_aligned(ind, [export_fall(levels[i].dropna().rename(i)) for i in exports]
                         + [expanding_rank(-levels[i].dropna(), 5).rename(i) for i in growth])
    if feat is not None:
        out["export_fall"] = feat
    policy = _country_series(series, ind, scope, tag="policy_rate")
    if policy:
        rate = ind.align(levels[policy]).mean(axis=1)
        out["policy_shock"] = expanding_rank(rate - rate.shift(POLICY_WINDOW), MIN_DAYS)
    equity = _country_series(series, ind, scope, kind="equity")
    if equity:
        dd = ind.align(ind.raw("drawdown", columns=equity, window=DRAWDOWN_WINDOW)).mean(axis=1)
        out["equity_drawdown"] = expanding_rank(-dd, MIN_DAYS)
        feat = None if "equity_boom" in skip else each(equity, monthly_gap_rank)
        if feat is not None:
            out["equity_boom"] = feat
        if "equity_runup" not in skip:
            rise = ind.align(ind.raw("change", columns=equity, window=RUNUP_WINDOW))
            out["equity_runup"] = (rise >= RUNUP_RISE).astype(float).where(rise.notna()).mean(axis=1)
        if "equity_fast_fall" not in skip:
            fast = ind.align(ind.raw("drawdown", columns=equity, window=FAST_FALL_WINDOW)).mean(axis=1)
            out["equity_fast_fall"] = expanding_rank(-fast, MIN_DAYS)
    oil = [s.id for s in series if "oil" in s.tags and "alternative" not in s.tags and s.frequency == "B"
           and s.id in ind.observed]
    exporter = any(s.country == scope and "oil_exporter" in s.tags for s in series)
    if oil and exporter and "oil_fall" not in skip:
        chg = ind.align(ind.raw("change", columns=oil, window=OIL_WINDOW, log=True)).mean(axis=1)
        out["oil_fall"] = expanding_rank(-chg, MIN_DAYS)
    return out
