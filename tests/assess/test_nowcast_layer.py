"""The nowcast panels in the forecast layer: built from the point-in-time frame, estimated on the
date-anchored calendar, extended at fixed parameters, reused when the panel is unchanged, stored
like the other model states, and failing panel by panel; and the outlook rule firing from them."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from sco_monitor.assess.forecast.layer import forecast_layer, states_from_rows
from sco_monitor.assess.forecast.nowcast_layer import build_panel, run_nowcasts
from sco_monitor.assess.forecast.run import period_start
from sco_monitor.assess.pipeline import assess
from sco_monitor.config import load_config
from sco_monitor.config.settings import NowcastPanel
from tests.assess.nowcast_fixture import MONTHLY, PANEL, TARGETS, economy, point_in_time

ROOT = Path(__file__).resolve().parents[2]
KEY = ("macro.ru.gdp_growth", "nowcast")


@pytest.fixture(scope="module")
def config():  # noqa: ANN201
    return load_config(ROOT / "config" / "sco-monitor.yaml")


@pytest.fixture(scope="module")
def series(config) -> dict:  # noqa: ANN001
    return {s.id: s for s in config.universe.series}


def with_panels(config, *panels: NowcastPanel):  # noqa: ANN001, ANN201
    a = config.settings.assessment.model_copy(update={"nowcasts": list(panels)})
    settings = config.settings.model_copy(update={"assessment": a, "executor": config.settings.executor.model_copy(
        update={"kind": "inline"})})
    return dataclasses.replace(config, settings=settings)


def test_the_panel_reads_indicators_in_yoy_and_annual_targets_in_the_fourth_quarter(series) -> None:  # noqa: ANN001
    frame = point_in_time(economy(date(2025, 10, 31)), date(2025, 10, 15))
    data = build_panel(frame, PANEL, series)
    assert data.spec.quarterly == tuple(TARGETS) and set(data.spec.monthly) == set(MONTHLY)
    assert data.target_freq == {t: "A" for t in TARGETS}
    cpi = frame["macro.ru.cpi_m"].dropna()
    expected = 100 * (cpi.iloc[-1] / cpi.iloc[-13] - 1)
    assert data.frame["macro.ru.cpi_m"].dropna().iloc[-1] == pytest.approx(expected)
    assert data.frame["rate.ru.policy"].dropna().iloc[-1] == pytest.approx(frame["rate.ru.policy"].dropna().iloc[-1])
    gdp = data.frame["macro.ru.gdp_growth"].dropna()
    assert all(d.month == 12 for d in gdp.index) and gdp.index[-1].year == 2024  # 2025 is not out yet
    fx = frame["fx.usd_rub"].loc["2025-09"]
    assert data.frame.loc["2025-09-30", "fx.usd_rub"] == pytest.approx(
        100 * (fx.mean() / frame["fx.usd_rub"].loc["2024-09"].mean() - 1))  # a daily series by its monthly mean


def test_estimated_on_the_calendar_extended_between_and_reused_when_nothing_changed(series) -> None:  # noqa: ANN001
    full = economy(date(2025, 12, 31))
    states: dict = {}
    events, outs = [], {}
    for d in (date(2025, 10, 14), date(2025, 10, 15), date(2025, 10, 16), date(2025, 11, 20)):
        frame = point_in_time(full, d)
        if d == date(2025, 10, 16):  # no new FX quote today: the panel is yesterday's
            frame = frame.drop(index=frame.index[-1])
        run = run_nowcasts(frame, [PANEL], series, d, states)
        assert not run.notes
        states.update(run.states)
        events.append(run.events[0]["event"])
        outs[d] = {f.series_id: f for f in run.forecasts}
    assert events == ["reestimated", "extended", "reused", "reestimated"]
    st = states[KEY]
    assert st.fitted_at == period_start(date(2025, 11, 20), PANEL.reestimate_every) and st.last_date <= date(2025, 11, 20)
    gdp = outs[date(2025, 10, 15)]["macro.ru.gdp_growth"]
    assert gdp.model == "dfm" and gdp.dates == [date(2025, 12, 31), date(2026, 12, 31)]  # 2024 is published
    assert all(lo < m < hi for lo, m, hi in zip(gdp.lower, gdp.mean, gdp.upper, strict=True)) and gdp.std[1] > gdp.std[0]
    assert outs[date(2025, 10, 16)]["macro.ru.gdp_growth"].mean == outs[date(2025, 10, 15)]["macro.ru.gdp_growth"].mean
    assert outs[date(2025, 10, 16)]["macro.ru.gdp_growth"].as_of == date(2025, 10, 16)


def test_a_restored_state_gives_the_nowcast_of_the_model_in_memory(series) -> None:  # noqa: ANN001
    full = economy(date(2025, 12, 31))
    first = run_nowcasts(point_in_time(full, date(2025, 10, 14)), [PANEL], series, date(2025, 10, 14), {})
    st = first.states[KEY]
    row = {f.name: getattr(st, f.name) for f in dataclasses.fields(st)}
    restored = states_from_rows({KEY: row})  # what store.model_states gives back
    t0 = time.perf_counter()
    again = run_nowcasts(point_in_time(full, date(2025, 10, 15)), [PANEL], series, date(2025, 10, 15), restored)
    seconds = time.perf_counter() - t0
    assert again.events[0]["event"] == "extended" and again.states[KEY].params == st.params
    print(f"\nnowcast panel RUS (5 monthly indicators, 2 annual targets), extension + nowcast: {seconds:.2f} s")


def test_a_failing_panel_is_a_note_and_the_others_run(series) -> None:  # noqa: ANN001
    frame = point_in_time(economy(date(2025, 12, 31)), date(2025, 10, 15))
    broken = NowcastPanel(name="KAZ", targets=["macro.kz.gdp_growth"], monthly=["macro.kz.cpi_m"])
    run = run_nowcasts(frame, [broken, PANEL], series, date(2025, 10, 15), {})
    assert [n for n in run.notes if n.startswith("nowcast KAZ:")] == [
        "nowcast KAZ: FitFailed: no target has observations (macro.kz.gdp_growth)"]
    assert {f.series_id for f in run.forecasts} == set(TARGETS)
    short = run_nowcasts(frame.loc["2021":], [PANEL], series, date(2025, 10, 15), {})
    assert any(n.startswith("nowcast RUS: no model:") and "too few" in n for n in short.notes)
    assert short.states[KEY].family == "none" and not short.forecasts  # retried on the calendar, not daily
    again = run_nowcasts(frame.loc["2021":], [PANEL], series, date(2025, 10, 16), short.states)
    assert again.events[0]["event"] == "skipped" and "no model since" in again.notes[0]


def test_the_forecast_layer_adds_the_nowcasts_and_their_states(config) -> None:  # noqa: ANN001
    cfg = with_panels(config, PANEL)
    frame = point_in_time(economy(date(2025, 12, 31)), date(2025, 10, 15))
    run = forecast_layer(frame, cfg, date(2025, 10, 15), {})
    dfm = [f for f in run.forecasts if f.model == "dfm"]
    assert {f.series_id for f in dfm} == set(TARGETS)
    assert KEY in run.states and run.states[KEY].family == "dfm"
    assert any(f.model != "dfm" and f.series_id == "macro.ru.gdp_growth" for f in run.forecasts)  # its own ARIMA too


def test_a_live_nowcast_of_a_contraction_fires_the_growth_rule(config) -> None:  # noqa: ANN001
    cfg = with_panels(config, PANEL)
    as_of = date(2025, 10, 15)
    got = {}
    for shock in (0.0, 6.0):
        frame = point_in_time(economy(date(2025, 12, 31), shock=shock, shock_months=12), as_of)
        run = forecast_layer(frame, cfg, as_of, {})
        a = assess(frame, cfg, as_of, forecasts=run.forecasts)
        (ev,) = [e for e in a.rules if e.rule == "gdp_forecast_contraction" and e.series_id == "macro.ru.gdp_growth"]
        (fc,) = [f for f in run.forecasts if f.model == "dfm" and f.series_id == "macro.ru.gdp_growth"]
        got[shock] = (ev, fc)
    calm, hit = got[0.0], got[6.0]
    assert calm[0].severity == "ok", calm[0].summary
    assert hit[0].severity in ("warn", "critical") and hit[0].details["model"] == "dfm"
    q20 = min(m - 0.8416212 * s for m, s in zip(hit[1].mean, hit[1].std, strict=True))
    assert hit[0].value == pytest.approx(q20, abs=1e-3)  # the value is the live nowcast's 20% quantile
    assert np.isfinite(hit[0].value) and hit[0].value < 0


def test_a_differenced_panel_nowcasts_its_monthly_target_from_the_last_published_value(series) -> None:  # noqa: ANN001
    as_of = date(2025, 10, 15)
    frame = point_in_time(economy(date(2025, 10, 31)), as_of)
    target = "macro.ru.cpi_m"  # a monthly index level, close to a unit root: the case for differences
    panel = NowcastPanel(name="RUS-m", targets=[target], monthly=[m for m in MONTHLY if m != target],
                         levels=["rate.ru.policy"], horizon=2, differenced=True, factors=2)
    run = run_nowcasts(frame, [panel], series, as_of, {})
    assert not run.notes, run.notes
    (fc,) = [f for f in run.forecasts if f.series_id == target]
    published = frame[target].dropna()
    assert fc.dates[0] > published.index[-1].date()
    step = np.abs(np.diff(published.to_numpy()[-36:])).max()
    assert abs(fc.mean[0] - published.iloc[-1]) < 3 * step  # a change onto the last level, not a level
    state = run.states[(target, "nowcast")]
    assert state.spec["factors"] == 2 and target in state.spec["differenced"]
    assert all(b >= a for a, b in zip(fc.std, fc.std[1:], strict=False))


def test_a_differenced_panel_with_annual_targets_fails_with_the_reason(series) -> None:  # noqa: ANN001
    as_of = date(2025, 10, 15)
    frame = point_in_time(economy(date(2025, 10, 31)), as_of)
    run = run_nowcasts(frame, [PANEL.model_copy(update={"differenced": True})], series, as_of, {})
    assert not run.forecasts and "annual targets have no quarter-on-quarter change" in run.notes[0]
