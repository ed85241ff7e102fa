"""One pass over a window gives every day's assessment exactly as that day's own assessment does.

On the demo's real history (arch.data and the ECB file, offline), with monthly macro series
inside their publication lags: the causal parts computed once for 2008 and read at sampled days
equal `evaluate` on each day's own point-in-time frame.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sco_monitor.app import known_names
from sco_monitor.assess.pipeline import Window, evaluate
from sco_monitor.assess.rows import result_rows
from sco_monitor.context import Context
from sco_monitor.demo import build_store, write_demo
from sco_monitor.store.assessments import load_window, window_start

DAYS = [date(2008, 1, 2), date(2008, 3, 17), date(2008, 6, 30), date(2008, 9, 15), date(2008, 10, 10),
        date(2008, 12, 31)]


@pytest.fixture(scope="module")
def demo_ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    out = tmp_path_factory.mktemp("window")
    config, chosen = write_demo(out, date(2008, 1, 2))
    ctx = Context(config_path=config, known=known_names)
    build_store(ctx, chosen, date(2008, 1, 2))
    return ctx


def test_every_day_read_from_one_pass_equals_its_own_assessment(demo_ctx: Context) -> None:
    config = demo_ctx.config
    ids = [s.id for s in config.universe.series]
    lagged = [s.id for s in config.universe.series if s.publication_lag_days]
    assert lagged, "the check needs series inside a publication lag"
    history = config.settings.assessment.history_days
    end = DAYS[-1]
    window = Window.of(load_window(demo_ctx.store, ids, DAYS[0], history, end=end), config, end)
    for day in DAYS:
        assert window_start(day, history) == window_start(end, history)
        own_run, pass_run = evaluate(load_window(demo_ctx.store, ids, day, history), config, day), window.day(day)
        own, from_pass = own_run.assessment, pass_run.assessment
        assert from_pass.model_dump(mode="json") == own.model_dump(mode="json"), day
        assert own.rules and any(r.severity != "no_data" for r in own.rules)
        # and the rows saved for the day (indicator values of the last 45 days, inside the lags too)
        own_rows, pass_rows = result_rows(own_run, 45), result_rows(pass_run, 45)
        for table, rows in own_rows.items():
            key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
            assert sorted(map(key, pass_rows[table])) == sorted(map(key, rows)), (day, table)
        assert own_rows["indicator_values"], day
    # and the pass did see the future of the earlier days, which they must not show
    sept = window.day(date(2008, 9, 15)).assessment
    assert max(v.date for v in sept.stress_index.values() if v.date) <= date(2008, 9, 15)


def test_a_day_after_the_window_is_refused(demo_ctx: Context) -> None:
    config = demo_ctx.config
    ids = [s.id for s in config.universe.series]
    window = Window.of(load_window(demo_ctx.store, ids, date(2008, 6, 2), 3650), config, date(2008, 6, 2))
    with pytest.raises(ValueError, match="after the window"):
        window.day(date(2008, 6, 3))


def test_the_window_of_a_day_starts_on_the_first_of_january(tmp_path: Path) -> None:
    assert window_start(date(2008, 9, 15), 3650) == window_start(date(2008, 1, 1), 3650) == date(1998, 1, 1)
    assert window_start(date(2008, 1, 1), 365) == date(2007, 1, 1)
    assert window_start(date(2008, 12, 31), 400) == date(2006, 1, 1)


@pytest.mark.slow
def test_forecasts_run_in_blocks_of_days_on_the_pool_equal_those_run_on_each_day(
        demo_ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay forecasts a block of days per task on the process pool, each worker keeping its
    model in memory from day to day, and starts the next block when one is collected: the
    assessments and the models' states equal those of the forecaster run on each day itself (states
    restored every day), in this process, on the same store; the volatility models move on the last
    day only."""
    import dataclasses

    from sco_monitor import cycle
    from sco_monitor.assess.forecast.layer import forecast_layer
    from sco_monitor.cycle import WindowedAssessment
    from sco_monitor.executor import InlineExecutor

    monkeypatch.setattr(cycle, "FORECAST_DAYS", 2)
    config = demo_ctx.config
    quick = dataclasses.replace(config, settings=config.settings.model_copy(update={
        "assessment": config.settings.assessment.model_copy(update={"forecast_series": []})}))
    assert quick.settings.executor.kind == "process"
    ctx = Context.from_parts(quick, store=demo_ctx.store, run_id="window-test")
    days = [date(2008, 10, 8), date(2008, 10, 9), date(2008, 10, 10), date(2008, 10, 13)]

    def on_the_day(frame, cfg, as_of, states):  # one day at a time, every model restored from its state
        return forecast_layer(frame, cfg, as_of, states, InlineExecutor())

    blocks, plain = WindowedAssessment(ctx, days), WindowedAssessment(ctx, days, forecaster=on_the_day)
    started = []
    for day in days:
        a = blocks(ctx, day, save=False)
        started.append(blocks._next[0] if blocks._next else None)
        b = plain(ctx, day, save=False)
        assert a.forecasts and any(r.kind == "vol_regime" and r.value is not None for r in a.rules), day
        assert a.model_dump(mode="json") == b.model_dump(mode="json"), day
    vol = {k for k in plain._states if k[1] == "volatility"}
    assert vol and {k: v for k, v in blocks._states.items() if k not in vol} == {
        k: v for k, v in plain._states.items() if k not in vol}
    # the volatility models, which no day reads, moved on the replay's last day alone: to the states a
    # run on that day gives from the stored ones (the states saved after the replay)
    last = WindowedAssessment(ctx, days[-1:], forecaster=on_the_day)
    last(ctx, days[-1], save=False)
    assert {k: blocks._states[k] for k in vol} == {k: last._states[k] for k in vol}
    blocks.close(ctx)
    plain.close(ctx)
    # the first block's collection started the second; the second had none to start
    assert started == [days[2:], days[2:], None, None]


