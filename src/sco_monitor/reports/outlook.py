"""The report's "World economy outlook" section: the DFM nowcasts of the configured panels (world
first, then the members), their fan charts, how each moved since the previous report and a month
earlier, the IMF WEO projection beside it where one is stored, and the scored record of the stored
nowcasts against the random walk for the periods whose outcomes are published.

Pure: from the assessment, the stored nowcasts and the point-in-time observations of the targets
that `inputs.read_inputs` reads.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sco_monitor import i18n
from sco_monitor.assess.forecast.record import Accuracy, accuracy, score
from sco_monitor.assess.model import Assessment, Forecast
from sco_monitor.catalog import Series
from sco_monitor.config import AppConfig
from sco_monitor.i18n import _
from sco_monitor.reports.model import ForecastItem, ForecastRecordRef, OutlookRecordRow, OutlookRow, OutlookSection
from sco_monitor.reports.numbers import country_name, finite
from sco_monitor.vocabulary import WORLD

#: The model whose forecasts the section shows.
MODEL = "dfm"
#: Horizons of the record shown (0: the period holding the forecast's date, 1: the next).
RECORD_HORIZONS = (0, 1)
#: A Diebold-Mariano p-value below this counts as a significant difference from the random walk.
SIGNIFICANCE = 0.05
#: Days before as_of from which the stored nowcast counts as "a month earlier".
MONTH_AGO_DAYS = 28
#: Observations shown before the nowcast in a fan chart.
CHART_HISTORY = 8


def outlook_targets(config: AppConfig) -> list[str]:
    """The targets of the enabled nowcast panels, in panel order."""
    out: list[str] = []
    for p in config.settings.assessment.nowcasts:
        if p.enabled:
            out += [t for t in p.targets if t not in out]
    return out


def projection_series(config: AppConfig, target: str) -> str | None:
    """The stored projection of the same quantity: `weo.<cc>.<what>` for `macro.<cc>.<what>`."""
    if not target.startswith("macro."):
        return None
    sid = "weo." + target.removeprefix("macro.")
    return sid if sid in config.series else None


def _freq(s: Series | None) -> str:
    f = s.frequency if s is not None else "M"
    return "Y" if f == "A" else ("Q" if f == "Q" else "M")


def _period(d: date, freq: str) -> pd.Period:
    return pd.Period(pd.Timestamp(d), freq=freq)


def outlook_section(assessment: Assessment, config: AppConfig, history: pd.DataFrame, observations: pd.DataFrame,
                    prev: dict | None) -> OutlookSection:
    """The section, or its message when no panel is configured or none produced a nowcast."""
    targets = outlook_targets(config)
    if not targets:
        return OutlookSection(message=_("No nowcast panel is configured (assessment.nowcasts): "
                                        "see the world-economy documentation."))
    nowcasts = {f.series_id: f for f in assessment.forecasts if f.model == MODEL and f.series_id in targets}
    panel_of = {t: p.name for p in config.settings.assessment.nowcasts for t in p.targets}
    if not nowcasts:
        return OutlookSection(message=_("No nowcast today: the panels lack data or failed (see the log)."))
    prev_rows = _previous_rows(prev)
    order = sorted(nowcasts, key=lambda t: (_country(config, t) != WORLD, targets.index(t)))
    rows, charts = [], []
    for t in order:
        f, s = nowcasts[t], config.series.get(t)
        freq = _freq(s)
        y = observations[t].dropna() if t in observations.columns else pd.Series(dtype=float)
        last_d, last_v = (y.index[-1].date(), float(y.iloc[-1])) if len(y) else (None, None)
        before = prev_rows.get((t, f.dates[0].isoformat())) if f.dates else None
        month_ago = _month_ago(history, t, f.dates[0], freq, assessment.as_of) if f.dates else None
        proj_id = projection_series(config, t)
        proj = _value_in(observations, proj_id, f.dates[0], freq) if proj_id and f.dates else None
        mean0 = finite(f.mean[0]) if f.mean else None
        rows.append(OutlookRow(
            series_id=t, name=s.name_in(i18n.current()) if s else t, country=_country(config, t),
            country_name=country_name(_country(config, t)), panel=panel_of.get(t, ""),
            period=f.dates[0] if f.dates else None, period_label=_label(f.dates[0], freq) if f.dates else "",
            next_label=_label(f.dates[1], freq) if len(f.dates) > 1 else "", mean=mean0,
            lower=finite(f.lower[0]) if f.lower else None, upper=finite(f.upper[0]) if f.upper else None,
            next_period=f.dates[1] if len(f.dates) > 1 else None,
            next_mean=finite(f.mean[1]) if len(f.mean) > 1 else None,
            last_date=last_d, last_value=finite(last_v),
            previous_mean=before, change=_diff(mean0, before),
            month_ago_mean=month_ago, month_change=_diff(mean0, month_ago),
            projection_series=proj_id, projection=proj, unfavourable=f.unfavourable,
        ))
        charts.append(ForecastItem(
            series_id=t, name=s.name_in(i18n.current()) if s else t, unit=s.unit if s else "", model=f.model,
            level=f.level, last_date=last_d, last_value=finite(last_v), dates=f.dates,
            mean=[finite(x) for x in f.mean], lower=[finite(x) for x in f.lower], upper=[finite(x) for x in f.upper],
            threshold=finite(f.threshold), breach_probability=finite(f.breach_probability),
            unfavourable=f.unfavourable, charted=True,
            history=[(d.date(), float(v)) for d, v in y.iloc[-CHART_HISTORY:].items()],
        ))
    record, note = _record(config, order, history, observations, assessment.as_of)
    previous_as_of = (prev or {}).get("as_of")
    return OutlookSection(
        as_of=assessment.as_of, rows=rows, charts=charts, record=record, record_note=note,
        previous_report=date.fromisoformat(previous_as_of) if isinstance(previous_as_of, str) else None,
        changes=_changes(rows, prev),
    )


def _country(config: AppConfig, sid: str) -> str:
    s = config.series.get(sid)
    return s.country if s is not None else WORLD


def _diff(a: float | None, b: float | None) -> float | None:
    return finite(a - b) if a is not None and b is not None else None


def _previous_rows(prev: dict | None) -> dict[tuple[str, str], float]:
    rows = ((prev or {}).get("outlook") or {}).get("rows") or []
    return {(r["series_id"], r["period"]): float(r["mean"]) for r in rows
            if r.get("period") and r.get("mean") is not None}


def _month_ago(history: pd.DataFrame, sid: str, period: date, freq: str, as_of: date) -> float | None:
    """The newest stored nowcast of the same period made at least MONTH_AGO_DAYS before as_of."""
    if history.empty:
        return None
    h = history[(history["series_id"] == sid) & (history["as_of"] <= as_of - timedelta(days=MONTH_AGO_DAYS))]
    h = h[[_period(d, freq) == _period(period, freq) for d in h["target_date"]]]
    if h.empty:
        return None
    return finite(float(h.sort_values("as_of")["mean"].iloc[-1]))


def _value_in(frame: pd.DataFrame, sid: str, period: date, freq: str) -> float | None:
    if sid not in frame.columns:
        return None
    y = frame[sid].dropna()
    hit = [float(v) for d, v in y.items() if _period(d.date(), freq) == _period(period, freq)]
    return finite(hit[-1]) if hit else None


def stored_forecasts(history: pd.DataFrame) -> list[Forecast]:
    """The stored nowcast rows (one per step) as forecasts: the last one saved in each month per target
    (daily saves would weigh a month thirty times)."""
    if history.empty:
        return []
    h = history.copy()
    h["month"] = [pd.Period(pd.Timestamp(d), freq="M") for d in h["as_of"]]
    last = h.groupby(["series_id", "month"])["as_of"].transform("max")
    out = []
    for (sid, origin), g in h[h["as_of"] == last].groupby(["series_id", "as_of"]):
        g = g.sort_values("step")
        out.append(Forecast(series_id=str(sid), model=MODEL, as_of=origin, dates=list(g["target_date"]),
                            mean=[float(v) for v in g["mean"]], lower=[float(v) for v in g["lower"]],
                            upper=[float(v) for v in g["upper"]]))
    return out


def _random_walk(forecasts: list[Forecast], outcomes: dict[str, pd.Series], lags: dict[str, int]) -> list[Forecast]:
    """The random walk at each stored origin: the last value published by then, for the same periods."""
    out = []
    for f in forecasts:
        y = outcomes.get(f.series_id)
        if y is None:
            continue
        known = y.loc[: pd.Timestamp(f.as_of - timedelta(days=lags.get(f.series_id, 0)))]
        if known.empty:
            continue
        v = float(known.iloc[-1])
        out.append(f.model_copy(update={"model": "rw", "mean": [v] * len(f.dates), "lower": [v] * len(f.dates),
                                        "upper": [v] * len(f.dates)}))
    return out


def record_accuracy(config: AppConfig, targets: list[str], history: pd.DataFrame,
                    observations: pd.DataFrame) -> tuple[list[Accuracy], list[Forecast]]:
    """The record's rows (model `dfm`, horizons RECORD_HORIZONS, against the random walk at the same
    origins) and the stored nowcasts they score; `observations` are the outcomes published by then."""
    forecasts = [f for f in stored_forecasts(history) if f.series_id in targets]
    outcomes = {t: observations[t].dropna() for t in targets if t in observations.columns}
    freqs = {t: _freq(config.series.get(t)) for t in targets}
    lags = {t: config.series[t].publication_lag_days for t in targets if t in config.series}
    steps = score([*forecasts, *_random_walk(forecasts, outcomes, lags)], outcomes, freqs)
    rows = [a for a in accuracy(steps, benchmark="rw", horizons=list(RECORD_HORIZONS)) if a.model == MODEL]
    return rows, forecasts


def _record(config: AppConfig, targets: list[str], history: pd.DataFrame, observations: pd.DataFrame,
            as_of: date) -> tuple[list[OutlookRecordRow], str]:
    """RMSE of the stored nowcasts and of the random walk on the periods published by as_of."""
    scored, forecasts = record_accuracy(config, targets, history, observations)
    rows = []
    for a in scored:
        s = config.series.get(a.target)
        rows.append(OutlookRecordRow(series_id=a.target, name=s.name_in(i18n.current()) if s else a.target,
                                     horizon=a.horizon, n=a.n, rmse=finite(a.rmse), rw_rmse=finite(rw_rmse(a)),
                                     ratio=finite(a.ratio), dm_p=finite(a.dm_p)))
    weo = [t for t in targets if projection_series(config, t)]
    note = _("WEO projections are stored as their latest vintage only, so they are shown beside the nowcast "
             "but not scored.") if weo else ""
    if not rows:
        first = min((f.as_of for f in forecasts), default=None)
        msg = (_("No stored nowcast has a published outcome yet (the first stored nowcast is of %(date)s).",
                 date=i18n.day(first)) if first else _("No nowcast has been stored yet."))
        note = f"{msg} {note}".strip()
    return rows, note


def record_reference(section: OutlookSection, config: AppConfig) -> ForecastRecordRef | None:
    """The scored nowcast record as the track record names it: how many target-horizon cells the
    nowcasts beat the random walk in, and the rows; None when no nowcast panel is configured."""
    if not outlook_targets(config):
        return None
    rows = section.record
    if not rows:
        note = section.record_note or section.message or _("No nowcast has been stored yet.")
        return ForecastRecordRef(message=_("Nowcast record (World economy outlook): %(note)s", note=note))
    beaten = [r for r in rows if r.ratio is not None and r.ratio < 1]
    significant = [r for r in beaten if r.dm_p is not None and r.dm_p < SIGNIFICANCE]
    targets = len({r.series_id for r in rows})
    msg = _("Nowcast record (World economy outlook): %(cells)s target-horizon cells scored on %(targets)s targets; "
            "RMSE below the random walk's in %(beaten)s, significantly (Diebold-Mariano p < 0.05) in %(significant)s.",
            cells=len(rows), targets=targets, beaten=len(beaten), significant=len(significant))
    if section.record_note:
        msg = f"{msg} {section.record_note}"
    return ForecastRecordRef(message=msg, targets=targets, cells=len(rows), beaten=len(beaten),
                             significant=len(significant), rows=list(rows))


def rw_rmse(a: object) -> float:
    ratio, rmse = getattr(a, "ratio", float("nan")), getattr(a, "rmse", float("nan"))
    return rmse / ratio if np.isfinite(ratio) and ratio > 0 else float("nan")


def _changes(rows: list[OutlookRow], prev: dict | None) -> list[str]:
    """The moves in words: since the previous report, or why there is nothing to compare with."""
    if prev is None:
        return [_("No previous report to compare the nowcasts with.")]
    if not (prev.get("outlook") or {}).get("rows"):
        return [_("The previous report had no nowcasts to compare with.")]
    out = []
    for r in rows:
        if r.change is None or r.period is None:
            continue
        if abs(r.change) < 0.05:
            out.append(_("%(name)s: the nowcast for %(period)s is unchanged at %(value)s%%.",
                         name=r.name, period=r.period_label, value=i18n.decimal(r.mean, 1)))
        else:
            out.append(_("%(name)s: the nowcast for %(period)s moved %(change)s pp to %(value)s%% since the previous report.",
                         name=r.name, period=r.period_label, change=i18n.decimal(r.change, 1, signed=True),
                         value=i18n.decimal(r.mean, 1)))
    return out or [_("No nowcast period in common with the previous report.")]


def _label(d: date, freq: str) -> str:
    """2025 for a year, 2025Q3 for a quarter, 2025-09 for a month."""
    p = _period(d, freq)
    return str(p.year) if freq == "Y" else (f"{p.year}Q{p.quarter}" if freq == "Q" else d.strftime("%Y-%m"))
