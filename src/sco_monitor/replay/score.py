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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from statistics import median

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.assess.model import VarBacktest
from sco_monitor.replay.episodes import Span, bday, bdays
from sco_monitor.timeutil import to_date

PRE, CALM, EXCLUDED = 1, 0, -1

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


class CountryScore(Summary):
    country: str


class Timeline(Out):
    warn: list[tuple[date, date]] = Field(default_factory=list)
    critical: list[tuple[date, date]] = Field(default_factory=list)
    episodes: list[tuple[date, date | None]] = Field(default_factory=list)


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


def rates(lab: np.ndarray, signal: np.ndarray) -> Rates:
    pre, calm = lab == PRE, lab == CALM
    r = Rates(
        pre_crisis_days=int(pre.sum()), pre_crisis_signal_days=int((pre & signal).sum()),
        calm_days=int(calm.sum()), calm_signal_days=int((calm & signal).sum()),
    )
    return finish(r)


def finish(r: Rates) -> Rates:
    """Fill the ratios from the counts."""
    hit = r.pre_crisis_signal_days / r.pre_crisis_days if r.pre_crisis_days else None
    far = r.calm_signal_days / r.calm_days if r.calm_days else None
    nsr = far / hit if (hit and far is not None) else None
    return r.model_copy(update={"hit_rate": hit, "false_alarm_rate": far, "noise_to_signal": nsr})


def add(a: Rates, b: Rates) -> Rates:
    return finish(Rates(
        pre_crisis_days=a.pre_crisis_days + b.pre_crisis_days,
        pre_crisis_signal_days=a.pre_crisis_signal_days + b.pre_crisis_signal_days,
        calm_days=a.calm_days + b.calm_days, calm_signal_days=a.calm_signal_days + b.calm_signal_days,
    ))


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
) -> TrackRecord:
    """Score firing days against episodes.

    days: the assessment days scored. signals: firing days (date, rule, country, severity),
    e.g. from `firing`. episodes: country → spans (all known up to `known_until`).
    watched: rule → countries it evaluates (added to those it fired in). probability / stress:
    long frames (country, date, value).
    """
    cal = pd.DatetimeIndex(sorted(pd.to_datetime(list(days)))).unique()
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
    warn_on = {c: _on(sig[sig["country"] == c] if not sig.empty else sig, cal) for c in countries}
    crit_on = {c: _on(sig[(sig["country"] == c) & (sig["severity"] == "critical")] if not sig.empty else sig, cal)
               for c in countries}

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
        country_rows.append(CountryScore(
            country=c, episodes=len(eps), warned=sum(e.warning.came for e in eps),
            warned_critical=sum(e.critical.came for e in eps),
            median_lead_days=_median([e.warning.lead_days for e in eps if e.warning.came]),
            warn=rates(lab[c], warn_on[c]), critical=rates(lab[c], crit_on[c]),
            auroc_probability=_auroc_one(scores["probability"].get(c), lab[c]),
            auroc_stress=_auroc_one(scores["stress"].get(c), lab[c]),
        ))
        timeline[c] = Timeline(
            warn=runs(cal, warn_on[c]), critical=runs(cal, crit_on[c]),
            episodes=[(s.start, s.end) for s in episodes.get(c, []) if s.start <= end and (s.end or s.start) >= start],
        )

    rule_rows = _rule_rows(sig, cal, lab, episodes, horizon, start, end, watched or {}, categories)
    total_w, total_c = Rates(), Rates()
    for row in country_rows:
        total_w, total_c = add(total_w, row.warn), add(total_c, row.critical)
    summary = Summary(
        episodes=len(episode_rows), warned=sum(e.warning.came for e in episode_rows),
        warned_critical=sum(e.critical.came for e in episode_rows),
        median_lead_days=_median([e.warning.lead_days for e in episode_rows if e.warning.came]),
        warn=finish(total_w), critical=finish(total_c),
        auroc_probability=_auroc_pooled(scores["probability"], lab),
        auroc_stress=_auroc_pooled(scores["stress"], lab),
    )
    return TrackRecord(
        as_of=known_until, start=start, end=end, horizon=horizon, days=len(cal), summary=summary,
        episodes=sorted(episode_rows, key=lambda e: (e.start, e.country)), countries=country_rows,
        rules=rule_rows, timeline=timeline,
    )


