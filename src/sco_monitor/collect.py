"""Collection: run the sources for the universe's series, check the values, store them.

Incremental by default: each series is fetched from its last stored date minus an overlap (to
catch revisions) up to today in the configured timezone. Idempotent: the store only counts rows
that are new or changed. Every series gets a `collection_runs` row before any IO ('running') and
its outcome after; one failing series never stops the others. Fetching runs in threads (it is IO),
the checks and writes in the calling thread (SQLite has one writer).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sco_monitor.assess.model import QualityFlag
from sco_monitor.catalog import Series
from sco_monitor.config import AppConfig
from sco_monitor.config.errors import ConfigError, from_validation
from sco_monitor.config.settings import SourceSettings
from sco_monitor.errors import UsageError
from sco_monitor.logs import get_logger, new_run_id
from sco_monitor.quality import check, disagreements, stale_flag
from sco_monitor.sources import registry
from sco_monitor.sources.base import Fetched, Query, Source, SourceError
from sco_monitor.store import Store
from sco_monitor.store import collection as runs
from sco_monitor.timeutil import utcnow

log = get_logger("sco_monitor.collect")

#: Days re-read before the last stored date, to pick up revisions and late prints.
OVERLAP_DAYS: dict[str, int] = {"B": 10, "D": 10, "W": 35, "M": 100, "Q": 200, "A": 800}
#: Calendar days of stored history read as context for the spike and gap checks.
HISTORY_DAYS: dict[str, int] = {"B": 400, "D": 300, "W": 2000, "M": 8000, "Q": 25000, "A": 90000}
MAX_WORKERS = 16
#: Finished series whose collection_runs rows are written together.
FLUSH_EVERY = 25


@dataclass
class SeriesOutcome:
    """One row of the summary: what a series' collection did."""

    series_id: str
    source: str
    status: str  # ok | partial | empty | failed | skipped
    new_rows: int = 0
    received: int = 0
    attempts: int = 0
    error: str | None = None
    flags: dict[str, int] = field(default_factory=dict)
    window_start: date | None = None
    window_end: date | None = None
    last_date: date | None = None

    @property
    def failed(self) -> bool:
        return self.status in runs.FAILED_STATUSES


