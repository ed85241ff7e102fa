"""Crisis probability (early warning): the signals approach and a logit on the signals.

Kaminsky, Lizondo and Reinhart (1998): an indicator "signals" when it crosses a threshold; the
threshold is chosen, on data before as_of only, to minimise the noise-to-signal ratio

    NSR = [B / (B + D)] / [A / (A + C)]

(A: signals followed by a crisis within H days, B: false alarms, C: missed crises, D: quiet
calm). Thresholds are percentiles of each country's own history (the indicators here are
percentile ranks already: the stress index's segment sub-indices, its composite and the world's
composite), pooled across countries. A logit of "crisis within H days" on the signals, estimated on
the pooled panel, gives P(crisis within H days) per country; when it does not converge or the
signals separate the sample perfectly, a ridge-penalised logit is used instead.

Beside each segment's level, its rise over a month and a quarter (`change_windows`: the change of
the sub-index over 21 and 63 business days, as an expanding percentile rank): the signals
literature reads indicators as growth rates and deviations from trend, not only levels
(Kaminsky, Lizondo and Reinhart 1998; Lo Duca et al. 2017), and a segment whose stress climbs
fast is a different state from one that has sat high for a year.

Besides the stress index, the leading indicators of `ews_indicators` (credit-to-GDP gap, exchange
rate against trend, reserves, exports, policy-rate shock, equity drawdown, contagion from linked neighbours;
optionally the equity boom, the equity run-up, the equity's fast fall and an oil exporter's oil-price
fall) are features where the universe has their data.

A day that lacks a feature its scope had before (a discontinued input: the US money-market and bond
segments end with the FRED files in 2017) reads that feature as "no signal" in the pooled model;
with `lost_inputs` it is scored instead by the model refitted without the features it lost.

Crisis onsets come from `assessment.episodes` when configured, otherwise from the data: a day of
exchange-market pressure (the currency's 20-day depreciation) or of equity drawdown beyond k
standard deviations of its own past (expanding, so causal), the first such day after a quiet spell.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.assess.contagion import contagion, link_weights, trade_weights
from sco_monitor.assess.ews_indicators import EXTRA_FEATURES, OPTIONAL_FEATURES, expanding_rank, scope_features
from sco_monitor.assess.indicators import Indicators
from sco_monitor.assess.model import CrisisProbability
from sco_monitor.assess.stress import SEGMENTS, StressResult, scope_members
from sco_monitor.catalog import Series
from sco_monitor.logs import get_logger
from sco_monitor.vocabulary import WORLD

log = get_logger(__name__)


@dataclass(frozen=True)
class EwsParams:
    """Method constants (documented in docs/methods.md; none fitted to an episode)."""

    horizon: int = 60  # H in P(crisis within H business days)
    percentiles: tuple[float, ...] = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975)
    k: float = 3.0  # derived crises: pressure beyond k standard deviations of its past
    pressure_window: int = 20
    drawdown_window: int = 252
    min_obs: int = 250
    quiet: int = 250  # business days without pressure before a new derived onset
    post_crisis: int = 120  # business days after an onset left out of estimation (post-crisis bias)
    ridge_weight: float = 1.0  # ridge penalty worth this many observations (alpha = weight / rows)
    min_z: float = 1.645  # signal rate before crises significantly above calm (one-sided 5%)
    max_coef: float = 15.0  # larger logit coefficients mean (quasi-)separation
    links: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # scope → neighbour → weight (defaults)
    leading: bool = True  # the leading indicators of ews_indicators beside the stress features
    trade_links: bool = True  # contagion weights from the stored bilateral trade when there is any
    method: str = "signals"  # signals: logit on 0/1 signals | levels: logit on the selected features' values
    cutoff: str = "nsr"  # warning cut-off on P estimated in sample: nsr (signals approach) | loss (mu-loss) | none
    mu: float = 0.5  # the policy maker's weight on missed crises (Alessi and Detken 2011)
    window: int | None = None  # estimation window in business days (None: expanding)
    country_effects: bool = False  # country intercepts, ridge-shrunk to the pooled one (N(0, 1) prior on the shift)
    spell: bool = False  # leave out of estimation the whole crisis spell (pressure beyond k), not only post_crisis days
    robust_z: bool = True  # the signals' significance test on an effective sample of days / H (overlapping labels)
    change_windows: tuple[int, ...] = (21, 63)  # each segment's rise over a month and a quarter (business days)
    equity_boom: bool = False  # the equity price gap (index above its one-sided trend) among the leading indicators
    oil_fall: bool = False  # the oil price's fall over a year among an oil exporter's leading indicators
    equity_runup: bool = False  # the equity price run-up (100% over two years) among the leading indicators
    equity_fast_fall: bool = False  # the equity index's fall from its 20-day high among the leading indicators
    lost_inputs: bool = False  # a day without a feature its scope had before: scored by the model refitted without it


#: Features entering the logit linearly (never thresholded): contagion is a trade-weighted sum, so
#: a neighbour's stress raises the member's log-odds in proportion to its weight.
LINEAR: tuple[str, ...] = ("contagion",)
#: The value a missing feature stands at in the `levels` logit: no signal (the median rank; 0 on
#: the Basel and reserve-adequacy scales, whose 0 means "below the guide's threshold").
NEUTRAL: dict[str, float] = {"credit_gap": 0.0, "reserves_low": 0.0, "contagion": 0.0}


@dataclass
class EwsModel:
    thresholds: dict[str, float]  # feature → percentile threshold (the features the model uses)
    nsr: dict[str, float]
    params: dict[str, float]  # "const" and feature → coefficient
    method: str  # logit | ridge
    rows: int
    crises: int
    kind: str = "signals"  # signals (0/1 above threshold) | levels (the feature's value)
    linear: tuple[str, ...] = ()  # features entering linearly (contagion)
    cutoff: float | None = None  # warning cut-off on P estimated in sample (None: the rule's own)
    effects: dict[str, float] = field(default_factory=dict)  # scope → its intercept's shift (country effects)

    def terms(self, x: pd.DataFrame) -> pd.DataFrame:
        """Each feature's log-odds contribution, row by row (the feature's signal or value times its coefficient)."""
        cols = {}
        for k, th in self.thresholds.items():
            v = x[k].to_numpy(dtype=float) if k in x else np.full(len(x), np.nan)
            if self.kind == "levels":
                v = np.where(np.isfinite(v), v, NEUTRAL.get(k, 0.5))
            else:
                with np.errstate(invalid="ignore"):
                    v = (v > th).astype(float)
            cols[k] = v * self.params.get(k, 0.0)
        for k in self.linear:
            v = x[k].to_numpy(dtype=float) if k in x else np.full(len(x), np.nan)
            cols[k] = np.where(np.isfinite(v), v, 0.0) * self.params.get(k, 0.0)
        return pd.DataFrame(cols, index=x.index)

    def probabilities(self, x: pd.DataFrame, scope: str | None = None) -> np.ndarray:
        eta = self.params.get("const", 0.0) + self.effects.get(scope, 0.0) + self.terms(x).sum(axis=1).to_numpy()
        return 1.0 / (1.0 + np.exp(-eta))

    def probability(self, x: Mapping[str, float], scope: str | None = None) -> tuple[float, dict[str, float]]:
        """P(crisis within H) for one feature vector (of `scope`, for its country effect), with each
        signal's log-odds contribution."""
        row = pd.DataFrame([{k: (np.nan if v is None else v) for k, v in x.items()}])
        terms = self.terms(row).iloc[0]
        drivers = {k: float(v) for k, v in terms.items() if v != 0.0}
        return float(self.probabilities(row, scope)[0]), drivers


