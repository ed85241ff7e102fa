"""Crisis probabilities out of sample on real history: the skill table per episode.

The model is estimated recursively (every 63 business days, a quarter, on data before the refit date only:
thresholds, coefficients and the derived crisis onsets it learns from). The episode list below is
the evaluation target, never an input: the model learns from onsets derived from the data
(exchange-market pressure or equity drawdown beyond 3 standard deviations of its own past).
Three variants are scored: the stress-index features (each segment's level and its rise over a
month and a quarter, `EwsParams.change_windows`) alone and with the leading indicators and
contagion, both at the fixed P >= 0.3, and the shipped model, whose warning cut-off is estimated
with the model at each refit (`ews.nsr_cutoff`), as the shipped probability rule applies it; all
with the overlap-adjusted significance test of the signals (`assessment.crisis_overlap_adjusted`).
Alternatives tried and not shipped are printed below them (the models before that test and before
the rises among them, and the two leading indicators left off by default, the equity boom and an
oil exporter's oil-price fall, with their AUROC against the shipped model's by a paired bootstrap;
and the changes tried on the misses of US 2020 and the Chinese equity crash: the equity run-up of
Greenwood, Shleifer and You, the equity's fast fall from its 20-day high, scoring a scope that lost
an input by the model refitted without it, and two warning rules beside the probability). The
issue's target still not met is a strict xfail carrying the measured numbers. Run with -s for the tables.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.ews import EwsHistory, EwsParams, estimate_history
from sco_monitor.assess.ews_indicators import scope_features
from sco_monitor.assess.pipeline import evaluate_history, ews_params
from sco_monitor.assess.stress import LEVELS
from sco_monitor.catalog import Series
from sco_monitor.config import load_config

from .. import realdata
from ..conftest import ROOT, SHARED_DATA
from . import ews_skill as sk

pytestmark = [pytest.mark.eval, pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.long]

EPISODES = [  # (name, country, onset): evaluation targets only
    ("US 2008 (Lehman)", "USA", "2008-09-15"),
    ("Russia 1998 (default)", "RUS", "1998-08-17"),
    ("Russia 2008 (rouble)", "RUS", "2008-11-03"),
    ("Russia 2014 (rouble)", "RUS", "2014-12-16"),
    ("Russia 2022 (war)", "RUS", "2022-02-24"),
    ("China 2015 equity crash", "CHN", "2015-06-12"),
    ("China 2015 yuan", "CHN", "2015-08-11"),
    ("US 2020 (COVID)", "USA", "2020-02-24"),
]
COUNTRIES = ["USA", "RUS", "CHN"]
SCOPES = ["WLD", "USA", "RUS", "CHN", "IND"]
START = date(1997, 1, 1)
REFIT = 63  # business days between re-estimations


#: The shipped model: leading indicators, trade-weighted contagion (configured links here: the
#: shared data hold no bilateral trade), warning cut-off estimated at each refit.
SHIPPED = "shipped: leading indicators, contagion, estimated cut-off"
#: The model shipped before the overlap-adjusted significance test (every day an independent draw).
BEFORE = "before: naive significance test"
#: The model shipped before the equity boom among the leading indicators.
BOOM = "with the equity boom (equity price gap)"
OIL = "with the oil-price fall for oil exporters"
#: The model shipped before the segments' rises over a month and a quarter (levels only).
LEVELS_ONLY = "before: segment levels only, no rises"
#: Tried on the misses (US 2020, China 2015 equity): options off by default (docs/methods-skill.md).
RUNUP = "with the equity run-up (100% in 2 years)"
FAST = "with the equity's fast fall (20-day high)"
LOST = "lost inputs: refit without them"
LOST_FAST = "lost inputs and the fast fall"
#: The shipped rule pack's VIX warning (`vix_level`, "high fear") beside the probability.
VIX_RULE = "the vix_level rule (VIX >= {:g})"
#: Each tried candidate's AUROC against the shipped model's, paired (k candidates: one-sided 0.05 / k).
PAIRED = (BOOM, OIL, RUNUP, FAST, LOST, LOST_FAST)


@pytest.fixture(scope="module")
def scored():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    extra = {s["id"]: Series.model_validate(s) for s in realdata.EWS_SERIES}
    config = dataclasses.replace(config, series={**config.series, **extra})
    frame = realdata.load_long(str(SHARED_DATA))
    history = evaluate_history(frame, config, probability_from=START, refit_every=250, scopes=SCOPES)
    a = config.settings.assessment
    everyone = list(config.series.values())
    members = [s for s in SCOPES if s != "WLD"]
    rule = next(r for r in config.rules.rules if r.kind == "probability")
    assert rule.params.get("cutoff") == "estimated"
    shipped = ews_params(a)  # what the settings give the model
    assert shipped.robust_z and not (shipped.equity_boom or shipped.oil_fall or shipped.equity_runup
                                     or shipped.equity_fast_fall or shipped.lost_inputs)  # the shipped configuration
    variants = {  # name → (params, estimated cut-off in force?)
        "stress features only, fixed P >= 0.3": (EwsParams(horizon=a.crisis_horizon, leading=False, cutoff="none"), False),
        "leading indicators and contagion, fixed P >= 0.3": (dataclasses.replace(shipped, cutoff="none"), False),
        SHIPPED: (shipped, True),
    }
    tried = {  # alternatives measured and not shipped (docs/methods-skill.md says why)
        BOOM: dataclasses.replace(shipped, equity_boom=True),
        OIL: dataclasses.replace(shipped, oil_fall=True),
        RUNUP: dataclasses.replace(shipped, equity_runup=True),
        FAST: dataclasses.replace(shipped, equity_fast_fall=True),
        LOST: dataclasses.replace(shipped, lost_inputs=True),
        LOST_FAST: dataclasses.replace(shipped, lost_inputs=True, equity_fast_fall=True),
        BEFORE: dataclasses.replace(shipped, robust_z=False),
        LEVELS_ONLY: dataclasses.replace(shipped, change_windows=()),
        "country intercepts, ridge-shrunk": dataclasses.replace(shipped, country_effects=True),
        "crisis spells left out of estimation": dataclasses.replace(shipped, spell=True),
        "cut-off minimising mu-loss (mu 0.5)": dataclasses.replace(shipped, cutoff="loss"),
        "10-year rolling estimation window": dataclasses.replace(shipped, window=2520),
        "no contagion term": dataclasses.replace(shipped, links={}),
    }
    out = {}
    for name, (p, estimated) in variants.items():
        h = estimate_history(history.indicators, history.stress, everyone, members, pd.Timestamp(START), REFIT,
                             a.episodes, p)
        out[name] = (h, _thresholds(h, rule, estimated))
    alt = {}
    for name, p in tried.items():
        h = estimate_history(history.indicators, history.stress, everyone, members, pd.Timestamp(START), REFIT,
                             a.episodes, p)
        alt[name] = (h, _thresholds(h, rule, True))
    ind = history.indicators
    vix = next(r for r in config.rules.rules if r.name == "vix_level")  # the shipped rule pack's own VIX warning
    flags = {  # warning rules beside the probability, in domain terms (country → day → on)
        "2-year run-up >= 100%": {c: scope_features(ind, everyone, c)["equity_runup"] >= 0.5 for c in COUNTRIES},
        VIX_RULE.format(vix.warn): {"USA": ind.align(ind.raw("level", columns=["vol.vix"]))["vol.vix"] >= vix.warn},
    }
    return out, alt, rule, history.stress, flags


def _thresholds(h: EwsHistory, rule, estimated: bool) -> tuple[dict, dict]:
    """Per country the warning and critical thresholds in force each day, as the probability rule sets them."""
    warn, crit = {}, {}
    for c in COUNTRIES:
        if estimated:
            w = h.cutoff[c].fillna(rule.warn)
            warn[c], crit[c] = w, np.maximum(w, rule.critical)
        else:
            warn[c], crit[c] = rule.warn, rule.critical
    return warn, crit


def _score(h: EwsHistory, warn: dict, crit: dict, reps: int = 300):
    p = h.probability
    onsets = {c: [pd.Timestamp(o) for _, cc, o in EPISODES if cc == c] for c in COUNTRIES}
    rows = [sk.episode_skill(p[c], n, c, o, warn[c], crit[c]) for n, c, o in EPISODES]
    pool = sk.pooled({c: p[c] for c in COUNTRIES}, onsets, warn, reps=reps)
    return rows, pool, onsets


@pytest.fixture(scope="module")
def results(scored):
    """Prints the skill tables; name → (pooled statistics, episodes warned in time, episodes)."""
    variants, alternatives, rule, _, _ = scored
    results = {}
    for name, (h, (warn, critical)) in variants.items():
        p = h.probability
        rows, pool, onsets = _score(h, warn, critical)
        cut = h.cutoff[COUNTRIES].stack()
        how = (f"warning P >= the estimated cut-off (median {cut.median():.3f}, range {cut.min():.3f}-{cut.max():.3f}), "
               f"critical P >= max(cut-off, {rule.critical})" if len(cut) and name == SHIPPED
               else f"warning P >= {rule.warn}, critical P >= {rule.critical}")
        print(f"\n== {name}: P(crisis within 60 business days); {how}")
        print(f"{'episode':28s} {'onset':10s} {'first warning':13s} {'lead':>5s} {'first critical':14s} {'lead':>5s} "
              f"{'max P':>6s} {'P at -60':>8s}")
        for r in rows:
            fw = r.first_warning.date().isoformat() if r.first_warning is not None else ("none" if r.covered else "no data")
            fc = r.first_critical.date().isoformat() if r.first_critical is not None else ("none" if r.covered else "no data")
            pc = p[r.country]
            o = int(pc.index.searchsorted(r.onset))
            win = pc.iloc[max(0, o - sk.BEFORE): o + sk.AFTER + 1]
            print(f"{r.name:28s} {r.onset.date()!s:10s} {fw:13s} {r.warning_lead if r.warning_lead is not None else '':>5} "
                  f"{fc:14s} {r.critical_lead if r.critical_lead is not None else '':>5} {win.max():6.2f} "
                  f"{pc.iloc[max(0, o - sk.BEFORE)]:8.2f}")
        per = {c: sk.pooled({c: p[c]}, onsets, warn[c], reps=100) for c in COUNTRIES}
        warned = sum(r.first_warning is not None for r in rows)
        print(f"episodes warned in [-60, +5] after 20 quiet days: {warned} of {len(rows)}")
        print(_pooled_line(pool))
        for c, q in per.items():
            cic = f"[{q.ci[0]:.2f}, {q.ci[1]:.2f}]" if q.ci else ""
            print(f"  {c}: AUROC {q.auroc if q.auroc is None else round(q.auroc, 3)} {cic}; warning on "
                  f"{q.warn_calm_share:.1%} of {q.calm_days} calm days; NSR {q.nsr if q.nsr is None else round(q.nsr, 2)}")
        results[name] = (pool, warned, len(rows))
    print("\n== alternatives tried, not shipped (same episodes, same definitions)")
    for name, (h, (warn, critical)) in alternatives.items():
        rows, pool, _ = _score(h, warn, critical, reps=100)
        warned = sum(r.first_warning is not None for r in rows)
        leads = " ".join("-" if r.warning_lead is None else str(r.warning_lead) for r in rows)
        print(f"{name:40s} warned {warned} of {len(rows)} (leads {leads}; max P in [-60, +5] {_max_p(h, rows)}); "
              f"{_pooled_line(pool)}")
        results[name] = (pool, warned, len(rows))
    h, (warn, critical) = variants[SHIPPED]
    onsets = {c: [pd.Timestamp(o) for _, cc, o in EPISODES if cc == c] for c in COUNTRIES}
    for name in PAIRED:  # the options off by default: their AUROC against the shipped model's, paired
        d = sk.auroc_difference({c: h.probability[c] for c in COUNTRIES},
                                {c: alternatives[name][0].probability[c] for c in COUNTRIES}, onsets)
        print(f"{name + ', AUROC minus shipped':40s} {d.difference:+.3f} [{d.ci[0]:+.3f}, {d.ci[1]:+.3f}] "
              f"(paired block bootstrap, 1000 draws; share of draws <= 0: {d.share_not_above:.3f})")
        results[name + " (difference)"] = d
    stress = scored_stress(scored)
    rules = {f"stress index {level} or worse": {c: stress.scopes[c].rank >= LEVELS.index(level) for c in COUNTRIES}
             for level in ("high", "severe")}  # the warning rule also firing on the stress index's level
    for what, on in {**rules, **scored[4]}.items():
        rows, pool = _with_flags(h, warn, on)
        warned = sum(r.first_warning is not None for r in rows)
        leads = " ".join("-" if r.warning_lead is None else str(r.warning_lead) for r in rows)
        per = "; ".join(f"{c} {q.warn_calm_share:.1%}" for c, q in _per_country(h, warn, on).items())
        print(f"{'shipped, or ' + what:40s} warned {warned} of {len(rows)} (leads {leads}); "
              f"warning on {pool.warn_calm_share:.1%} of calm days ({per}); noise-to-signal "
              f"{'n/a' if pool.nsr is None else f'{pool.nsr:.2f}'}; usefulness (mu 0.5) {pool.usefulness:+.3f}")
        results["or " + what] = (pool, warned, len(rows))
    pool, warned, n = results[SHIPPED]
    targets = {"AUROC >= 0.80": pool.auroc is not None and pool.auroc >= 0.80,
               ">= 80% of episodes warned in time": warned >= 0.8 * n,
               "warning on <= 10% of calm days": pool.warn_calm_share <= 0.10,
               "noise-to-signal <= 0.5": pool.nsr is not None and pool.nsr <= 0.5}
    print("\nissue targets (shipped model): " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()))
    return results


def scored_stress(scored):
    return scored[3]


def _flags(h: EwsHistory, warn: dict, on: dict) -> dict[str, pd.Series]:
    """The shipped warning, or a rule's day `on` for the country (1 on a warning day, 0 otherwise)."""
    cal = h.probability.index
    out = {}
    for c in COUNTRIES:
        extra = on[c].reindex(cal).fillna(False).astype(bool) if c in on else pd.Series(False, index=cal)
        out[c] = ((h.probability[c] >= warn[c].reindex(cal)) | extra).astype(float)  # the signal at 0.5
    return out


