"""Composite stress index per member state and for the world, after the ECB's CISS.

Hollo, Kremer and Lo Duca (2012), "CISS - a composite indicator of systemic stress": raw stress
measures are grouped into market segments; each measure is replaced by its empirical CDF (its
percentile rank among all earlier observations, so the transform is causal); a segment's
sub-index is the mean of its measures' CDFs; the sub-indices are aggregated as

    CISS_t = (w * s_t)' C_t (w * s_t)

with C_t the matrix of time-varying (EWMA) cross-correlations of the sub-indices demeaned by their
theoretical median 0.5, so stress that hits several segments at once weighs more than the same
stress in one segment. Weights are equal across the segments a scope has (s' C s / n^2). Levels
low / moderate / elevated / high / severe start at quantiles of the index's own earlier history.

The segments follow the CISS's market split: equity (realised volatility, CMAX), money market
(spreads tagged `funding` such as TED: their level), bond market (credit-spread levels, government-yield
volatility, the depth of a yield-curve inversion), FX (depreciation, volatility), commodities and
implied volatility. Measured against the Kansas City Fed index (docs/methods-skill.md) two choices
cost the index its edge over VIX alone and were removed: 20-day changes of credit spreads (noise:
alone they correlate 0.26 and -0.07 with the KCFSI), and funding spreads sharing the bond-market
segment (the CISS keeps the money market apart; r 0.87 with them together, 0.94 apart).
"""

from __future__ import annotations

import dataclasses

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.assess.indicators import Indicators
from sco_monitor.assess.model import StressValue
from sco_monitor.catalog import SCO_MEMBERS, Series
from sco_monitor.vocabulary import WORLD

SEGMENTS: tuple[str, ...] = ("equity", "fx", "money", "rates", "commodities", "volatility")
LEVELS: tuple[str, ...] = ("low", "moderate", "elevated", "high", "severe")
WORLD_COUNTRIES = frozenset({WORLD, "USA", "EMU"})


@dataclass(frozen=True)
class StressParams:
    """Method constants (documented in docs/methods.md, not fitted to any episode)."""

    level_quantiles: tuple[float, ...] = (0.5, 0.75, 0.9, 0.975)
    min_obs: int = 250  # observations before a measure's CDF (and the index's levels) count
    corr_lambda: float = 0.985  # daily equivalent of the CISS's weekly 0.93
    corr_min_periods: int = 20
    drawdown_window: int = 504  # CMAX over two years, as in the CISS
    change_window: int = 20
    vol_lambda: float = 0.94
    min_segments: int = 3  # fewer and the index says it is partial
    grace_days: int = 7  # a market closed for a holiday week keeps its segment


def segment_of(s: Series) -> str:
    """The stress segment of a series: its catalog segment, except that spreads tagged `funding`
    (TED, LIBOR-OIS) form the money-market segment, as in the CISS."""
    return "money" if s.kind == "spread" and "funding" in s.tags else s.stress_segment


def scopes_for(series: Sequence[Series]) -> list[str]:
    """The world, every SCO member state, and any other country whose market series span at least
    two segments (the US index is the reference the others are read against)."""
    segments: dict[str, set[str]] = {}
    for s in series:
        if s.kind != "macro" and segment_of(s) in SEGMENTS and "alternative" not in s.tags:
            segments.setdefault(s.country, set()).add(segment_of(s))
    others = sorted(c for c, segs in segments.items()
                    if len(segs) >= 2 and c not in SCO_MEMBERS and c != WORLD)
    return [WORLD, *SCO_MEMBERS, *others]


def scope_members(series: Sequence[Series], scope: str) -> list[Series]:
    """Series feeding a scope's index: its own market series (world: WLD/USA/EMU and world-tagged).

    Disabled series count while they have data (e.g. the discontinued TED spread in history);
    `alternative` second sources are left out so that no market weighs twice.
    """
    out = []
    for s in series:
        if s.kind == "macro" or segment_of(s) not in SEGMENTS or "alternative" in s.tags:
            continue
        if scope == WORLD:
            if s.country in WORLD_COUNTRIES or "world" in s.tags:
                out.append(s)
        elif s.country == scope:
            out.append(s)
    return out


