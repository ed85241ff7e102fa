"""The track record: how past warnings fared against crisis episodes. Pure functions.

Definitions (the signals approach of Kaminsky, Lizondo and Reinhart, 1998):

- A rule *signals* on a day when its evaluation has been warn-or-worse for its `for` count of
  consecutive evaluations, i.e. when its alert is firing; a *critical* signal is a firing day
  whose evaluation is critical. A country signals when any of its rules does.
- With H the crisis horizon (trading days), a day is *pre-crisis* when an episode of its
  country starts within the next H trading days, *in crisis* from an onset to the episode's
  end (onset + H when the end is not known), *calm* otherwise. Crisis days are left out
  (post-crisis bias); so are calm-looking days whose next H days lie beyond what is known.
- An episode is *warned* when a signal came between H trading days before the onset and the
  onset itself; the lead time is the trading days from the first such signal to the onset
  (negative when the first signal came only after the onset, before the episode ended).
- hit rate = pre-crisis days with a signal / pre-crisis days; false-alarm rate = calm days
  with a signal / calm days; noise-to-signal = false-alarm rate / hit rate (below 1 means the
  signal is informative; empty when the signal never fired before a crisis).
- AUROC of a score (crisis probability, stress index) for "a crisis starts within H days":
  the Mann-Whitney rank statistic over pre-crisis (positive) and calm (negative) days, ties
  counted half; 0.5 is no skill.

Trading days are business days (Monday to Friday).

No figure without the outcomes to support it: hit and false-alarm rates, noise-to-signal and
AUROC are only given when at least MIN_CRISIS_DAYS pre-crisis (crisis-window) days and
MIN_CALM_DAYS calm days have fully observed outcomes (a calm day counts only when its next H
days are known); otherwise they are None and the summary says "not enough outcomes yet" with the
counts. Each AUROC given carries a block-bootstrap confidence interval over days (moving blocks
of BOOTSTRAP_BLOCK trading days, since daily scores and labels are serially dependent; all
countries of a day move together; seeded, so a track record is reproducible).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from statistics import median
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.assess.model import VarBacktest
from sco_monitor.replay.episodes import Span, bday, bdays
from sco_monitor.timeutil import to_date

PRE, CALM, EXCLUDED = 1, 0, -1

MIN_CRISIS_DAYS = 20
"""Pre-crisis days with known outcomes below which no hit rate or AUROC is given (one month of
run-up: fewer is one short episode, whose rates say more about that episode than the signal)."""
MIN_CALM_DAYS = 60
"""Calm days with fully observed outcomes below which no false-alarm rate or AUROC is given
(about a quarter: a false-alarm rate over fewer days moves by more than 1 point per day)."""
BOOTSTRAP_DRAWS = 500
"""Block-bootstrap draws behind each AUROC's confidence interval."""
BOOTSTRAP_BLOCK = 20
"""Block length in trading days (about a month, the order of the horizon and the scores' memory)."""
BOOTSTRAP_SEED = 20
"""Seed of the bootstrap: the same store gives the same intervals."""
CI_LEVEL = 0.95
"""Coverage of the percentile bootstrap interval."""


class Enough(BaseModel):
    """The support a rate or an AUROC needs (both classes)."""

    model_config = ConfigDict(frozen=True)
    crisis_days: int = MIN_CRISIS_DAYS
    calm_days: int = MIN_CALM_DAYS

    def met(self, crisis: int, calm: int) -> bool:
        return crisis >= self.crisis_days and calm >= self.calm_days


ENOUGH = Enough()


def not_enough_message(crisis: int, calm: int) -> str:
    """What the report and the summary say instead of figures the outcomes cannot support."""
    return f"not enough outcomes yet ({crisis} crisis-window days, {calm} calm)"