def _with_flags(h: EwsHistory, warn: dict, on: dict):
    flags = _flags(h, warn, on)
    rows = [sk.episode_skill(flags[c], n, c, o, 0.5, 2.0) for n, c, o in EPISODES]  # warnings only
    onsets = {c: [pd.Timestamp(o) for _, cc, o in EPISODES if cc == c] for c in COUNTRIES}
    return rows, sk.pooled(flags, onsets, 0.5, reps=1)


def _per_country(h: EwsHistory, warn: dict, on: dict) -> dict:
    flags = _flags(h, warn, on)
    onsets = {c: [pd.Timestamp(o) for _, cc, o in EPISODES if cc == c] for c in COUNTRIES}
    return {c: sk.pooled({c: flags[c]}, onsets, 0.5, reps=1) for c in COUNTRIES}


def _max_p(h: EwsHistory, rows) -> str:
    """Each episode's highest probability in [-60, +5] business days of its onset."""
    out = []
    for r in rows:
        pc = h.probability[r.country]
        o = int(pc.index.searchsorted(r.onset))
        out.append(f"{pc.iloc[max(0, o - sk.BEFORE): o + sk.AFTER + 1].max():.2f}")
    return " ".join(out)


def test_skill_table(results) -> None:
    """The honest levels the shipped model reaches on this data, and what each of its parts adds."""
    pool, warned, n = results[SHIPPED]
    assert pool.warn_calm_share <= 0.10  # the calm-day target: met
    assert pool.nsr is not None and pool.nsr <= 0.5  # the noise-to-signal target: met
    assert pool.auroc is not None and pool.auroc >= AUROC_REACHED
    assert warned >= WARNED_REACHED
    before, _, _ = results[BEFORE]
    assert pool.auroc > before.auroc  # the overlap-adjusted test adds skill over the naive one
    levels, levels_warned, _ = results[LEVELS_ONLY]
    assert pool.auroc > levels.auroc  # the segments' rises add skill over their levels alone
    assert warned >= levels_warned and pool.nsr < levels.nsr  # ... without losing episodes or adding noise
    _, fixed_warned, _ = results["leading indicators and contagion, fixed P >= 0.3"]
    assert warned > fixed_warned  # the estimated cut-off warns more episodes in time than the fixed 0.3
    # the equity boom never passes the significance test (the shipped model's numbers); the oil-price
    # fall for exporters ranks better, not significantly once two candidates were tried (off by default)
    boom, oil = results[BOOM + " (difference)"], results[OIL + " (difference)"]
    assert abs(boom.difference) < 0.005 and oil.difference > 0 and oil.share_not_above > 0.025
    # the leading indicators no longer add pooled AUROC once the rises are in (0.801 against 0.808 for
    # the stress features alone: Russia gains, China's credit gap, above 10 pp since 2009, costs it);
    # they stay, as the issue asks, and the table prints both


