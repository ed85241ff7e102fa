"""Quality checks on real history, and the summary the assessment and report read from the store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.quality import check, quality_summary, stale_flag, stale_series
from sco_monitor.store import collection

from .providers import sp500, wti


def series(kind: str, frequency: str = "B", sid: str = "x.y", lag: int = 0) -> Series:
    return Series(id=sid, name=sid, source="csv", kind=kind, country="USA", frequency=frequency, unit="u",
                  direction="up", publication_lag_days=lag)


def flags_of(checked, kind: str) -> list:  # noqa: ANN001
    return [f for f in checked.flags if f.flag == kind]


def test_duplicates_keep_the_last_value_and_are_flagged() -> None:
    v = pd.Series([1.0, 2.0, 2.5, 3.0], index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-03", "2024-01-04"]))
    c = check(v, series("equity"))
    assert c.values.tolist() == [1.0, 2.5, 3.0]
    (dup,) = flags_of(c, "duplicate")
    assert dup.date == date(2024, 1, 3) and "kept the last (2.5)" in dup.detail


def test_non_finite_dropped_missing_silently_dropped() -> None:
    v = pd.Series([1.0, np.inf, np.nan, 2.0], index=pd.bdate_range("2024-01-01", periods=4))
    c = check(v, series("equity"))
    assert c.values.tolist() == [1.0, 2.0]
    assert [f.date for f in flags_of(c, "non_finite")] == [date(2024, 1, 2)]


#: EIA WTI spot (FRED DCOILWTICO), April 2020: the day the price went negative.
WTI_APRIL_2020 = pd.Series([19.87, 18.27, -36.98, 8.91, 13.64],
                           index=pd.to_datetime(["2020-04-16", "2020-04-17", "2020-04-20", "2020-04-21", "2020-04-22"]))


def test_non_positive_rule_depends_on_the_kind() -> None:
    oil = pd.concat([wti().dropna().iloc[-60:], WTI_APRIL_2020])
    as_commodity = check(oil, series("commodity"))
    assert as_commodity.values[pd.Timestamp("2020-04-20")] == -36.98 and not flags_of(as_commodity, "non_positive")
    as_equity = check(oil, series("equity"))
    assert pd.Timestamp("2020-04-20") not in as_equity.values.index
    (bad,) = flags_of(as_equity, "non_positive")
    assert bad.date == date(2020, 4, 20) and "dropped" in bad.detail


def test_spikes_are_flagged_not_dropped_on_real_crashes() -> None:
    spx = sp500()["Close"]
    c = check(spx, series("equity"))
    spike_days = {f.date for f in flags_of(c, "spike")}
    assert date(2008, 10, 13) in spike_days  # +11.6% in one day
    assert len(c.values) == len(spx)  # kept
    assert len(spike_days) < 40  # flags are exceptions, not noise


def test_spike_check_is_causal_with_history_as_context() -> None:
    spx = sp500()["Close"]
    new = spx["2008-10-10":"2008-10-20"]
    with_history = check(new, series("equity"), history=spx[:"2008-10-09"])
    assert date(2008, 10, 13) in {f.date for f in flags_of(with_history, "spike")}
    without = check(new, series("equity"))
    assert not flags_of(without, "spike")  # too few observations to judge


def test_gaps_against_the_expected_calendar() -> None:
    days = pd.bdate_range("2022-01-03", "2022-02-25").append(pd.bdate_range("2022-03-24", "2022-04-01"))
    c = check(pd.Series(100.0, index=days), series("equity"))
    (gap,) = flags_of(c, "gap")
    assert gap.date == date(2022, 3, 24) and gap.detail.startswith("18 business days")
    monthly = pd.Series(1.0, index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"]))
    (mgap,) = flags_of(check(monthly, series("macro", "M")), "gap")
    assert mgap.detail.startswith("2 months")
    holidays = pd.Series(1.0, index=pd.to_datetime(["2024-12-24", "2024-12-27", "2025-01-02"]))
    assert not flags_of(check(holidays, series("fx")), "gap")


def test_gap_between_stored_history_and_new_values() -> None:
    history = pd.Series(1.0, index=pd.bdate_range("2024-01-01", "2024-01-31"))
    new = pd.Series(1.0, index=pd.bdate_range("2024-03-01", "2024-03-08"))
    (gap,) = flags_of(check(new, series("fx"), history), "gap")
    assert gap.date == date(2024, 3, 1) and "after 2024-01-31" in gap.detail


def test_staleness_is_judged_against_as_of() -> None:
    assert stale_flag("a.b", "B", 0, date(2024, 1, 5), date(2024, 1, 10)) is None
    flag = stale_flag("a.b", "B", 0, date(2024, 1, 5), date(2024, 1, 11))
    assert flag is not None and flag.flag == "stale" and "6 days old" in flag.detail
    assert stale_flag("a.b", "A", 200, date(2023, 12, 31), date(2025, 6, 1)) is None  # annual, lagged


def _store_with_history(store) -> None:  # noqa: ANN001
    from sco_monitor.catalog import Universe

    uni = Universe(series=[series("equity", sid="eq.a"), series("equity", sid="eq.b"),
                           series("macro", "M", sid="macro.c", lag=45)])
    store.sync_series(uni.series)
    frames = [
        pd.DataFrame({"series_id": "eq.a", "date": pd.bdate_range("2024-01-01", "2024-03-29"), "value": 1.0}),
        pd.DataFrame({"series_id": "eq.b", "date": pd.bdate_range("2024-01-01", "2024-02-15"), "value": 1.0}),
        pd.DataFrame({"series_id": "macro.c", "date": pd.date_range("2023-01-01", "2024-02-01", freq="MS"), "value": 3.0}),
    ]
    store.upsert_observations(pd.concat(frames))


def test_quality_summary_reads_stale_failed_and_recent_flags(store) -> None:  # noqa: ANN001
    from sco_monitor.assess.model import QualityFlag

    _store_with_history(store)
    started = datetime(2024, 3, 29, 6, tzinfo=UTC)
    ids = collection.start_runs(store, [
        {"run_id": "r1", "source": "csv", "series_id": sid, "started_at": started, "rows": 0, "attempts": 0,
         "received": 0} for sid in ("eq.a", "eq.b")])
    collection.finish_run(store, ids[0], status="ok", rows=5)
    collection.finish_run(store, ids[1], status="failed", error="HTTP 500 from example.org/x (gave up after 3 attempts)")
    collection.save_flags(store, [QualityFlag(series_id="eq.a", flag="spike", date=date(2024, 3, 27), detail="big"),
                                  QualityFlag(series_id="eq.a", flag="spike", date=date(2024, 2, 1), detail="old")], "r1")

    flags = quality_summary(store, date(2024, 3, 29))
    got = {(f.series_id, f.flag, f.date) for f in flags}
    assert ("eq.b", "stale", date(2024, 2, 15)) in got
    assert ("eq.b", "failed", date(2024, 3, 29)) in got
    assert ("eq.a", "spike", date(2024, 3, 27)) in got
    assert ("eq.a", "spike", date(2024, 2, 1)) not in got  # not recent
    assert not any(f.series_id == "eq.a" and f.flag in ("stale", "failed") for f in flags)
    assert not any(f.series_id == "macro.c" for f in flags)  # Feb value knowable since mid-March

    earlier = quality_summary(store, date(2024, 2, 16))  # point in time: before the failed run
    assert {(f.series_id, f.flag) for f in earlier} == set()


def test_stale_series_respects_the_publication_lag(store) -> None:  # noqa: ANN001
    _store_with_history(store)
    # on 2024-03-10 the February value (lag 45) is not knowable yet; January is, and is fresh enough
    assert [f.series_id for f in stale_series(store, date(2024, 3, 10))] == ["eq.b"]
    later = {f.series_id: f for f in stale_series(store, date(2024, 6, 30))}
    assert "macro.c" in later and later["macro.c"].date == date(2024, 2, 1)


@pytest.mark.parametrize("kind", ["rate", "spread", "macro"])
def test_negative_values_are_real_for_rates_spreads_and_macro(kind: str) -> None:
    v = pd.Series([0.5, -0.2, -0.4], index=pd.bdate_range("2024-01-01", periods=3))
    assert check(v, series(kind)).values.tolist() == [0.5, -0.2, -0.4]


def test_a_daily_run_flags_what_a_full_check_flags() -> None:
    """The short path (a few new points against stored history) agrees with the full-history path."""
    spx = sp500()["Close"]
    full = {f.date for f in flags_of(check(spx, series("equity")), "spike")}
    for cut in ("2008-09-25", "2011-08-01", "2018-01-29", "2018-03-01"):
        history, new = spx[:cut].iloc[:-1], spx[cut:].iloc[:40]
        daily = {f.date for f in flags_of(check(new, series("equity"), history), "spike")}
        assert daily == {d for d in full if new.index[0].date() <= d <= new.index[-1].date()}
        assert daily, cut