DEFINITIONS: dict[str, str] = {
    "signal": "a day on which a rule's alert fires: warn-or-worse for its `for` count of consecutive evaluations",
    "pre_crisis": "a crisis of the country starts within the next H trading days",
    "calm": "neither pre-crisis nor in a crisis, with the next H trading days known",
    "warned": "a signal came between H trading days before the onset and the onset",
    "lead_days": "trading days from the first signal to the onset (negative: only after the onset)",
    "hit_rate": "pre-crisis days with a signal / pre-crisis days",
    "false_alarm_rate": "calm days with a signal / calm days",
    "noise_to_signal": "false-alarm rate / hit rate; below 1 means informative",
    "auroc": "rank AUROC of the score for 'crisis within H days' over pre-crisis and calm days; 0.5 = no skill",
    "auroc_ci": f"{CI_LEVEL:.0%} percentile interval of {BOOTSTRAP_DRAWS} moving-block bootstrap draws over days "
                f"(blocks of {BOOTSTRAP_BLOCK} trading days, seeded)",
    "enough": f"rates and AUROC only with at least {MIN_CRISIS_DAYS} pre-crisis and {MIN_CALM_DAYS} calm days "
              "whose outcomes are fully observed",
}


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Detection(Out):
    came: bool = Field(description="A signal came in the H trading days up to the onset")
    first: date | None = Field(default=None, description="First signal in the episode's window")
    lead_days: int | None = Field(default=None, description="Trading days from the first signal to the onset")


class EpisodeScore(Out):
    name: str
    country: str
    start: date
    end: date | None
    source: str
    warning: Detection
    critical: Detection
    rules: list[str] = Field(default_factory=list, description="Rules that signalled in time")


class Rates(Out):
    pre_crisis_days: int = 0
    pre_crisis_signal_days: int = 0
    calm_days: int = 0
    calm_signal_days: int = 0
    hit_rate: float | None = None
    false_alarm_rate: float | None = None
    noise_to_signal: float | None = None


class RuleScore(Out):
    rule: str
    category: str
    countries: list[str]
    signal_days: int
    episodes: int
    warned: int
    median_lead_days: float | None
    rates: Rates
    useful: bool = Field(description="Warned of at least one episode with a noise-to-signal ratio below 1")


class Summary(Out):
    episodes: int
    warned: int
    warned_critical: int
    median_lead_days: float | None
    warn: Rates
    critical: Rates
    auroc_probability: float | None
    auroc_stress: float | None
    auroc_probability_ci: tuple[float, float] | None = None
    auroc_stress_ci: tuple[float, float] | None = None
    enough: bool = Field(default=False, description="Both classes have enough days with observed outcomes")
    not_enough: str | None = Field(default=None, description="Why no rates or AUROC are given, with the counts")


class CountryScore(Summary):
    country: str


class Timeline(Out):
    warn: list[tuple[date, date]] = Field(default_factory=list)
    critical: list[tuple[date, date]] = Field(default_factory=list)
    episodes: list[tuple[date, date | None]] = Field(default_factory=list)


class NowcastScore(Out):
    """The stored DFM nowcasts of one target at one horizon against the random walk, on published outcomes."""

    target: str
    horizon: int = Field(description="Periods from the one holding the nowcast's date (0) to the target period")
    n: int
    rmse: float | None = None
    rw_rmse: float | None = None
    ratio: float | None = Field(default=None, description="RMSE / the random walk's on the same origins and periods")
    dm_p: float | None = Field(default=None, description="Diebold-Mariano p-value against the random walk")


class TrackRecord(Out):
    """What `replay --score` writes and what the daily report renders."""

    as_of: date = Field(description="Outcomes known up to this date")
    start: date
    end: date
    horizon: int
    days: int = Field(description="Assessment days scored")
    summary: Summary
    episodes: list[EpisodeScore]
    countries: list[CountryScore]
    rules: list[RuleScore]
    timeline: dict[str, Timeline]
    definitions: dict[str, str] = Field(default_factory=lambda: dict(DEFINITIONS))
    var_backtests: list[VarBacktest] = Field(
        default_factory=list, description="99% one-day GARCH VaR of each daily market series over the last 250 days")
    nowcasts: list[NowcastScore] = Field(
        default_factory=list, description="The scored nowcast record (the stored DFM nowcasts with published outcomes, "
        "by target and horizon, against the random walk), as the report's World economy outlook shows it")


