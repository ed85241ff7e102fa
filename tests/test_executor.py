"""Executors: inline, process pool and Dask give the same forecasts on real data, in order."""

from __future__ import annotations

import operator
from datetime import date

import pandas as pd
import pytest

from sco_monitor.assess.forecast import ForecastRun, run_forecasts
from sco_monitor.config.settings import AssessmentConfig, ExecutorConfig
from sco_monitor.executor import DaskExecutor, InlineExecutor, ProcessExecutor, make_executor

from .assess.forecast_data import core_cpi, series, sp500, wti

SERIES = [series("eq.us.sp500", "equity"), series("cmd.wti", "commodity", direction="both"),
          series("macro.us.core_cpi", "macro", "M")]
SETTINGS = AssessmentConfig()
FRAMES = pd.concat([sp500(), wti(), core_cpi()], axis=1).loc["2016-01-01":"2018-12-31"]
D0, D1 = date(2018, 6, 26), date(2018, 6, 27)  # in one 7-day period of the re-estimation calendar


def outputs(run: ForecastRun) -> tuple:
    return (run.forecasts, run.return_forecasts, run.states, run.volatility, run.var, run.regime_prob,
            run.notes, run.events)


@pytest.fixture(scope="module")
def reference() -> tuple[ForecastRun, ForecastRun]:
    with InlineExecutor() as ex:
        full = run_forecasts(FRAMES, SERIES, D0, {}, SETTINGS, ex)
        return full, run_forecasts(FRAMES, SERIES, D1, full.states, SETTINGS, ex)


@pytest.mark.parametrize("kind", ["process", "dask"])
def test_every_executor_gives_the_inline_results_for_estimation_and_extension(
    kind: str, reference: tuple[ForecastRun, ForecastRun]
) -> None:
    full, nxt = reference
    with make_executor(ExecutorConfig(kind=kind, workers=2), processes=False) as ex:
        assert ex.kind == kind and ex.workers == 2
        assert outputs(run_forecasts(FRAMES, SERIES, D0, {}, SETTINGS, ex)) == outputs(full)
        assert outputs(run_forecasts(FRAMES, SERIES, D1, full.states, SETTINGS, ex)) == outputs(nxt)
    assert {e["event"] for e in nxt.events} == {"extended"}


@pytest.mark.parametrize("make", [
    lambda: InlineExecutor(),
    lambda: ProcessExecutor(workers=2),
    lambda: DaskExecutor(workers=2, processes=False),
], ids=["inline", "process", "dask"])
def test_map_keeps_order_and_propagates_errors(make) -> None:
    with make() as ex:
        items = list(range(37))
        assert ex.map(operator.neg, items) == [-i for i in items]
        assert ex.map(operator.neg, []) == []
        with pytest.raises(ValueError, match="invalid literal"):
            ex.map(int, ["1", "x"])


def test_the_config_picks_the_executor() -> None:
    with make_executor(ExecutorConfig(kind="inline")) as ex:
        assert isinstance(ex, InlineExecutor)
    with make_executor(ExecutorConfig(kind="process", workers=1)) as ex:
        assert isinstance(ex, ProcessExecutor) and ex.workers == 1