@dataclass
class EwsResult:
    probability: dict[str, CrisisProbability]
    model: EwsModel | None
    onsets: dict[str, list[pd.Timestamp]] = field(default_factory=dict)


# --- features and episodes ---------------------------------------------------------------------------


def features(stress: StressResult, scopes: Sequence[str], ind: Indicators | None = None,
             series: Sequence[Series] = (), p: EwsParams | None = None) -> dict[str, pd.DataFrame]:
    """Scope → calendar × features in [0, 1]: segment sub-indices, own composite rank, world rank,
    and (with `ind`) the leading indicators and the contagion from linked neighbours (trade
    weights from the stored bilateral trade, else the configured links: `assess.contagion`)."""
    p = p or EwsParams()
    world = stress.scopes.get(WORLD)
    world_rank = None
    if world is not None and not world.index.empty:
        world_rank = world.index.expanding(min_periods=stress.params.min_obs).rank(pct=True)
    ranks = {k: sc.index.expanding(min_periods=stress.params.min_obs).rank(pct=True)
             for k, sc in stress.scopes.items() if not sc.index.empty}
    trade = trade_weights(ind.raw("level"), series) if ind is not None and p.leading and p.trade_links else {}
    out = {}
    for scope in scopes:
        sc = stress.scopes.get(scope)
        if sc is None or sc.index.empty:
            continue
        f = sc.subindices.rename(columns=lambda s: f"seg_{s}").copy()
        for seg in sc.subindices.columns:
            for w in p.change_windows:
                f[rise_name(seg, w)] = expanding_rank(sc.subindices[seg].diff(w), stress.params.min_obs)
        f["stress"] = ranks[scope]
        if world_rank is not None and scope != WORLD:
            f["world"] = world_rank.reindex(f.index)
        if ind is not None and p.leading:
            skip = [k for k in OPTIONAL_FEATURES if not getattr(p, k)]
            extra = scope_features(ind, series, scope, skip=skip).reindex(f.index)
            for col in extra.columns:
                f[col] = extra[col]
            spill = contagion(ranks, link_weights(f.index, scope, trade, p.links))
            if spill is not None:
                f["contagion"] = spill.reindex(f.index)
        out[scope] = f
    return out


