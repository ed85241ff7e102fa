"""`sco-monitor run`: the schedule, one active daemon per store, signals, /healthz and /metrics.

Life of a daemon: take the store lock (SQLite: refuse to start when another daemon holds it;
PostgreSQL: stand by and poll until it is free), mark runs a dead predecessor left `running` as
`interrupted`, schedule every enabled job, and run each missed fire time once (the latest within
the job's `catch_up`). APScheduler's MemoryJobStore forgets missed runs across restarts, so they
are computed from `job_runs` at start-up: a fire time after the job's last answered run
(ok, failed, timeout, skipped, missed) and before now was missed.

Each run goes to a worker process with the job's timeout (see `worker`). SIGTERM or SIGINT: no
new runs, running ones get `daemon.shutdown_grace` to finish and are then cancelled; a second
signal cancels at once; the process exits 0. SIGKILL loses nothing: the run's row stays
`running` and the next start catches it up.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from sco_monitor.config import AppConfig, ConfigError
from sco_monitor.config.cron import LocalCronTrigger, cron_trigger, latest_fire
from sco_monitor.config.settings import Schedule
from sco_monitor.config.types import format_duration
from sco_monitor.app import mistakes_section
from sco_monitor.context import Context
from sco_monitor.daemon import worker
from sco_monitor.daemon.health import JobHealth, evaluate
from sco_monitor.daemon.http import HttpEndpoints
from sco_monitor.daemon.jobs import Firing, JobFn, job_name, resolve_job
from sco_monitor.daemon.lock import Holder, instance_name, store_lock
from sco_monitor.daemon.metrics import DaemonMetrics, DaemonView
from sco_monitor.daemon.runs import JobRuns
from sco_monitor.daemon.worker import LogSettings, Outcome, Shutdown, run_in_worker
from sco_monitor.errors import RunFailed
from sco_monitor.logs import get_logger
from sco_monitor.store import Store, StoreError
from sco_monitor.timeutil import utcnow

log = get_logger("sco_monitor.daemon")
_fire_time = threading.local()


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    schedule: Schedule
    job: str
    fn: JobFn
    trigger: LocalCronTrigger


def plan_jobs(config: AppConfig) -> dict[str, ScheduledJob]:
    """The enabled schedules with their job functions loaded and triggers built."""
    tz = ZoneInfo(config.settings.timezone)
    jobs: dict[str, ScheduledJob] = {}
    for sid, schedule in config.settings.schedules.items():
        if not schedule.enabled:
            continue
        name = job_name(sid, schedule.job)
        try:
            fn = resolve_job(name)
        except (ImportError, KeyError, ValueError) as e:
            where = f"schedules.{sid}.job" if schedule.job else f"schedules.{sid}"
            raise ConfigError(config.path, where, f"cannot load job {name!r}: {e}") from None
        jobs[sid] = ScheduledJob(sid, schedule, name, fn, cron_trigger(schedule.cron, tz))
    return jobs


class _FiringExecutor(ThreadPoolExecutor):
    """APScheduler 3 does not tell a job which fire time it answers; this executor does."""

    def _do_submit_job(self, job, run_times):  # noqa: ANN001, ANN202 - APScheduler's signature
        def call() -> list[Any]:
            events: list[Any] = []
            for run_time in run_times:
                _fire_time.value = run_time
                try:
                    events.extend(run_job(job, job._jobstore_alias, [run_time], self._logger.name))
                finally:
                    _fire_time.value = None
            return events

        def done(f) -> None:  # noqa: ANN001 - a Future
            exc = f.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(call).add_done_callback(done)


class _ToStructlog(logging.Handler):
    """APScheduler logs through stdlib logging; its warnings join the daemon's structured lines,
    except the skipped and missed runs, which the daemon logs (and records) itself."""

    _OWN = ("maximum number of running instances reached", "was missed by")

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(part in message for part in self._OWN):
            get_logger(record.name).log(record.levelno, message)


class Daemon:
    def __init__(self, config: AppConfig, *, listen: str | None = None, log_settings: LogSettings | None = None) -> None:
        s = config.settings
        self.config, self.settings = config, s
        self.tz = ZoneInfo(s.timezone)
        self.instance = instance_name()
        self.log_settings = log_settings or LogSettings()
        self.store = Store(s.store.url)
        self.lock = store_lock(self.store, self.instance)
        self.jobs = plan_jobs(config)
        self.runs = JobRuns(self.store.engine)
        self.role = "starting"
        self.active_since: datetime | None = None
        self.shutdown = Shutdown()
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self._catch_up: dict[str, datetime] = {}
        self._holder: Holder | None = None
        self._inflight = 0
        self._inflight_cv = threading.Condition()
        self._prune_lock = threading.Lock()
        self._next_prune = 0.0
        self._signal_state: tuple[dict[int, Any], int, int, int] | None = None
        cycle = [sid for sid, j in self.jobs.items() if j.job == "assess"]
        self.metrics = DaemonMetrics(self.store, DaemonView(
            role=lambda: self.role, scheduler_running=self.scheduler_running, job_health=self.job_health,
            cycle_jobs=lambda: cycle), s.timezone)
        self.http = HttpEndpoints(listen or s.http.listen, self.health, self.metrics.render,
                                  Context.from_parts(config, self.store, mistakes=mistakes_section))

    # --- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        """Run until SIGTERM/SIGINT; raises RunFailed when another daemon holds a SQLite store."""
        acquired = self.lock.try_acquire()
        if not acquired and not self.lock.standby_allowed:
            holder = self.lock.holder()
            who = holder.instance if holder else "another process"
            raise RunFailed(f"another daemon is running on this store: {who} holds the {self.lock.where}")
        self._install_signals()
        _bridge_stdlib_logging()
        try:
            self.http.start()
            # the forkserver imports the engine while the lock and the schedule are set up
            threading.Thread(target=worker.warm_up, name="warm-up", daemon=True).start()
            from sco_monitor.daemon.status import unscheduled_defaults

            log.info("daemon_started", instance=self.instance, store=self.store.display_url,
                     listen=self.http.address, timezone=self.settings.timezone, jobs=sorted(self.jobs),
                     unscheduled_defaults=unscheduled_defaults(self.config))
            while not self._stop.is_set():
                if not acquired:
                    acquired = self._stand_by()
                    continue
                self._active_term()
                acquired = False
        finally:
            self.role = "stopping"
            self.lock.release()
            self.http.stop()
            self.store.dispose()
            self._restore_signals()
            log.info("daemon_stopped", instance=self.instance)

    def _stand_by(self) -> bool:
        """Poll the lock until it is ours (True) or the daemon is told to stop (False)."""
        self.role = "standby"
        poll = self.settings.daemon.standby_poll.total_seconds()
        self._holder = self.lock.holder()
        log.info("standing_by", holder=self._holder.instance if self._holder else None,
                 lock=self.lock.where, poll_seconds=poll)
        while not self._stop.wait(poll):
            if self.lock.try_acquire():
                log.info("store_lock_taken_over", lock=self.lock.where)
                return True
            self._holder = self.lock.holder()
        return False

    def _active_term(self) -> None:
        """Run the schedule while this daemon holds the lock and is not told to stop."""
        self.role = "starting"
        if not self._stop.is_set():
            self.shutdown.reset()
        self._lost.clear()
        try:
            scheduler = self._prepare()
        except (StoreError, SQLAlchemyError) as e:
            log.error("schedule_start_failed", error=str(e).splitlines()[0])
            self.lock.release()
            self._stop.wait(self.settings.daemon.standby_poll.total_seconds())
            return
        started = threading.Event()
        control = threading.Thread(target=self._control, args=(scheduler, started), name="control", daemon=True)
        control.start()
        self.active_since = utcnow()
        self.role = "active"
        try:
            if not self._stop.is_set():
                scheduler.start()
        finally:
            started.set()
            self.role = "stopping"
            if self._lost.is_set():
                self.shutdown.force()  # another replica may be taking over: stop at once
            else:
                self.shutdown.begin(self.settings.daemon.shutdown_grace.total_seconds())
            self._wait_inflight()
            control.join(5)
            self._scheduler = None
            if self._lost.is_set():
                log.error("store_lock_lost", lock=self.lock.where)
                self.lock.release()

    def _prepare(self) -> BlockingScheduler:
        self.store.init()
        self.store.sync_series(self.config.universe.series)
        for run in self.runs.interrupt_orphans(self.instance):
            log.warning("run_interrupted", job=run.job_id,
                        scheduled_at=run.scheduled_at.isoformat() if run.scheduled_at else None,
                        instance=run.instance)
        from sco_monitor.store.collection import interrupt_running

        if stuck := interrupt_running(self.store, self.instance):
            log.warning("collection_runs_interrupted", rows=stuck)
        scheduler = BlockingScheduler(
            timezone=self.tz,
            executors={"default": _FiringExecutor(max_workers=len(self.jobs) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        now = utcnow()
        self._catch_up = {}
        for job in self.jobs.values():
            grace = job.schedule.catch_up
            extra: dict[str, Any] = {}
            anchor = self.runs.catch_up_anchor(job.id)
            if anchor is not None and grace.total_seconds() > 0:
                missed = latest_fire(job.trigger, now, max(anchor, now - grace))
                if missed is not None:
                    extra["next_run_time"] = missed
                    self._catch_up[job.id] = missed
                    log.info("missed_run_caught_up", job=job.id, scheduled_at=_utc(missed))
            scheduler.add_job(self._run_job, trigger=job.trigger, args=[job.id], id=job.id, name=job.id,
                              coalesce=True, max_instances=1, replace_existing=True,
                              misfire_grace_time=max(1, int(grace.total_seconds())), **extra)
        self._scheduler = scheduler
        return scheduler

    def _control(self, scheduler: BlockingScheduler, main_returned: threading.Event) -> None:
        """Watch the lock and the stop flag; stop the scheduler when either says so."""
        poll = self.settings.daemon.standby_poll.total_seconds()
        every = max(0.5, min(poll / 2, 5.0))
        next_check = time.monotonic() + every
        while not self._stop.wait(0.2):
            if time.monotonic() >= next_check:
                if not self.lock.verify():
                    self._lost.set()
                    break
                next_check = time.monotonic() + every
        while scheduler.state == STATE_STOPPED and not main_returned.wait(0.05):
            pass  # start() has not begun yet: wait for it, or for the main thread to skip it
        if scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=False)

    def scheduler_running(self) -> bool:
        s = self._scheduler
        return s is not None and s.state != STATE_STOPPED and self.role == "active"

    # --- one run -------------------------------------------------------------------------------
    def _run_job(self, job_id: str) -> None:
        """The APScheduler job function: record, run in a worker, record the outcome."""
        scheduled_at = (getattr(_fire_time, "value", None) or utcnow()).astimezone(UTC)
        job = self.jobs[job_id]
        kind = "catch-up" if self._catch_up.pop(job_id, None) is not None else "scheduled"
        with self._tracked(), structlog.contextvars.bound_contextvars(run_id=self.log_settings.run_id):
            if self.shutdown.requested:
                return  # unanswered: the next start catches it up
            started, t0 = utcnow(), time.monotonic()
            run_id = self._record(lambda: self.runs.start(job_id, scheduled_at, self.instance, kind), job_id)
            firing = Firing(job_id, scheduled_at, self.settings.timezone, dict(job.schedule.params), run_id)
            log.info("job_started", job=job_id, scheduled_at=scheduled_at.isoformat(), kind=kind, run=run_id)
            try:
                outcome = run_in_worker(job.fn, self.config, firing, timeout=job.schedule.timeout.total_seconds(),
                                        shutdown=self.shutdown, log=self.log_settings)
            except Exception as e:  # noqa: BLE001 - the worker could not even start
                outcome = Outcome("failed", f"cannot start a worker: {type(e).__name__}: {e}")
            seconds = time.monotonic() - t0
            if run_id is not None:
                self._record(lambda: self.runs.finish(run_id, outcome.status, outcome.error, outcome.detail), job_id)
            else:
                self._record(lambda: self.runs.record(job_id, scheduled_at, outcome.status, self.instance,
                                                      outcome.error, kind, started_at=started), job_id)
            self.metrics.observe(job_id, outcome.status, seconds)
            self._prune_now_and_then()
            level = logging.INFO if outcome.status == "ok" else logging.WARNING
            log.log(level, "job finished", job=job_id, status=outcome.status, seconds=round(seconds, 3),
                    error=outcome.error, detail=outcome.detail, run=run_id)

    def _prune_now_and_then(self) -> None:
        """Keep `job_runs` to `daemon.keep_runs`; checked at most hourly, after a run."""
        with self._prune_lock:
            if time.monotonic() < self._next_prune:
                return
            self._next_prune = time.monotonic() + 3600
        cutoff = utcnow() - self.settings.daemon.keep_runs
        deleted = self._record(lambda: self.runs.prune(cutoff), "job_runs")
        if deleted:
            log.info("job_runs_pruned", rows=deleted, before=cutoff.isoformat())

    def _record(self, write, job_id: str):  # noqa: ANN001, ANN202 - a thunk and its result
        try:
            return write()
        except SQLAlchemyError as e:
            log.error("job_runs_write_failed", job=job_id, error=str(e).splitlines()[0])
            return None

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._inflight_cv:
            self._inflight += 1
        try:
            yield
        finally:
            with self._inflight_cv:
                self._inflight -= 1
                self._inflight_cv.notify_all()

    def _wait_inflight(self) -> None:
        with self._inflight_cv:
            while self._inflight:
                self._inflight_cv.wait(0.5)

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            grace = format_duration(self.jobs[event.job_id].schedule.catch_up)
            self._record(lambda: self.runs.record(
                event.job_id, event.scheduled_run_time, "missed", self.instance,
                f"could not start within catch_up ({grace}) of its fire time"), event.job_id)
            log.warning("run_missed", job=event.job_id, scheduled_at=_utc(event.scheduled_run_time))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            when = event.scheduled_run_times[-1]
            self._record(lambda: self.runs.record(
                event.job_id, when, "skipped", self.instance, "the previous run was still going"), event.job_id)
            log.warning("run_skipped_previous_still_running", job=event.job_id,
                        scheduled_at=_utc(when))

    # --- health ----------------------------------------------------------------------------------
    def job_health(self) -> dict[str, JobHealth]:
        history = self.runs.history(self.jobs)
        now = utcnow()
        stale = self.settings.http.stale_after
        return {jid: evaluate(jid, job.trigger, history[jid], now, stale, self.active_since)
                for jid, job in self.jobs.items()}

    def health(self) -> tuple[int, dict[str, Any]]:
        """(status code, body) of /healthz."""
        doc: dict[str, Any] = {"status": "ok", "role": self.role, "instance": self.instance,
                               "timezone": self.settings.timezone, "time": utcnow().isoformat()}
        if self.role == "standby":
            doc["active"] = self._holder.instance if self._holder else None
            return 200, doc
        if not self.scheduler_running():
            doc.update(status="failing", reasons=[f"the scheduler is not running (role {self.role})"])
            return 503, doc
        doc["active_since"] = self.active_since.isoformat() if self.active_since else None
        try:
            health = self.job_health()
        except SQLAlchemyError as e:
            doc.update(status="failing", reasons=[f"store unreachable: {str(e).splitlines()[0]}"])
            return 503, doc
        doc["jobs"] = {jid: h.to_dict() for jid, h in health.items()}
        reasons = [f"{jid}: {h.reason}" for jid, h in health.items() if not h.healthy]
        if reasons:
            doc.update(status="failing", reasons=reasons)
            return 503, doc
        problems = [f"{jid}: {h.problem}" for jid, h in health.items() if h.degraded]
        if problems:  # the schedule runs, but the last run of some job lost work: say so, still 200
            doc.update(status="degraded", problems=problems)
        return 200, doc

    # --- signals ---------------------------------------------------------------------------------
    def _install_signals(self) -> None:
        """Signals wake a thread through a pipe, so stopping never runs inside a signal handler."""
        if threading.current_thread() is not threading.main_thread():
            return
        r, w = os.pipe()
        os.set_blocking(w, False)
        old = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGTERM, signal.SIGINT)}
        old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self._signal_state = (old, old_fd, r, w)
        threading.Thread(target=self._signal_loop, args=(r,), name="signals", daemon=True).start()

    def _signal_loop(self, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 16)
            except OSError:
                return
            if not data:  # the write end was closed: the daemon is done
                os.close(fd)
                return
            for signum in data:
                if signum in (signal.SIGTERM, signal.SIGINT):
                    self.request_stop(signal.Signals(signum).name)

    def request_stop(self, why: str = "requested") -> None:
        """First call: stop taking runs, give running ones the grace period. Second: cancel now."""
        grace = self.settings.daemon.shutdown_grace
        if not self._stop.is_set():
            log.info("stopping", reason=why, grace=format_duration(grace))
            self.shutdown.begin(grace.total_seconds())
            self._stop.set()
        else:
            log.warning("stopping_now", reason=why)
            self.shutdown.force()

    def _restore_signals(self) -> None:
        if self._signal_state is None:
            return
        old, old_fd, _, w = self._signal_state
        signal.set_wakeup_fd(old_fd)
        for sig, handler in old.items():
            signal.signal(sig, handler)
        os.close(w)
        self._signal_state = None


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _ignore(signum: int, frame: object) -> None:
    """The Python-level handler; the work happens in the thread woken by the wakeup fd."""


def _bridge_stdlib_logging() -> None:
    aps = logging.getLogger("apscheduler")
    aps.setLevel(logging.WARNING)
    aps.propagate = False
    if not any(isinstance(h, _ToStructlog) for h in aps.handlers):
        aps.addHandler(_ToStructlog())


def run_daemon(ctx: Context, listen: str | None, log_format: str, log_level: str) -> None:
    """The `run` command."""
    import sys

    fmt = log_format if log_format != "auto" else ("console" if sys.stderr.isatty() else "json")
    Daemon(ctx.config, listen=listen, log_settings=LogSettings(fmt, log_level, ctx.run_id)).run()