def _measures(ind: Indicators, members: Sequence[Series], p: StressParams) -> dict[str, list[pd.DataFrame]]:
    """Segment → raw measures (observation-dated, higher = more stress), one column per series."""
    by_seg: dict[str, list[Series]] = {}
    for s in members:
        if s.id in ind.series:
            by_seg.setdefault(segment_of(s), []).append(s)
    out: dict[str, list[pd.DataFrame]] = {}

    def vol(cols: list[str]) -> pd.DataFrame:
        return ind.raw("ewma_vol", columns=cols, lam=p.vol_lambda)

    def cmax(cols: list[str]) -> pd.DataFrame:
        return -ind.raw("drawdown", columns=cols, window=p.drawdown_window, orient=True)

    for seg, ss in by_seg.items():
        ids = [s.id for s in ss]
        if seg in ("equity", "commodities"):
            out[seg] = [vol(ids), cmax(ids)]
        elif seg == "fx":
            out[seg] = [ind.raw("fx_depreciation", columns=ids, window=p.change_window), vol(ids)]
        elif seg == "volatility":
            sign = pd.Series({s.id: -1.0 if s.direction == "down" else 1.0 for s in ss})
            out[seg] = [ind.raw("level", columns=ids) * sign]
        elif seg == "money":  # funding spreads: how wide they are
            out[seg] = [ind.raw("level", columns=ids)]
        else:  # bond market: credit spreads, yield volatility, curve inversion
            credit = [s.id for s in ss if s.kind == "spread" and s.direction != "down"]
            curves = [s.id for s in ss if s.kind == "spread" and s.direction == "down"]
            bonds = [s.id for s in ss if s.kind == "bond"]
            others = [s.id for s in ss if s.kind not in ("spread", "bond")]
            parts = []
            if bonds:  # government-bond price indices: volatile and below their high (yields up) is stress
                parts += [vol(bonds), cmax(bonds)]
            if credit:  # credit spreads: wide is stress (their 20-day change is noise, see the module doc)
                parts.append(ind.raw("level", columns=credit))
            if curves:  # term spreads: only an inversion is stress (see `inversion`)
                parts.append(ind.raw("level", columns=curves).mul(-1.0).clip(lower=0.0).rename(columns=_INVERTED))
            if others:  # rates: volatility of their changes
                parts.append(vol(others))
            out[seg] = parts
    return out


_INVERTED = "{}#inverted".format


def ecdf(raw: pd.DataFrame, min_obs: int) -> pd.DataFrame:
    """Expanding empirical CDF per column: the percentile rank of each value among all up to it.

    Inversion measures (depth below zero of a term spread) count only while the curve is
    inverted: their CDF is taken over all days and then kept only where the depth is positive.
    """
    out = raw.expanding(min_periods=min_obs).rank(pct=True)
    inv = [c for c in raw.columns if str(c).endswith("#inverted")]
    if inv:
        out[inv] = out[inv].where(raw[inv] > 0)
        out = out.rename(columns={c: c.split("#", 1)[0] for c in inv})
    return out


