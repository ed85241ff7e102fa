"""Unfavourable macro nowcasts feed the alerts: the default rules on DFM forecasts of growth and inflation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.model import Forecast
from sco_monitor.assess.pipeline import assess
from sco_monitor.config import load_config

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 10, 15)


@pytest.fixture(scope="module")
def config():  # noqa: ANN201
    return load_config(ROOT / "config" / "sco-monitor.yaml")


def frame() -> pd.DataFrame:
    years = pd.DatetimeIndex([f"{y}-12-31" for y in range(2010, 2025)])
    return pd.DataFrame({"macro.ru.gdp_growth": np.linspace(4.0, 1.0, len(years)),
                         "macro.ru.inflation": np.linspace(6.0, 8.0, len(years)),
                         "macro.kz.inflation": np.full(len(years), 5.0)}, index=years)


def nowcast(series_id: str, mean: list[float], std: list[float], model: str = "dfm") -> Forecast:
    dates = [date(2025, 12, 31), date(2026, 12, 31)][: len(mean)]
    z = 1.6448536269514722
    return Forecast(series_id=series_id, model=model, as_of=AS_OF, dates=dates, mean=mean, std=std,
                    lower=[m - z * s for m, s in zip(mean, std, strict=True)],
                    upper=[m + z * s for m, s in zip(mean, std, strict=True)])


def rules(config, forecasts: list[Forecast]) -> dict:  # noqa: ANN001
    a = assess(frame(), config, AS_OF, forecasts=forecasts)
    return {(ev.rule, ev.series_id): ev for ev in a.rules if ev.category == "outlook"}, a


def test_a_growth_nowcast_with_a_fifth_of_its_mass_below_zero_warns(config) -> None:  # noqa: ANN001
    # mean 0.5, sd 1.0: the 20% quantile is 0.5 - 0.84 = -0.34 < 0, not below -2
    got, a = rules(config, [nowcast("macro.ru.gdp_growth", [1.5, 0.5], [0.8, 1.0])])
    ev = got[("gdp_forecast_contraction", "macro.ru.gdp_growth")]
    assert ev.severity == "warn" and ev.value == pytest.approx(0.5 - 0.8416212 * 1.0, abs=1e-3)
    assert ev.details["model"] == "dfm" and "probability 20%" in ev.summary
    (fc,) = [f for f in a.forecasts if f.series_id == "macro.ru.gdp_growth"]
    assert fc.unfavourable and fc.breach_probability == pytest.approx(0.31, abs=0.01)  # P(growth < 0)
    got, _ = rules(config, [nowcast("macro.ru.gdp_growth", [-2.0, -3.0], [1.0, 1.5])])
    assert got[("gdp_forecast_contraction", "macro.ru.gdp_growth")].severity == "critical"


def test_a_healthy_growth_nowcast_and_another_models_forecast_stay_quiet(config) -> None:  # noqa: ANN001
    got, _ = rules(config, [nowcast("macro.ru.gdp_growth", [3.0, 3.0], [0.5, 0.7])])
    assert got[("gdp_forecast_contraction", "macro.ru.gdp_growth")].severity == "ok"
    got, _ = rules(config, [nowcast("macro.ru.gdp_growth", [-3.0, -3.0], [0.5, 0.7], model="arima")])
    assert got[("gdp_forecast_contraction", "macro.ru.gdp_growth")].severity == "no_data"  # only dfm nowcasts count


def test_an_inflation_nowcast_above_the_central_banks_band_fires(config) -> None:  # noqa: ANN001
    got, _ = rules(config, [nowcast("macro.ru.inflation", [6.5, 5.5], [1.0, 1.2]),
                            nowcast("macro.kz.inflation", [5.0, 5.2], [0.8, 1.0])])
    ru = got[("inflation_forecast_above_band_ru", "macro.ru.inflation")]
    assert ru.severity == "warn" and ru.value == pytest.approx(6.5)
    assert "above the 4% target" in ru.summary
    assert got[("inflation_forecast_above_band_kz", "macro.kz.inflation")].severity == "ok"


def test_every_outlook_breach_has_a_playbook(config) -> None:  # noqa: ANN001
    books = [p for p in config.playbooks.playbooks if p.category == "outlook"]
    assert {(p.level, p.when.direction) for p in books} == {("warn", "below"), ("critical", "below"),
                                                            ("warn", "above"), ("critical", "above")}
