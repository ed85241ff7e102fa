"""Evaluation on real history (../shared/data): the stress index and the default rule pack.

Indicators, the stress index and every rule's severity are computed once over the whole history
(they are causal, so day D of the history is what an assessment on day D would have seen); crisis
probabilities are re-estimated every 250 sessions on data before each refit. Nothing here feeds
back into the engine: the episode dates below are evaluation targets, not parameters.

Run with -s to see hits, lead times and false-alarm rates.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.pipeline import History, evaluate_history
from sco_monitor.config import load_config

from . import realdata
from .conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.eval

CALM_US = ["2005", "2006", "2013", "2014", "2017"]  # the calm stretches named in the brief
# (name, onset, what the signals must come from, market for calm years)
EPISODES = [
    ("2008 global crisis", "2008-09-15", {"country": ["USA", "WLD"]}, "USA"),
    ("2014 rouble crisis", "2014-12-16", {"country": ["RUS"]}, "RUS"),
    ("2015 China equity crash (SSE)", "2015-06-12", {"series": ["eq.cn.sse"]}, "CHN"),
    ("2015 CNY devaluation", "2015-08-11", {"series": ["fx.usd_cny"]}, "CHN"),
    ("2020 COVID shock", "2020-02-24", {"country": ["USA", "WLD"]}, "USA"),
]
IMOEX_ONLY = ("2014 rouble crisis, IMOEX alone", "2014-12-16", {"series": ["eq.ru.imoex"]})


@pytest.fixture(scope="module")
def history() -> History:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    frame = realdata.load(str(SHARED_DATA))
    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    return evaluate_history(frame, config, probability_from=date(2000, 1, 1), refit_every=250,
                            scopes=["WLD", "USA", "RUS", "CHN", "IND"])


def _where(sel: dict[str, list[str]]):
    def match(rule: str, labels: dict[str, str]) -> bool:
        if "series" in sel:
            return labels.get("series") in sel["series"] and "scope" not in labels
        return labels.get("country") in sel["country"]
    return match


def _market_rules(sel: dict[str, list[str]]):
    """Warnings counted against calm years: market rules (macro rules have year-long horizons)."""
    inner = _where(sel)
    return lambda rule, labels: labels.get("category") != "macro" and inner(rule, labels)


def test_us_stress_index_is_high_in_crises_and_low_in_calm_stretches(history: History) -> None:
    us = history.stress.scopes["USA"]
    print("\nUS stress index (VIX, BAA10Y, TEDRATE, T10Y3M, T10Y2Y, DGS10, NYSE Composite):")
    for period in ("2008-10", "2020-03"):
        levels = us.rank.loc[period].dropna()
        counts = levels.value_counts().sort_index()
        print(f"  {period}: {len(levels)} days; " + ", ".join(f"{_name(k)} {v}" for k, v in counts.items()))
        assert len(levels) >= 20 and (levels >= 3).all(), f"{period} is not high or severe throughout"
    for years in (["2005", "2006"], ["2013", "2014"], ["2017"]):
        levels = pd.concat([us.rank.loc[y] for y in years]).dropna()
        share = (levels <= 1).mean()
        worst = _name(levels.max())
        print(f"  {'-'.join(years)}: low or moderate on {share:.1%} of {len(levels)} days (worst: {worst})")
        assert share >= 0.98
    assert us.value(date(2020, 3, 16)).note.startswith("partial index")  # TED, BAA10Y, curves end in 2017-18


def _name(rank: float) -> str:
    return ("low", "moderate", "elevated", "high", "severe")[int(rank)]


def _critical_rules(history: History, sel, lo: int, hi: int) -> list[str]:
    out = []
    for rule, codes in history.severities.items():
        keys = [k for k, lab in history.labels[rule].items() if _where(sel)(rule, lab)]
        if keys and (codes[keys].reindex(history.indicators.calendar).iloc[lo:hi] >= 2).any().any():
            out.append(rule)
    return out


def _episode(history: History, onset: str, sel) -> tuple[pd.Timestamp | None, int | None, list[str]]:
    cal = history.indicators.calendar
    pos = int(cal.searchsorted(pd.Timestamp(onset)))
    crit = history.flags(2, _where(sel)).iloc[pos - 60: pos + 6]
    first = crit.index[crit.to_numpy()].min() if crit.any() else None
    lead = None if first is None else pos - int(cal.get_loc(first))
    return first, lead, _critical_rules(history, sel, pos - 60, pos + 6)


def test_each_episode_gets_a_critical_signal_from_60_sessions_before_to_5_after(history: History) -> None:
    print("\nEpisode | onset | first critical in [-60, +5] | lead (sessions) | rules critical in the window")
    misses = []
    for name, onset, sel, _ in EPISODES:
        first, lead, rules = _episode(history, onset, sel)
        print(f"  {name} | {onset} | {first.date() if first is not None else 'MISS'} | {lead} | {', '.join(rules)}")
        if first is None:
            misses.append(name)
    name, onset, sel = IMOEX_ONLY
    first, lead, _ = _episode(history, onset, sel)
    warned = history.flags(1, _where(sel)).iloc[
        int(history.indicators.calendar.searchsorted(pd.Timestamp(onset))) - 60:][:66].any()
    print(f"  {name} | {onset} | {first.date() if first is not None else 'none'} | {lead} | "
          f"warnings only: {bool(warned)} (IMOEX fell 13% from its high in roubles; the crisis was the rouble's)")
    assert not misses, f"no critical signal for {misses}"


def _calm_years(frame: pd.DataFrame, market: str) -> list[str]:
    """Years without an equity fall beyond 15% from the year's running high nor a currency
    depreciation beyond 10% from the year's low, excluding the year before an episode there."""
    eq, fx = {"RUS": ("eq.ru.imoex", "fx.usd_rub"), "CHN": ("eq.cn.sse", "fx.usd_cny")}[market]
    episode_years = {int(o[:4]) for _, o, _, m in EPISODES if m == market} | {2008}
    years = []
    for y in range(2000, 2022):
        e, x = frame[eq].loc[str(y)].dropna(), frame[fx].loc[str(y)].dropna()
        if len(e) < 200 or len(x) < 200 or y in episode_years or y + 1 in episode_years:
            continue
        if (e / e.cummax() - 1).min() > -0.15 and (x / x.cummin() - 1).max() < 0.10:
            years.append(str(y))
    return years


