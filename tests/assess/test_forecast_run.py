"""run_forecasts on real series: incremental by default, re-estimation rules, point-in-time, failures."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from sco_monitor.assess.forecast import ForecastRun, plan_slots, run_forecasts
from sco_monitor.config.settings import AssessmentConfig
from sco_monitor.executor import InlineExecutor
from sco_monitor.timeutil import period_start

from .forecast_data import core_cpi, series, sp500, wti

# Tuesday, Wednesday, and the Monday when the next 7-day period of the re-estimation calendar begins
D0, D1, WEEK_LATER = date(2018, 6, 26), date(2018, 6, 27), date(2018, 7, 2)
FRIDAY = date(2018, 6, 29)
SERIES = [series("eq.us.sp500", "equity"), series("macro.us.core_cpi", "macro", "M")]
SETTINGS = AssessmentConfig()


def frames(end: str = "2018-12-31") -> pd.DataFrame:
    return pd.concat([sp500(), core_cpi()], axis=1).loc["2008-07-01":end]


def events(run: ForecastRun) -> dict[tuple[str, str], tuple[str, str]]:
    return {(e["series"], e["slot"]): (e["event"], e["detail"]) for e in run.events
            if e["event"] in ("extended", "reestimated")}


@pytest.fixture(scope="module")
def first() -> ForecastRun:
    """At D0 from scratch; the frame holds data up to December 2018 (the future of D0)."""
    return run_forecasts(frames(), SERIES, D0, {}, SETTINGS, InlineExecutor())


def test_first_run_estimates_everything_and_publishes_every_output(first: ForecastRun) -> None:
    assert set(events(first).values()) == {("reestimated", "no stored state")}
    assert set(first.states) == {("eq.us.sp500", "volatility"), ("eq.us.sp500", "regime"),
                                 ("macro.us.core_cpi", "level")}
    [level] = first.forecasts
    assert level.series_id == "macro.us.core_cpi" and level.as_of == D0 and len(level.mean) == 20
    assert level.dates[0] == date(2018, 7, 1)  # monthly, dated the first of the month like the data
    assert {f.model for f in first.return_forecasts} == {"garch", "regime"}
    assert 0.2 < first.volatility["eq.us.sp500"] < 3  # percent per day
    assert first.var["eq.us.sp500"]["var99"] > first.var["eq.us.sp500"]["var95"] > 0
    assert 0 <= first.regime_prob["eq.us.sp500"] <= 1
    assert first.notes == []


def test_the_next_day_extends_and_a_week_later_reestimates(first: ForecastRun) -> None:
    nxt = run_forecasts(frames(), SERIES, D1, first.states, SETTINGS, InlineExecutor())
    ev = events(nxt)
    assert ev[("eq.us.sp500", "volatility")] == ("extended", "to 2018-06-27")
    assert ev[("macro.us.core_cpi", "level")][0] == "extended"
    st = nxt.states[("eq.us.sp500", "volatility")]
    # estimated on the data up to the first day of its calendar period (Monday), then extended
    assert st.last_date == D1 and st.fitted_at == date(2018, 6, 25) and st.params == first.states[("eq.us.sp500", "volatility")].params
    later = run_forecasts(frames(), SERIES, WEEK_LATER, nxt.states, SETTINGS, InlineExecutor())
    assert all(e == "reestimated" and d.startswith("scheduled") for e, d in events(later).values())
    assert later.states[("eq.us.sp500", "volatility")].fitted_at == WEEK_LATER


def test_a_kind_of_model_can_have_its_own_calendar(first: ForecastRun) -> None:
    """`reestimate_every_by_model`: with a quarter for the regime model, a week later it is extended
    while the others re-estimate; re-estimated when the quarter's next period begins."""
    quarterly = AssessmentConfig(reestimate_every_by_model={"regime": "91d"})
    quarter = quarterly.reestimate_period("regime")
    assert quarter == timedelta(days=91) and quarterly.reestimate_period("volatility") == SETTINGS.reestimate_every
    later = run_forecasts(frames(), SERIES, WEEK_LATER, first.states, quarterly, InlineExecutor())
    ev = events(later)
    assert ev[("eq.us.sp500", "regime")][0] == "extended" and ev[("eq.us.sp500", "volatility")][0] == "reestimated"
    nxt_quarter = period_start(D0, quarter) + quarter
    after = run_forecasts(frames(), SERIES, nxt_quarter, later.states, quarterly, InlineExecutor())
    estimated = first.states[("eq.us.sp500", "regime")].fitted_at
    assert events(after)[("eq.us.sp500", "regime")] == ("reestimated", f"scheduled (estimated {estimated}, every "
                                                                        "91d from 2000-01-03)")
    assert after.states[("eq.us.sp500", "regime")].fitted_at == nxt_quarter