# --- small pure helpers ------------------------------------------------------------------------
def auroc(scores: Sequence[float] | np.ndarray, positive: Sequence[bool] | np.ndarray) -> float | None:
    """Rank (Mann-Whitney) AUROC; ties count half; None without both classes."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(positive, dtype=bool)
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]
    n1 = int(y.sum())
    n0 = int(y.size - n1)
    if n1 == 0 or n0 == 0:
        return None
    ranks = pd.Series(s).rank(method="average").to_numpy()  # ties share their mean rank
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def weighted_auroc(values: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> float | None:
    """The Mann-Whitney AUROC with each observation counted `weights` times (ties count half):
    the AUROC of a bootstrap draw from its multiplicities, in O(n) once the values are grouped."""
    uniq, inv = np.unique(values, return_inverse=True)
    return _grouped_auroc(inv.ravel(), uniq.size, np.asarray(positive, dtype=bool), weights)


def _grouped_auroc(group: np.ndarray, groups: int, positive: np.ndarray, weights: np.ndarray) -> float | None:
    """weighted_auroc with the values already replaced by their rank group (0 = lowest)."""
    wp = np.where(positive, weights, 0.0)
    wn = weights - wp
    w1, w0 = wp.sum(), wn.sum()
    if w1 <= 0 or w0 <= 0:
        return None
    neg = np.bincount(group, weights=wn, minlength=groups)
    pos = np.bincount(group, weights=wp, minlength=groups)
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (w1 * w0))  # no BLAS: its threads cost more here


def auroc_interval(
    scores: np.ndarray,
    lab: np.ndarray,
    draws: int = BOOTSTRAP_DRAWS,
    block: int = BOOTSTRAP_BLOCK,
    seed: int = BOOTSTRAP_SEED,
    level: float = CI_LEVEL,
) -> tuple[float, float] | None:
    """Percentile interval of the AUROC under a moving-block bootstrap over days.

    scores, lab: (days,) or (days, countries) on one calendar; a draw resamples whole days
    (every country of a day together) in blocks of `block` consecutive days (arch's
    MovingBlockBootstrap gives the day indices); each draw's AUROC is the weighted rank statistic
    over the original observations, weighted by how often their day was drawn."""
    from arch.bootstrap import MovingBlockBootstrap

    s = np.asarray(scores, dtype=float)
    y = np.asarray(lab)
    if s.ndim == 1:
        s, y = s[:, None], y[:, None]
    n = s.shape[0]
    keep = np.isfinite(s) & (y != EXCLUDED)
    if n < 2 or not keep.any():
        return None
    day_of = np.nonzero(keep)[0]
    values, positive = s[keep], y[keep] == PRE
    uniq, group = np.unique(values, return_inverse=True)
    group = group.ravel()
    bs = MovingBlockBootstrap(min(block, n), np.arange(n), seed=seed)
    out = []
    for _ in range(draws):
        times_drawn = np.bincount(bs.update_indices(), minlength=n).astype(float)
        a = _grouped_auroc(group, uniq.size, positive, times_drawn[day_of])
        if a is not None:
            out.append(a)
    if not out:
        return None
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(out, [tail, 100 - tail])
    return float(lo), float(hi)


def supported_auroc(
    scores: np.ndarray, lab: np.ndarray, enough: Enough = ENOUGH, intervals: bool = True,
) -> tuple[float | None, tuple[float, float] | None]:
    """The AUROC and its bootstrap interval, or (None, None) when either class has too few scored
    days (days with a finite score and an observed outcome)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(lab)
    finite = np.isfinite(s)
    crisis, calm = int(((y == PRE) & finite).sum()), int(((y == CALM) & finite).sum())
    if not enough.met(crisis, calm):
        return None, None
    keep = finite & (y != EXCLUDED)
    point = auroc(s[keep], y[keep] == PRE)
    return point, (auroc_interval(s, y) if intervals and point is not None else None)


