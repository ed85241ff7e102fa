"""Store benchmark: 1,000,000 observations (200 series x 5,000 days).

Measures, in one run: the store's upsert into a fresh SQLite store, the same upsert again (all
conflicts), the point-in-time read (`load_frame`); the raw limit (plain sqlite3 `executemany` of
the same INSERT ... ON CONFLICT with WAL) and the peer (`pandas.DataFrame.to_sql`, plain insert).
Then the store's figures on PostgreSQL (with `to_sql` there as the peer) when it is reachable.

    python benchmarks/bench_store.py [--series 200] [--days 5000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect  # noqa: E402
from sqlalchemy.schema import CreateTable  # noqa: E402

from sco_monitor.store import Store, schema  # noqa: E402

UPSERT_SQL = (
    "INSERT INTO observations (series_id, date, value, fetched_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(series_id, date) DO UPDATE SET value = excluded.value, "
    "fetched_at = excluded.fetched_at WHERE observations.value IS NOT excluded.value"
)


def make_frame(n_series: int, n_days: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2000-01-03", periods=n_days)
    levels = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(n_series, n_days)), axis=1))
    return pd.DataFrame({
        "series_id": np.repeat([f"eq.s{i:03d}.x" for i in range(n_series)], n_days),
        "date": np.tile(dates.values, n_series),
        "value": levels.ravel(),
    })


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_store(url: str, frame: pd.DataFrame, label: str) -> dict[str, float]:
    store = Store(url)
    store.init()
    n = len(frame)
    t_ins, changed = timed(lambda: store.upsert_observations(frame))
    assert changed == n, (changed, n)
    t_again, changed2 = timed(lambda: store.upsert_observations(frame))
    assert changed2 == 0, changed2
    ids = frame["series_id"].unique().tolist()
    t_read, wide = timed(lambda: store.load_frame(ids, as_of=frame["date"].max()))
    assert wide.shape == (frame["date"].nunique(), len(ids)), wide.shape
    store.dispose()
    print(f"[{label}] store upsert (fresh)      {n / t_ins:>12,.0f} rows/s  ({t_ins:.2f} s)")
    print(f"[{label}] store upsert (conflicts)  {n / t_again:>12,.0f} rows/s  ({t_again:.2f} s)")
    print(f"[{label}] store load_frame          {n / t_read:>12,.0f} rows/s  ({t_read:.2f} s)")
    return {"insert": n / t_ins, "again": n / t_again, "read": n / t_read}


def bench_raw_sqlite(path: Path, frame: pd.DataFrame) -> float:
    """The same table (DDL compiled from the store's schema) and the same statement, no store."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(str(CreateTable(schema.observations).compile(dialect=sqlite_dialect())))
    ts = "2026-01-01 00:00:00.000000"
    rows = list(zip(frame["series_id"].tolist(),
                    frame["date"].to_numpy().astype("datetime64[D]").astype(str).tolist(),
                    frame["value"].tolist(), [ts] * len(frame)))
    t0 = time.perf_counter()
    conn.executemany(UPSERT_SQL, rows)
    conn.commit()
    dt = time.perf_counter() - t0
    conn.close()
    return len(frame) / dt


def bench_to_sql(con, frame: pd.DataFrame) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    frame.assign(fetched_at=pd.Timestamp("2026-01-01")).to_sql(
        "observations_to_sql", con, if_exists="replace", index=False, chunksize=100_000)
    return len(frame) / (time.perf_counter() - t0)


def pg_available(url: str) -> bool:
    try:
        Store(url).check()
        return True
    except Exception as e:  # noqa: BLE001
        print(f"[postgres] skipped: {e}")
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--days", type=int, default=5000)
    ap.add_argument("--pg-url", default=os.environ.get(
        "SCO_MONITOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    frame = make_frame(args.series, args.days)
    print(f"bench_store: {len(frame):,} observations ({args.series} series x {args.days} days)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = bench_store(f"sqlite:///{tmp / 'store.db'}", frame, "sqlite")
        raw = bench_raw_sqlite(tmp / "raw.db", frame)
        print(f"[sqlite] raw limit: sqlite3.executemany of the same upsert, WAL  {raw:>12,.0f} rows/s")
        con = sqlite3.connect(tmp / "peer.db")
        peer = bench_to_sql(con, frame)
        con.close()
        print(f"[sqlite] peer: pandas.DataFrame.to_sql (plain insert)           {peer:>12,.0f} rows/s")
        r_raw, r_peer = ours["insert"] / raw, ours["insert"] / peer
        print(f"[sqlite] store upsert / raw limit = {r_raw:.2f}x (target >= 0.6x)  "
              f"{'OK' if r_raw >= 0.6 else 'BELOW TARGET'}")
        print(f"[sqlite] store upsert / to_sql    = {r_peer:.2f}x (target >= 2x)   "
              f"{'OK' if r_peer >= 2 else 'BELOW TARGET'}")

    if pg_available(args.pg_url):
        import psycopg
        from sqlalchemy import create_engine

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        dsn = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{args.pg_url}?options=-csearch_path%3D{schema}"
        try:
            pg = bench_store(url, frame, "postgres")
            eng = create_engine(url)
            with eng.begin() as conn:
                peer_pg = bench_to_sql(conn, frame)
            eng.dispose()
            print(f"[postgres] peer: pandas.DataFrame.to_sql (plain insert)        {peer_pg:>12,.0f} rows/s")
            print(f"[postgres] store upsert / to_sql = {pg['insert'] / peer_pg:.2f}x")
        finally:
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
