"""The track record from the store: firing days, episodes and scores read back, then scored.

`track_record` serves `replay --score` (outcomes known up to the last stored observation) and
the daily report (`report_section`: outcomes known up to the report's as_of, nothing later).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sco_monitor import results
from sco_monitor.assess.fallback import with_fallbacks
from sco_monitor.assess.forecast.run import LOG_KINDS, plan_slots
from sco_monitor.assess.forecast.var import garch_var_backtest
from sco_monitor.assess.model import VarBacktest
from sco_monitor.catalog import Series
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.replay.episodes import (
    DEFAULT_RULE,
    DerivationRule,
    Span,
    crisis_days,
    episodes_from_flags,
    from_config,
    merge,
)
from sco_monitor.replay.score import CI_LEVEL, NowcastScore, TrackRecord, firing, score
from sco_monitor.vocabulary import WORLD


class NothingToScore(UsageError):
    """No assessment results are stored in the range."""


class DerivedEpisodes:
    """Crisis days of each daily equity (drawdown) and FX (pressure) series, derived once from what
    the store knew on `until`; the episodes known on any day up to `until` are read off them,
    which is exact because the derivation is causal (crisis days up to D ignore later data).
    The data are read on first use."""

    def __init__(self, ctx: Context, until: date, rule: DerivationRule = DEFAULT_RULE) -> None:
        self.ctx, self.until, self.rule = ctx, until, rule
        self._flags: list[tuple[Series, str, pd.Series]] | None = None

    def _load(self) -> list[tuple[Series, str, pd.Series]]:
        chosen = [
            s for s in self.ctx.config.universe.enabled()
            if s.kind in ("equity", "fx") and s.frequency in ("B", "D") and "alternative" not in s.tags
        ]
        if not chosen:
            return []
        ids = [s.id for s in chosen] + [s.fallback.series for s in chosen if s.fallback is not None]
        frame = with_fallbacks(self.ctx.store.load_frame(list(dict.fromkeys(ids)), as_of=self.until), chosen)
        out = []
        for s in chosen:
            prices = frame[s.id].dropna()
            if not prices.empty:
                method = "drawdown" if s.kind == "equity" else "emp"
                out.append((s, method, crisis_days(prices, method, s.direction == "up", self.rule)))
        return out

    def as_of(self, day: date) -> dict[str, list[Span]]:
        """Country → episodes, as known on `day`."""
        if day > self.until:
            raise ValueError(f"episodes were derived up to {self.until}, not {day}")
        if self._flags is None:
            self._flags = self._load()
        per_country: dict[str, list[Span]] = {}
        for s, method, flags in self._flags:
            known = flags[: pd.Timestamp(day - timedelta(days=s.publication_lag_days))]
            per_country.setdefault(s.country, []).extend(
                episodes_from_flags(known, s.country, s.id, method, self.rule))
        return {c: merge(spans, self.rule.merge_gap) for c, spans in per_country.items()}


def country_episodes(ctx: Context, known_until: date, countries: Iterable[str],
                     derived: DerivedEpisodes | None = None) -> dict[str, list[Span]]:
    """Configured episodes when the config dates any, else derived ones; the world's are its own,
    or else every country's (the world is in crisis when a member of it is)."""
    countries = sorted(set(countries))
    configured = [e for e in ctx.config.settings.assessment.episodes if pd.Timestamp(e.start).date() <= known_until]
    if ctx.config.settings.assessment.episodes:
        return from_config(configured, countries)
    out = (derived or DerivedEpisodes(ctx, known_until)).as_of(known_until)
    if WORLD in countries and not out.get(WORLD):
        everyone = [Span(f"{WORLD}: {s.name}", WORLD, s.start, s.end, f"{s.source} ({s.country})")
                    for c, spans in out.items() for s in spans]
        if everyone:
            out[WORLD] = merge(everyone, DEFAULT_RULE.merge_gap)
    return out


