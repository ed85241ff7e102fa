"""The track record on real history: threshold rules on the VIX against derived equity episodes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import arch.data.sp500
import arch.data.vix
import numpy as np
import pandas as pd
import pytest

from sco_monitor.replay.chart import track_chart_svg
from sco_monitor.replay.episodes import derive
from sco_monitor.replay.score import TrackRecord, firing, score


def threshold_rule(name: str, values: pd.Series, warn: float, critical: float, country: str) -> pd.DataFrame:
    """Evaluations of a level rule, as the store keeps them."""
    sev = np.where(values >= critical, "critical", np.where(values >= warn, "warn", "ok"))
    return pd.DataFrame({"date": values.index, "fingerprint": f"{name}:{country}", "rule": name,
                         "country": country, "severity": sev})


@pytest.fixture(scope="module")
def vix_track() -> TrackRecord:
    spx = arch.data.sp500.load()["Adj Close"]
    vix = arch.data.vix.load()["vix"].dropna()
    days = vix["2014-06-01":"2018-12-31"].index
    evals = pd.concat([
        threshold_rule("vix_high", vix[days], 20, 30, "USA"),
        threshold_rule("vix_above_16", vix[days], 16, 25, "USA"),
    ])
    return score(
        days=days, signals=firing(evals, days, {"vix_high": 2, "vix_above_16": 1}),
        episodes={"USA": derive(spx, "USA", "eq.us.spx", "drawdown", rising_is_risk=False)},
        horizon=60, known_until=date(2018, 12, 31),
        watched={"vix_high": ["USA"], "vix_above_16": ["USA"]}, categories={"vix_high": "volatility"},
        stress=pd.DataFrame({"country": "USA", "date": days, "value": vix[days].to_numpy()}),
    )


def test_vix_rules_against_sp500_episodes(vix_track: TrackRecord) -> None:
    eps = {e.start: e for e in vix_track.episodes}
    assert len(eps) == 3  # 2015-08, 2018-02, 2018-10
    feb18 = next(e for s, e in eps.items() if s.year == 2018 and s.month == 2)
    assert feb18.warning.came and feb18.critical.came and feb18.critical.lead_days == 3
    assert feb18.rules == ["vix_above_16", "vix_high"]
    aug15 = next(e for s, e in eps.items() if s.year == 2015)
    # the VIX jumped only with the August 2015 sell-off: the critical level came a day late
    assert aug15.critical.first == date(2015, 8, 21) and not aug15.critical.came


def test_the_strict_rule_earns_its_keep_and_the_loose_one_does_not(vix_track: TrackRecord) -> None:
    rules = {r.rule: r for r in vix_track.rules}
    assert rules["vix_high"].useful and rules["vix_high"].rates.noise_to_signal < 1
    assert not rules["vix_above_16"].useful and rules["vix_above_16"].rates.noise_to_signal > 1
    assert rules["vix_above_16"].rates.hit_rate > rules["vix_high"].rates.hit_rate  # catches more, cries wolf more
    assert vix_track.rules[0].rule == "vix_high" and rules["vix_high"].category == "volatility"
    (usa,) = vix_track.countries
    assert usa.auroc_stress is not None and 0 <= usa.auroc_stress <= 1


def test_track_record_serialises_and_charts(vix_track: TrackRecord, tmp_path: Path) -> None:
    again = TrackRecord.model_validate_json(vix_track.model_dump_json())
    assert again == vix_track
    svg = track_chart_svg(vix_track)
    assert svg.startswith("<svg") and 'href="http' not in svg and "<image" not in svg  # self-contained
    assert ">USA<" in svg  # the country rows are labelled
    assert track_chart_svg(vix_track) == svg  # the same record, the same SVG (no random clip-path ids)


@pytest.mark.eval
def test_vix_warned_of_the_2008_russian_equity_crash(shared_data: Path) -> None:
    vix = pd.read_csv(shared_data / "volatility" / "vix-daily.csv", parse_dates=["DATE"]).set_index("DATE")["CLOSE"]
    imoex = pd.read_csv(shared_data / "equity" / "moex-imoex.csv", parse_dates=["date"]).set_index("date")["close"]
    days = imoex["2005-01-01":"2019-12-31"].index
    v = vix.reindex(days).ffill()
    track = score(
        days=days, signals=firing(threshold_rule("vix_risk_off", v, 25, 35, "RUS"), days, {"vix_risk_off": 2}),
        episodes={"RUS": derive(imoex, "RUS", "eq.ru.imoex", "drawdown", rising_is_risk=False)},
        horizon=60, known_until=date(2019, 12, 31),
    )
    crash = next(e for e in track.episodes if e.start.year == 2008 and e.start.month == 7)
    assert crash.start == date(2008, 7, 24)  # IMOEX peaked in May 2008 and broke down in late July
    assert crash.warning.came and crash.warning.first == date(2008, 7, 10) and crash.warning.lead_days == 10
    assert not crash.critical.came and crash.critical.first == date(2008, 9, 17)  # VIX 35 only after Lehman
    assert track.summary.warn.noise_to_signal < 1
