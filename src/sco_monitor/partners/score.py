"""Partner views scored like the model's warnings. Pure functions.

A view at elevated or worse (see `levels`) is a warning. It signals on every assessment day from
the day it was posted for `horizon` trading days (its forecast's horizon when it gives one, else
the crisis horizon H), until the same author's next view of the same country replaces it. Those
signal days are then scored by `replay.score.score` against the same episodes, horizon and
calendar as the model's own alerts, so hit rate, false-alarm rate, lead time and noise-to-signal
mean the same thing for a partner as for a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from sco_monitor.partners.levels import signal_of
from sco_monitor.replay.episodes import Span, bday, bdays
from sco_monitor.replay.score import TrackRecord, score

SIGNAL_COLUMNS = ["date", "fingerprint", "rule", "country", "severity"]


def rule_name(author: str) -> str:
    """How a partner appears where the model shows a rule."""
    return f"partner:{author}"


def partner_signals(views: pd.DataFrame, calendar: pd.DatetimeIndex, horizon: int) -> pd.DataFrame:
    """Signal days of partner views on the calendar.

    views: author, country, day (the date posted), level, forecast_level, forecast_horizon_days.
    Returns date, fingerprint, rule, country, severity: the frame `score` takes.
    """
    if views.empty or calendar.empty:
        return pd.DataFrame(columns=SIGNAL_COLUMNS)
    cal = pd.DatetimeIndex(calendar).sort_values().unique()
    pos = bdays(cal)
    rows: list[dict[str, object]] = []
    ordered = views.sort_values("day", kind="stable")
    for (author, country), group in ordered.groupby(["author", "country"], sort=True):
        days = [bday(d) for d in group["day"]]
        for i, v in enumerate(group.itertuples(index=False)):
            severity = signal_of(v.level, v.forecast_level)
            if severity is None:
                continue
            valid = int(v.forecast_horizon_days) if _given(v.forecast_horizon_days) else horizon
            stop = days[i] + valid
            if i + 1 < len(days):
                stop = min(stop, days[i + 1])
            on = (pos >= days[i]) & (pos < stop)
            for d in cal[on]:
                rows.append({"date": d, "fingerprint": f"{rule_name(author)}:{country}", "rule": rule_name(author),
                             "country": country, "severity": severity})
    out = pd.DataFrame(rows, columns=SIGNAL_COLUMNS)
    # two views on one day: the later one counts, and one row per day and partner
    return out.drop_duplicates(["date", "fingerprint"], keep="last").reset_index(drop=True)


def _given(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x))


def score_partners(
    views: pd.DataFrame,
    *,
    days: Sequence[date] | pd.DatetimeIndex,
    episodes: Mapping[str, Sequence[Span]],
    horizon: int,
    known_until: date,
) -> dict[str, TrackRecord]:
    """author → the track record of that partner's views: the same `score` the model's rules get,
    on the same assessment days, against the same episodes. Only the countries a partner spoke
    about are scored for it."""
    cal = pd.DatetimeIndex(sorted(pd.to_datetime(list(days)))).unique()
    if cal.empty or views.empty:
        return {}
    out: dict[str, TrackRecord] = {}
    for author, group in views.groupby("author", sort=True):
        countries = sorted(set(group["country"]))
        out[str(author)] = score(
            days=cal,
            signals=partner_signals(group, cal, horizon),
            episodes={c: list(episodes.get(c, [])) for c in countries},
            horizon=horizon,
            known_until=known_until,
            watched={rule_name(str(author)): countries},
            categories={rule_name(str(author)): "partner"},
        )
    return out