def track_record(
    ctx: Context,
    start: date | None = None,
    end: date | None = None,
    known_until: date | None = None,
    horizon: int | None = None,
    derived: DerivedEpisodes | None = None,
    var: bool = True,
    nowcasts: bool = True,
) -> TrackRecord:
    """Score what the store holds between start and end; outcomes known up to `known_until`
    (default: the last stored observation, never before `end`). `derived` reuses crisis days
    already derived (see DerivedEpisodes). With `var`, the GARCH VaR of each daily market series
    is backtested over the last 250 days up to `end` (see `var_backtests`); with `nowcasts`, the
    stored nowcasts made by `end` are scored against the outcomes published by `known_until`."""
    store, cfg = ctx.store, ctx.config
    horizon = horizon or cfg.settings.assessment.crisis_horizon
    probability = results.read_probability(store, None, start, end, horizon)
    stress = results.read_stress(store, None, start, end)
    days = sorted(set(results.evaluation_days(store, start, end)) | _days(probability["date"]) | _days(stress["date"]))
    if not days:
        span = f"between {start or 'the start'} and {end or 'the end'}"
        raise NothingToScore(f"no assessment results stored {span}; run `sco-monitor replay` first")
    last = days[-1]
    if known_until is None:
        known_until = max(results.last_observation(store) or last, last)
    calendar = pd.DatetimeIndex(pd.to_datetime(days))
    signals = firing(results.read_breaches(store, days[0], last), calendar,
                     {r.name: r.for_ for r in cfg.rules.rules}, {r.name: r.within for r in cfg.rules.rules})
    watched = results.watched(store, last)
    countries = ({c for cs in watched.values() for c in cs} | set(signals["country"].unique())
                 | set(probability["country"].unique()) | set(stress["scope"].unique()))
    track = score(
        days=calendar,
        signals=signals,
        episodes=country_episodes(ctx, known_until, countries, derived),
        horizon=horizon,
        known_until=known_until,
        watched=watched,
        categories={r.name: r.category for r in cfg.rules.rules},
        probability=probability.rename(columns={"probability": "value"})[["country", "date", "value"]],
        stress=stress.rename(columns={"scope": "country"})[["country", "date", "value"]],
    )
    if var:
        track.var_backtests = var_backtests(ctx, last)
    if nowcasts:
        track.nowcasts = nowcast_scores(ctx, last, known_until)
    return track


def _days(dates: pd.Series) -> set[date]:
    """The distinct days of a datetime column (one conversion per day, not per row)."""
    return set(pd.DatetimeIndex(dates.unique()).date)


def nowcast_scores(ctx: Context, end: date, known_until: date) -> list[NowcastScore]:
    """The scored nowcast record: the stored DFM nowcasts made by `end` against the outcomes
    published by `known_until`, by target and horizon, with the random walk at the same origins
    (the rows of the report's World economy outlook record)."""
    from sco_monitor.reports.inputs import read_outlook
    from sco_monitor.reports.outlook import outlook_targets, record_accuracy, rw_rmse

    targets = outlook_targets(ctx.config)
    if not targets:
        return []
    now = datetime.combine(known_until + timedelta(days=1), time.min, tzinfo=UTC)
    history, observations = read_outlook(ctx.store, ctx.config, known_until, now)
    if history.empty:
        return []
    history = history[history["as_of"] <= end]
    rows, _ = record_accuracy(ctx.config, targets, history, observations)
    return [NowcastScore(target=a.target, horizon=a.horizon, n=a.n, rmse=_finite(a.rmse), rw_rmse=_finite(rw_rmse(a)),
                         ratio=_finite(a.ratio), dm_p=_finite(a.dm_p)) for a in rows]


def _finite(v: float) -> float | None:
    return float(v) if v is not None and pd.notna(v) and abs(float(v)) != float("inf") else None