def test_changes_tried_on_the_misses(results) -> None:
    """US 2020 and the Chinese equity crash (docs/methods-skill.md): what each change gave, so that a change
    of data or method that alters a finding fails here and asks for the decision again."""
    pool, warned, _ = results[SHIPPED]
    diff = {k: results[k + " (difference)"] for k in PAIRED}
    # the run-up never passes the significance test: the shipped model's probabilities
    assert abs(diff[RUNUP].difference) < 0.005
    # the fast fall enters the model but ranks no better and warns no more episodes
    assert diff[FAST].difference < 0 and results[FAST][1] == warned
    # scoring a scope that lost inputs by the refitted model: no episode more and a lower AUROC; with the
    # fast fall US 2020 is warned (+3 days), but the AUROC falls below the 0.80 target: not shipped
    assert results[LOST][1] == warned and diff[LOST].difference < 0
    lost_fast, lost_fast_warned, _ = results[LOST_FAST]
    assert lost_fast_warned == warned + 1 and lost_fast.auroc < 0.80
    # no candidate's AUROC gain is significant at one-sided 0.05 / k
    assert all(d.share_not_above > 0.05 / len(PAIRED) for d in diff.values())
    # beside the probability: the run-up as a warning rule warns the Chinese crash but breaks the calm-day
    # target; the shipped vix_level rule warns US 2020 within the target's other bounds
    runup, runup_warned, _ = results["or 2-year run-up >= 100%"]
    assert runup_warned > warned and runup.warn_calm_share > 0.10
    vix, vix_warned, _ = next(v for k, v in results.items() if k.startswith("or the vix_level rule"))
    assert vix_warned > warned and vix.warn_calm_share <= 0.10 and vix.nsr <= 0.5