def ciss(sub: pd.DataFrame, lam: float = 0.985, min_periods: int = 20) -> tuple[pd.Series, pd.DataFrame]:
    """CISS aggregation of sub-indices (calendar × segments, NaN = absent) → index and contributions."""
    s = sub.to_numpy(dtype=float)
    t, k = s.shape
    avail = ~np.isnan(s)
    n = avail.sum(axis=1)
    w = np.where(avail, 1.0 / np.maximum(n, 1)[:, None], 0.0)
    z = s - 0.5

    def ewm(a: np.ndarray) -> np.ndarray:
        return pd.Series(a).ewm(alpha=1.0 - lam, adjust=True, ignore_na=True, min_periods=min_periods).mean().to_numpy()

    var = np.column_stack([ewm(z[:, i] * z[:, i]) for i in range(k)]) if k else np.zeros((t, 0))
    corr = np.broadcast_to(np.eye(k), (t, k, k)).copy()
    for i in range(k):
        for j in range(i + 1, k):
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = ewm(z[:, i] * z[:, j]) / np.sqrt(var[:, i] * var[:, j])
            rho = np.clip(np.nan_to_num(rho, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)
            corr[:, i, j] = corr[:, j, i] = rho
    ws = w * np.nan_to_num(s)
    contrib = ws * np.einsum("tij,tj->ti", corr, ws)
    index = np.clip(contrib.sum(axis=1), 0.0, None)
    index[n == 0] = np.nan
    contrib[~avail] = np.nan
    return pd.Series(index, index=sub.index), pd.DataFrame(contrib, index=sub.index, columns=sub.columns)


def level_bounds(index: pd.Series, quantiles: Sequence[float], min_obs: int) -> pd.DataFrame:
    """Lower bounds of moderate..severe at each date: quantiles of the index's earlier values."""
    s = index.dropna()
    bounds = pd.DataFrame(
        {name: s.expanding(min_periods=min_obs).quantile(q).shift(1) for name, q in zip(LEVELS[1:], quantiles)}
    )
    return bounds.reindex(index.index).ffill()


def level_ranks(index: pd.Series, bounds: pd.DataFrame) -> pd.Series:
    """0 (low) .. 4 (severe) per date; NaN where the index or its bounds are unknown."""
    v = index.to_numpy()[:, None]
    b = bounds.to_numpy()
    rank = (v >= b).sum(axis=1).astype(float)
    rank[np.isnan(index.to_numpy()) | np.isnan(b).any(axis=1)] = np.nan
    return pd.Series(rank, index=index.index)


@dataclass
class ScopeStress:
    """The index of one scope over the calendar, with what it is made of."""

    scope: str
    series: list[str]
    index: pd.Series
    rank: pd.Series
    bounds: pd.DataFrame
    subindices: pd.DataFrame
    contributions: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    empty_note: str = ""

    def value(self, when: date | pd.Timestamp | None = None,
              min_segments: int = StressParams.min_segments) -> StressValue:
        """The StressValue at `when` (default: the last calendar day)."""
        if self.index.empty:
            return StressValue(scope=self.scope, missing=list(SEGMENTS), note=self.empty_note)
        pos = len(self.index) - 1 if when is None else int(self.index.index.searchsorted(pd.Timestamp(when), "right")) - 1
        if pos < 0:
            return StressValue(scope=self.scope, missing=list(SEGMENTS), note="no data up to this date")
        return self._values_at([pos], min_segments)[0]

    def _values_at(self, positions: Sequence[int], min_segments: int) -> list[StressValue]:
        """The StressValues of calendar rows `positions`, read from the frames' arrays once (a daily
        save builds those of the recent weeks for every scope)."""
        frames = (self.subindices, self.contributions, self.bounds)
        cols = [list(f.columns) for f in frames]
        rows = [f.to_numpy(dtype=float)[positions] for f in frames]
        values, ranks = self.index.to_numpy(dtype=float)[positions], self.rank.to_numpy(dtype=float)[positions]
        days = self.index.index[positions]
        out = []
        for j, value in enumerate(values):
            sub, contrib, bounds = ({c: float(v) for c, v in zip(names, row[j], strict=True) if not np.isnan(v)}
                                    for names, row in zip(cols, rows, strict=True))
            used = list(sub)
            missing = [seg for seg in SEGMENTS if seg not in used]
            notes = []
            if np.isnan(value):
                notes.append("no segment has enough history yet")
            elif len(used) < min_segments:
                notes.append(f"partial index from {len(used)} of {len(SEGMENTS)} segments ({', '.join(used)}); "
                             f"no usable {', '.join(missing)} series")
            level = None if np.isnan(ranks[j]) else LEVELS[int(ranks[j])]
            if not np.isnan(value) and level is None:
                notes.append("history too short for levels")
            out.append(StressValue(
                scope=self.scope, value=None if np.isnan(value) else float(value), level=level,
                segments=contrib, thresholds=bounds, date=days[j].date(), subindices=sub, missing=missing,
                note="; ".join(notes),
            ))
        return out

    def until(self, when: date | pd.Timestamp) -> ScopeStress:
        """The index as known at `when` (every part is causal: the rows up to it)."""
        if self.index.empty:
            return self
        t = pd.Timestamp(when)
        return dataclasses.replace(
            self, index=self.index.loc[:t], rank=self.rank.loc[:t], bounds=self.bounds.loc[:t],
            subindices=self.subindices.loc[:t], contributions=self.contributions.loc[:t])

    def recent(self, since: pd.Timestamp) -> list[StressValue]:
        """StressValues of the days from `since` (for saving the recent history)."""
        if self.index.empty or not isinstance(self.index.index, pd.DatetimeIndex):
            return []  # a scope with no dated values yet (e.g. no series collected) has no history
        keep = (self.index.index >= since) & ~np.isnan(self.index.to_numpy(dtype=float))
        return self._values_at(np.flatnonzero(keep).tolist(), StressParams.min_segments)


@dataclass
class StressResult:
    scopes: dict[str, ScopeStress]
    params: StressParams

    def values(self, when: date | None = None) -> dict[str, StressValue]:
        return {k: v.value(when, self.params.min_segments) for k, v in self.scopes.items()}

    def until(self, when: date | pd.Timestamp) -> StressResult:
        return StressResult({k: v.until(when) for k, v in self.scopes.items()}, self.params)


def stress_index(
    ind: Indicators,
    series: Sequence[Series],
    scopes: Sequence[str] | None = None,
    params: StressParams | None = None,
) -> StressResult:
    """Stress index of each scope over the calendar of `ind` (pure, causal)."""
    p = params or StressParams()
    scopes = list(scopes) if scopes is not None else scopes_for(series)
    members = {scope: scope_members(series, scope) for scope in scopes}
    everyone = list({s.id: s for ms in members.values() for s in ms}.values())
    cdfs: dict[str, list[pd.DataFrame]] = {}
    for seg, raws in _measures(ind, everyone, p).items():
        cdfs[seg] = [ind.align(ecdf(r, p.min_obs)).where(ind.fresh(p.grace_days).reindex(columns=r.columns, fill_value=False))
                     for r in raws if not r.empty]
    out: dict[str, ScopeStress] = {}
    for scope in scopes:
        ids = [s.id for s in members[scope] if s.id in ind.observed]
        if not ids:
            empty = pd.Series(dtype=float, index=pd.DatetimeIndex([]))
            note = (f"no observations yet for its {len(members[scope])} market series" if members[scope]
                    else f"no market series for {scope} in the universe")
            out[scope] = ScopeStress(scope, [], empty, empty, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                     list(SEGMENTS), note)
            continue
        sub = pd.DataFrame(index=ind.calendar)
        for seg in SEGMENTS:
            parts = [c.reindex(columns=[i for i in ids if i in c.columns]) for c in cdfs.get(seg, [])]
            parts = [x for x in parts if x.shape[1]]
            if parts:
                sub[seg] = pd.concat(parts, axis=1).mean(axis=1, skipna=True)
        sub = sub.dropna(axis=1, how="all")
        index, contrib = ciss(sub, p.corr_lambda, p.corr_min_periods)
        bounds = level_bounds(index, p.level_quantiles, p.min_obs)
        out[scope] = ScopeStress(
            scope=scope, series=ids, index=index, rank=level_ranks(index, bounds), bounds=bounds,
            subindices=sub, contributions=contrib, missing=[s for s in SEGMENTS if s not in sub.columns],
        )
    return StressResult(out, p)
