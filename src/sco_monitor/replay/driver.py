"""The replay: the daily cycle over past business days on a simulated clock.

Each day D is one `cycle.run_day`: assess(D, save) → alert → deliver → (report) exactly as the
daemon would on D, with `now` = D at the configured report time (the daemon's cron parser reads it). Alerts go to one file receiver under the output
folder unless real receivers are asked for. Finished days are recorded, so an interrupted
replay resumes where it stopped; the alert state machine only moves forward in time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select

from sco_monitor import cycle
from sco_monitor.config.alerting import FileReceiver, Heartbeat, Receiver, Route
from sco_monitor.config.cron import cron_trigger, next_fire
from sco_monitor.config.settings import Settings
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed, UsageError
from sco_monitor.logs import get_logger
from sco_monitor.replay.progress import progress as progress_bar
from sco_monitor.replay.score import TrackRecord
from sco_monitor.replay.track import (
    DerivedEpisodes,
    report_section,
    summary_lines,
    track_record,
    write_track,
)
from sco_monitor.store import Store
from sco_monitor.store import schema as t
from sco_monitor.store.upsert import upsert
from sco_monitor.timeutil import utcnow

log = get_logger("sco_monitor.replay")

REPLAY_RECEIVER = "replay-file"
DAY_STEPS: tuple[cycle.StepName, ...] = ("assess", "alert", "deliver")
ReceiverMode = Literal["file", "real"]


# --- pure parts ----------------------------------------------------------------------------------
def business_days(start: date, end: date) -> list[date]:
    """Monday to Friday from start to end, inclusive."""
    if start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    days = [d.date() for d in pd.bdate_range(start, end)]
    if not days:
        raise UsageError(f"no business days between {start} and {end}")
    return days


def window_days(start: date, end: date, days: Sequence[date] | None = None) -> list[date]:
    """The business days from start to end, or those of `days` between them (sorted, once each)."""
    every = business_days(start, end)
    if days is None:
        return every
    chosen = sorted(set(days) & set(every))
    if not chosen:
        raise UsageError(f"no business days to replay between {start} and {end}")
    return chosen


def runs_of(days: Sequence[date]) -> list[tuple[date, date]]:
    """First and last day of each run of consecutive business days."""
    out: list[tuple[date, date]] = []
    for d in days:
        if out and (pd.Timestamp(out[-1][1]) + pd.offsets.BDay(1)).date() == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def report_days(days: Sequence[date], every: int) -> set[date]:
    """Every `every`-th day of the range, counted from its first day, and always its last."""
    if every < 1:
        raise UsageError(f"--report-every: expected a positive number of days, got {every}")
    if not days:
        return set()
    return {days[i] for i in range(0, len(days), every)} | {days[-1]}


def simulated_now(settings: Settings, as_of: date) -> datetime:
    """The moment the daemon would report on `as_of`: the report schedule's time of day in the
    configured timezone (08:00 without a report schedule), as a UTC datetime. The schedule is read
    with the daemon's own cron parser (macros such as @daily, 5 or 6 fields, crontab weekdays)."""
    tz = ZoneInfo(settings.timezone)
    midnight = datetime(as_of.year, as_of.month, as_of.day, tzinfo=tz)
    sched = settings.schedules.get("report")
    local = midnight.replace(hour=8)
    if sched is not None:
        fire = next_fire(cron_trigger(sched.cron, tz), midnight)
        if fire is not None:
            local = midnight.replace(hour=fire.hour, minute=fire.minute, second=fire.second)
    return local.astimezone(UTC)


def _redirect(route: Route, receiver: str) -> Route:
    return route.model_copy(update={
        "receiver": receiver if route.receiver else None,
        "routes": [_redirect(r, receiver) for r in route.routes],
    })


def replay_settings(settings: Settings, out_dir: Path, receivers: ReceiverMode = "file") -> Settings:
    """Settings for a replay: reports under out_dir/reports; unless real receivers are asked for,
    every notification goes to one file receiver (out_dir/alerts.jsonl), no digest, no heartbeat."""
    report = settings.report.model_copy(update={"out_dir": str(out_dir / "reports")})
    if receivers == "real":
        return settings.model_copy(update={"report": report})
    if receivers != "file":
        raise UsageError(f"--receivers: expected file or real, got {receivers!r}")
    sink = Receiver(name=REPLAY_RECEIVER, file=FileReceiver(path=str(out_dir / "alerts.jsonl")))
    route = _redirect(settings.route, REPLAY_RECEIVER) if settings.route else Route(receiver=REPLAY_RECEIVER)
    alerting = settings.alerting.model_copy(update={
        "heartbeat": Heartbeat(receiver=None),
        "no_data_receiver": REPLAY_RECEIVER if settings.alerting.no_data_receiver else None,
    })
    return settings.model_copy(update={
        "receivers": [sink], "route": route, "alerting": alerting,
        "report": report.model_copy(update={"digest_receivers": []}),
    })