def test_a_forecast_at_d_uses_nothing_after_d(first: ForecastRun) -> None:
    truncated = run_forecasts(frames(end=D0.isoformat()), SERIES, D0, {}, SETTINGS, InlineExecutor())
    assert truncated.forecasts == first.forecasts
    assert truncated.return_forecasts == first.return_forecasts
    assert truncated.var == first.var and truncated.regime_prob == first.regime_prob
    assert truncated.states == first.states
    assert all(s.last_date <= D0 for s in first.states.values())


def test_a_state_from_after_as_of_is_not_used(first: ForecastRun) -> None:
    nxt = run_forecasts(frames(), SERIES, D1, first.states, SETTINGS, InlineExecutor())
    back = run_forecasts(frames(), SERIES[:1], D0, nxt.states, SETTINGS, InlineExecutor())
    assert events(back)[("eq.us.sp500", "volatility")] == ("reestimated", "the stored state ends 2018-06-27, after as_of")
    assert back.return_forecasts == [f for f in first.return_forecasts if f.series_id == "eq.us.sp500"]


def test_a_revised_observation_forces_reestimation(first: ForecastRun) -> None:
    revised = frames()
    revised.loc[pd.Timestamp(D0), "eq.us.sp500"] *= 1.02
    run = run_forecasts(revised, SERIES[:1], D1, first.states, SETTINGS, InlineExecutor())
    event, detail = events(run)[("eq.us.sp500", "regime")]
    assert event == "reestimated" and "revised" in detail


def test_the_lehman_week_degrades_a_fit_and_forces_reestimation() -> None:
    # 28-day periods: one begins on 2008-09-01, so both days fall in it and only degradation re-estimates
    data, monthly = sp500().loc["2004":].to_frame(), AssessmentConfig(reestimate_every="28d")
    before = run_forecasts(data, SERIES[:1], date(2008, 9, 12), {}, monthly, InlineExecutor())
    after = run_forecasts(data, SERIES[:1], date(2008, 9, 19), before.states, monthly, InlineExecutor())
    event, detail = events(after)[("eq.us.sp500", "volatility")]
    assert event == "reestimated" and detail.startswith("fit degraded")
    assert after.regime_prob["eq.us.sp500"] > before.regime_prob["eq.us.sp500"]


