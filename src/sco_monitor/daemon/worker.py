"""Each job run happens in its own worker process, so a hung provider can be stopped, not waited for.

Workers fork from a forkserver that preloads the package (and the cycle), so a run costs a fork,
not an interpreter start. The daemon waits for the result until the job's timeout, then stops the
worker (SIGTERM, then SIGKILL) and records `timeout`; on shutdown it gives the worker the grace
period, then cancels it. A worker whose daemon died (SIGKILL) exits by itself within a second, so
a restarted daemon never races an orphan. Killing a worker mid-transaction loses nothing: the
database rolls the transaction back.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

import structlog

from sco_monitor.config import AppConfig
from sco_monitor.app import mistakes_section
from sco_monitor.context import Context
from sco_monitor.daemon.jobs import Firing, JobFn
from sco_monitor.daemon.lock import pid_alive
from sco_monitor.logs import configure, get_logger

_PRELOAD = ["sco_monitor.daemon.preload"]
_STOP_WAIT = 3.0
_SUMMARY_CHARS = 2000
_mp_lock = threading.Lock()
_mp: multiprocessing.context.BaseContext | None = None


@dataclass(frozen=True)
class LogSettings:
    format: str = "json"
    level: str = "info"
    run_id: str = ""


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | partial | failed | timeout | cancelled
    error: str | None = None
    detail: str | None = None


class Shutdown:
    """When running jobs must give up: a deadline set by the first signal, moved to now by the second."""

    def __init__(self) -> None:
        self._deadline: float | None = None

    def begin(self, grace: float) -> None:
        if self._deadline is None:
            self._deadline = time.monotonic() + grace

    def force(self) -> None:
        self._deadline = time.monotonic()

    def reset(self) -> None:
        self._deadline = None

    @property
    def requested(self) -> bool:
        return self._deadline is not None

    def due(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline


def mp_context() -> multiprocessing.context.BaseContext:
    global _mp
    with _mp_lock:
        if _mp is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            _mp = ctx
    return _mp


def warm_up() -> None:
    """Start the forkserver and wait for its imports, so the first run does not pay for them."""
    proc = mp_context().Process(target=_noop, name="sco-monitor warm-up")
    proc.start()
    proc.join()
    proc.close()


def _noop() -> None:
    """A process that proves the forkserver is ready."""


def run_in_worker(fn: JobFn, config: AppConfig, firing: Firing, *, timeout: float,
                  shutdown: Shutdown, log: LogSettings) -> Outcome:
    """Run one job in a worker process; never raises for what the job does."""
    mp = mp_context()
    receiver, sender = mp.Pipe(duplex=False)
    proc = mp.Process(target=_child, args=(sender, fn, config, firing, log, os.getpid()),
                      name=f"sco-monitor job {firing.job_id}")
    proc.start()
    sender.close()
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready = wait([receiver, proc.sentinel], timeout=0.2)
            if receiver in ready:
                try:
                    status, error, detail = receiver.recv()
                except EOFError:
                    proc.join(_STOP_WAIT)
                    return Outcome("failed", f"the worker died (exit code {proc.exitcode})")
                proc.join(_STOP_WAIT)
                return Outcome(status, error, detail)
            if proc.sentinel in ready:
                if receiver.poll():
                    continue
                proc.join()
                return Outcome("failed", f"the worker died (exit code {proc.exitcode})")
            if time.monotonic() >= deadline:
                return Outcome("timeout", f"no result after {_seconds(timeout)}; the worker was stopped")
            if shutdown.due():
                return Outcome("cancelled", "the daemon was stopping; the worker was stopped")
    finally:
        _stop(proc)
        receiver.close()


def _stop(proc: multiprocessing.process.BaseProcess) -> None:
    if proc.is_alive():
        proc.terminate()
        proc.join(_STOP_WAIT)
        if proc.is_alive():
            proc.kill()
    proc.join()
    proc.close()


def _seconds(s: float) -> str:
    return f"{s:g}s"


def _child(conn: Connection, fn: JobFn, config: AppConfig, firing: Firing, log: LogSettings,
           daemon_pid: int) -> None:
    """Worker entry: run the job, send (status, error, detail) back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the daemon decides
    signal.signal(signal.SIGTERM, _stopped)  # timeout or shutdown: unwind, so `finally` blocks record it
    _watch_parent(daemon_pid)
    configure(log.format, log.level, log.run_id)  # type: ignore[arg-type]
    structlog.contextvars.bind_contextvars(job=firing.job_id, job_run=firing.run_id, pid=os.getpid())
    logger = get_logger("sco_monitor.daemon.worker")
    from sco_monitor.store import Store

    store = Store(config.settings.store.url)
    try:
        result = fn(Context.from_parts(config, store, log.run_id, mistakes=mistakes_section), firing)
        message = _verdict(result)
    except Stopped:
        logger.warning("job_stopped", job=firing.job_id)
        return  # the daemon already records timeout or cancelled; `finally` blocks have run
    except Exception as e:  # noqa: BLE001 - a job's failure is recorded, never raised into the daemon
        logger.exception("job_raised", error=str(e))
        message = ("failed", f"{type(e).__name__}: {e}"[:_SUMMARY_CHARS], None)
    finally:
        store.dispose()
    conn.send(message)
    conn.close()


class Stopped(BaseException):
    """The daemon stopped this worker (timeout, shutdown); not an Exception, so no job swallows it."""


def _stopped(signum: int, frame: object) -> None:
    raise Stopped(f"stopped by signal {signum}")


def _verdict(result: object) -> tuple[str, str | None, str | None]:
    """(status, error, detail) of a job's result: a result that lost work says partial or failed."""
    from sco_monitor.cycle import result_status

    status = result_status(result)
    problem = getattr(result, "problem", None)
    error = problem() if status != "ok" and callable(problem) else None
    return status, error[:_SUMMARY_CHARS] if error else None, _summary(result)


def _summary(result: object) -> str | None:
    """The result's own summary line (never a repr), else its text."""
    if result is None:
        return None
    summary = getattr(result, "summary", None)
    text = (summary() if callable(summary) else str(result)).strip().replace("\n", " ")
    return text[:_SUMMARY_CHARS] or None


def _watch_parent(daemon_pid: int) -> None:
    """Exit when the daemon is gone (its forkserver exits with it, which re-parents this worker)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.3)
            if os.getppid() != parent or not pid_alive(daemon_pid):
                os._exit(75)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