def _on(frame: pd.DataFrame, cal: pd.DatetimeIndex) -> np.ndarray:
    on = np.zeros(len(cal), dtype=bool)
    if not frame.empty:
        on[cal.get_indexer(pd.DatetimeIndex(frame["date"].unique()))] = True
    return on


def _scores(frame: pd.DataFrame | None, cal: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """country → score aligned on the calendar (NaN where missing)."""
    if frame is None or frame.empty:
        return {}
    f = frame.assign(date=pd.to_datetime(frame["date"]))
    wide = f.pivot_table(index="date", columns="country", values="value", aggfunc="last")
    wide = wide.reindex(cal)
    return {str(c): wide[c].to_numpy(dtype=float) for c in wide.columns}


def _auroc_one(values: np.ndarray | None, lab: np.ndarray) -> float | None:
    if values is None:
        return None
    keep = lab != EXCLUDED
    return auroc(values[keep], lab[keep] == PRE)


def _auroc_pooled(scores: Mapping[str, np.ndarray], lab: Mapping[str, np.ndarray]) -> float | None:
    vals, pos = [], []
    for c, v in scores.items():
        if c in lab:
            keep = lab[c] != EXCLUDED
            vals.append(v[keep])
            pos.append(lab[c][keep] == PRE)
    if not vals:
        return None
    return auroc(np.concatenate(vals), np.concatenate(pos))


def _rules_in_time(sig: pd.DataFrame, country: str, span: Span, horizon: int) -> list[str]:
    if sig.empty:
        return []
    f = sig[sig["country"] == country]
    pos = bdays(pd.DatetimeIndex(f["date"]))
    onset = bday(span.start)
    return sorted(set(f.loc[(pos >= onset - horizon) & (pos <= onset), "rule"]))


def _rule_rows(
    sig: pd.DataFrame,
    cal: pd.DatetimeIndex,
    lab: Mapping[str, np.ndarray],
    episodes: Mapping[str, Sequence[Span]],
    horizon: int,
    start: date,
    end: date,
    watched: Mapping[str, Sequence[str]],
    categories: Mapping[str, str],
) -> list[RuleScore]:
    names = sorted(set(watched) | (set(sig["rule"]) if not sig.empty else set()))
    rows: list[RuleScore] = []
    for rule in names:
        f = sig[sig["rule"] == rule] if not sig.empty else sig
        countries = sorted(set(watched.get(rule, [])) | (set(f["country"]) if not f.empty else set()))
        total, leads, n_eps, n_warned, signal_days = Rates(), [], 0, 0, 0
        for c in countries:
            on = _on(f[f["country"] == c] if not f.empty else f, cal)
            signal_days += int(on.sum())
            if c in lab:
                total = add(total, rates(lab[c], on))
            for s in episodes.get(c, []):
                if start <= s.start <= end:
                    n_eps += 1
                    d = detect(cal, on, s, horizon)
                    if d.came:
                        n_warned += 1
                        leads.append(d.lead_days)
        total = finish(total)
        rows.append(RuleScore(
            rule=rule, category=categories.get(rule, ""), countries=countries, signal_days=signal_days,
            episodes=n_eps, warned=n_warned, median_lead_days=_median(leads), rates=total,
            useful=n_warned > 0 and total.noise_to_signal is not None and total.noise_to_signal < 1,
        ))
    rows.sort(key=lambda r: (not r.useful, r.rates.noise_to_signal if r.rates.noise_to_signal is not None else np.inf,
                             r.rule))
    return rows