def replay_context(ctx: Context, out_dir: Path, receivers: ReceiverMode = "file", store: Store | None = None) -> Context:
    """The context the replay's steps see: the replay settings over the same (or the given) store."""
    config = dataclasses.replace(ctx.config, settings=replay_settings(ctx.config.settings, out_dir, receivers))
    return Context.from_parts(config, store=store or ctx.store, run_id=ctx.run_id)


# --- what is done, and the forward-only alert clock ---------------------------------------------------
def done_days(store: Store) -> set[date]:
    with store.engine.connect() as conn:
        return {r[0] for r in conn.execute(select(t.replay_days.c.date)).all()}


def last_alert_day(store: Store) -> date | None:
    with store.engine.connect() as conn:
        return conn.execute(select(func.max(t.alerts.c.last_eval_date))).scalar()


def mark_done(store: Store, day: date, run_id: str, reported: bool) -> None:
    with store.engine.begin() as conn:
        upsert(conn, t.replay_days, [{"date": day, "run_id": run_id, "reported": reported, "finished_at": utcnow()}])


def reset_alert_state(store: Store, alerts_file: Path | None) -> Path | None:
    """Forget a previous replay's alert state (and move its alerts file aside) to start clean."""
    with store.engine.begin() as conn:
        for table in (t.alerts, t.notification_groups, t.notifications, t.replay_days, t.alert_history):
            conn.execute(table.delete())
    if alerts_file is not None and alerts_file.exists():
        moved = alerts_file.with_name(f"{alerts_file.stem}.{utcnow():%Y%m%dT%H%M%S}{alerts_file.suffix}")
        alerts_file.rename(moved)
        return moved
    return None


def plan(store: Store, days: Sequence[date], force: bool, alerts_file: Path | None) -> list[date]:
    """The days still to run. Refuses to move the alert state machine back in time: a store
    whose alerts were evaluated after the first day to run is either a previous replay (then
    --force starts it over from a clean alert state) or live, and then left alone."""
    done = done_days(store)
    todo = list(days) if force else [d for d in days if d not in done]
    last_alert = last_alert_day(store)
    # the alert engine ignores an as_of it has seen, so the day a failed run stopped on may run again
    if not todo or last_alert is None or todo[0] >= last_alert:
        return todo
    replay_owned = bool(done) and last_alert <= (pd.Timestamp(max(done)) + pd.offsets.BDay(1)).date()
    if not replay_owned:
        raise UsageError(
            f"this store holds live alert state up to {last_alert}; replaying from {todo[0]} would rewrite it. "
            "Replay into a copy with --into URL (e.g. sqlite:///replay.db)")
    if not force:
        raise UsageError(
            f"the store's replay has reached {max(done)} but {todo[0]} is not done: the alert state cannot go back "
            "in time. Use --force to replay the range from a clean alert state")
    moved = reset_alert_state(store, alerts_file)
    log.info("replay_reset", reason="--force", alerts_file_moved_to=str(moved) if moved else None)
    return list(days)


def copy_history(ctx: Context, url: str) -> Store:
    """A store at `url` holding the catalog and every stored observation of the configured one."""
    target = Store(url)
    target.init()
    target.sync_series(ctx.config.universe.series)
    frame = ctx.store.load_long([s.id for s in ctx.config.universe.series])
    target.upsert_observations(frame)
    log.info("history_copied", into=target.display_url, rows=len(frame))
    return target


# --- the run ----------------------------------------------------------------------------------------
@dataclass
class ReplaySummary:
    start: date
    end: date
    out_dir: Path
    days: int
    ran: list[date] = field(default_factory=list)
    skipped: int = 0
    reports: int = 0
    seconds: float = 0.0
    alerts_file: Path | None = None
    latest_report: Path | None = None
    track: TrackRecord | None = None
    track_files: tuple[Path, ...] = ()
    windows: tuple[tuple[date, date], ...] = ()  # runs of consecutive business days, when more than one

    def lines(self) -> list[str]:
        """What happened, for a terminal; the latest report last."""
        span = (f"in {len(self.windows)} windows ({', '.join(f'{a} .. {b}' for a, b in self.windows)})"
                if len(self.windows) > 1 else f"{self.start} .. {self.end}")
        out = [
            f"replayed {len(self.ran)} of {self.days} business days {span} in {self.seconds:.1f} s"
            + (f" ({self.skipped} already done, skipped)" if self.skipped else ""),
            f"reports written: {self.reports} under {self.out_dir / 'reports'}",
        ]
        if self.alerts_file is not None:
            n = sum(1 for _ in self.alerts_file.open(encoding="utf-8")) if self.alerts_file.exists() else 0
            out.append(f"alerts file: {self.alerts_file} ({n} notifications)")
        if self.track is not None:
            out.extend(summary_lines(self.track))
            out.append("track record: " + ", ".join(str(p) for p in self.track_files))
        out.append(f"latest report: {self.latest_report or 'none written'}")
        return out