def crisis_end(span: Span, horizon: int) -> int:
    """Trading-day position of the episode's last crisis day."""
    return bday(span.end) if span.end is not None else bday(span.start) + horizon


def labels(dates: pd.DatetimeIndex, spans: Sequence[Span], horizon: int, known_until: date) -> np.ndarray:
    """PRE, CALM or EXCLUDED per date for one country."""
    pos = bdays(dates)
    out = np.where(pos + horizon <= bday(known_until), CALM, EXCLUDED).astype(np.int8)
    for s in spans:
        onset = bday(s.start)
        out[(pos >= onset - horizon) & (pos < onset)] = PRE
    for s in spans:  # crisis days win over another episode's run-up
        out[(pos >= bday(s.start)) & (pos <= crisis_end(s, horizon))] = EXCLUDED
    return out


def firing(evals: pd.DataFrame, calendar: pd.DatetimeIndex, for_by_rule: Mapping[str, int],
           within_by_rule: Mapping[str, int | None] | None = None) -> pd.DataFrame:
    """Days each alert fires: warn-or-worse for `for` consecutive evaluation days, or, for rules
    with `within` (N-of-M), on breaching days with at least `for` breaches in the last `within`.

    `evals` holds breaching evaluations only (date, fingerprint, rule, country, severity);
    a calendar day without a breaching row for a fingerprint breaks its run.
    """
    cols = ["date", "fingerprint", "rule", "country", "severity"]
    df = evals.loc[evals["severity"].isin(["warn", "critical"]), cols].copy()
    if df.empty:
        return df
    df["date"] = pd.to_datetime(df["date"])
    df["pos"] = calendar.get_indexer(df["date"])
    df = df[df["pos"] >= 0].sort_values(["fingerprint", "pos"])
    new_run = (df["fingerprint"] != df["fingerprint"].shift()) | (df["pos"].diff() != 1)
    count = (df.groupby(new_run.cumsum()).cumcount() + 1).to_numpy()
    within = df["rule"].map(lambda r: int((within_by_rule or {}).get(r) or 0)).to_numpy()
    if within.any():  # breaches among the last `within` positions, per fingerprint
        pos, start = df["pos"].to_numpy(), (df["fingerprint"] != df["fingerprint"].shift()).to_numpy()
        group = np.cumsum(start)
        for g in np.unique(group[within > 0]):
            rows = np.flatnonzero(group == g)
            p = pos[rows]
            count[rows] = np.arange(1, len(p) + 1) - np.searchsorted(p, p - within[rows], side="right")
    need = df["rule"].map(lambda r: int(for_by_rule.get(r, 1))).to_numpy()
    return df.loc[count >= need, cols].reset_index(drop=True)


def runs(dates: pd.DatetimeIndex, on: np.ndarray) -> list[tuple[date, date]]:
    """Contiguous runs of True over consecutive calendar entries, as (first, last) dates."""
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    firsts = np.r_[idx[0], idx[breaks + 1]]
    lasts = np.r_[idx[breaks], idx[-1]]
    return [(to_date(dates[a]), to_date(dates[b])) for a, b in zip(firsts, lasts)]


def rates(lab: np.ndarray, signal: np.ndarray, enough: Enough = ENOUGH) -> Rates:
    pre, calm = lab == PRE, lab == CALM
    r = Rates(
        pre_crisis_days=int(pre.sum()), pre_crisis_signal_days=int((pre & signal).sum()),
        calm_days=int(calm.sum()), calm_signal_days=int((calm & signal).sum()),
    )
    return finish(r, enough)


