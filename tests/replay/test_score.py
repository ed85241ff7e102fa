"""The track record's arithmetic: AUROC, firing persistence, episode hits, lead times and rates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sco_monitor.replay.episodes import Span
from sco_monitor.replay.score import (
    CALM,
    EXCLUDED,
    MIN_CALM_DAYS,
    MIN_CRISIS_DAYS,
    PRE,
    Enough,
    auroc,
    auroc_interval,
    firing,
    labels,
    score,
    weighted_auroc,
)
from sco_monitor.replay.track import summary_lines

H = 10
ANY_SUPPORT = Enough(crisis_days=1, calm_days=1)  # the arithmetic tests: any count is enough


def test_auroc_is_the_rank_statistic_with_ties_counted_half() -> None:
    # positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs ordered right
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auroc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert auroc([4, 3, 2, 1], [False, False, True, True]) == 0.0
    assert auroc([5, 5, 5, 5], [False, True, False, True]) == 0.5
    assert auroc([1, np.nan, 3], [False, True, True]) == 1.0  # the NaN is dropped, not ranked
    assert auroc([1, 2], [True, True]) is None and auroc([], []) is None


def test_auroc_matches_the_pairwise_definition_on_random_data() -> None:
    rng = np.random.default_rng(7)
    s = rng.integers(0, 20, 300).astype(float)  # many ties
    y = rng.random(300) < 0.3
    pos, neg = s[y], s[~y]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert auroc(s, y) == pytest.approx(pairs / (pos.size * neg.size))


def test_firing_needs_for_consecutive_breaching_evaluations() -> None:
    cal = pd.bdate_range("2024-01-01", periods=8)
    ev = pd.DataFrame({
        "date": cal[[0, 1, 3, 4, 5, 7]], "fingerprint": "f", "rule": "r", "country": "RUS",
        "severity": ["warn", "critical", "warn", "warn", "critical", "warn"],
    })
    fired = firing(ev, cal, {"r": 2})
    assert list(fired["date"]) == [cal[1], cal[4], cal[5]]  # day 3 is missing, so day 4 starts a new run
    assert list(fired["severity"]) == ["critical", "warn", "critical"]
    assert len(firing(ev, cal, {})) == 6  # `for` defaults to 1


def test_labels_split_pre_crisis_crisis_calm_and_unknown_days() -> None:
    cal = pd.bdate_range("2024-01-01", "2024-03-29")
    span = Span("e", "RUS", date(2024, 2, 1), date(2024, 2, 9), "config")
    lab = pd.Series(labels(cal, [span], H, known_until=date(2024, 3, 29)), index=cal)
    assert (lab["2024-01-18":"2024-01-31"] == PRE).all() and lab["2024-01-17"] == CALM
    assert (lab["2024-02-01":"2024-02-09"] == EXCLUDED).all()  # in crisis
    assert lab["2024-02-12"] == CALM
    assert (lab["2024-03-18":] == EXCLUDED).all() and lab["2024-03-15"] == CALM  # the next H days unknown


def _frame(days, rule, country, severity="warn"):
    return pd.DataFrame({"date": pd.to_datetime(days), "rule": rule, "country": country, "severity": severity})


def test_score_counts_hits_false_alarms_and_lead_times() -> None:
    cal = pd.bdate_range("2020-01-01", "2020-12-31")
    span = Span("RUS 2020-06", "RUS", date(2020, 6, 15), date(2020, 6, 30), "config")
    signals = pd.concat([
        _frame(pd.bdate_range("2020-06-08", "2020-06-12"), "good", "RUS"),  # 5 pre-crisis days
        _frame(["2020-06-12"], "good", "RUS", "critical"),
        _frame(pd.bdate_range("2020-02-03", "2020-02-07"), "noisy", "RUS"),  # 5 calm days
        _frame(pd.bdate_range("2020-09-07", "2020-09-18"), "noisy", "RUS"),  # 10 more
    ])
    tr = score(days=cal, signals=signals, episodes={"RUS": [span]}, horizon=H, known_until=date(2020, 12, 31),
               watched={"good": ["RUS"], "noisy": ["RUS", "KAZ"]}, categories={"good": "fx", "noisy": "equity"},
               enough=ANY_SUPPORT)
    (ep,) = tr.episodes
    assert ep.warning.came and ep.warning.first == date(2020, 6, 8) and ep.warning.lead_days == 5
    assert ep.critical.came and ep.critical.lead_days == 1
    assert ep.rules == ["good"]

    n = len(cal)
    crisis = len(pd.bdate_range("2020-06-15", "2020-06-30"))
    unknown = H  # the last H days of the year
    calm = n - H - crisis - unknown
    rus = next(c for c in tr.countries if c.country == "RUS")
    assert rus.warn.pre_crisis_days == H and rus.warn.pre_crisis_signal_days == 5
    assert rus.warn.calm_days == calm and rus.warn.calm_signal_days == 15
    assert rus.warn.hit_rate == pytest.approx(0.5)
    assert rus.warn.false_alarm_rate == pytest.approx(15 / calm)
    assert rus.warn.noise_to_signal == pytest.approx((15 / calm) / 0.5)
    assert rus.critical.pre_crisis_signal_days == 1 and rus.critical.calm_signal_days == 0

    rules = {r.rule: r for r in tr.rules}
    assert rules["good"].useful and rules["good"].rates.noise_to_signal == 0.0 and rules["good"].warned == 1
    assert not rules["noisy"].useful and rules["noisy"].rates.hit_rate == 0.0
    assert rules["noisy"].rates.noise_to_signal is None  # never signalled before a crisis
    assert rules["noisy"].countries == ["KAZ", "RUS"] and rules["noisy"].category == "equity"
    assert [r.rule for r in tr.rules] == ["good", "noisy"]  # rules that earn their keep first
    kaz = next(c for c in tr.countries if c.country == "KAZ")
    assert kaz.episodes == 0 and kaz.warn.calm_signal_days == 0
    assert tr.timeline["RUS"].warn[0] == (date(2020, 2, 3), date(2020, 2, 7))
    assert tr.timeline["RUS"].critical == [(date(2020, 6, 12), date(2020, 6, 12))]
    assert tr.summary.episodes == 1 and tr.summary.warned == 1


def test_a_warning_only_after_the_onset_is_late_not_in_time() -> None:
    cal = pd.bdate_range("2020-01-01", "2020-12-31")
    span = Span("late", "CHN", date(2020, 6, 15), date(2020, 6, 30), "config")
    tr = score(days=cal, signals=_frame(["2020-06-17"], "r", "CHN"), episodes={"CHN": [span]}, horizon=H,
               known_until=date(2020, 12, 31))
    (ep,) = tr.episodes
    assert not ep.warning.came and ep.warning.lead_days == -2 and ep.warning.first == date(2020, 6, 17)
    assert tr.summary.warned == 0 and tr.summary.median_lead_days is None


def test_auroc_of_scores_per_country_and_pooled() -> None:
    cal = pd.bdate_range("2020-01-01", "2020-12-31")
    spans = {"RUS": [Span("a", "RUS", date(2020, 6, 15), date(2020, 6, 30), "config")],
             "CHN": [Span("b", "CHN", date(2020, 9, 1), date(2020, 9, 10), "config")]}
    pre_rus = (cal >= "2020-06-01") & (cal < "2020-06-15")
    prob = pd.concat([
        pd.DataFrame({"country": "RUS", "date": cal, "value": np.where(pre_rus, 0.9, 0.1)}),
        pd.DataFrame({"country": "CHN", "date": cal, "value": 0.3}),  # no skill: constant
    ])
    tr = score(days=cal, signals=_frame([], "r", "RUS"), episodes=spans, horizon=H,
               known_until=date(2020, 12, 31), probability=prob, enough=ANY_SUPPORT)
    by = {c.country: c for c in tr.countries}
    assert by["RUS"].auroc_probability == 1.0
    assert by["CHN"].auroc_probability == 0.5
    assert 0.5 < tr.summary.auroc_probability < 1.0
    assert by["RUS"].auroc_stress is None


def test_nothing_to_score_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing to score"):
        score(days=[], signals=_frame([], "r", "RUS"), episodes={}, horizon=H, known_until=date(2020, 1, 1))


def test_firing_with_within_counts_breaches_among_the_last_m_evaluations() -> None:
    cal = pd.bdate_range("2024-01-01", periods=8)
    ev = pd.DataFrame({
        "date": cal[[0, 1, 3, 4, 5, 7]], "fingerprint": "f", "rule": "r", "country": "RUS",
        "severity": ["warn", "critical", "warn", "warn", "critical", "warn"],
    })
    # for 3 within 4: breaches on days 0 1 3 -> day 3 has 3 in days 0..3; day 4: days 1 3 4; day 5: 3 4 5;
    # day 7: days 4 5 7
    fired = firing(ev, cal, {"r": 3}, {"r": 4})
    assert list(fired["date"]) == [cal[3], cal[4], cal[5], cal[7]]
    assert list(firing(ev, cal, {"r": 3}, {"r": None})["date"]) == [cal[5]]  # consecutive only


def test_ten_crisis_window_days_are_not_enough_for_rates_or_auroc() -> None:
    """10 pre-crisis days (one episode, H = 10): no hit rate, false-alarm rate or AUROC anywhere."""
    cal = pd.bdate_range("2020-01-01", "2021-03-31")
    span = Span("RUS 2020-06", "RUS", date(2020, 6, 15), date(2020, 6, 30), "config")
    prob = pd.DataFrame({"country": "RUS", "date": cal, "value": np.linspace(0, 1, len(cal))})
    tr = score(days=cal, signals=_frame(pd.bdate_range("2020-06-08", "2020-06-12"), "good", "RUS"),
               episodes={"RUS": [span]}, horizon=H, known_until=date(2021, 3, 31), probability=prob)
    s = tr.summary
    calm = s.warn.calm_days
    assert s.warn.pre_crisis_days == 10 and calm >= MIN_CALM_DAYS and MIN_CRISIS_DAYS > 10
    assert not s.enough and s.not_enough == f"not enough outcomes yet (10 crisis-window days, {calm} calm)"
    assert s.warn.hit_rate is None and s.warn.false_alarm_rate is None and s.warn.noise_to_signal is None
    assert s.auroc_probability is None and s.auroc_probability_ci is None
    assert tr.countries[0].auroc_probability is None and tr.rules[0].rates.hit_rate is None
    assert tr.summary.warned == 1  # episode counts stay: they are facts, not estimates
    lines = summary_lines(tr)
    assert f"  not enough outcomes yet (10 crisis-window days, {calm} calm): no hit rate, false-alarm rate or AUROC" \
        in lines
    assert not any("AUROC:" in line or "hit rate " in line for line in lines)


def test_calm_days_whose_horizon_is_unobserved_do_not_count() -> None:
    """Enough crisis-window days but the outcomes of most calm days not yet known: not scored."""
    cal = pd.bdate_range("2020-01-01", "2020-06-30")
    spans = [Span(f"e{i}", "RUS", d, d, "config") for i, d in enumerate([date(2020, 2, 3), date(2020, 3, 16)])]
    tr = score(days=cal, signals=_frame([], "r", "RUS"), episodes={"RUS": spans}, horizon=H,
               known_until=date(2020, 4, 15))
    s = tr.summary
    assert s.warn.pre_crisis_days == 20 and s.warn.calm_days < MIN_CALM_DAYS
    assert not s.enough and s.not_enough.endswith(f"(20 crisis-window days, {s.warn.calm_days} calm)")
    late = score(days=cal, signals=_frame([], "r", "RUS"), episodes={"RUS": spans}, horizon=H,
                 known_until=date(2021, 1, 1))
    assert late.summary.warn.calm_days >= MIN_CALM_DAYS and late.summary.enough and late.summary.warn.hit_rate == 0.0


def _scored_year():
    """Four 10-day run-ups over two years; a noisy probability that rises in them."""
    cal = pd.bdate_range("2018-01-01", "2019-12-31")
    onsets = [date(2018, 4, 2), date(2018, 10, 1), date(2019, 4, 1), date(2019, 10, 1)]
    spans = {"RUS": [Span(f"e{i}", "RUS", d, d, "config") for i, d in enumerate(onsets)]}
    lab = labels(cal, spans["RUS"], H, date(2020, 6, 30))
    rng = np.random.default_rng(3)
    value = rng.normal(0, 1, len(cal)) + np.where(lab == PRE, 1.2, 0.0)
    return cal, spans, pd.DataFrame({"country": "RUS", "date": cal, "value": value})


def test_a_scored_auroc_carries_a_bootstrap_interval_around_it() -> None:
    cal, spans, prob = _scored_year()
    tr = score(days=cal, signals=_frame([], "r", "RUS"), episodes=spans, horizon=H, known_until=date(2020, 6, 30),
               probability=prob, stress=prob)
    s = tr.summary
    assert s.enough and s.not_enough is None and s.warn.pre_crisis_days == 40
    lo, hi = s.auroc_probability_ci
    assert 0.5 < s.auroc_probability < 1 and lo < s.auroc_probability < hi and hi - lo > 0.02
    assert tr.countries[0].auroc_probability_ci == s.auroc_probability_ci  # one country: the same days, same seed
    lines = summary_lines(tr)
    assert any(line.startswith("  AUROC [95% block-bootstrap interval]: crisis probability "
                               f"{s.auroc_probability:.2f} [{lo:.2f}, {hi:.2f}]") for line in lines)
    again = score(days=cal, signals=_frame([], "r", "RUS"), episodes=spans, horizon=H,
                  known_until=date(2020, 6, 30), probability=prob)
    assert again.summary.auroc_probability_ci == s.auroc_probability_ci  # seeded


def test_the_block_bootstrap_resamples_days_and_widens_with_fewer_of_them() -> None:
    cal, spans, prob = _scored_year()
    lab = labels(cal, spans["RUS"], H, date(2020, 6, 30))
    v = prob["value"].to_numpy()
    wide = auroc_interval(v, lab)
    lo, hi = wide
    half = auroc_interval(v[: len(v) // 2], lab[: len(v) // 2])
    assert half[1] - half[0] > hi - lo  # fewer days, less certainty
    perfect = auroc_interval(np.where(lab == PRE, 1.0, 0.0), lab)
    assert perfect == (1.0, 1.0)


def test_a_bootstrap_draw_scores_like_the_repeated_data() -> None:
    """The weighted rank statistic of a draw equals the AUROC of the data repeated by its weights."""
    rng = np.random.default_rng(5)
    v = np.round(rng.normal(size=400), 1)  # ties
    y = rng.random(400) < 0.2
    w = rng.integers(0, 4, 400)
    assert weighted_auroc(v, y, w.astype(float)) == pytest.approx(auroc(np.repeat(v, w), np.repeat(y, w)))
    assert weighted_auroc(v, y, np.ones(400)) == pytest.approx(auroc(v, y))
    assert weighted_auroc(v, y, np.where(y, 0.0, 1.0)) is None  # no positive drawn