@pytest.mark.slow
def test_the_next_years_first_block_starts_before_the_year_ends_and_equals_its_own_days(
        demo_ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Collecting a year's last block starts the next year's first, from that year's frame read then,
    while this process works through the year's last days: the next year's days equal those the
    forecaster gives on each day itself, and the states carried over the year's end are the same."""
    import dataclasses

    from sco_monitor import cycle
    from sco_monitor.assess.forecast.layer import forecast_layer
    from sco_monitor.cycle import WindowedAssessment
    from sco_monitor.executor import InlineExecutor

    monkeypatch.setattr(cycle, "FORECAST_DAYS", 2)
    config = demo_ctx.config
    quick = dataclasses.replace(config, settings=config.settings.model_copy(update={
        "assessment": config.settings.assessment.model_copy(update={"forecast_series": []})}))
    ctx = Context.from_parts(quick, store=demo_ctx.store, run_id="window-year-test")
    days = [date(2008, 12, 30), date(2008, 12, 31), date(2009, 1, 2), date(2009, 1, 5)]

    def on_the_day(frame, cfg, as_of, states):  # one day at a time, every model restored from its state
        return forecast_layer(frame, cfg, as_of, states, InlineExecutor())

    blocks, plain = WindowedAssessment(ctx, days), WindowedAssessment(ctx, days, forecaster=on_the_day)
    started, ahead = [], []
    for day in days:
        a = blocks(ctx, day, save=False)
        started.append(blocks._next[0] if blocks._next else None)
        ahead.append(blocks._ahead[0] if blocks._ahead else None)
        b = plain(ctx, day, save=False)
        assert a.forecasts and any(r.kind == "vol_regime" and r.value is not None for r in a.rules), day
        assert a.model_dump(mode="json") == b.model_dump(mode="json"), day
    # 2009's first block was started on 2008-12-30, when 2008's only block was collected
    assert started == [days[2:], days[2:], None, None]
    assert ahead == [days[2], days[2], None, None]
    vol = {k for k in plain._states if k[1] == "volatility"}
    assert {k: v for k, v in blocks._states.items() if k not in vol} == {
        k: v for k, v in plain._states.items() if k not in vol}
    blocks.close(ctx)
    plain.close(ctx)


def test_the_rules_on_indicators_read_from_the_years_frames_equal_each_days_own(demo_ctx: Context) -> None:
    """The window computes each indicator rule's frame over the year once and a day reads its row: the
    evaluations (values, severities, thresholds, summaries, no-data reasons) equal the rule evaluated on
    the day's own indicators, also for a series the day's quality flags make unavailable."""
    from sco_monitor.assess.rules import CALENDAR_KINDS, RuleInputs, evaluate_rule

    config = demo_ctx.config
    ids = [s.id for s in config.universe.series]
    end = DAYS[-1]
    window = Window.of(load_window(demo_ctx.store, ids, DAYS[0], config.settings.assessment.history_days, end=end),
                       config, end)
    rules = [r for r in config.rules.rules if r.kind in CALENDAR_KINDS]
    assert {r.kind for r in rules} >= {"change", "zscore", "drawdown"}
    flagged = next(s.id for s in config.universe.series if s.kind == "equity")
    severities, reasons = set(), set()
    for day in DAYS:
        inputs = RuleInputs(series=config.series, indicators=window.indicators.at(day),
                            specs={s.name: s for s in window.specs}, stress=window.stress,
                            unavailable={flagged: "stale: no observation since 2008-01-01"})
        for rule in rules:
            own, read = evaluate_rule(rule, inputs), window.rules.evaluate_rule(rule, inputs)
            assert [e.model_dump(mode="json") for e in read] == [e.model_dump(mode="json") for e in own], (day, rule.name)
            severities |= {e.severity for e in own}
            reasons |= {e.details.get("reason") for e in own if e.series_id == flagged}
    assert {"ok", "no_data"} <= severities and severities & {"warn", "critical"}
    assert reasons == {"stale: no observation since 2008-01-01"}
