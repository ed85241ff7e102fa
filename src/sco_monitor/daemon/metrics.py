"""/metrics: job outcomes and durations counted in-process; store state read at scrape time.

A scrape never fails because the store does: the store-derived families are left out and
`sco_monitor_store_up` says 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from sco_monitor.daemon.health import JobHealth
from sco_monitor.store import Store
from sco_monitor.store.collection import FAILED_STATUSES
from sco_monitor.store.schema import alerts, collection_runs, notifications, observations, series
from sco_monitor.timeutil import to_date, utcnow
from sco_monitor.vocabulary import STALE_AFTER_DAYS, is_stale

#: Statuses of a finished run, one-hot in sco_monitor_job_last_status.
RUN_STATUSES = ("ok", "partial", "failed", "timeout", "cancelled", "interrupted")
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


@dataclass
class DaemonView:
    """What the collector reads from the daemon at scrape time."""

    role: Callable[[], str]
    scheduler_running: Callable[[], bool]
    job_health: Callable[[], dict[str, JobHealth]]
    cycle_jobs: Callable[[], list[str]] = field(default=list)


class DaemonMetrics:
    def __init__(self, store: Store, view: DaemonView, timezone: str) -> None:
        disable_created_metrics()  # *_created series only double the output of a long-lived daemon
        self.registry = CollectorRegistry()
        self.runs = Counter("sco_monitor_job_runs", "Job runs by outcome since the daemon started.",
                            ["job", "status"], registry=self.registry)
        self.duration = Histogram("sco_monitor_job_duration_seconds", "Wall time of job runs.", ["job"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        self.registry.register(_StateCollector(store, view, ZoneInfo(timezone)))
        ProcessCollector(registry=self.registry)

    def observe(self, job_id: str, status: str, seconds: float) -> None:
        self.runs.labels(job_id, status).inc()
        self.duration.labels(job_id).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _StateCollector:
    def __init__(self, store: Store, view: DaemonView, tz: ZoneInfo) -> None:
        self.store, self.view, self.tz = store, view, tz

    def collect(self) -> Iterator[Metric]:
        role = self.view.role()
        g = GaugeMetricFamily("sco_monitor_role", "1 for the role this daemon plays now.", labels=["role"])
        for name in ("active", "standby", "starting", "stopping"):
            g.add_metric([name], 1.0 if role == name else 0.0)
        yield g
        yield GaugeMetricFamily("sco_monitor_scheduler_running", "1 while the scheduler runs.",
                                value=1.0 if self.view.scheduler_running() else 0.0)
        if role != "active":
            return
        try:
            families = list(self._store_families())
        except SQLAlchemyError:
            yield GaugeMetricFamily("sco_monitor_store_up", "1 when the store answered this scrape.", value=0.0)
            return
        yield GaugeMetricFamily("sco_monitor_store_up", "1 when the store answered this scrape.", value=1.0)
        yield from families

    def _store_families(self) -> Iterator[Metric]:
        health = self.view.job_health()
        last_ok = GaugeMetricFamily("sco_monitor_job_last_success_timestamp_seconds",
                                    "End of the last successful run of each job (Unix time).", labels=["job"])
        last_run = GaugeMetricFamily("sco_monitor_job_last_run_timestamp_seconds",
                                     "Start of the last run of each job (Unix time).", labels=["job"])
        healthy = GaugeMetricFamily(
            "sco_monitor_job_healthy",
            "1 when the job is neither overdue (due longer than http.stale_after) nor degraded "
            "(its last finished run was partial, failed, timed out, cancelled or interrupted).", labels=["job"])
        last_status = GaugeMetricFamily("sco_monitor_job_last_status",
                                        "1 for the status of each job's last finished run.", labels=["job", "status"])
        for job_id, h in health.items():
            if h.last_ok is not None and h.last_ok.finished_at is not None:
                last_ok.add_metric([job_id], h.last_ok.finished_at.timestamp())
            if h.last is not None:
                last_run.add_metric([job_id], h.last.started_at.timestamp())
            healthy.add_metric([job_id], 1.0 if h.healthy and not h.degraded else 0.0)
            if h.last_done is not None:
                for status in RUN_STATUSES:
                    last_status.add_metric([job_id, status], 1.0 if h.last_done.status == status else 0.0)
        yield from (last_ok, last_run, healthy, last_status)
        cycle_ok = [h.last_ok.finished_at for j, h in health.items()
                    if j in self.view.cycle_jobs() and h.last_ok is not None and h.last_ok.finished_at is not None]
        if cycle_ok:
            yield GaugeMetricFamily("sco_monitor_last_successful_cycle_timestamp_seconds",
                                    "End of the last successful assessment run (Unix time).",
                                    value=max(cycle_ok).timestamp())

        with self.store.engine.connect() as conn:
            newest = select(func.max(observations.c.date)).where(
                observations.c.series_id == series.c.id).scalar_subquery()
            rows = conn.execute(select(series.c.frequency, series.c.publication_lag_days, newest)
                                .where(series.c.enabled.is_(True))).all()
            alert_rows = conn.execute(select(alerts.c.state, alerts.c.severity, func.count())
                                      .group_by(alerts.c.state, alerts.c.severity)).all()
            outbox = conn.execute(select(notifications.c.status, func.count(), func.min(notifications.c.created_at))
                                  .group_by(notifications.c.status)).all()
            failed_series = _failed_by_source(conn)
        today = utcnow().astimezone(self.tz).date()
        collected = [(freq, lag, to_date(d)) for freq, lag, d in rows if d is not None]
        yield GaugeMetricFamily("sco_monitor_series_enabled", "Enabled series in the catalog.", value=len(rows))
        yield GaugeMetricFamily("sco_monitor_series_collected", "Enabled series with at least one observation.",
                                value=len(collected))
        yield GaugeMetricFamily(
            "sco_monitor_series_stale",
            "Enabled series whose newest observation is older than its frequency allows "
            f"(days: {', '.join(f'{k} {v}' for k, v in STALE_AFTER_DAYS.items())}, plus the publication lag), "
            "or that have none.",
            value=sum(1 for f, lag, d in _with_missing(rows) if is_stale(f, lag, d, today)))
        failing = GaugeMetricFamily(
            "sco_monitor_series_failed",
            "Enabled series whose last collection failed or came back empty, by source.", labels=["source"])
        for source, n in sorted(failed_series.items()):
            failing.add_metric([source], float(n))
        yield failing
        by_state = GaugeMetricFamily("sco_monitor_alerts", "Alerts by state and severity.",
                                     labels=["state", "severity"])
        for state, severity, n in alert_rows:
            by_state.add_metric([state, severity], float(n))
        yield by_state
        counts = {status: (n, oldest) for status, n, oldest in outbox}
        yield GaugeMetricFamily("sco_monitor_outbox_depth", "Notifications waiting in the outbox.",
                                value=float(counts.get("pending", (0, None))[0]))
        yield GaugeMetricFamily("sco_monitor_outbox_failed", "Notifications the outbox gave up on.",
                                value=float(counts.get("failed", (0, None))[0]))
        oldest = counts.get("pending", (0, None))[1]
        age = (utcnow() - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("sco_monitor_outbox_oldest_pending_age_seconds",
                                "Age of the oldest notification waiting in the outbox.", value=age)


def _failed_by_source(conn: Connection) -> dict[str, int]:
    """source -> enabled series whose latest finished collection_runs row is failed or empty (0 for the rest)."""
    r = collection_runs
    latest = (select(r.c.series_id, func.max(r.c.id).label("id"))
              .where(r.c.status.not_in(["running", "interrupted"])).group_by(r.c.series_id).subquery())
    rows = conn.execute(
        select(series.c.source, r.c.status)
        .select_from(series.outerjoin(latest, latest.c.series_id == series.c.id).outerjoin(r, r.c.id == latest.c.id))
        .where(series.c.enabled.is_(True))).all()
    out: dict[str, int] = {}
    for source, status in rows:
        out[source] = out.get(source, 0) + (1 if status in FAILED_STATUSES else 0)
    return out


def _with_missing(rows: list) -> Iterator[tuple[str, int, date | None]]:
    for freq, lag, d in rows:
        yield freq, int(lag or 0), to_date(d) if d is not None else None


def _aware(value: datetime | str) -> datetime:
    return notifications.c.created_at.type.process_result_value(value, None)