def test_calm_years_rarely_carry_a_warning(history: History) -> None:
    frame = realdata.load(str(SHARED_DATA))
    markets = {"USA": (CALM_US, {"country": ["USA", "WLD"]}),
               "RUS": (_calm_years(frame, "RUS"), {"country": ["RUS"]}),
               "CHN": (_calm_years(frame, "CHN"), {"country": ["CHN"]})}
    print("\nCalm years: share of days with any warn or critical (market rules)")
    for market, (years, sel) in markets.items():
        flags = history.flags(1, _market_rules(sel))
        days = pd.concat([flags.loc[y] for y in years])
        per_year = ", ".join(f"{y} {flags.loc[y].mean():.1%}" for y in years)
        print(f"  {market}: {days.mean():.1%} of {len(days)} days ({per_year})")
        assert years and days.mean() < 0.10, f"{market}: {days.mean():.1%} of calm days warn"


def test_crisis_probabilities_are_estimated_out_of_sample(history: History) -> None:
    p = history.probability
    print("\nP(crisis within 60 sessions), mean by period:")
    for label, period in (("calm 2005-2006", slice("2005", "2006")), ("2008-09..10", slice("2008-09", "2008-10")),
                          ("calm 2017", slice("2017", "2017")), ("2020-03", slice("2020-03", "2020-03"))):
        print(f"  {label}: " + ", ".join(f"{c} {v:.2f}" for c, v in p.loc[period].mean().items() if np.isfinite(v)))
    assert p.loc["2008-10", "USA"].mean() > 3 * p.loc["2005":"2006", "USA"].mean()
    assert p.loc["2017"].max().max() < 0.3