def finish(r: Rates, enough: Enough = ENOUGH) -> Rates:
    """Fill the ratios from the counts, only when both classes have enough days."""
    if not enough.met(r.pre_crisis_days, r.calm_days):
        return r.model_copy(update={"hit_rate": None, "false_alarm_rate": None, "noise_to_signal": None})
    hit = r.pre_crisis_signal_days / r.pre_crisis_days
    far = r.calm_signal_days / r.calm_days
    nsr = far / hit if hit else None
    return r.model_copy(update={"hit_rate": hit, "false_alarm_rate": far, "noise_to_signal": nsr})


def add(a: Rates, b: Rates, enough: Enough = ENOUGH) -> Rates:
    return finish(Rates(
        pre_crisis_days=a.pre_crisis_days + b.pre_crisis_days,
        pre_crisis_signal_days=a.pre_crisis_signal_days + b.pre_crisis_signal_days,
        calm_days=a.calm_days + b.calm_days, calm_signal_days=a.calm_signal_days + b.calm_signal_days,
    ), enough)


def detect(dates: pd.DatetimeIndex, signal: np.ndarray, span: Span, horizon: int) -> Detection:
    pos = bdays(dates)
    onset = bday(span.start)
    window = signal & (pos >= onset - horizon) & (pos <= crisis_end(span, horizon))
    hits = np.flatnonzero(window)
    if hits.size == 0:
        return Detection(came=False)
    first = int(hits[0])
    lead = int(onset - pos[first])
    return Detection(came=lead >= 0, first=to_date(dates[first]), lead_days=lead)


def _median(values: list[int]) -> float | None:
    return float(median(values)) if values else None