def var_backtests(ctx: Context, end: date) -> list[VarBacktest]:
    """Out-of-sample backtests of the 99% GARCH VaR of every daily market series (the series that
    get a volatility model) over its last 250 returns up to `end`, from the stored observations."""
    a = ctx.config.settings.assessment
    chosen = [s for s in ctx.config.universe.series
              if "volatility" in plan_slots(s, a) and s.frequency in ("B", "D") and "alternative" not in s.tags]
    if not chosen:
        return []
    frame = ctx.store.load_frame([s.id for s in chosen], start=end - timedelta(days=a.history_days), as_of=end)
    out = []
    for s in chosen:
        y = frame[s.id].dropna().rename(s.id) if s.id in frame.columns else pd.Series(dtype=float)
        if len(y) < 2:
            continue
        log_returns = s.kind in LOG_KINDS and bool((y > 0).all())
        bt = garch_var_backtest(y, returns="log" if log_returns else "diff", freq=s.frequency, side=s.direction)
        if bt.days:
            out.append(bt)
    return out


def write_track(track: TrackRecord, out_dir: Path) -> tuple[Path, Path]:
    """track_record.json and track_record.svg (the chart of warnings against episodes)."""
    from sco_monitor.replay.chart import track_chart_svg

    out_dir.mkdir(parents=True, exist_ok=True)
    js, svg = out_dir / "track_record.json", out_dir / "track_record.svg"
    js.write_text(track.model_dump_json(indent=1) + "\n", encoding="utf-8")
    svg.write_text(track_chart_svg(track), encoding="utf-8")
    return js, svg


def report_section(ctx: Context, as_of: date, lookback_days: int = 5 * 365,
                   derived: DerivedEpisodes | None = None) -> dict[str, Any] | None:
    """The track record as of a report's date (the last five years, nothing after as_of), shaped
    for the report: a message, scalars, flat tables and `chart_svg`; None while nothing is stored."""
    try:
        track = track_record(ctx, as_of - timedelta(days=lookback_days), as_of, known_until=as_of, derived=derived,
                             var=False, nowcasts=False)  # the report has its own VaR backtests and nowcast record
    except NothingToScore:
        return None
    return report_dict(track)


def report_dict(track: TrackRecord) -> dict[str, Any]:
    """Flat rows a report renders as tables; the chart of warnings against episodes as inline SVG."""
    from sco_monitor.replay.chart import track_chart_svg

    s = track.summary
    lead = "" if s.median_lead_days is None else f" (median lead {s.median_lead_days:.0f} trading days)"
    nsr = "" if s.warn.noise_to_signal is None else f"; noise-to-signal {s.warn.noise_to_signal:.2f}"
    scored = "" if s.enough else f"; {s.not_enough}: no rates or AUROC"
    return {
        "message": f"{s.episodes} crisis episodes from {track.start} to {track.end}; {s.warned} warned in time{lead}, "
                   f"{s.warned_critical} with a critical alert{nsr}{scored}.",
        "period": f"{track.start} .. {track.end}",
        "horizon_trading_days": track.horizon,
        "outcomes_known_to": track.as_of.isoformat(),
        "episodes_total": s.episodes,
        "warned_in_time": s.warned,
        "critical_in_time": s.warned_critical,
        "median_lead_days": s.median_lead_days,
        "hit_rate": s.warn.hit_rate,
        "false_alarm_rate": s.warn.false_alarm_rate,
        "noise_to_signal": s.warn.noise_to_signal,
        "auroc_probability": _with_ci(s.auroc_probability, s.auroc_probability_ci),
        "auroc_stress": _with_ci(s.auroc_stress, s.auroc_stress_ci),
        "outcomes": (f"{s.warn.pre_crisis_days} crisis-window days, {s.warn.calm_days} calm"
                     if s.enough else s.not_enough),
        "episodes": [
            {"episode": e.name, "country": e.country, "onset": e.start.isoformat(),
             "end": e.end.isoformat() if e.end else None, "warned": e.warning.came,
             "first_warning": e.warning.first.isoformat() if e.warning.first else None,
             "lead_days": e.warning.lead_days, "critical": e.critical.came, "critical_lead_days": e.critical.lead_days,
             "rules": ", ".join(e.rules), "source": e.source}
            for e in track.episodes
        ],
        "countries": [
            {"country": c.country, "episodes": c.episodes, "warned": c.warned, "critical": c.warned_critical,
             "median_lead_days": c.median_lead_days, "hit_rate": c.warn.hit_rate,
             "false_alarm_rate": c.warn.false_alarm_rate, "noise_to_signal": c.warn.noise_to_signal,
             "critical_false_alarm_rate": c.critical.false_alarm_rate,
             "auroc_probability": _with_ci(c.auroc_probability, c.auroc_probability_ci),
             "auroc_stress": _with_ci(c.auroc_stress, c.auroc_stress_ci),
             "outcomes": "enough" if c.enough else c.not_enough}
            for c in track.countries
        ],
        "rules": [
            {"rule": r.rule, "category": r.category, "countries": ", ".join(r.countries), "signal_days": r.signal_days,
             "episodes": r.episodes, "warned": r.warned, "median_lead_days": r.median_lead_days,
             "hit_rate": r.rates.hit_rate, "false_alarm_rate": r.rates.false_alarm_rate,
             "noise_to_signal": r.rates.noise_to_signal, "earns_its_keep": r.useful}
            for r in track.rules
        ],
        "definitions": dict(track.definitions),
        "chart_svg": track_chart_svg(track),
    }


