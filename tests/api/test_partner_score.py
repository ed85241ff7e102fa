"""Partner views scored like the model's warnings (pure functions)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sco_monitor.partners.levels import signal_of
from sco_monitor.partners.score import partner_signals, score_partners
from sco_monitor.replay.episodes import Span

CAL = pd.bdate_range("2008-06-02", "2008-12-31")
KAZ_CRISIS = Span("KAZ 2008", "KAZ", date(2008, 9, 15), date(2008, 10, 31), "config")
H = 20


def views(*rows: tuple) -> pd.DataFrame:
    cols = ["author", "country", "day", "level", "forecast_level", "forecast_horizon_days"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def five_views() -> pd.DataFrame:
    """ca warns of KAZ 15 trading days ahead and falsely of RUS for two days; cc forecasts trouble
    10 days ahead for five days; cb sees nothing coming."""
    return views(("ca", "KAZ", date(2008, 8, 25), "elevated", None, None),
                 ("ca", "RUS", date(2008, 7, 1), "severe", None, None),
                 ("ca", "RUS", date(2008, 7, 3), "moderate", None, None),
                 ("cc", "KAZ", date(2008, 9, 1), "moderate", "high", 5),
                 ("cb", "KAZ", date(2008, 8, 25), "low", None, None))


def test_elevated_or_worse_is_a_warning_severe_and_critical_are_critical() -> None:
    assert [signal_of(x) for x in ("low", "moderate", "elevated", "high", "severe", "warning", "critical")] == [
        None, None, "warn", "warn", "critical", "warn", "critical"]
    assert signal_of("moderate", "severe") == "critical"  # a forecast of trouble is a warning too


def test_a_view_signals_for_its_horizon_until_the_same_author_replaces_it() -> None:
    v = five_views()
    sig = partner_signals(v, CAL, H)
    days = {k: sorted(g["date"].dt.date) for k, g in sig.groupby("fingerprint")}
    assert days["partner:ca:KAZ"][0] == date(2008, 8, 25) and len(days["partner:ca:KAZ"]) == H
    assert days["partner:ca:RUS"] == [date(2008, 7, 1), date(2008, 7, 2)]  # replaced by a calm view on the 3rd
    assert set(sig.loc[sig["fingerprint"] == "partner:ca:RUS", "severity"]) == {"critical"}
    assert days["partner:cc:KAZ"] == [date(2008, 9, d) for d in (1, 2, 3, 4, 5)]  # the forecast's 5 trading days
    assert "partner:cb:KAZ" not in days  # a low view warns of nothing


def test_partners_are_scored_against_the_same_episodes_as_the_model() -> None:
    v = five_views()
    records = score_partners(v, days=CAL, episodes={"KAZ": [KAZ_CRISIS]}, horizon=H, known_until=date(2008, 12, 31))
    assert sorted(records) == ["ca", "cb", "cc"]
    ca = records["ca"]
    (ep,) = ca.episodes
    assert (ep.country, ep.warning.came, ep.warning.first, ep.warning.lead_days) == ("KAZ", True, date(2008, 8, 25), 15)
    assert ep.critical.came is False and ep.rules == ["partner:ca"]
    assert ca.summary.warned == 1 and ca.summary.episodes == 1
    rus = next(c for c in ca.countries if c.country == "RUS")
    assert (rus.warn.calm_signal_days, rus.critical.calm_signal_days) == (2, 2)  # two false-alarm days
    assert [r.rule for r in ca.rules] == ["partner:ca"] and ca.rules[0].category == "partner"
    assert records["cc"].episodes[0].warning.lead_days == 10
    assert records["cb"].summary.warned == 0 and records["cb"].summary.warn.pre_crisis_signal_days == 0
    assert records["cb"].summary.warn.pre_crisis_days == H