# --- the track record ----------------------------------------------------------------------------
def score(
    *,
    days: Sequence[date] | pd.DatetimeIndex,
    signals: pd.DataFrame,
    episodes: Mapping[str, Sequence[Span]],
    horizon: int,
    known_until: date,
    watched: Mapping[str, Sequence[str]] | None = None,
    categories: Mapping[str, str] | None = None,
    probability: pd.DataFrame | None = None,
    stress: pd.DataFrame | None = None,
    enough: Enough = ENOUGH,
    intervals: bool = True,
) -> TrackRecord:
    """Score firing days against episodes.

    days: the assessment days scored. signals: firing days (date, rule, country, severity),
    e.g. from `firing`. episodes: country → spans (all known up to `known_until`).
    watched: rule → countries it evaluates (added to those it fired in). probability / stress:
    long frames (country, date, value). enough: the support rates and AUROC need; intervals:
    bootstrap an interval for each AUROC given.
    """
    cal = pd.DatetimeIndex(days).sort_values().unique()
    if cal.empty:
        raise ValueError("nothing to score: no assessment days in the range")
    start, end = to_date(cal[0]), to_date(cal[-1])
    sig = signals.copy()
    if not sig.empty:
        sig["date"] = pd.to_datetime(sig["date"])
        sig = sig[sig["date"].isin(cal)]
    categories = dict(categories or {})
    scores = {"probability": _scores(probability, cal), "stress": _scores(stress, cal)}
    countries = sorted(
        (set(sig["country"]) if not sig.empty else set())
        | {c for c, spans in episodes.items() if spans}
        | {c for frame in scores.values() for c in frame}
        | {c for cs in (watched or {}).values() for c in cs}
    )

    lab = {c: labels(cal, episodes.get(c, []), horizon, known_until) for c in countries}
    on = _Firing(sig, cal)
    warn_on = {c: on.days(country=c) for c in countries}
    crit_on = {c: on.days(country=c, critical=True) for c in countries}

    episode_rows: list[EpisodeScore] = []
    country_rows: list[CountryScore] = []
    timeline: dict[str, Timeline] = {}
    for c in countries:
        spans = [s for s in episodes.get(c, []) if start <= s.start <= end]
        eps = []
        for s in spans:
            w, k = detect(cal, warn_on[c], s, horizon), detect(cal, crit_on[c], s, horizon)
            eps.append(EpisodeScore(
                name=s.name, country=c, start=s.start, end=s.end, source=s.source, warning=w, critical=k,
                rules=_rules_in_time(sig, c, s, horizon) if w.came else [],
            ))
        episode_rows.extend(eps)
        ap, ap_ci = _auroc_one(scores["probability"].get(c), lab[c], enough, intervals)
        st, st_ci = _auroc_one(scores["stress"].get(c), lab[c], enough, intervals)
        country_rows.append(CountryScore(
            country=c, episodes=len(eps), warned=sum(e.warning.came for e in eps),
            warned_critical=sum(e.critical.came for e in eps),
            median_lead_days=_median([e.warning.lead_days for e in eps if e.warning.came]),
            warn=rates(lab[c], warn_on[c], enough), critical=rates(lab[c], crit_on[c], enough),
            auroc_probability=ap, auroc_stress=st, auroc_probability_ci=ap_ci, auroc_stress_ci=st_ci,
            **_support(lab[c][:, None], enough),
        ))
        timeline[c] = Timeline(
            warn=runs(cal, warn_on[c]), critical=runs(cal, crit_on[c]),
            episodes=[(s.start, s.end) for s in episodes.get(c, []) if s.start <= end and (s.end or s.start) >= start],
        )

    rule_rows = _rule_rows(on, cal, lab, episodes, horizon, start, end, watched or {}, categories, enough)
    total_w, total_c = Rates(), Rates()
    for row in country_rows:
        total_w, total_c = add(total_w, row.warn, enough), add(total_c, row.critical, enough)
    ap, ap_ci = _auroc_pooled(scores["probability"], lab, enough, intervals)
    st, st_ci = _auroc_pooled(scores["stress"], lab, enough, intervals)
    all_lab = np.stack([lab[c] for c in countries], axis=1) if countries else np.empty((len(cal), 0))
    summary = Summary(
        episodes=len(episode_rows), warned=sum(e.warning.came for e in episode_rows),
        warned_critical=sum(e.critical.came for e in episode_rows),
        median_lead_days=_median([e.warning.lead_days for e in episode_rows if e.warning.came]),
        warn=finish(total_w, enough), critical=finish(total_c, enough),
        auroc_probability=ap, auroc_stress=st, auroc_probability_ci=ap_ci, auroc_stress_ci=st_ci,
        **_support(all_lab, enough),
    )
    return TrackRecord(
        as_of=known_until, start=start, end=end, horizon=horizon, days=len(cal), summary=summary,
        episodes=sorted(episode_rows, key=lambda e: (e.start, e.country)), countries=country_rows,
        rules=rule_rows, timeline=timeline,
    )


class _Firing:
    """Firing days on the calendar by country, rule and severity: the signals' calendar positions
    are looked up once and grouped, not filtered out of the frame again for every country and rule."""

    def __init__(self, sig: pd.DataFrame, cal: pd.DatetimeIndex) -> None:
        self.n = len(cal)
        if sig.empty:
            self.pos = np.empty(0, dtype=np.intp)
            self.by_country: dict[str, np.ndarray] = {}
            self.by_rule: dict[str, dict[str, np.ndarray]] = {}
            self.critical = np.empty(0, dtype=bool)
            return
        self.pos = cal.get_indexer(pd.DatetimeIndex(sig["date"]))  # every signal day is on the calendar
        self.critical = (sig["severity"] == "critical").to_numpy()
        self.by_country = {str(c): rows for c, rows in sig.groupby("country", sort=False).indices.items()}
        self.by_rule = {}
        for (rule, country), rows in sig.groupby(["rule", "country"], sort=False).indices.items():
            self.by_rule.setdefault(str(rule), {})[str(country)] = rows

    def days(self, *, country: str, rule: str | None = None, critical: bool = False) -> np.ndarray:
        """Calendar mask of the days with a firing signal of the country (and rule; critical only)."""
        rows = (self.by_country if rule is None else self.by_rule.get(rule, {})).get(country)
        on = np.zeros(self.n, dtype=bool)
        if rows is not None:
            if critical:
                rows = rows[self.critical[rows]]
            on[self.pos[rows]] = True
        return on

    def countries(self, rule: str) -> set[str]:
        return set(self.by_rule.get(rule, {}))


