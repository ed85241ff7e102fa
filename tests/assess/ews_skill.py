"""The skill table of crisis probabilities: episodes, leads, calm-day shares, AUROC, noise-to-signal, usefulness.

Definitions (the issue's): a warning is P >= the probability rule's warn threshold, a critical one
P >= its critical threshold. The lead of an episode is counted from the first warning in
[-60, +5] business days of its onset that follows at least 20 quiet business days, so a warning
that never switches off earns no lead. Pre-crisis days: the H = 60 business days before an onset;
calm days: farther than 250 business days before and 120 after every onset of the country (the
same days the AUROC's negatives are). Noise-to-signal: (false alarms / calm days) / (signals /
pre-crisis days). Usefulness (Alessi and Detken 2011) at mu = 0.5: min(mu, 1 - mu) - [mu T1 +
(1 - mu) T2], T1 the share of pre-crisis days without a signal, T2 the share of calm days with one;
relative usefulness divides by min(mu, 1 - mu).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from arch.bootstrap import MovingBlockBootstrap

from sco_monitor.replay.score import auroc

H, BEFORE, AFTER, QUIET, CALM_BEFORE, CALM_AFTER = 60, 60, 5, 20, 250, 120


@dataclass
class EpisodeSkill:
    name: str
    country: str
    onset: pd.Timestamp
    first_warning: pd.Timestamp | None
    warning_lead: int | None
    first_critical: pd.Timestamp | None
    critical_lead: int | None
    covered: bool  # a probability existed in the window


def _first_after_quiet(flag: pd.Series, lo: int, hi: int) -> int | None:
    """Position of the first True in [lo, hi] preceded by at least QUIET False days."""
    v = flag.to_numpy(dtype=bool)
    for i in range(max(lo, QUIET), min(hi, len(v) - 1) + 1):
        if v[i] and not v[i - QUIET: i].any():
            return i
    return None


Threshold = float | pd.Series  # a fixed cut-off or the one in force each day (estimated point in time)


def _at_or_above(p: pd.Series, th: Threshold) -> pd.Series:
    """Days with P at or above the threshold (a missing daily cut-off or probability: no signal)."""
    if isinstance(th, pd.Series):
        th = th.reindex(p.index)
        return (p >= th).fillna(False).astype(bool)
    return p.fillna(0.0) >= th


def episode_skill(p: pd.Series, name: str, country: str, onset: str, warn: Threshold,
                  critical: Threshold) -> EpisodeSkill:
    cal = p.index
    o = int(cal.searchsorted(pd.Timestamp(onset)))
    window = p.iloc[max(0, o - BEFORE): o + AFTER + 1]
    covered = bool(window.notna().any())
    out = []
    for th in (warn, critical):
        i = _first_after_quiet(_at_or_above(p, th), o - BEFORE, o + AFTER)
        out.append((cal[i], o - i) if i is not None else (None, None))
    return EpisodeSkill(name, country, pd.Timestamp(onset), *out[0], *out[1], covered)


def labels(cal: pd.DatetimeIndex, onsets: list[pd.Timestamp]) -> tuple[np.ndarray, np.ndarray]:
    """(pre-crisis, calm) masks over the calendar for one country."""
    n = len(cal)
    pre, near = np.zeros(n, bool), np.zeros(n, bool)
    for on in onsets:
        o = int(cal.searchsorted(on))
        pre[max(0, o - H): o] = True
        near[max(0, o - CALM_BEFORE): min(n, o + CALM_AFTER)] = True
    return pre, ~near


@dataclass
class Pooled:
    auroc: float | None
    ci: tuple[float, float] | None
    pre_days: int
    calm_days: int
    warn_calm_share: float
    nsr: float | None
    usefulness: float | None
    relative_usefulness: float | None


def pooled(probs: dict[str, pd.Series], onsets: dict[str, list[pd.Timestamp]], warn: Threshold | dict[str, Threshold],
           mu: float = 0.5, reps: int = 300, seed: int = 7) -> Pooled:
    """AUROC of P for 'crisis within H' over pre-crisis and calm days pooled across countries, with a
    moving-block bootstrap (blocks of H days) interval, and the warning's signal statistics."""
    scores, ys, sig_pre, sig_calm = [], [], [], []
    for c, p in probs.items():
        pre, calm = labels(p.index, onsets.get(c, []))
        ok = p.notna().to_numpy()
        keep = ok & (pre | calm)
        scores.append(p.to_numpy()[keep])
        ys.append(pre[keep])
        s = _at_or_above(p, warn[c] if isinstance(warn, dict) else warn).to_numpy()
        sig_pre.append(s[ok & pre])
        sig_calm.append(s[ok & calm])
    x, y = np.concatenate(scores), np.concatenate(ys)
    a_s, c_s = np.concatenate(sig_pre), np.concatenate(sig_calm)
    auc = auroc(x, y)
    ci = None
    if auc is not None:
        bs = MovingBlockBootstrap(H, x, y, seed=seed)
        draws = [v for v in (auroc(xb, yb) for (xb, yb), _ in bs.bootstrap(reps)) if v is not None]
        ci = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5)))
    hit = a_s.mean() if a_s.size else float("nan")
    false = c_s.mean() if c_s.size else float("nan")
    nsr = float(false / hit) if hit > 0 else None
    loss = mu * (1 - hit) + (1 - mu) * false
    u = min(mu, 1 - mu) - loss if np.isfinite(loss) else None
    return Pooled(auc, ci, int(a_s.size), int(c_s.size), float(false), nsr, u,
                  None if u is None else u / min(mu, 1 - mu))


@dataclass
class Difference:
    """AUROC of an alternative minus the base's on the same days, with a paired bootstrap."""

    difference: float
    ci: tuple[float, float]
    share_not_above: float  # share of draws <= 0: the one-sided p-value of "the alternative ranks better"


def auroc_difference(base: dict[str, pd.Series], alt: dict[str, pd.Series], onsets: dict[str, list[pd.Timestamp]],
                     reps: int = 1000, seed: int = 7) -> Difference:
    """Pooled AUROC(alt) - AUROC(base) over the same pre-crisis and calm days, with a paired
    moving-block bootstrap (blocks of H days, both models' scores resampled together)."""
    xb, xa, ys = [], [], []
    for c, p in base.items():
        q = alt[c].reindex(p.index)
        pre, calm = labels(p.index, onsets.get(c, []))
        keep = p.notna().to_numpy() & q.notna().to_numpy() & (pre | calm)
        xb.append(p.to_numpy()[keep])
        xa.append(q.to_numpy()[keep])
        ys.append(pre[keep])
    b, a, y = np.concatenate(xb), np.concatenate(xa), np.concatenate(ys)
    draws = []
    for (bb, ab, yb), _ in MovingBlockBootstrap(H, b, a, y, seed=seed).bootstrap(reps):
        u, v = auroc(ab, yb), auroc(bb, yb)
        if u is not None and v is not None:
            draws.append(u - v)
    d = np.array(draws)
    return Difference(float(auroc(a, y) - auroc(b, y)), (float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))),
                      float(np.mean(d <= 0)))
