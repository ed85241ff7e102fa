"""Model states through a real store (SQLite and PostgreSQL): compact, pickle-free, exact on restore."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from sco_monitor.assess.forecast import ModelState, StateMismatch, fit, restore
from sco_monitor.assess.forecast.arima import ArimaSpec, RandomWalkSpec
from sco_monitor.assess.forecast.base import unpack_arrays
from sco_monitor.assess.forecast.ets import EtsSpec
from sco_monitor.assess.forecast.garch import EwmaSpec, GarchSpec
from sco_monitor.assess.forecast.regime import RegimeSpec
from sco_monitor.store import Store, schema
from sco_monitor.store.model_states import load_states, save_states

from .forecast_data import core_cpi, sp500

SPECS = [
    ("level", ArimaSpec(order=(1, 1, 1), transform="log")),
    ("level", EtsSpec(trend=True, damped=True, transform="log")),
    ("level", RandomWalkSpec(drift=True, transform="log")),
    ("volatility", GarchSpec()),
    ("volatility", EwmaSpec()),
    ("regime", RegimeSpec()),
]


@pytest.fixture(scope="module")
def fitted_models() -> list[tuple[str, object]]:
    y = sp500().loc["2009":"2018-06-29"]
    return [(slot, fit(y, spec)) for slot, spec in SPECS]


def test_every_family_round_trips_through_the_store_and_forecasts_the_same(
    store: Store, fitted_models: list[tuple[str, object]]
) -> None:
    y = sp500().loc["2009":"2018-07-13"]
    new = y.loc["2018-07-02":]
    for slot, model in fitted_models:
        state = model.to_state(slot)
        save_states(store, [state])
        loaded = ModelState(**load_states(store, ["eq.us.sp500"])[("eq.us.sp500", slot)])
        assert loaded == state, model.family
        resumed = restore(loaded, y)  # from the stored state, extended with the new days
        direct = model.extend(new)
        assert resumed.last_date == direct.last_date == new.index[-1].date()
        a, b = resumed.forecast(10), direct.forecast(10)
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9, err_msg=model.family)
        np.testing.assert_allclose(a.std, b.std, rtol=1e-9, err_msg=model.family)
        assert resumed.params == model.params


def test_states_are_small_and_hold_numbers_only(fitted_models: list[tuple[str, object]]) -> None:
    for slot, model in fitted_models:
        state = model.to_state(slot)
        arrays = unpack_arrays(state.state)
        assert all(a.dtype == np.float64 for a in arrays.values())
        payload = sum(a.size for a in arrays.values()) * 8
        header = int.from_bytes(state.state[4:8], "little")
        assert len(state.state) == 8 + header + payload  # nothing but the named arrays, no pickle
        assert len(state.state) < 1_000, (model.family, len(state.state))  # for ten years of data
        assert state.spec["family"] == model.family
        assert all(isinstance(v, float) for v in state.params.values())


def test_saving_again_updates_in_place_and_non_finite_metrics_become_null(store: Store) -> None:
    model = fit(core_cpi().iloc[-200:], ArimaSpec(order=(1, 1, 0), trend="c", freq="M"))
    first = model.to_state("level")
    save_states(store, {("macro.us.core_cpi", "level"): first})
    save_states(store, [replace(first, metrics={"odd": float("nan"), "aic": 1.5})])
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.model_states)).scalar() == 1
    loaded = ModelState(**load_states(store, ["macro.us.core_cpi"])[("macro.us.core_cpi", "level")])
    assert loaded.metrics == {"odd": None, "aic": 1.5} and loaded.state == first.state


def test_a_revised_observation_or_a_missing_last_date_refuses_to_continue() -> None:
    y = sp500().loc["2017":"2018-06-29"]
    state = fit(y, GarchSpec()).to_state("volatility")
    revised = y.copy()
    revised.iloc[-1] *= 1.01
    with pytest.raises(StateMismatch, match="revised"):
        restore(state, revised)
    with pytest.raises(StateMismatch, match="no observation"):
        restore(state, y.iloc[:-1])
    assert isinstance(pd.Timestamp(state.last_date), pd.Timestamp)