def _with_ci(point: float | None, ci: tuple[float, float] | None) -> str | None:
    """An AUROC with its bootstrap interval, as one cell ("0.71 [0.62, 0.80]"); None when not given."""
    if point is None:
        return None
    return f"{point:.2f}" if ci is None else f"{point:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def summary_lines(track: TrackRecord) -> list[str]:
    """A few plain lines for a terminal."""
    s = track.summary

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    def num(x: float | None, fmt: str = ".2f") -> str:
        return "n/a" if x is None else format(x, fmt)

    lead = "" if s.median_lead_days is None else f"; median lead: {s.median_lead_days:.0f} trading days"
    lines = [
        (f"track record {track.start} .. {track.end} ({track.days} days, H = {track.horizon} trading days, "
         f"outcomes known to {track.as_of})"),
        f"  episodes: {s.episodes}; warned in time: {s.warned}; critical in time: {s.warned_critical}{lead}",
    ]
    if not s.enough:
        lines.append(f"  {s.not_enough}: no hit rate, false-alarm rate or AUROC")
        return lines + _nowcast_lines(track)

    def ci(point: float | None, interval: tuple[float, float] | None) -> str:
        return _with_ci(point, interval) or "n/a (too few scored days)"

    lines += [
        (f"  warnings: hit rate {pct(s.warn.hit_rate)}, false-alarm rate {pct(s.warn.false_alarm_rate)}, "
         f"noise-to-signal {num(s.warn.noise_to_signal)} "
         f"({s.warn.pre_crisis_days} crisis-window days, {s.warn.calm_days} calm)"),
        (f"  AUROC [{CI_LEVEL:.0%} block-bootstrap interval]: crisis probability "
         f"{ci(s.auroc_probability, s.auroc_probability_ci)}, stress index {ci(s.auroc_stress, s.auroc_stress_ci)}"),
    ]
    if track.var_backtests:
        zones = {z: [b.series_id for b in track.var_backtests if b.zone == z] for z in ("green", "yellow", "red")}
        red = f" (red: {', '.join(zones['red'])})" if zones["red"] else ""
        lines.append(f"  VaR 99% backtests, last 250 days: green {len(zones['green'])}, yellow {len(zones['yellow'])}, "
                     f"red {len(zones['red'])}{red}")
    lines += _nowcast_lines(track)
    useful = [r.rule for r in track.rules if r.useful]
    if track.rules:
        lines.append(f"  rules earning their keep: {', '.join(useful) if useful else 'none'} "
                     f"(of {len(track.rules)})")
    return lines


def _nowcast_lines(track: TrackRecord) -> list[str]:
    """One line per target and horizon of the scored nowcast record."""
    def num(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    return [f"  nowcast {n.target} h={n.horizon}: RMSE {num(n.rmse)}, random walk {num(n.rw_rmse)}, "
            f"ratio {num(n.ratio)}, DM p {num(n.dm_p)} ({n.n} nowcasts)" for n in track.nowcasts]
