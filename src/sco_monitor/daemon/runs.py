"""`job_runs`: every run of every job, written before the run starts and when it ends.

A row left `running` by a daemon that died is an orphan: the next active daemon marks it
`interrupted`, and its fire time counts as missed, so the catch-up runs it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from sco_monitor.store.schema import job_runs as t
from sco_monitor.timeutil import utcnow

# A run with one of these statuses answered its fire time; the others (running, cancelled,
# interrupted) did not, and a restart catches them up.
ANSWERED = ("ok", "partial", "failed", "timeout", "skipped", "missed")
# A run that did its work, all of it (ok) or some of it (partial: e.g. a series failed): it counts
# against `overdue`; a partial run still makes the job degraded until a run is ok again.
SUCCEEDED = ("ok", "partial")
# Rows that say nothing about how the job itself went: still going, or never started.
_NOT_RUN = ("running", "skipped", "missed")
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class JobRun:
    id: int
    job_id: str
    scheduled_at: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    kind: str
    instance: str
    detail: str | None

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


@dataclass(frozen=True)
class JobHistory:
    """What health and status need about one job."""

    last: JobRun | None
    last_ok: JobRun | None
    first_scheduled: datetime | None
    last_done: JobRun | None = None  # the last run that ran and is over (not running, skipped or missed)
    last_success: JobRun | None = None  # the last run that did its work, at least partly (ok or partial)


class JobRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, job_id: str, scheduled_at: datetime, instance: str, kind: str = "scheduled") -> int:
        with self.engine.begin() as conn:
            res = conn.execute(insert(t).values(
                job_id=job_id, scheduled_at=scheduled_at, started_at=utcnow(), status="running",
                kind=kind, instance=instance))
            return int(res.inserted_primary_key[0])

    def finish(self, run_id: int, status: str, error: str | None = None, detail: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == run_id).values(
                status=status, error=error, detail=detail, finished_at=utcnow()))

    def record(self, job_id: str, scheduled_at: datetime | None, status: str, instance: str,
               error: str | None = None, kind: str = "scheduled", started_at: datetime | None = None) -> int:
        """A run that is already over (skipped, missed, or one whose start could not be written)."""
        now = utcnow()
        with self.engine.begin() as conn:
            res = conn.execute(insert(t).values(
                job_id=job_id, scheduled_at=scheduled_at, started_at=started_at or now, finished_at=now,
                status=status, error=error, kind=kind, instance=instance))
            return int(res.inserted_primary_key[0])

    def interrupt_orphans(self, by: str) -> list[JobRun]:
        """Mark runs left `running` by a daemon that is gone; called by the lock holder only."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(t).where(t.c.status == "running")).all()
            if rows:
                conn.execute(update(t).where(t.c.id.in_([r.id for r in rows])).values(
                    status="interrupted", finished_at=utcnow(),
                    error=f"the daemon running it stopped mid-run; noticed by {by}"))
        return [_run(r) for r in rows]

    def prune(self, older_than: datetime) -> int:
        """Delete finished runs that started before `older_than`; returns how many."""
        with self.engine.begin() as conn:
            res = conn.execute(delete(t).where(t.c.started_at < older_than, t.c.status != "running"))
        return max(res.rowcount or 0, 0)

    def catch_up_anchor(self, job_id: str) -> datetime | None:
        """Fire times after this one are unanswered; None when the job never ran here."""
        with self.engine.connect() as conn:
            answered = conn.execute(select(func.max(t.c.scheduled_at)).where(
                t.c.job_id == job_id, t.c.status.in_(ANSWERED))).scalar()
            if answered is not None:
                return _aware(answered)
            first = conn.execute(select(func.min(t.c.scheduled_at)).where(t.c.job_id == job_id)).scalar()
        return _aware(first) - _TICK if first is not None else None

    def history(self, job_ids: Iterable[str]) -> dict[str, JobHistory]:
        out: dict[str, JobHistory] = {}
        with self.engine.connect() as conn:
            for job_id in job_ids:
                last = conn.execute(select(t).where(t.c.job_id == job_id)
                                    .order_by(t.c.started_at.desc(), t.c.id.desc()).limit(1)).first()
                last_ok = conn.execute(select(t).where(t.c.job_id == job_id, t.c.status == "ok")
                                       .order_by(t.c.scheduled_at.desc(), t.c.id.desc()).limit(1)).first()
                done_any = conn.execute(select(t).where(t.c.job_id == job_id, t.c.status.in_(SUCCEEDED))
                                        .order_by(t.c.scheduled_at.desc(), t.c.id.desc()).limit(1)).first()
                first = conn.execute(select(func.min(t.c.scheduled_at)).where(t.c.job_id == job_id)).scalar()
                done = last if last is None or last.status not in _NOT_RUN else conn.execute(
                    select(t).where(t.c.job_id == job_id, t.c.status.not_in(_NOT_RUN))
                    .order_by(t.c.started_at.desc(), t.c.id.desc()).limit(1)).first()
                out[job_id] = JobHistory(_run(last) if last else None, _run(last_ok) if last_ok else None,
                                         _aware(first) if first is not None else None,
                                         _run(done) if done else None, _run(done_any) if done_any else None)
        return out

    def list(self, job_id: str | None = None, limit: int = 1000) -> list[JobRun]:
        stmt = select(t).order_by(t.c.id)
        if job_id is not None:
            stmt = stmt.where(t.c.job_id == job_id)
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(stmt.limit(limit)).all()]


def _aware(value: datetime | str) -> datetime:
    """Aggregates bypass the column type on SQLite; read them back as aware UTC."""
    return t.c.scheduled_at.type.process_result_value(value, None)


def _run(row) -> JobRun:  # noqa: ANN001 - a Row of job_runs
    return JobRun(id=row.id, job_id=row.job_id, scheduled_at=row.scheduled_at, started_at=row.started_at,
                  finished_at=row.finished_at, status=row.status, error=row.error, kind=row.kind,
                  instance=row.instance, detail=row.detail)