@dataclass
class CollectSummary:
    run_id: str
    started_at: datetime  # the run's clock (`now`), which also dates its collection_runs rows
    outcomes: list[SeriesOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: {"http": 0.0, "parse": 0.0, "quality": 0.0, "store": 0.0})
    seconds: float = 0.0  # wall-clock duration
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def finished_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.seconds)

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    @property
    def failed(self) -> list[SeriesOutcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def partial(self) -> list[SeriesOutcome]:
        """Series stored with part of their work lost (some days failed, or the fallback stood in)."""
        return [o for o in self.outcomes if o.status == "partial"]

    @property
    def new_rows(self) -> int:
        return sum(o.new_rows for o in self.outcomes)

    @property
    def status(self) -> str:
        """ok; partial when some series failed; failed when every series tried failed (nothing collected)."""
        tried = [o for o in self.outcomes if o.status != "skipped"]
        failed = self.failed
        if not failed:  # a series whose fallback stood in is partial work
            return "partial" if any(o.status == "partial" for o in tried) else "ok"
        return "failed" if len(failed) == len(tried) else "partial"

    def summary(self) -> str:
        """One readable line: counts per status, the series that failed by source, the new rows."""
        parts = []
        for status in ("ok", "partial", "empty", "failed", "skipped"):
            these = [o for o in self.outcomes if o.status == status]
            if not these:
                continue
            part = f"{len(these)} {status}"
            if status in runs.FAILED_STATUSES:
                by_source: dict[str, list[str]] = defaultdict(list)
                for o in these:
                    by_source[o.source].append(o.series_id)
                part += " (" + "; ".join(f"{src}: {_some(sorted(ids))}" for src, ids in sorted(by_source.items())) + ")"
            parts.append(part)
        return f"{len(self.outcomes)} series: {', '.join(parts) or 'none'}; {self.new_rows} new rows"

    def problem(self) -> str | None:
        """The first failures with their errors (the job's error line), or None when nothing failed."""
        failed = self.failed
        if not failed:
            return None
        shown = "; ".join(f"{o.series_id}: {o.error}" for o in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        return f"{len(failed)} of {len(self.outcomes)} series not collected: {shown}{more}"


def _some(ids: list[str], limit: int = 10) -> str:
    return ", ".join(ids[:limit]) + (f", +{len(ids) - limit} more" if len(ids) > limit else "")


Progress = Callable[[SeriesOutcome], None]


def log_progress(outcome: SeriesOutcome) -> None:
    """The default progress report: one log line per series."""
    fields = {"series": outcome.series_id, "source": outcome.source, "status": outcome.status,
              "new_rows": outcome.new_rows, "received": outcome.received, "attempts": outcome.attempts}
    if outcome.flags:
        fields["flags"] = outcome.flags
    if outcome.failed:
        log.warning("series_collection_failed", error=outcome.error, **fields)
    else:
        log.info("series_collected", **fields)


def select_series(config: AppConfig, series_ids: Sequence[str] | None = None,
                  sources: Sequence[str] | None = None) -> tuple[list[Series], list[Series]]:
    """(to collect, skipped because disabled) for the --series / --source filters."""
    known = config.series
    if series_ids:
        unknown = [s for s in series_ids if s not in known]
        if unknown:
            raise UsageError(f"--series: unknown series {', '.join(map(repr, unknown))}")
        chosen = [known[s] for s in dict.fromkeys(series_ids)]
    else:
        chosen = list(config.universe.series)
    if sources:
        bad = [s for s in sources if s not in registry]
        if bad:
            raise UsageError(f"--source: unknown source {', '.join(map(repr, bad))}; "
                             f"expected one of: {', '.join(registry.names())}")
        chosen = [s for s in chosen if s.source in set(sources)]
    chosen = [s for s in chosen if s.source != "derived"]  # computed in the assessment, never collected
    return [s for s in chosen if s.enabled], [s for s in chosen if not s.enabled]


def make_sources(config: AppConfig, names: Sequence[str]) -> dict[str, Source]:
    out: dict[str, Source] = {}
    for name in dict.fromkeys(names):
        cls = registry.get(name)
        settings = config.settings.sources.get(name) or SourceSettings()
        out[name] = cls(settings, universe_dir=config.universe_dir)
    return out


def check_params(config: AppConfig, series: Sequence[Series], sources: dict[str, Source]) -> None:
    """Every series' params and symbol, before any IO: a ConfigError naming file and path."""
    position = {s.id: i for i, s in enumerate(config.universe.series)}
    for s in series:
        i = position[s.id]
        try:
            sources[s.source].check(s)
        except ValidationError as e:
            raise from_validation(config.universe_path, e, prefix=f"series[{i}].params") from None
        except ValueError as e:
            raise ConfigError(config.universe_path, f"series[{i}].symbol", str(e)) from None


def windows(series: Sequence[Series], last: dict[str, date], end: date, since: date | None,
            full: bool) -> dict[str, date | None]:
    """Start date per series: None (whole history) when full or nothing is stored yet."""
    out: dict[str, date | None] = {}
    for s in series:
        if full:
            out[s.id] = None
        elif since is not None:
            out[s.id] = since
        elif s.id in last:
            out[s.id] = min(last[s.id] - timedelta(days=OVERLAP_DAYS[s.frequency]), end)
        else:
            out[s.id] = None
    return out


@dataclass
class _Done:
    query: Query
    results: dict[str, Fetched] | None
    error: SourceError | None
    attempts: int
    http: float
    parse: float


def _run_query(source: Source, query: Query, gate: threading.Semaphore) -> _Done:
    """extract + transform of one query; every failure becomes a SourceError for its series."""
    with gate:
        source.reset_attempts()
        t0 = time.perf_counter()
        try:
            raw = source.extract(query)
        except SourceError as e:
            return _Done(query, None, e, source.attempts() or 1, time.perf_counter() - t0, 0.0)
        except Exception as e:  # noqa: BLE001 - a bug or a provider surprise stops one query, not the run
            log.exception("extract_failed", source=source.name, query=query.label)
            return _Done(query, None, SourceError(f"{type(e).__name__}: {e}"), source.attempts() or 1,
                         time.perf_counter() - t0, 0.0)
        t1 = time.perf_counter()
        attempts = source.attempts() or 1
    try:
        results = source.transform(query, raw)
        error = None
    except SourceError as e:
        results, error = None, e
    except Exception as e:  # noqa: BLE001
        log.exception("transform_failed", source=source.name, query=query.label)
        results, error = None, SourceError(f"cannot parse the answer: {type(e).__name__}: {e}")
    return _Done(query, results, error, attempts, t1 - t0, time.perf_counter() - t1)


def collect(
    config: AppConfig,
    store: Store,
    *,
    series_ids: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    since: date | None = None,
    full: bool = False,
    now: datetime | None = None,
    run_id: str | None = None,
    progress: Progress | None = log_progress,
    on_plan: Callable[[int], None] | None = None,
) -> CollectSummary:
    """Collect, check and store; returns the summary (it never raises for a failing series)."""
    now = now or utcnow()
    run_id = run_id or new_run_id()
    summary = CollectSummary(run_id=run_id, started_at=now)
    end = now.astimezone(ZoneInfo(config.settings.timezone)).date()
    if since is not None and since > end:
        raise UsageError(f"--since {since} is after today ({end} in {config.settings.timezone}); nothing to collect")
    chosen, disabled = select_series(config, series_ids, sources)
    impls = make_sources(config, [s.source for s in chosen])
    try:
        check_params(config, chosen, impls)
        for s in disabled:
            summary.outcomes.append(SeriesOutcome(s.id, s.source, "skipped", error="disabled in the universe"))
        if on_plan:
            on_plan(len(chosen))
        if chosen:
            _collect(store, chosen, impls, summary, end, since, full, progress)
    finally:
        for impl in impls.values():
            impl.close()
    summary.seconds = summary.elapsed()
    done = log.info if progress is log_progress else log.debug  # a caller with its own display shows the end
    done("collection finished", series=len(chosen), failed=len(summary.failed), new_rows=summary.new_rows,
         seconds=round(summary.seconds, 3))
    return summary


def _collect(store: Store, chosen: list[Series], impls: dict[str, Source],
             summary: CollectSummary, end: date, since: date | None, full: bool, progress: Progress | None) -> None:
    last = runs.last_dates(store, [s.id for s in chosen])
    starts = windows(chosen, last, end, since, full)
    by_source: dict[str, list[Series]] = defaultdict(list)
    for s in chosen:
        by_source[s.source].append(s)
    queries = [(impls[name], q) for name, members in by_source.items()
               for q in impls[name].plan(members, starts, end)]
    row_ids = dict(zip([s.id for s in chosen], runs.start_runs(store, [
        {"run_id": summary.run_id, "source": s.source, "series_id": s.id, "started_at": summary.started_at,
         "rows": 0, "attempts": 0, "received": 0, "window_start": starts[s.id], "window_end": end}
        for s in chosen])))
    gates = {name: threading.Semaphore(impl.settings.concurrency) for name, impl in impls.items()}
    workers = min(MAX_WORKERS, max(1, sum(min(impls[n].settings.concurrency, len(m)) for n, m in by_source.items())))
    finished: list[dict[str, Any]] = []
    deferred: list[tuple[Series, SeriesOutcome]] = []  # failed series with a fallback: judged at the end
    done_by_id: dict[str, SeriesOutcome] = {}

    def finish(s: Series, outcome: SeriesOutcome) -> None:
        finished.append({"row_id": row_ids[s.id], "status": outcome.status, "rows": outcome.new_rows,
                         "attempts": outcome.attempts, "error": outcome.error,
                         "received": outcome.received, "last_date": outcome.last_date,
                         "finished_at": summary.started_at + timedelta(seconds=summary.elapsed())})
        summary.outcomes.append(outcome)
        if progress:
            progress(outcome)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
        futures: list[Future[_Done]] = [pool.submit(_run_query, src, q, gates[src.name]) for src, q in queries]
        t0 = time.perf_counter()
        stored = _stored_windows(store, chosen, starts, last)  # while the first requests are in flight
        summary.timings["store"] += time.perf_counter() - t0
        try:
            for fut in as_completed(futures):
                done = fut.result()
                summary.timings["http"] += done.http
                summary.timings["parse"] += done.parse
                for s in done.query.series:
                    outcome = _store_one(store, s, done, starts[s.id], end, last.get(s.id), stored.get(s.id), summary)
                    done_by_id[s.id] = outcome
                    if s.fallback is not None and outcome.failed:
                        deferred.append((s, outcome))
                    else:
                        finish(s, outcome)
                if len(finished) >= FLUSH_EVERY:
                    runs.finish_runs(store, finished)
                    finished.clear()
            for s, outcome in deferred:
                finish(s, fallback_outcome(store, s, outcome, done_by_id))
            deferred.clear()
            check_fallbacks(store, chosen, starts, done_by_id, summary.run_id)
        finally:  # also when the run is stopped (a job timeout or shutdown raises here): no row stays running
            for s, outcome in deferred:  # an error above still records them
                finish(s, outcome)
            left = [{"row_id": row_ids[s.id], "status": "interrupted",
                     "error": "the collection was stopped before this series finished"}
                    for s in chosen if s.id not in done_by_id]
            try:
                runs.finish_runs(store, finished + left)
            except Exception:  # noqa: BLE001 - the store may be why the run stopped; the next start marks them
                log.exception("collection_runs_finish_failed", rows=len(finished) + len(left))
            pool.shutdown(wait=False, cancel_futures=True)


def fallback_outcome(store: Store, s: Series, outcome: SeriesOutcome,
                     done: dict[str, SeriesOutcome]) -> SeriesOutcome:
    """A failed official series whose market quote has data is 'partial': the quote stands in.

    The market quote counts when it was collected in this run or is in the store already.
    """
    assert s.fallback is not None
    alt = s.fallback.series
    theirs = done.get(alt)
    has_data = (theirs is not None and not theirs.failed and theirs.last_date is not None) or (
        theirs is None and bool(runs.last_dates(store, [alt])))
    if not has_data:
        outcome.error = f"{outcome.error}; the fallback {alt} has no data either"
        return outcome
    outcome.status = "partial"
    outcome.error = f"{outcome.error}; the fallback {alt} stands in"
    log.warning("fallback_stands_in", series=s.id, fallback=alt)
    return outcome


def check_fallbacks(store: Store, chosen: Sequence[Series], starts: dict[str, date | None],
                    done: dict[str, SeriesOutcome], run_id: str) -> None:
    """Flag the days an official series and its market quote disagree beyond the tolerance."""
    for s in chosen:
        out = done.get(s.id)
        if s.fallback is None or out is None or out.failed or not out.received:
            continue
        try:
            frame = store.load_frame([s.id, s.fallback.series], start=starts.get(s.id))
            flags = disagreements(frame[s.id], frame[s.fallback.series], s.id, s.fallback.series,
                                  s.fallback.tolerance)
            if flags:
                out.flags["disagreement"] = len(flags)
                vals = {(s.id, f.date): float(frame.at[pd.Timestamp(f.date), s.id]) for f in flags if f.date}
                runs.save_flags(store, flags, run_id, vals)
        except Exception:  # noqa: BLE001 - a failed check loses its flags, not the run
            log.exception("fallback_check_failed", series=s.id)


def _store_one(store: Store, s: Series, done: _Done, start: date | None, end: date, last: date | None,
               stored: pd.Series | None, summary: CollectSummary) -> SeriesOutcome:
    """Check and store one series' values; the outcome for its collection_runs row."""
    out = SeriesOutcome(s.id, s.source, "ok", window_start=start, window_end=end, last_date=last)
    fetched = done.results.get(s.id) if done.results is not None else None
    error = done.error or (fetched.error if fetched else None)
    out.attempts = (fetched.attempts if fetched else None) or (error.attempts if error else None) or done.attempts
    if error is None and fetched is None:
        error = SourceError(f"the {s.source} answer did not mention {s.id}")
    if error is not None:
        out.status, out.error = error.status, str(error)
        return out
    assert fetched is not None
    if fetched.warning:
        out.status, out.error = "partial", fetched.warning
    values = fetched.values
    if start is not None:
        values = values[values.index >= pd.Timestamp(start)]
    values = values[values.index <= pd.Timestamp(end)]
    out.received = int(values.notna().sum())
    try:
        t0 = time.perf_counter()
        flags: list[QualityFlag] = []
        fresh = _changed(values.dropna(), stored)
        if not fresh.empty:  # values already stored were checked when they arrived
            before = _history_before(store, s, start) if start is not None and last is not None else None
            checked = check(values, s, before)
            flags = checked.flags
            out.flags = checked.flag_counts()
            fresh = _changed(checked.values, stored)
            newest = checked.values.index.max().date() if not checked.values.empty else None
            out.last_date = max(d for d in (last, newest) if d is not None) if (last or newest) else None
        stale = stale_flag(s.id, s.frequency, s.publication_lag_days, out.last_date, end)
        if stale is not None:
            out.flags["stale"] = 1
            flags = flags + ([stale] if stale.date is not None else [])
        t1 = time.perf_counter()
        if not fresh.empty:
            frame = pd.DataFrame({"series_id": s.id, "date": fresh.index, "value": fresh.to_numpy()})
            out.new_rows = store.upsert_observations(frame, fetched_at=summary.started_at)
        if flags:
            raw = values.dropna()
            raw = raw[~raw.index.duplicated(keep="last")]
            at = [pd.Timestamp(f.date) for f in flags if f.date is not None]
            vals = {(s.id, d.date()): float(v) for d, v in raw.reindex(at).dropna().items()}
            runs.save_flags(store, flags, summary.run_id, vals)
        summary.timings["quality"] += t1 - t0
        summary.timings["store"] += time.perf_counter() - t1
    except Exception as e:  # noqa: BLE001 - a store or check failure loses this series only
        log.exception("storing_failed", series=s.id)
        out.status, out.error = "failed", f"cannot store: {type(e).__name__}: {e}"
    return out


def _stored_windows(store: Store, chosen: Sequence[Series], starts: dict[str, date | None],
                    last: dict[str, date]) -> dict[str, pd.Series]:
    """What the store holds inside each incremental window: it tells new and revised values apart.

    One query per distinct window start, so a daily run over hundreds of series costs a few.
    """
    groups: dict[date, list[str]] = defaultdict(list)
    for s in chosen:
        start = starts[s.id]
        if start is not None and s.id in last:
            groups[start].append(s.id)
    out: dict[str, pd.Series] = {}
    for start, ids in groups.items():
        frame = store.load_long(ids, start=start)
        for sid, part in frame.groupby("series_id", sort=False):
            out[str(sid)] = pd.Series(part["value"].to_numpy(), index=pd.DatetimeIndex(part["date"]), dtype=float)
    return out


def _history_before(store: Store, s: Series, start: date) -> pd.Series:
    """Stored values before a window: the context of the spike and gap checks."""
    frame = store.load_long([s.id], start=start - timedelta(days=HISTORY_DAYS[s.frequency]),
                            end=start - timedelta(days=1))
    return pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["date"]), dtype=float)


def _changed(values: pd.Series, stored: pd.Series | None) -> pd.Series:
    """The values that are not in the store yet, or differ from what it holds (revisions)."""
    if stored is None or stored.empty or values.empty:
        return values
    sd, sx = stored.index.to_numpy(dtype="datetime64[ns]"), stored.to_numpy(dtype=float)  # sorted, unique
    vd, vx = values.index.to_numpy(dtype="datetime64[ns]"), values.to_numpy(dtype=float)
    pos = np.minimum(np.searchsorted(sd, vd), len(sd) - 1)
    same = (sd[pos] == vd) & (sx[pos] == vx)
    return values[~same]


def collect_context(ctx: Any, **kwargs: Any) -> CollectSummary:
    """`collect` with a Context's config, store and run id (the CLI and the cycle use this)."""
    select_series(ctx.config, kwargs.get("series_ids"), kwargs.get("sources"))  # usage errors before the store opens
    return collect(ctx.config, ctx.store, run_id=ctx.run_id or None, **kwargs)
