"""Evaluation: the live nowcast wiring day by day on the real Russian panel of the DFM evaluation
(Rosstat monthly series, Bank of Russia USD/RUB, Brent; ../shared/data), Q4 2014 (the rouble crisis).

What it measures is the daily cost the wiring adds to an assessment, on real data with a real
release calendar: how many days re-estimate, extend or reuse, and the seconds of each. Every value is
known only after its publication lag (`realtime.knowable`); the daily series make the frame change
each business day, the monthly ones once a month.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.forecast.nowcast_layer import run_nowcasts
from sco_monitor.assess.forecast.realtime import knowable
from sco_monitor.catalog import Series
from sco_monitor.config.settings import NowcastPanel
from tests.assess.test_nowcast_eval import ROOT, _need, russia

pytestmark = [pytest.mark.eval]

DAYS = [d.date() for d in pd.bdate_range("2014-10-01", "2014-12-31")]


def test_daily_cost_of_the_wiring_on_the_real_russian_panel() -> None:
    frame, spec, lags = russia()  # skips when the shared data are absent
    frame = frame.loc[:"2014-12-31"]
    target = "ru.retail_real_yoy_q"
    monthly = list(spec.monthly)
    series = {c: Series(id=c, name=c, source="csv", symbol=c, kind="macro", country="RUS",
                        frequency="Q" if c == target else "M", unit="percent", direction="down") for c in frame.columns}
    # the indicators are already y/y growth rates or changes: they enter as they are
    panel = NowcastPanel(name="RUS", targets=[target, "ru.cpi_yoy"], monthly=[c for c in monthly if c != "ru.cpi_yoy"],
                         levels=[c for c in monthly if c != "ru.cpi_yoy"], horizon=1,
                         differenced=True)  # the evaluated model (test_nowcast_eval.py: one factor by IC_p2)
    # a daily series in the panel, as in the default RUS panel: the month's average so far moves every day
    fx = pd.read_csv(_need(ROOT / "fx" / "cbr-usdrub-daily-1992-2017.csv"), index_col=0,
                     parse_dates=True).iloc[:, 0].loc["2000":"2014"]
    daily = frame.reindex(frame.index.union(fx.index))
    daily["fx.usd_rub"] = fx
    series["fx.usd_rub"] = Series(id="fx.usd_rub", name="USD/RUB", source="csv", symbol="x", kind="fx", country="RUS",
                                  frequency="B", unit="RUB per USD", direction="up")
    panel = panel.model_copy(update={"monthly": [*panel.monthly, "fx.usd_rub"]})
    states: dict = {}
    seconds: dict[str, list[float]] = defaultdict(list)
    last: dict[str, float] = {}
    for day in DAYS:
        data = knowable(daily, lags, day)
        t0 = time.perf_counter()
        run = run_nowcasts(data, [panel], series, day, states)
        seconds[run.events[0]["event"]].append(time.perf_counter() - t0)
        assert not run.notes, run.notes
        states.update(run.states)
        last = {f.series_id: f.mean[0] for f in run.forecasts}
    print("\nLive nowcast wiring, real Russian panel (11 monthly indicators incl. daily USD/RUB, 2 targets), "
          f"{DAYS[0]}..{DAYS[-1]}, {len(DAYS)} business days")
    print(f"{'event':<12} {'days':>5} {'median s':>9} {'max s':>7}")
    for event, xs in sorted(seconds.items()):
        print(f"{event:<12} {len(xs):>5} {np.median(xs):>9.3f} {max(xs):>7.3f}")
    print(f"nowcasts on {DAYS[-1]}: " + ", ".join(f"{k} {v:.2f}" for k, v in last.items()))
    assert len(seconds["reestimated"]) == 4  # the 28-day calendar from 2000-01-03: Oct 1 (cold), then 3 periods
    assert np.median(seconds["extended"]) < 0.5  # the brief's budget for a day that only extends