def test_broken_and_tiny_series_do_not_stop_the_others_and_every_fallback_is_said() -> None:
    idx = pd.bdate_range("2016-01-01", "2018-06-29")
    data = pd.DataFrame({
        "eq.us.sp500": sp500(),
        "eq.kz.new_listing": sp500().loc["2018-06-22":"2018-06-29"] / 20,  # 6 prices: a fresh listing
        "fx.usd_sar": pd.Series(3.75, index=idx),  # a hard peg: never moves
        "eq.xx.dead": np.nan,
    }).loc["2016":"2018-06-29"]
    universe = [series("eq.us.sp500", "equity"), series("eq.kz.new_listing", "equity"),
                series("fx.usd_sar", "fx", direction="up"), series("eq.xx.dead", "equity")]
    with capture_logs() as logs:
        run = run_forecasts(data, universe, FRIDAY, {}, SETTINGS, InlineExecutor())
    assert "eq.us.sp500" in run.var and "eq.us.sp500" in run.regime_prob
    notes = "\n".join(run.notes)
    assert "eq.xx.dead: no observations up to 2018-06-29" in notes
    assert "eq.kz.new_listing volatility: GARCH(1,1)-t: 5 returns are too few" in notes
    assert "fell back to EWMA(0.94)" in notes and run.var["eq.kz.new_listing"]["model"] == "ewma"
    assert "eq.kz.new_listing regime: no model" in notes and "eq.kz.new_listing" not in run.regime_prob
    assert "fx.usd_sar volatility: no model" in notes and "constant" in notes
    warned = [entry for entry in logs if entry["event"] == "forecast.fallback"]
    assert [(w["series"], w["slot"]) for w in warned] == [("eq.kz.new_listing", "volatility")]
    [summary] = [entry for entry in logs if entry["event"] == "forecast_run"]
    assert summary["series"] == 3 and summary["fallbacks"] == 1
    # a failed estimation is remembered and retried on the schedule, not every day
    assert run.states[("fx.usd_sar", "volatility")].family == "none"
    nxt = run_forecasts(data, universe, FRIDAY, run.states, SETTINGS, InlineExecutor())
    assert ("fx.usd_sar volatility: no model since 2018-06-25: GARCH(1,1)-t: the series is constant; "
            "EWMA(0.94): the series is constant (zero volatility)") in nxt.notes
    assert events(nxt)[("eq.us.sp500", "volatility")][0] == "extended"


def test_default_models_per_kind() -> None:
    settings = AssessmentConfig(forecast_series=["fx.usd_kzt"])
    assert plan_slots(series("eq.us.sp500", "equity"), settings) == ("volatility", "regime")
    assert plan_slots(series("fx.usd_kzt", "fx"), settings) == ("level", "volatility", "regime")
    assert plan_slots(series("macro.kz.cpi", "macro", "M"), settings) == ("level",)
    assert plan_slots(series("cmd.gold_monthly", "commodity", "M"), settings) == ("level",)


def test_wti_through_negative_prices_switches_to_changes() -> None:
    # WTI settled at -37 USD on 2020-04-20; arch's copy ends in 2019, so append that real week
    real = pd.Series([18.27, -36.98, 8.91, 13.64, 15.06, 16.50],
                     index=pd.to_datetime(["2020-04-17", "2020-04-20", "2020-04-21", "2020-04-22",
                                           "2020-04-23", "2020-04-24"]))
    y = pd.concat([wti().loc["2012":], real]).rename("cmd.wti")
    run = run_forecasts(y.to_frame(), [series("cmd.wti", "commodity")], date(2020, 4, 24), {}, SETTINGS,
                        InlineExecutor())
    assert run.var["cmd.wti"]["unit"] == "level change" and run.states[("cmd.wti", "volatility")].spec["returns"] == "diff"


def test_reestimation_dates_do_not_depend_on_where_a_run_starts() -> None:
    """The calendar is counted from a fixed day: a cold run on any day of a period estimates on the
    data up to that period's first day, as a run continued day by day from earlier did."""
    from sco_monitor.assess.forecast.run import period_start

    week = AssessmentConfig().reestimate_every
    assert period_start(date(2018, 6, 25), week) == date(2018, 6, 25)  # a Monday starts a period
    assert period_start(date(2018, 7, 1), week) == date(2018, 6, 25)
    cold = run_forecasts(frames(), SERIES[:1], date(2018, 6, 28), {}, SETTINGS, InlineExecutor())
    day_by_day = first_state = run_forecasts(frames(), SERIES[:1], D0, {}, SETTINGS, InlineExecutor()).states
    for day in (D1, date(2018, 6, 28)):
        day_by_day = run_forecasts(frames(), SERIES[:1], day, day_by_day, SETTINGS, InlineExecutor()).states
    key = ("eq.us.sp500", "volatility")
    assert cold.states[key].fitted_at == day_by_day[key].fitted_at == date(2018, 6, 25)
    assert cold.states[key].params == first_state[key].params == day_by_day[key].params
    assert cold.states[key].last_date == day_by_day[key].last_date == date(2018, 6, 28)
    # the same parameters filtered over the same days: the same volatility
    assert np.allclose(cold.states[key].arrays()["last_value"], day_by_day[key].arrays()["last_value"])


