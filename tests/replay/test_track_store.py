"""The track record read back from the store: what the daemon or the replay saved, scored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.context import Context
from sco_monitor.replay.track import (
    DerivedEpisodes,
    NothingToScore,
    report_section,
    track_record,
    write_track,
)
from sco_monitor.results import read_breaches
from sco_monitor.store import schema as t
from sco_monitor.store.upsert import upsert


def test_track_record_from_stored_results(ctx: Context, results_2008: list[date], tmp_path: Path) -> None:
    track = track_record(ctx, date(2007, 6, 1), date(2009, 6, 30))
    assert track.days == len(results_2008) and track.horizon == 60
    assert track.as_of == date(2010, 12, 31)  # outcomes judged with all stored history
    usa = [e for e in track.episodes if e.country == "USA"]
    rus = [e for e in track.episodes if e.country == "RUS"]
    assert [e.start.year for e in usa] == [2007] and usa[0].source == "derived: drawdown eq.us.spx"
    assert rus and rus[0].start.year == 2008 and "emp fx.usd_rub" in rus[0].source
    # the S&P drawdown rule fires only once the fall is under way: late for the onset itself
    assert not usa[0].warning.came and usa[0].warning.lead_days < 0
    rules = {r.rule: r for r in track.rules}
    assert set(rules) == {"spx_drawdown", "fx_depreciation_20d"}
    assert rules["fx_depreciation_20d"].countries == ["RUS"] and rules["fx_depreciation_20d"].category == "fx"
    by = {c.country: c for c in track.countries}
    rus_ci = by["RUS"].auroc_probability_ci
    assert by["RUS"].enough and rus_ci[0] <= by["RUS"].auroc_probability <= rus_ci[1]
    # USA: the 2007 onset leaves 59 calm days in the range, one short of MIN_CALM_DAYS: no figure
    assert not by["USA"].enough and by["USA"].auroc_stress is None and by["USA"].warn.hit_rate is None
    assert by["USA"].not_enough == f"not enough outcomes yet (40 crisis-window days, {by['USA'].warn.calm_days} calm)"
    assert "WLD" not in by  # no world results stored: the world is not scored
    js, svg = write_track(track, tmp_path)
    data = json.loads(js.read_text())
    assert data["summary"]["episodes"] == len(track.episodes) and "noise_to_signal" in data["definitions"]
    assert svg.read_text().startswith("<svg")


def test_for_count_comes_from_the_rules_config(ctx: Context, results_2008: list[date]) -> None:
    """fx_depreciation_20d has `for: 2`: each run of breaching days fires from its second day."""
    breaches = read_breaches(ctx.store, date(2007, 6, 1), date(2009, 6, 30))
    fx = breaches[breaches["rule"] == "fx_depreciation_20d"].sort_values("date")
    pos = pd.DatetimeIndex(results_2008).get_indexer(fx["date"])
    runs = int((pd.Series(pos).diff() != 1).sum())
    track = track_record(ctx, date(2007, 6, 1), date(2009, 6, 30))
    rule = next(r for r in track.rules if r.rule == "fx_depreciation_20d")
    assert len(fx) > runs > 0 and rule.signal_days == len(fx) - runs
    spx = next(r for r in track.rules if r.rule == "spx_drawdown")  # `for` 1: every breaching day fires
    assert spx.signal_days == int((breaches["rule"] == "spx_drawdown").sum())


def test_the_world_is_in_crisis_when_a_country_is(ctx: Context, results_2008: list[date]) -> None:
    with ctx.store.engine.begin() as conn:
        upsert(conn, t.stress_index, [{"scope": "WLD", "date": d, "value": 0.1, "level": None, "segments": {}}
                                      for d in results_2008])
    track = track_record(ctx, date(2007, 6, 1), date(2009, 6, 30))
    wld = [e for e in track.episodes if e.country == "WLD"]
    assert wld and wld[0].start == min(e.start for e in track.episodes if e.country != "WLD")
    assert "(USA)" in wld[0].source


def test_report_section_knows_nothing_after_its_date(ctx: Context, results_2008: list[date]) -> None:
    """A report on 2008-06-30 cannot know of the rouble's crisis of August 2008."""
    early = report_section(ctx, date(2008, 6, 30))
    late = report_section(ctx, date(2009, 6, 30))
    assert early is not None and late is not None
    assert early["outcomes_known_to"] == "2008-06-30" and early["period"] == "2007-06-01 .. 2008-06-30"  # what is stored
    assert not [e for e in early["episodes"] if e["country"] == "RUS"]
    (rouble,) = [e for e in late["episodes"] if e["country"] == "RUS"]
    assert rouble["onset"].startswith("2008-") and isinstance(rouble["warned"], bool)
    assert early["chart_svg"].startswith("<svg") and "noise_to_signal" in early["definitions"]
    assert early["message"].startswith(f"{early['episodes_total']} crisis episodes from 2007-06-01 to 2008-06-30")
    # flat rows only: the report renders lists of rows as tables
    for key in ("episodes", "countries", "rules"):
        assert all(not isinstance(v, (dict, list)) for row in late[key] for v in row.values())
    json.dumps(late)


def test_nothing_stored_means_nothing_to_score(ctx: Context) -> None:
    with pytest.raises(NothingToScore, match="run `sco-monitor replay` first"):
        track_record(ctx, date(2007, 6, 1), date(2009, 6, 30))
    assert report_section(ctx, date(2008, 6, 30)) is None


def test_episodes_derived_once_equal_those_derived_on_the_day(ctx: Context) -> None:
    """What the replay's reports use (crisis days derived up to the range's end, cut at each day)
    is what a report written on that day alone would derive."""
    once = DerivedEpisodes(ctx, date(2009, 6, 30))
    for day in (date(2007, 8, 15), date(2008, 8, 20), date(2008, 12, 31), date(2009, 6, 30)):
        assert once.as_of(day) == DerivedEpisodes(ctx, day).as_of(day)
    assert once.as_of(date(2008, 8, 20))["RUS"] != once.as_of(date(2009, 6, 30))["RUS"]  # the episode grew
    with pytest.raises(ValueError, match="derived up to 2009-06-30"):
        once.as_of(date(2009, 7, 1))


def test_the_track_record_backtests_each_daily_series_var(ctx: Context, results_2008: list[date],
                                                          real_prices: dict[str, pd.Series]) -> None:
    from sco_monitor.assess.forecast.var import garch_var_backtest
    from sco_monitor.replay.track import summary_lines

    track = track_record(ctx, date(2007, 6, 1), date(2009, 6, 30))
    by = {b.series_id: b for b in track.var_backtests}
    assert set(by) == {"eq.us.spx", "fx.usd_rub"}
    spx = by["eq.us.spx"]
    assert spx.days == 250 and spx.end <= date(2009, 6, 30) and spx.estimated_to < spx.start
    direct = garch_var_backtest(real_prices["eq.us.spx"][:"2009-06-30"].rename("eq.us.spx"), side="down")
    assert (spx.exceptions, spx.zone) == (direct.exceptions, direct.zone)
    assert by["fx.usd_rub"].side == "up"
    line = next(s for s in summary_lines(track) if "VaR 99%" in s)
    assert f"green {sum(b.zone == 'green' for b in track.var_backtests)}" in line
    assert "var_backtests" not in (report_section(ctx, date(2009, 6, 30)) or {})