def rise_name(segment: str, window: int) -> str:
    """The feature of a segment's rise over `window` business days: seg_equity_rise63."""
    return f"seg_{segment}_rise{window}"


def feature_names(change_windows: Sequence[int] = ()) -> list[str]:
    """Every feature the model may use, in a fixed order (the segments' rises over `change_windows`)."""
    return ([f"seg_{s}" for s in SEGMENTS] + [rise_name(s, w) for s in SEGMENTS for w in change_windows]
            + ["stress", "world", *EXTRA_FEATURES])


def derived_onsets(
    ind: Indicators, series: Sequence[Series], scopes: Sequence[str], p: EwsParams
) -> dict[str, list[pd.Timestamp]]:
    """Crisis onsets from the data: FX depreciation or equity drawdown beyond k sd of its past."""
    return {k: [a for a, _ in v] for k, v in derived_spells(ind, series, scopes, p).items()}


def derived_spells(
    ind: Indicators, series: Sequence[Series], scopes: Sequence[str], p: EwsParams
) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Crisis spells from the data: (onset, last day of pressure beyond k sd before a quiet spell of
    `p.quiet` days). The onset is the first day of pressure after a quiet spell."""
    dep = ind.raw("fx_depreciation", window=p.pressure_window)
    dd = ind.raw("drawdown", window=p.drawdown_window)
    out = {}
    for scope in scopes:
        members = [s for s in scope_members(series, scope) if s.id in ind.series]
        fx = [s.id for s in members if s.kind == "fx"]
        eq = [s.id for s in members if s.kind == "equity"]
        parts = []
        if fx:
            parts.append(_z(ind.align(dep[fx])).mean(axis=1))
        if eq:
            parts.append(-_z(ind.align(dd[eq])).mean(axis=1))
        if not parts:
            continue
        pressure = pd.concat(parts, axis=1).max(axis=1)
        out[scope] = _spells(pressure > p.k, p.quiet)
    return out


def _z(x: pd.DataFrame, min_obs: int = 250) -> pd.DataFrame:
    ex = x.expanding(min_periods=min_obs)
    return (x - ex.mean().shift(1)) / ex.std().shift(1)


def _onsets(flag: pd.Series, quiet: int) -> list[pd.Timestamp]:
    return [a for a, _ in _spells(flag, quiet)]


def _spells(flag: pd.Series, quiet: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    days = np.flatnonzero(flag.to_numpy(dtype=bool))
    out: list[list[int]] = []
    prev = -10**9
    for d in days:
        if d - prev > quiet:
            out.append([d, d])
        else:
            out[-1][1] = d
        prev = d
    return [(flag.index[a], flag.index[b]) for a, b in out]


def config_onsets(episodes: Sequence[object], scopes: Sequence[str]) -> dict[str, list[pd.Timestamp]]:
    """Onsets from assessment.episodes; an episode without countries applies to every scope."""
    out: dict[str, list[pd.Timestamp]] = {s: [] for s in scopes}
    for ep in episodes:
        for scope in getattr(ep, "countries", None) or scopes:
            if scope in out:
                out[scope].append(pd.Timestamp(ep.start))
    return {k: sorted(v) for k, v in out.items()}


def _labels(index: pd.DatetimeIndex, onsets: Sequence[pd.Timestamp], p: EwsParams,
            spells: Sequence[tuple[pd.Timestamp, pd.Timestamp]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """y_t: an onset within the next H business days; excluded: within post_crisis days after one
    (and, with spells, every day of a crisis spell: the crisis itself is neither pre-crisis nor calm)."""
    pos = index.searchsorted(pd.DatetimeIndex(onsets)) if len(onsets) else np.array([], dtype=int)
    n = len(index)
    y = np.zeros(n, dtype=bool)
    excl = np.zeros(n, dtype=bool)
    for o in pos:
        y[max(0, o - p.horizon): o] = True
        excl[o: min(n, o + p.post_crisis)] = True
    for a, b in spells:
        excl[index.searchsorted(a): index.searchsorted(b, side="right")] = True
    return y, excl


# --- estimation ---------------------------------------------------------------------------------------------


Spells = Mapping[str, Sequence[tuple[pd.Timestamp, pd.Timestamp]]]


def _panel(
    feats: Mapping[str, pd.DataFrame], onsets: Mapping[str, Sequence[pd.Timestamp]], as_of: pd.Timestamp, p: EwsParams,
    spells: Spells | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Pooled training rows: dates whose H-day outcome is known at as_of, outside post-crisis spells
    (with `p.spell`, outside crisis spells as known at as_of); with each row's scope."""
    xs, ys, scopes = [], [], []
    for scope, f in feats.items():
        f = f.loc[:as_of]
        if p.window is not None:
            f = f.iloc[-p.window:]
        if len(f) <= p.horizon:
            continue
        known = [(a, min(b, as_of)) for a, b in (spells or {}).get(scope, []) if a <= as_of] if p.spell else []
        y, excl = _labels(f.index, [o for o in onsets.get(scope, []) if o <= as_of], p, known)
        keep = ~excl
        keep[len(f) - p.horizon:] = False  # outcome not yet known
        xs.append(f.loc[keep])
        ys.append(y[keep])
        scopes.append(np.full(int(keep.sum()), scope, dtype=object))
    if not xs:
        return pd.DataFrame(columns=feature_names(p.change_windows)), np.zeros(0, dtype=bool), np.zeros(0, dtype=object)
    return pd.concat(xs).reindex(columns=feature_names(p.change_windows)), np.concatenate(ys), np.concatenate(scopes)