def test_reestimation_is_warm_started_and_keeps_the_chosen_level_specification() -> None:
    """A scheduled re-estimation refits the chosen level model from its previous parameters; the
    specification is chosen again only when a `reselect_every` period begins."""
    monthly = AssessmentConfig(reestimate_every="28d", reselect_every="364d")
    cpi = [s for s in SERIES if s.id == "macro.us.core_cpi"]
    first_run = run_forecasts(frames(), cpi, date(2018, 1, 15), {}, monthly, InlineExecutor())
    later = run_forecasts(frames(), cpi, date(2018, 3, 15), first_run.states, monthly, InlineExecutor())
    before, after = first_run.states[("macro.us.core_cpi", "level")], later.states[("macro.us.core_cpi", "level")]
    assert events(later)[("macro.us.core_cpi", "level")][0] == "reestimated"
    assert after.fitted_at > before.fitted_at and after.spec == before.spec
    assert after.metrics["selected_at"] == before.metrics["selected_at"]
    assert after.metrics["candidates"] == before.metrics["candidates"]  # no new selection was run


def test_a_degraded_fit_is_reestimated_once_per_period_not_every_turbulent_day() -> None:
    data, monthly = sp500().loc["2004":].to_frame(), AssessmentConfig(reestimate_every="28d")
    states = run_forecasts(data, SERIES[:1], date(2008, 9, 12), {}, monthly, InlineExecutor()).states
    reasons = []
    for day in pd.bdate_range("2008-09-15", "2008-09-26"):  # Lehman to the end of the month: one period
        run = run_forecasts(data, SERIES[:1], day.date(), states, monthly, InlineExecutor())
        states = run.states
        reasons.append(events(run)[("eq.us.sp500", "volatility")])
    degraded = [r for r in reasons if r[0] == "reestimated"]
    assert len(degraded) == 1 and degraded[0][1].startswith("fit degraded")
    assert all(r[0] == "extended" for r in reasons if r not in degraded)


def test_level_models_are_estimated_on_the_latest_level_window_observations() -> None:
    """`level_window` bounds the level models' estimation sample (the latest observations before the
    period's first day); the forecast still starts from the last observation."""
    spx = [series("eq.us.sp500", "equity")]
    data = sp500().loc["2004":"2018-06-29"].to_frame()
    windowed = AssessmentConfig(forecast_series=["eq.us.sp500"], level_window=250)
    full = AssessmentConfig(forecast_series=["eq.us.sp500"], level_window=0)
    short = run_forecasts(data, spx, FRIDAY, {}, windowed, InlineExecutor())
    long = run_forecasts(data, spx, FRIDAY, {}, full, InlineExecutor())
    key = ("eq.us.sp500", "level")
    # estimated on 250 observations up to Monday's period start, then extended by the days since
    added = len(data.loc["2018-06-26":])
    assert short.states[key].nobs <= 250 + added < long.states[key].nobs
    assert short.states[key].last_date == long.states[key].last_date == FRIDAY
    [fc] = [f for f in short.forecasts if f.series_id == "eq.us.sp500"]
    assert fc.as_of == FRIDAY and len(fc.mean) == 20