def test_auroc_target(results) -> None:
    """The issue's target, met since the segments' rises (0.801 [0.71, 0.90]; 0.767 on levels only)."""
    pool, _, _ = results[SHIPPED]
    assert pool.auroc is not None and pool.auroc >= 0.80


@pytest.mark.xfail(strict=True, reason="measured: 5 of 8 episodes warned in [-60, +5] after 20 quiet days "
                   "(target 80%, 7 of 8): Russia 2008 warned from 2008-08-05 (64 business days before) and on since; "
                   "China 2015 equity (max P 0.03: only the credit gap on) and US 2020 (max P 0.04 against a cut-off "
                   "of 0.10: only the equity's 63-day rise on by +5) not warned; the changes tried on them: "
                   "test_changes_tried_on_the_misses")
def test_episodes_warned_target(results) -> None:
    _, warned, n = results[SHIPPED]
    assert warned >= 0.8 * n


def _pooled_line(pool) -> str:
    ci = f"[{pool.ci[0]:.2f}, {pool.ci[1]:.2f}]" if pool.ci else "n/a"
    return (f"pooled AUROC {pool.auroc:.3f} {ci} over {pool.pre_days} pre-crisis and {pool.calm_days} calm days; "
            f"warning on {pool.warn_calm_share:.1%} of calm days; noise-to-signal "
            f"{'n/a' if pool.nsr is None else f'{pool.nsr:.2f}'}; usefulness (mu 0.5) "
            f"{pool.usefulness:+.3f} (relative {pool.relative_usefulness:+.2f})")


#: The honest levels reached (AUROC target 0.80, met: `test_auroc_target`; episodes 80% = 7 of 8,
#: measured 5: `test_episodes_warned_target` is a strict xfail).
AUROC_REACHED, WARNED_REACHED = 0.80, 5