def choose_thresholds(x: pd.DataFrame, y: np.ndarray, p: EwsParams) -> tuple[dict[str, float], dict[str, float]]:
    """Per feature, the percentile threshold with the lowest noise-to-signal ratio.

    Kept when NSR < 1 and the share of pre-crisis days signalled is significantly above the
    share of calm days signalled (two-proportion z >= min_z), so noise does not pass by chance.
    """
    thresholds, nsrs = {}, {}
    scale = float(p.horizon) if p.robust_z else 1.0
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if ok.sum() < p.min_obs or not y[ok].any() or y[ok].all():
            continue
        vv, yy = v[ok], y[ok]
        best = None
        for th in p.percentiles:
            s = vv > th
            a, b = np.sum(s & yy), np.sum(s & ~yy)
            c, d = np.sum(~s & yy), np.sum(~s & ~yy)
            if a == 0:
                continue
            hit, false = a / (a + c), b / (b + d)
            pooled = (a + b) / (a + b + c + d)
            # overlapping H-day labels: with robust_z the days count as (days / H) independent draws
            se = np.sqrt(pooled * (1 - pooled) * (scale / (a + c) + scale / (b + d)))
            if se == 0 or (hit - false) / se < p.min_z:
                continue
            nsr = false / hit
            if best is None or nsr < best[1]:
                best = (th, nsr)
        if best is not None and best[1] < 1.0:
            thresholds[col], nsrs[col] = best
    return thresholds, nsrs