def latest_report(store: Store, on_or_before: date | None = None) -> Path | None:
    """The newest report written (up to a date), HTML preferred."""
    r = t.reports
    stmt = select(r.c.as_of, r.c.format, r.c.path).order_by(r.c.as_of.desc()).limit(10)
    if on_or_before is not None:
        stmt = stmt.where(r.c.as_of <= on_or_before)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    if not rows:
        return None
    newest = [row for row in rows if row[0] == rows[0][0]]
    best = next((row for row in newest if row[1] == "html"), newest[0])
    return Path(best[2])


def run_replay(
    ctx: Context,
    start: date,
    end: date,
    out_dir: Path,
    *,
    receivers: ReceiverMode = "file",
    report_every: int = 1,
    force: bool = False,
    score: bool = False,
    into: str | None = None,
    progress: bool = True,
    logs_above_bar: bool = True,
    days: Sequence[date] | None = None,
) -> ReplaySummary:
    """Replay the cycle over the business days from start to end (or over `days`, business days
    between them: several windows in one run, such as the demo's episodes); see the module docstring.

    One replay per store at a time (two would interleave their days and alert states): a second
    one refuses, as a second daemon does."""
    from sco_monitor.daemon.lock import instance_name, store_lock

    target = Store(into) if into else ctx.store
    try:
        lock = store_lock(target, instance_name(), "replay")
    except UsageError:
        lock = None  # an in-memory store is nobody else's
    finally:
        if into:
            target.dispose()
    if lock is not None and not lock.try_acquire():
        holder = lock.holder()
        raise RunFailed(f"another replay is running on this store: "
                        f"{holder.instance if holder else 'another process'} holds the {lock.where}")
    try:
        return _replay(ctx, start, end, out_dir, receivers=receivers, report_every=report_every, force=force,
                       score=score, into=into, progress=progress, logs_above_bar=logs_above_bar, days=days)
    finally:
        if lock is not None:
            lock.release()


def _replay(ctx: Context, start: date, end: date, out_dir: Path, *, receivers: ReceiverMode, report_every: int,
            force: bool, score: bool, into: str | None, progress: bool,
            logs_above_bar: bool = True, days: Sequence[date] | None = None) -> ReplaySummary:
    began = time.monotonic()
    out_dir = out_dir.resolve()
    days = window_days(start, end, days)
    due = report_days(days, report_every)
    store = copy_history(ctx, into) if into else ctx.store
    rctx = replay_context(ctx, out_dir, receivers, store)
    alerts_file = out_dir / "alerts.jsonl" if receivers == "file" else None
    todo = plan(store, days, force, alerts_file)
    summary = ReplaySummary(start=days[0], end=days[-1], out_dir=out_dir, windows=tuple(runs_of(days)),
                            days=len(days), skipped=len(days) - len(todo), alerts_file=alerts_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    log.info("replay_started", start=str(start), end=str(end), days=len(days), to_run=len(todo),
             receivers=receivers, report_every=report_every, out=str(out_dir), store=store.display_url)
    last_now: datetime | None = None
    derived = DerivedEpisodes(rctx, days[-1])  # crisis days for every report's track record, derived once
    assess = cycle.WindowedAssessment(rctx, todo)  # one pass per year; only the models go day by day
    with progress_bar(len(todo), logs_above=logs_above_bar) if progress else nullcontext(lambda day: None) as advance:
        for day in todo:
            now = simulated_now(rctx.config.settings, day)
            reported = day in due
            result = cycle.run_day(
                rctx, day, now, steps=DAY_STEPS + (("report",) if reported else ()), save=True, record_history=True,
                assess=assess,
                # the report carries the track record as of its own day
                track_record=lambda day=day: report_section(rctx, day, derived=derived))
            failed = result.failed
            if failed:  # any failure stops the sequential replay, resumably
                assess.close(rctx)
                first = failed[0]
                if isinstance(first.error, UsageError):
                    raise first.error
                log.error("replay_day_failed", day=str(day), step=first.step, error=first.detail)
                raise RunFailed(
                    f"replay stopped at {day}: {first.detail}; {len(summary.ran)} days done this run; "
                    "run the same command again to resume from there") from first.error
            if reported:
                summary.reports += 1
            mark_done(store, day, ctx.run_id, reported)
            summary.ran.append(day)
            last_now = now
            advance(day)
    assess.close(rctx)
    if last_now is not None:  # flush notifications still inside their group wait
        cycle.run_day(rctx, None, last_now + timedelta(days=1), steps=("deliver",))
    summary.latest_report = latest_report(store, days[-1])
    if score:
        summary.track = track_record(rctx, days[0], days[-1])
        summary.track_files = write_track(summary.track, out_dir)
    summary.seconds = time.monotonic() - began
    log.info("replay_done", ran=len(summary.ran), skipped=summary.skipped, reports=summary.reports,
             seconds=round(summary.seconds, 1))
    return summary
