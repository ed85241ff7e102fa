"""The store: connection handling, observation upserts and point-in-time reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from sco_monitor.catalog import Series
from sco_monitor.store import migrate, schema
from sco_monitor.store.upsert import upsert
from sco_monitor.timeutil import to_date, utcnow

_CHUNK = 200_000


class StoreError(Exception):
    """The store cannot be opened or used; the message names the URL (password hidden)."""


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (psycopg2 is not a dependency)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Store:
    """One database. SQLite (WAL, busy timeout) by default; PostgreSQL in production."""

    def __init__(self, url: str) -> None:
        url = normalize_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as e:
            raise StoreError(f"cannot parse database URL {url!r}: {e}") from None
        self.display_url = parsed.render_as_string(hide_password=True)
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"unsupported database {self.display_url}: use sqlite or postgresql")
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            db = parsed.database
            if db and db != ":memory:" and not db.startswith("file:"):
                try:
                    Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise StoreError(f"cannot open store {self.display_url}: {e}") from None
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(parsed, **kwargs)
        except (NoSuchModuleError, ImportError) as e:
            raise StoreError(f"cannot open store {self.display_url}: missing driver ({e}); "
                             "install the 'postgres' extra") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    # --- lifecycle ---------------------------------------------------------------------------
    def init(self) -> str:
        """Create the store or upgrade it to the newest schema (Alembic); safe to run any number of times.

        Returns what was done: created | stamped (a 0.1.0 store, then upgraded) | upgraded | current.
        """
        try:
            return migrate.upgrade(self.engine)
        except migrate.MigrationError as e:
            raise StoreError(f"cannot upgrade store {self.display_url}: {e}") from None
        except (DBAPIError, SQLAlchemyError, OSError) as e:
            raise StoreError(f"cannot open store {self.display_url}: {_short(e)}") from None

    def schema_revision(self) -> str | None:
        """The Alembic revision the store is at (None before `init`)."""
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (DBAPIError, SQLAlchemyError, OSError) as e:
            raise StoreError(f"cannot open store {self.display_url}: {_short(e)}") from None

    def dispose(self) -> None:
        self.engine.dispose()

    # --- catalog -------------------------------------------------------------------------------
    def sync_series(self, series: Iterable[Series]) -> int:
        now = utcnow()
        rows = [
            {
                "id": s.id, "name": s.name, "source": s.source, "symbol": s.symbol, "kind": s.kind,
                "country": s.country, "frequency": s.frequency, "unit": s.unit,
                "direction": s.direction, "publication_lag_days": s.publication_lag_days,
                "params": s.model_dump(mode="json", include={"params"})["params"],  # YAML dates → ISO text
                "enabled": s.enabled, "updated_at": now,
            }
            for s in series
        ]
        with self.engine.begin() as conn:
            upsert(conn, schema.series, rows)
        return len(rows)

    def publication_lags(self, series_ids: Sequence[str]) -> dict[str, int]:
        t = schema.series
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.publication_lag_days).where(t.c.id.in_(list(series_ids)))
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    # --- observations ----------------------------------------------------------------------------
    def upsert_observations(self, frame: pd.DataFrame, fetched_at: datetime | None = None) -> int:
        """Upsert a long frame (series_id, date, value); returns rows inserted or changed.

        A value equal to the stored one is left alone, so collecting twice changes nothing.
        """
        sids, dates, values = _prepare(frame)
        if len(sids) == 0:
            return 0
        fetched = fetched_at or utcnow()
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                return _sqlite_upsert(conn, sids, dates, values, fetched)
            return _pg_upsert(conn, sids, dates, values, fetched)

    def load_long(
        self,
        series_ids: Sequence[str],
        start: date | str | None = None,
        end: date | str | None = None,
        as_of: date | str | None = None,
    ) -> pd.DataFrame:
        """Observations knowable at `as_of`: date <= as_of, and macro values after their lag."""
        ids = list(dict.fromkeys(series_ids))
        start_d, end_d, as_of_d = to_date(start), to_date(end), to_date(as_of)
        lags = self.publication_lags(ids) if as_of_d is not None else {}
        groups: dict[int, list[str]] = defaultdict(list)
        for sid in ids:
            groups[lags.get(sid, 0)].append(sid)
        parts: list[pd.DataFrame] = []
        with self.engine.connect() as conn:
            for lag, group in groups.items():
                upper = end_d
                if as_of_d is not None:
                    cutoff = as_of_d - timedelta(days=lag)
                    upper = cutoff if upper is None else min(upper, cutoff)
                sql = "SELECT series_id, date, value FROM observations WHERE series_id IN :ids"
                params: dict[str, Any] = {"ids": group}
                if start_d is not None:
                    sql += " AND date >= :start"
                    params["start"] = self._date_param(start_d)
                if upper is not None:
                    sql += " AND date <= :upper"
                    params["upper"] = self._date_param(upper)
                stmt = text(sql + " ORDER BY series_id, date").bindparams(bindparam("ids", expanding=True))
                # Plain tuples straight from the driver: no per-row result processing on a hot path.
                rows = conn.execute(stmt, params).cursor.fetchall()
                if rows:
                    parts.append(pd.DataFrame.from_records(rows, columns=["series_id", "date", "value"]))
        if not parts:
            return pd.DataFrame({"series_id": pd.Series(dtype=object),
                                 "date": pd.Series(dtype="datetime64[ns]"),
                                 "value": pd.Series(dtype=float)})
        out = pd.concat(parts, ignore_index=True)
        codes, uniques = pd.factorize(out["date"])
        out["date"] = pd.DatetimeIndex(pd.to_datetime(pd.Index(uniques).astype(str), format="%Y-%m-%d"))[codes]
        out["value"] = out["value"].astype(float)
        return out

    def load_frame(
        self,
        series_ids: Sequence[str],
        start: date | str | None = None,
        end: date | str | None = None,
        as_of: date | str | None = None,
    ) -> pd.DataFrame:
        """Wide frame (DatetimeIndex × series ids) of what was knowable at `as_of`."""
        ids = list(dict.fromkeys(series_ids))
        long = self.load_long(ids, start, end, as_of)
        d_codes, d_uniq = pd.factorize(long["date"], sort=True)
        position = {sid: i for i, sid in enumerate(ids)}
        s_codes, s_uniq = pd.factorize(long["series_id"])
        cols = np.array([position[s] for s in s_uniq], dtype=np.intp)
        values = np.full((len(d_uniq), len(ids)), np.nan)
        values[d_codes, cols[s_codes]] = long["value"].to_numpy(dtype=float)
        return pd.DataFrame(values, index=pd.DatetimeIndex(d_uniq, name="date"), columns=ids)

    def last_dates(self, series_ids: Sequence[str] | None = None) -> dict[str, date]:
        t = schema.observations
        stmt = select(t.c.series_id, func.max(t.c.date)).group_by(t.c.series_id)
        if series_ids is not None:
            stmt = stmt.where(t.c.series_id.in_(list(series_ids)))
        with self.engine.connect() as conn:
            return {sid: to_date(d) for sid, d in conn.execute(stmt).all() if d is not None}

    def _date_param(self, d: date) -> Any:
        return d.isoformat() if self.dialect == "sqlite" else d


def _short(e: BaseException) -> str:
    msg = str(getattr(e, "orig", None) or e).strip().splitlines()
    return msg[0] if msg else type(e).__name__


def _prepare(frame: pd.DataFrame) -> tuple[list[str], list[str], list[float | None]]:
    """Dedupe (last wins) and turn a long frame into plain Python columns for the driver."""
    missing = {"series_id", "date", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"observations frame lacks columns: {', '.join(sorted(missing))}")
    if frame.empty:
        return [], [], []
    sids = frame["series_id"].astype(str).to_numpy()
    dates = frame["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):  # to_datetime walks every element otherwise
        dates = pd.to_datetime(dates)
    days = dates.to_numpy().astype("datetime64[D]")
    vals = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    keys = pd.MultiIndex.from_arrays([sids, days])
    if not keys.is_unique:
        keep = ~keys.duplicated(keep="last")
        sids, days, vals = sids[keep], days[keep], vals[keep]
    # Few distinct dates, many rows: format each date once.
    codes, uniques = pd.factorize(days)
    date_strs = np.asarray(uniques.astype("datetime64[D]").astype(str), dtype=object)[codes]
    values: list[float | None] = vals.tolist()
    if np.isnan(vals).any():
        values = [None if v != v else v for v in values]
    return sids.tolist(), date_strs.tolist(), values


def _sqlite_upsert(conn: Any, sids: list[str], dates: list[str], values: list[Any], fetched: datetime) -> int:
    ts_s = fetched.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    sql = (
        "INSERT INTO observations (series_id, date, value, fetched_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(series_id, date) DO UPDATE SET value = excluded.value, "
        "fetched_at = excluded.fetched_at WHERE observations.value IS NOT excluded.value"
    )
    cur = conn.connection.driver_connection.cursor()
    changed = 0
    try:
        for i in range(0, len(sids), _CHUNK):
            j = i + _CHUNK
            cur.executemany(sql, zip(sids[i:j], dates[i:j], values[i:j], [ts_s] * (min(j, len(sids)) - i)))
            changed += max(cur.rowcount, 0)
    finally:
        cur.close()
    return changed


def _pg_upsert(conn: Any, sids: list[str], dates: list[str], values: list[Any], fetched: datetime) -> int:
    dbapi = conn.connection.driver_connection
    with dbapi.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _obs_load "
            "(series_id varchar(128), date date, value double precision) ON COMMIT DELETE ROWS"
        )
        with cur.copy("COPY _obs_load (series_id, date, value) FROM STDIN") as copy:
            for row in zip(sids, dates, values):
                copy.write_row(row)
        cur.execute(
            "INSERT INTO observations (series_id, date, value, fetched_at) "
            "SELECT series_id, date, value, %s FROM _obs_load "
            "ON CONFLICT (series_id, date) DO UPDATE SET value = excluded.value, "
            "fetched_at = excluded.fetched_at "
            "WHERE observations.value IS DISTINCT FROM excluded.value",
            (fetched,),
        )
        changed = cur.rowcount
        cur.execute("TRUNCATE _obs_load")
    return max(changed, 0)