def test_days_in_one_task_equal_a_run_on_each_day_through_the_lehman_weeks() -> None:
    """The replay's block of days (one task per series and slot, the model kept in memory) gives
    each day what a run on that day from the previous day's states gives: the same events
    (extension, the degraded fit's re-estimation), regime probabilities and each day's states; and
    it publishes only what the assessment reads. The volatility model, which publishes nothing
    there, moves on the block's last day only: to the state a run on that day gives from the
    states before the block; with `unread` off, not at all."""
    from sco_monitor.assess.forecast.run import start_forecast_days

    data, monthly = sp500().loc["2003":].to_frame(), AssessmentConfig(reestimate_every="28d")
    days = [d.date() for d in pd.bdate_range("2008-09-08", "2008-10-10")]
    start = run_forecasts(data, SERIES[:1], date(2008, 9, 5), {}, monthly, InlineExecutor()).states
    blocks = start_forecast_days(data, SERIES[:1], days, start, monthly, InlineExecutor())()
    states, vol = dict(start), ("eq.us.sp500", "volatility")
    kinds = []
    for day, block in zip(days, blocks, strict=True):
        each = run_forecasts(data, SERIES[:1], day, states, monthly, InlineExecutor())
        states.update(each.states)
        kinds.append(events(each)[("eq.us.sp500", "regime")][0])
        assert {k: v for k, v in events(block).items() if k != vol} == {k: v for k, v in events(each).items() if k != vol}
        assert vol not in events(block) or day == days[-1], day
        assert block.regime_prob == each.regime_prob and block.forecasts == each.forecasts, day
        assert {k: v for k, v in block.states.items() if k != vol} == {k: v for k, v in each.states.items() if k != vol}
        assert vol not in block.states or day == days[-1], day
        assert block.return_forecasts == [] and block.var == {}
    assert "reestimated" in kinds and kinds.count("extended") > 15  # a re-estimation inside the block
    last = run_forecasts(data, SERIES[:1], days[-1], start, monthly, InlineExecutor())
    assert blocks[-1].states[vol] == last.states[vol] and events(blocks[-1])[vol] == events(last)[vol]
    assert blocks[-1].states[vol].last_date == days[-1]
    unread_off = start_forecast_days(data, SERIES[:1], days, start, monthly, InlineExecutor(), unread=False)()
    assert all(vol not in b.states and b.regime_prob == a.regime_prob for a, b in zip(blocks, unread_off, strict=True))



def test_the_volatility_backtest_holds_its_parameters_until_the_next_reselection_period() -> None:
    """A scheduled re-estimation inside the reselection period filters the backtest window at the
    backtest parameters of the previous estimation (estimated on data before an earlier window, so
    out of sample); the next period estimates them again on the data before the new window."""
    data, cfg = sp500().loc["2003":].to_frame(), AssessmentConfig(reestimate_every="28d")
    states = run_forecasts(data, SERIES[:1], date(2008, 6, 2), {}, cfg, InlineExecutor()).states
    backtests = []
    for day in (date(2008, 6, 30), date(2008, 7, 28)):  # a new 91-day reselection period begins on 2008-07-07
        run = run_forecasts(data, SERIES[:1], day, states, cfg, InlineExecutor())
        assert events(run)[("eq.us.sp500", "volatility")][0] == "reestimated"
        states.update(run.states)
        backtests.append(states[("eq.us.sp500", "volatility")].metrics["backtest"])
    first = run_forecasts(data, SERIES[:1], date(2008, 6, 2), {}, cfg, InlineExecutor()).states
    b0 = first[("eq.us.sp500", "volatility")].metrics["backtest"]
    held, again = backtests
    assert held["params"] == b0["params"] and held["var99"]["estimated_to"] == b0["var99"]["estimated_to"]
    assert held["var99"]["end"] > b0["var99"]["end"]  # the window moved on
    assert date.fromisoformat(held["params"]["estimated_to"]) < date.fromisoformat(held["var99"]["start"])
    assert again["params"]["estimated_at"] == "2008-07-07" and again["params"]["omega"] != b0["params"]["omega"]
    assert date.fromisoformat(again["params"]["estimated_to"]) > date.fromisoformat(b0["params"]["estimated_to"])
