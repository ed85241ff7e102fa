"""Saving an assessment on SQLite and PostgreSQL: today's rows replace, earlier stress rows only fill gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from sco_monitor.errors import RunFailed
from sco_monitor.store import Store, schema
from sco_monitor.store.assessments import load_saved_assessment, load_window, save_assessment

D0, D1, D2 = date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 5)
AT = datetime(2024, 3, 5, 7, 0, tzinfo=UTC)


def _stress(scope: str, day: date, value: float) -> dict:
    return {"scope": scope, "date": day, "value": value, "level": "low", "segments": {"equity": value},
            "details": {"note": f"{scope} {day}"}}


def _eval(as_of: date, fp: str, value: float) -> dict:
    return {"as_of": as_of, "fingerprint": fp, "rule": "r", "labels": {"country": "KAZ"}, "value": value,
            "threshold": 1.0, "severity": "ok", "kind": "level", "summary": f"{fp} {value}", "details": {"a": [1]}}


def _table(store: Store, name: str) -> list[tuple]:
    t = getattr(schema, name)
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).all()]


def test_a_later_save_keeps_what_earlier_days_assessed_and_fills_only_gaps(store: Store) -> None:
    save_assessment(store, D1, {
        "stress_index": [_stress("WLD", D0, 0.1), _stress("WLD", D1, 0.2)],
        "indicator_values": [{"series_id": "s", "indicator": "level", "date": D1, "value": 1.0}],
        "rule_evaluations": [_eval(D1, "a", 1.0), _eval(D1, "b", 2.0)],
    }, body={"as_of": D1.isoformat()}, saved_at=AT)
    save_assessment(store, D2, {
        # D0 and D1 of WLD are stored: kept; KAZ on D1 is a gap: filled; D2 is today's: written
        "stress_index": [_stress("WLD", D0, 9.0), _stress("WLD", D1, 9.0), _stress("KAZ", D1, 0.5),
                         _stress("WLD", D2, 0.3)],
        "indicator_values": [{"series_id": "s", "indicator": "level", "date": D1, "value": 1.5},
                             {"series_id": "s", "indicator": "level", "date": D2, "value": None}],
        "rule_evaluations": [_eval(D2, "a", 3.0)],
    }, body={"as_of": D2.isoformat()}, saved_at=AT)
    save_assessment(store, D2, {"rule_evaluations": [_eval(D2, "b", 4.0)],
                                "stress_index": [_stress("WLD", D2, 0.4), _stress("KAZ", D1, 7.0)]})
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in _table(store, "stress_index")] == [
        ("KAZ", D1, 0.5, {"equity": 0.5}, {"note": f"KAZ {D1}"}),
        ("WLD", D0, 0.1, {"equity": 0.1}, {"note": f"WLD {D0}"}),
        ("WLD", D1, 0.2, {"equity": 0.2}, {"note": f"WLD {D1}"}),
        ("WLD", D2, 0.4, {"equity": 0.4}, {"note": f"WLD {D2}"}),  # the same day saved again: replaced
    ]
    assert _table(store, "indicator_values") == [("s", "level", D1, 1.5), ("s", "level", D2, None)]
    assert [(r[0], r[1], r[4], r[8]) for r in _table(store, "rule_evaluations")] == [
        (D1, "a", 1.0, "a 1.0"), (D1, "b", 2.0, "b 2.0"), (D2, "b", 4.0, "b 4.0")]  # a re-run replaces its day
    saved = load_saved_assessment(store, D2)
    assert saved is not None and saved.body == {"as_of": D2.isoformat()} and saved.saved_at == AT


def test_a_collection_verdict_counts_only_from_the_day_it_was_recorded(store: Store) -> None:
    """A series found stale (or a collection that failed) today was not stale to a past day a replay
    assesses; a spike is a property of the observation and counts whenever it was found."""
    from datetime import timedelta

    from sco_monitor.assess.model import QualityFlag
    from sco_monitor.store.assessments import load_quality
    from sco_monitor.store.collection import save_flags
    from sco_monitor.timeutil import utcnow

    today = utcnow().date()
    old, recent = date(2018, 12, 31), today - timedelta(days=3)
    save_flags(store, [QualityFlag(series_id="eq.x", flag=f, date=d, detail=f"{f} {d}")
                       for d in (old, recent) for f in ("stale", "failed", "spike")], run_id="today")
    assert sorted(f["flag"] for f in load_quality(store, old)) == ["spike"]
    assert sorted(f["flag"] for f in load_quality(store, recent)) == ["spike"]  # recorded days later
    assert sorted(f["flag"] for f in load_quality(store, today)) == ["failed", "spike", "stale"]


def test_a_window_read_while_a_collection_was_writing_is_read_again(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.upsert_observations(pd.DataFrame({"series_id": "s", "date": pd.bdate_range("2024-02-01", periods=20),
                                            "value": 1.0}))
    # the first read comes before the collection's commit (nothing), the span and the second read after it
    reads, load_frame = [], store.load_frame
    monkeypatch.setattr(store, "load_frame", lambda *a, **k: reads.append(a) or (
        pd.DataFrame() if len(reads) == 1 else load_frame(*a, **k)))
    frame = load_window(store, ["s"], D1, 365)
    assert len(reads) == 2
    assert frame["s"].notna().sum() == 20 and frame.index[-1] == pd.Timestamp("2024-02-28")


def test_a_window_inside_the_stores_span_that_holds_nothing_says_so_not_that_the_date_is_outside(
        store: Store) -> None:
    # observations before and after the window, none in it: the span covers the window, the two reads find nothing
    store.upsert_observations(pd.DataFrame({"series_id": "s", "date": [date(2021, 6, 1), date(2024, 6, 3)],
                                            "value": 1.0}))
    with pytest.raises(RunFailed) as err:
        load_window(store, ["s"], D1, 365)
    message = str(err.value)
    assert message.startswith("no observations between 2023-01-01 and 2024-03-04 published by 2024-03-04 "
                              "(the store holds 2021-06-01 to 2024-06-03"), message
    assert "publication_lag_days" in message and "\n" not in message
    assert "assess a date in that span" not in message