def _scores(frame: pd.DataFrame | None, cal: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """country → score aligned on the calendar (NaN where missing)."""
    if frame is None or frame.empty:
        return {}
    f = frame.assign(date=pd.to_datetime(frame["date"]))
    wide = f.pivot_table(index="date", columns="country", values="value", aggfunc="last")
    wide = wide.reindex(cal)
    return {str(c): wide[c].to_numpy(dtype=float) for c in wide.columns}


def _support(lab: np.ndarray, enough: Enough) -> dict[str, Any]:
    """enough / not_enough of a (days, countries) label array."""
    crisis, calm = int((lab == PRE).sum()), int((lab == CALM).sum())
    ok = enough.met(crisis, calm)
    return {"enough": ok, "not_enough": None if ok else not_enough_message(crisis, calm)}


def _auroc_one(values: np.ndarray | None, lab: np.ndarray, enough: Enough,
               intervals: bool) -> tuple[float | None, tuple[float, float] | None]:
    if values is None:
        return None, None
    return supported_auroc(values, lab, enough, intervals)


def _auroc_pooled(scores: Mapping[str, np.ndarray], lab: Mapping[str, np.ndarray], enough: Enough,
                  intervals: bool) -> tuple[float | None, tuple[float, float] | None]:
    """Over every country's days; the bootstrap resamples calendar days with all their countries."""
    cols = [c for c in scores if c in lab]
    if not cols:
        return None, None
    return supported_auroc(np.stack([scores[c] for c in cols], axis=1),
                           np.stack([lab[c] for c in cols], axis=1), enough, intervals)


def _rules_in_time(sig: pd.DataFrame, country: str, span: Span, horizon: int) -> list[str]:
    if sig.empty:
        return []
    f = sig[sig["country"] == country]
    pos = bdays(pd.DatetimeIndex(f["date"]))
    onset = bday(span.start)
    return sorted(set(f.loc[(pos >= onset - horizon) & (pos <= onset), "rule"]))


def _rule_rows(
    firing_days: _Firing,
    cal: pd.DatetimeIndex,
    lab: Mapping[str, np.ndarray],
    episodes: Mapping[str, Sequence[Span]],
    horizon: int,
    start: date,
    end: date,
    watched: Mapping[str, Sequence[str]],
    categories: Mapping[str, str],
    enough: Enough = ENOUGH,
) -> list[RuleScore]:
    names = sorted(set(watched) | set(firing_days.by_rule))
    rows: list[RuleScore] = []
    for rule in names:
        countries = sorted(set(watched.get(rule, [])) | firing_days.countries(rule))
        total, leads, n_eps, n_warned, signal_days = Rates(), [], 0, 0, 0
        for c in countries:
            on = firing_days.days(country=c, rule=rule)
            signal_days += int(on.sum())
            if c in lab:
                total = add(total, rates(lab[c], on, enough), enough)
            for s in episodes.get(c, []):
                if start <= s.start <= end:
                    n_eps += 1
                    d = detect(cal, on, s, horizon)
                    if d.came:
                        n_warned += 1
                        leads.append(d.lead_days)
        total = finish(total, enough)
        rows.append(RuleScore(
            rule=rule, category=categories.get(rule, ""), countries=countries, signal_days=signal_days,
            episodes=n_eps, warned=n_warned, median_lead_days=_median(leads), rates=total,
            useful=n_warned > 0 and total.noise_to_signal is not None and total.noise_to_signal < 1,
        ))
    rows.sort(key=lambda r: (not r.useful, r.rates.noise_to_signal if r.rates.noise_to_signal is not None else np.inf,
                             r.rule))
    return rows
