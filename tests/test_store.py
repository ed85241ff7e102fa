"""The store on SQLite and PostgreSQL: idempotent init, upserts, point-in-time reads."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select

from sco_monitor.catalog import Series
from sco_monitor.store import Store, StoreError, schema


def _series(sid: str, lag: int = 0, kind: str = "equity") -> Series:
    return Series(id=sid, name=sid, source="csv", kind=kind, country="KAZ", frequency="B",
                  unit="index", direction="down", publication_lag_days=lag)


def _obs(sid: str, start: str, values: list[float]) -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=len(values))
    return pd.DataFrame({"series_id": sid, "date": dates, "value": values})


def test_init_is_idempotent_and_creates_every_table(store: Store) -> None:
    store.init()
    store.init()
    names = set(inspect(store.engine).get_table_names())
    assert set(schema.metadata.tables) <= names


def test_upsert_twice_changes_nothing_and_revisions_update(store: Store) -> None:
    store.sync_series([_series("eq.a.x"), _series("eq.b.y")])
    frame = pd.concat([_obs("eq.a.x", "2024-01-01", [1.0, 2.0, 3.0]), _obs("eq.b.y", "2024-01-01", [5.0, 6.0])])
    assert store.upsert_observations(frame) == 5
    assert store.upsert_observations(frame) == 0
    revised = _obs("eq.a.x", "2024-01-02", [20.0, 3.0, 4.0])  # one revision, one unchanged, one new
    assert store.upsert_observations(revised) == 2
    wide = store.load_frame(["eq.a.x", "eq.b.y"])
    assert wide["eq.a.x"].tolist() == [1.0, 20.0, 3.0, 4.0]
    assert wide["eq.b.y"].dropna().tolist() == [5.0, 6.0]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.observations)).scalar() == 6


def test_duplicate_dates_in_one_batch_keep_the_last(store: Store) -> None:
    frame = pd.DataFrame({"series_id": ["eq.a.x"] * 3, "date": ["2024-01-01", "2024-01-02", "2024-01-01"],
                          "value": [1.0, 2.0, 9.0]})
    assert store.upsert_observations(frame) == 2
    assert store.load_frame(["eq.a.x"])["eq.a.x"].tolist() == [9.0, 2.0]


def test_missing_values_are_stored_as_null(store: Store) -> None:
    store.upsert_observations(_obs("eq.a.x", "2024-01-01", [1.0, float("nan"), 3.0]))
    assert store.load_frame(["eq.a.x"])["eq.a.x"].isna().tolist() == [False, True, False]
    assert store.upsert_observations(_obs("eq.a.x", "2024-01-01", [1.0, float("nan"), 3.0])) == 0


def test_point_in_time_read_hides_the_future_and_unpublished_macro(store: Store) -> None:
    store.sync_series([_series("eq.a.x"), _series("macro.kz.cpi", lag=30, kind="macro")])
    store.upsert_observations(_obs("eq.a.x", "2024-01-01", [1, 2, 3, 4, 5]))  # Jan 1..5
    store.upsert_observations(pd.DataFrame({"series_id": "macro.kz.cpi",
                                            "date": ["2023-11-30", "2023-12-31"], "value": [9.5, 9.8]}))
    frame = store.load_frame(["eq.a.x", "macro.kz.cpi"], as_of="2024-01-03")
    assert frame.index.max() == pd.Timestamp("2024-01-03")
    assert frame["eq.a.x"].dropna().tolist() == [1, 2, 3]
    # December's CPI is published 30 days after 2023-12-31: not knowable on 2024-01-03.
    assert frame["macro.kz.cpi"].dropna().tolist() == [9.5]
    later = store.load_frame(["macro.kz.cpi"], as_of=date(2024, 2, 1))
    assert later["macro.kz.cpi"].dropna().tolist() == [9.5, 9.8]


def test_load_frame_window_and_unknown_series(store: Store) -> None:
    store.upsert_observations(_obs("eq.a.x", "2024-01-01", [1, 2, 3, 4, 5]))
    frame = store.load_frame(["eq.a.x", "eq.none"], start="2024-01-02", end="2024-01-04")
    assert list(frame.columns) == ["eq.a.x", "eq.none"]
    assert frame["eq.a.x"].tolist() == [2, 3, 4]
    assert frame["eq.none"].isna().all()
    assert store.load_frame(["eq.none"]).empty


def test_last_dates(store: Store) -> None:
    store.upsert_observations(pd.concat([_obs("eq.a.x", "2024-01-01", [1, 2]), _obs("eq.b.y", "2024-03-01", [1])]))
    assert store.last_dates() == {"eq.a.x": date(2024, 1, 2), "eq.b.y": date(2024, 3, 1)}
    assert store.last_dates(["eq.b.y"]) == {"eq.b.y": date(2024, 3, 1)}


def test_timestamps_come_back_as_aware_utc(store: Store) -> None:
    store.upsert_observations(_obs("eq.a.x", "2024-01-01", [1]))
    with store.engine.connect() as conn:
        fetched = conn.execute(select(schema.observations.c.fetched_at)).scalar()
    assert fetched.tzinfo is not None and fetched.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://x@localhost/db", "unsupported database"),
        ("not a url", "cannot parse database URL"),
        ("sqlite:////proc/forbidden/dir/x.db", "cannot open store"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open store postgresql+psycopg://nobody@127.0.0.1:1/none"),
    ],
)
def test_unusable_urls_raise_a_clear_store_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message.replace("+", r"\+")):
        Store(url).init()


def test_series_params_with_yaml_dates_are_stored_as_json(store: Store) -> None:
    """A `history_start: 2021-07-09` in universe.yaml arrives as a date; the catalog row keeps it as text."""
    s = Series(id="fx.usd_byn_nbrb", name="USD/BYN", source="nbrb", symbol="431", kind="fx", country="BLR",
               frequency="B", unit="BYN per USD", direction="up", params={"history_start": date(2021, 7, 9)})
    store.sync_series([s])
    with store.engine.connect() as conn:
        params = conn.execute(select(schema.series.c.params).where(schema.series.c.id == s.id)).scalar_one()
    assert params == {"history_start": "2021-07-09"}
