"""The VaR backtest in the report's forecast section: recorded by the volatility model at its
estimation, read from the store point-in-time, shown in every format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from arch import arch_model

from sco_monitor.assess.forecast.select import fit_volatility
from sco_monitor.context import Context
from sco_monitor.reports.daily import write_report
from sco_monitor.store.model_states import save_states

from . import fixtures as fx
from .test_render import validate


def _prices(sid: str, end: pd.Timestamp, seed: int) -> pd.Series:
    sim = arch_model(None, vol="GARCH", p=1, q=1, dist="t")
    np.random.seed(seed)
    r = np.asarray(sim.simulate([0.02, 0.03, 0.1, 0.88, 5.0], 900, burn=200).data, dtype=float)
    days = pd.bdate_range(end=end, periods=len(r) + 1)
    return pd.Series(100 * np.exp(np.r_[0.0, np.cumsum(r / 100)]), index=days, name=sid)


def test_the_forecast_section_lists_each_volatility_models_var_backtest(report_ctx: Context, tmp_path: Path) -> None:
    as_of = pd.Timestamp(fx.AS_OF)
    known = fit_volatility(_prices("eq.us.spx", as_of - pd.offsets.BDay(1), 1), returns="log", freq="B", side="down")
    later = fit_volatility(_prices("eq.ru.imoex", as_of + pd.offsets.BDay(30), 2), returns="log", freq="B")
    save_states(report_ctx.store, {("eq.us.spx", "volatility"): known.to_state("volatility"),
                                   ("eq.ru.imoex", "volatility"): later.to_state("volatility")})
    run = write_report(report_ctx, fx.assessment(), fx.NOW, out_dir=tmp_path, formats=["json", "md", "html"])
    doc = json.loads(Path(run.files["json"]).read_text(encoding="utf-8"))
    validate(doc)
    rows = doc["forecasts"]["backtests"]
    var99 = known.metrics["backtest"]["var99"]
    # only the model whose window ended by as_of (the other was estimated on later data)
    assert [r["series_id"] for r in rows] == ["eq.us.spx"]
    assert rows[0]["exceptions"] == var99["exceptions"] and rows[0]["days"] == 250
    assert rows[0]["zone"] == {True: "green", False: "yellow" if var99["exceptions"] < 10 else "red"}[
        var99["exceptions"] <= 4]
    md = Path(run.files["md"]).read_text(encoding="utf-8")
    assert "### VaR backtests: last 250 days at 99% (1)" in md
    assert f"| {var99['exceptions']} | 2.5 |" in md
    html = Path(run.files["html"]).read_text(encoding="utf-8")
    assert "VaR backtests: last 250 days at 99%" in html and "S&amp;P 500" in html