def _signals(x: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    x = x.reindex(columns=list(thresholds))
    return pd.DataFrame({k: (x[k].to_numpy(dtype=float) > th).astype(float) for k, th in thresholds.items()},
                        index=x.index)


def fit(
    feats: Mapping[str, pd.DataFrame], onsets: Mapping[str, Sequence[pd.Timestamp]], as_of: pd.Timestamp,
    p: EwsParams, spells: Spells | None = None,
) -> EwsModel | None:
    """Thresholds, logit and warning cut-off from data before as_of; None when there is nothing to learn from.

    The features whose signal passes `choose_thresholds` enter the logit (as 0/1 signals, or
    with `method: levels` as their values); the linear features (contagion) enter as values and
    are kept only with a positive coefficient (trouble abroad cannot lower the risk at home).
    """
    x, y, rows_scope = _panel(feats, onsets, as_of, p, spells)
    if len(y) < p.min_obs or not y.any():
        return None
    linear = [k for k in LINEAR if k in x and x[k].notna().any() and np.nanstd(x[k].to_numpy(dtype=float)) > 0]
    thresholds, nsrs = choose_thresholds(x.drop(columns=list(LINEAR), errors="ignore"), y, p)
    if not thresholds:
        return None
    s = _signals(x, thresholds)
    s = s.loc[:, s.std() > 0]
    thresholds = {k: thresholds[k] for k in s.columns}
    if not thresholds:
        return None
    while True:
        model = EwsModel(thresholds, {k: nsrs[k] for k in thresholds}, {}, "", len(y), int(y.sum()),
                         kind=p.method, linear=tuple(linear))
        design = _design(model, x)
        effects = sorted(set(rows_scope)) if p.country_effects else []
        if len(effects) > 1:
            for c in effects:
                design[f"{EFFECT}{c}"] = (rows_scope == c).astype(float)
        params, method = _logit(design, y, p, grouped=p.method == "signals",
                                penalised=[f"{EFFECT}{c}" for c in effects] if len(effects) > 1 else [])
        bad = [k for k in linear if params.get(k, 0.0) <= 0]
        if not bad:
            break
        linear = [k for k in linear if k not in bad]
    model.effects = {k[len(EFFECT):]: params.pop(k) for k in list(params) if k.startswith(EFFECT)}
    model.params, model.method = params, method
    fitted = _fitted(model, x, rows_scope)
    if p.cutoff == "loss":
        model.cutoff = loss_cutoff(fitted, y, p.mu)
    elif p.cutoff == "nsr":
        model.cutoff = nsr_cutoff(fitted, y, p)
    return model


#: Prefix of the country-effect regressors in the logit's design.
EFFECT = "country:"


def _fitted(model: EwsModel, x: pd.DataFrame, rows_scope: np.ndarray) -> np.ndarray:
    """In-sample fitted probabilities of the training rows (with each row's country effect)."""
    if not model.effects:
        return model.probabilities(x)
    shift = np.array([model.effects.get(c, 0.0) for c in rows_scope])
    eta = model.params.get("const", 0.0) + shift + model.terms(x).sum(axis=1).to_numpy()
    return 1.0 / (1.0 + np.exp(-eta))


def nsr_cutoff(prob: np.ndarray, y: np.ndarray, p: EwsParams) -> float | None:
    """The signals approach applied to the fitted probability itself: among its in-sample
    percentiles (`p.percentiles`, the grid every indicator is searched on), the one with the
    lowest noise-to-signal ratio whose signal is significant (`choose_thresholds`)."""
    ok = np.isfinite(prob)
    x = pd.DataFrame({"p": prob[ok]})
    qs = np.quantile(prob[ok], p.percentiles) if ok.any() else []
    grid = dataclasses.replace(p, percentiles=tuple(float(q) for q in qs), min_obs=1)
    th, _ = choose_thresholds(x, y[ok], grid)
    # choose_thresholds signals on P > th; the rule warns on P >= cut-off: the next fitted value up
    if "p" not in th:
        return None
    above = np.sort(prob[ok][prob[ok] > th["p"]])
    return float(above[0]) if len(above) else None


def _design(model: EwsModel, x: pd.DataFrame) -> pd.DataFrame:
    """The regressors the model's coefficients multiply (terms at unit coefficients)."""
    unit = EwsModel(model.thresholds, {}, dict.fromkeys([*model.thresholds, *model.linear], 1.0), "", 0, 0,
                    kind=model.kind, linear=model.linear)
    return unit.terms(x)


def loss_cutoff(prob: np.ndarray, y: np.ndarray, mu: float) -> float | None:
    """The cut-off c minimising L(c) = mu * T1 + (1 - mu) * T2 on the fitted probabilities.

    T1: share of pre-crisis days with P < c (missed), T2: share of other days with P >= c (false
    alarms); Alessi and Detken's (2011) loss, evaluated at every distinct fitted probability (at
    most 400 quantiles). Ties go to the higher cut-off (fewer alarms at the same loss).
    """
    ok = np.isfinite(prob)
    prob, y = prob[ok], y[ok]
    if not y.any() or y.all():
        return None
    cands = np.unique(prob)
    if len(cands) > 400:
        cands = np.unique(np.quantile(prob, np.linspace(0, 1, 401)))
    pos, neg = np.sort(prob[y]), np.sort(prob[~y])
    t1 = np.searchsorted(pos, cands, side="left") / len(pos)
    t2 = 1.0 - np.searchsorted(neg, cands, side="left") / len(neg)
    loss = mu * t1 + (1 - mu) * t2
    best = np.flatnonzero(loss <= loss.min() + 1e-12)
    return float(cands[best[-1]])


def _logit(s: pd.DataFrame, y: np.ndarray, p: EwsParams, grouped: bool = True,
           penalised: Sequence[str] = ()) -> tuple[dict[str, float], str]:
    """Logit of y on the regressors; ridge-penalised when the MLE fails or separates.

    `penalised` regressors (the country effects, collinear with the constant) always carry the
    ridge penalty: the fit is then the penalised one, the other coefficients at a negligible one.

    With 0/1 signals (and a linear term rounded to 0.01) the daily panel collapses to its
    distinct patterns with counts: a binomial GLM on (crises, days) per pattern is the same
    likelihood as the logit on the rows, at a few hundred rows instead of tens of thousands.
    """
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    names = ["const", *s.columns]
    values = s.to_numpy(dtype=float)
    if grouped:
        grouped_rows = pd.DataFrame(np.round(values, 2), columns=list(s.columns)).assign(_y=y.astype(float))
        agg = grouped_rows.groupby(list(s.columns), sort=False)["_y"].agg(["sum", "count"]).reset_index()
        X = np.column_stack([np.ones(len(agg)), agg[list(s.columns)].to_numpy(dtype=float)])
        share = (agg["sum"] / agg["count"]).to_numpy()
        weights = agg["count"].to_numpy(dtype=float)
    else:
        X = np.column_stack([np.ones(len(values)), values])
        share, weights = y.astype(float), np.ones(len(values))
    glm = GLM(share, X, family=Binomial(), var_weights=weights)
    if penalised:
        alpha = np.array([p.ridge_weight / len(X) if n in penalised else 1e-6 / len(X) for n in names])
        alpha[0] = 0.0
        res = glm.fit_regularized(alpha=alpha, L1_wt=0.0, maxiter=300)
        return dict(zip(names, np.asarray(res.params, dtype=float).tolist())), "ridge"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = glm.fit(maxiter=200)
        # statsmodels' separation check misfires on grouped shares; (quasi-)separation shows as a
        # diverging coefficient, which max_coef catches
        trouble = [w for w in caught if "converge" in str(w.message).lower()]
        beta = np.asarray(res.params, dtype=float)
        if res.converged and not trouble and np.all(np.isfinite(beta)) and np.max(np.abs(beta[1:])) <= p.max_coef:
            return dict(zip(names, beta.tolist())), "logit"
    except Exception as e:  # noqa: BLE001 - singular matrices, perfect prediction: use the ridge fit
        log.info("ews_logit_fallback", error=f"{type(e).__name__}: {e}")
    # the penalty of `ridge_weight` observations: statsmodels scales the log-likelihood by the rows
    # it sees (the patterns), so per pattern row rather than per day
    alpha = np.full(X.shape[1], p.ridge_weight / len(X))
    alpha[0] = 0.0
    res = glm.fit_regularized(alpha=alpha, L1_wt=0.0, maxiter=300)
    return dict(zip(names, np.asarray(res.params, dtype=float).tolist())), "ridge"


# --- entry points ---------------------------------------------------------------------------------------------


def onsets_for(
    ind: Indicators, series: Sequence[Series], scopes: Sequence[str], episodes: Sequence[object], p: EwsParams
) -> dict[str, list[pd.Timestamp]]:
    """Configured episodes when there are any, else onsets derived from the data."""
    if episodes:
        return config_onsets(episodes, scopes)
    return derived_onsets(ind, series, scopes, p)


def crisis_probability(
    ind: Indicators,
    stress: StressResult,
    series: Sequence[Series],
    scopes: Sequence[str],
    as_of: date | pd.Timestamp,
    episodes: Sequence[object] = (),
    params: EwsParams | None = None,
    fit_at: date | pd.Timestamp | None = None,
) -> EwsResult:
    """P(crisis within H business days) per scope at as_of, from a model fitted on data before
    `fit_at` (default: as_of; the pipeline passes the first day of as_of's refit period)."""
    return EwsWindow.of(ind, stress, series, scopes, episodes, params).at(as_of, fit_at)


@dataclass
class EwsWindow:
    """Features and onsets over a window, computed once; the probability of any day of it, with
    the model of each refit date fitted once (the replay reads many days from one window)."""

    feats: dict[str, pd.DataFrame]
    onsets: dict[str, list[pd.Timestamp]]
    scopes: list[str]
    p: EwsParams
    models: dict[pd.Timestamp, EwsModel | None] = field(default_factory=dict)
    spells: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = field(default_factory=dict)
    refits: dict[tuple[pd.Timestamp, tuple[str, ...]], EwsModel | None] = field(default_factory=dict)
    had: dict[tuple[pd.Timestamp, str], pd.Series] = field(default_factory=dict)

    @classmethod
    def of(cls, ind: Indicators, stress: StressResult, series: Sequence[Series], scopes: Sequence[str],
           episodes: Sequence[object] = (), params: EwsParams | None = None) -> EwsWindow:
        p = params or EwsParams()
        feats = features(stress, list(dict.fromkeys([*scopes, WORLD])), ind, series, p)
        feats = {k: v for k, v in feats.items() if k in scopes}
        spells = derived_spells(ind, series, list(feats), p) if p.spell and not episodes else {}
        return cls(feats, onsets_for(ind, series, list(feats), episodes, p), list(scopes), p, spells=spells)

    def model(self, fit_at: pd.Timestamp) -> EwsModel | None:
        if fit_at not in self.models:
            self.models[fit_at] = fit(self.feats, self.onsets, fit_at, self.p, self.spells)
        return self.models[fit_at]

    def lost(self, model: EwsModel, fit_at: pd.Timestamp, scope: str, row: pd.Series) -> tuple[str, ...]:
        """With `lost_inputs`: the model's features that the scope had before `fit_at` and lacks in `row`."""
        if not self.p.lost_inputs:
            return ()
        key = (fit_at, scope)
        if key not in self.had:
            self.had[key] = self.feats[scope].loc[:fit_at].notna().any()
        had = self.had[key]
        return tuple(k for k in model.thresholds if bool(had.get(k, False)) and not np.isfinite(row.get(k, np.nan)))

    def model_for(self, fit_at: pd.Timestamp, lost: tuple[str, ...]) -> EwsModel | None:
        """The model fitted at `fit_at`; without the `lost` features, the one refitted on the same panel
        without them (thresholds, coefficients and cut-off), so a discontinued input is not read as calm."""
        model = self.model(fit_at)
        if not lost or model is None:
            return model
        if (fit_at, lost) not in self.refits:
            feats = {k: f.assign(**{c: np.nan for c in lost if c in f}) for k, f in self.feats.items()}
            self.refits[(fit_at, lost)] = fit(feats, self.onsets, fit_at, self.p, self.spells)
        return self.refits[(fit_at, lost)] or model

    def scores(self, fit_at: pd.Timestamp, scope: str, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and cut-offs of the rows of `x` (one scope's features), each row scored by the
        model for the features it has (`model_for`); NaN where no model or no feature."""
        prob, cut = np.full(len(x), np.nan), np.full(len(x), np.nan)
        model = self.model(fit_at)
        if model is None:
            return prob, cut
        groups: dict[tuple[str, ...], list[int]] = {(): list(range(len(x)))} if not self.p.lost_inputs else {}
        for i in range(len(x) if self.p.lost_inputs else 0):
            groups.setdefault(self.lost(model, fit_at, scope, x.iloc[i]), []).append(i)
        for lost, rows in groups.items():
            m = self.model_for(fit_at, lost)
            prob[rows] = m.probabilities(x.iloc[rows], scope)
            cut[rows] = np.nan if m.cutoff is None else m.cutoff
        prob[~x.notna().any(axis=1).to_numpy()] = np.nan
        return prob, cut

    def at(self, as_of: date | pd.Timestamp, fit_at: date | pd.Timestamp | None = None) -> EwsResult:
        as_of = pd.Timestamp(as_of)
        fit_at = pd.Timestamp(fit_at) if fit_at is not None else as_of
        model = self.model(fit_at)
        out = {}
        for scope in self.scopes:
            f = self.feats.get(scope)
            if f is None or model is None:
                out[scope] = CrisisProbability(country=scope, horizon=self.p.horizon, probability=None)
                continue
            known = f.loc[:as_of]
            row = known.iloc[-1] if len(known) else pd.Series(dtype=float)
            if row.dropna().empty:
                out[scope] = CrisisProbability(country=scope, horizon=self.p.horizon, probability=None)
                continue
            used = self.model_for(fit_at, self.lost(model, fit_at, scope, row))
            prob, drivers = used.probability(row.to_dict(), scope)
            out[scope] = CrisisProbability(country=scope, horizon=self.p.horizon, probability=prob, drivers=drivers,
                                             cutoff=used.cutoff)
        onsets = {k: [o for o in v if o <= as_of] for k, v in self.onsets.items()}
        return EwsResult(out, model, onsets)


@dataclass
class EwsHistory:
    """Calendar × scope probabilities and the warning cut-off in force each day (NaN: none estimated)."""

    probability: pd.DataFrame
    cutoff: pd.DataFrame


def estimate_history(
    ind: Indicators,
    stress: StressResult,
    series: Sequence[Series],
    scopes: Sequence[str],
    start: date | pd.Timestamp,
    refit_every: int = 60,
    episodes: Sequence[object] = (),
    params: EwsParams | None = None,
) -> EwsHistory:
    """Probabilities and cut-offs from `start`, refitting every `refit_every` business days.

    Causal: the model (thresholds, coefficients, cut-off) used on day t was fitted at a refit
    date <= t on outcomes known by then.
    """
    window = EwsWindow.of(ind, stress, series, scopes, episodes, params)
    cal = ind.calendar[ind.calendar >= pd.Timestamp(start)]
    out = pd.DataFrame(np.nan, index=cal, columns=list(scopes))
    cut = pd.DataFrame(np.nan, index=cal, columns=list(scopes))
    for i in range(0, len(cal), refit_every):
        block = cal[i: i + refit_every]
        if window.model(block[0]) is None:
            continue
        for scope, f in window.feats.items():
            x = f.reindex(index=block, columns=feature_names(window.p.change_windows))
            out.loc[block, scope], cut.loc[block, scope] = window.scores(block[0], scope, x)
    return EwsHistory(out, cut)


def probability_history(
    ind: Indicators,
    stress: StressResult,
    series: Sequence[Series],
    scopes: Sequence[str],
    start: date | pd.Timestamp,
    refit_every: int = 60,
    episodes: Sequence[object] = (),
    params: EwsParams | None = None,
) -> pd.DataFrame:
    """Calendar × scope probabilities from `start` (see `estimate_history`)."""
    return estimate_history(ind, stress, series, scopes, start, refit_every, episodes, params).probability
