"""The daily digest: the report as a mail (HTML with a text alternative) through the alerting outbox.

One outbox row per receiver, idempotent on `digest:<as_of>:<receiver>`; the alerting deliverer
sends it. Writing the same digest twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from sco_monitor.config import AppConfig
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import render_html, render_md
from sco_monitor.store import Store
from sco_monitor.store import schema as t


def subject(report: Report) -> str:
    ov = report.overall
    parts = [f"SCO risk report {report.as_of}: {ov.level.upper()}"]
    c = ov.counts
    if c.get("critical_breaches") or c.get("warn_breaches"):
        parts.append(f"{c.get('critical_breaches', 0)} critical, {c.get('warn_breaches', 0)} warnings")
    if report.joint_actions:
        parts.append(f"{len(report.joint_actions)} joint action plan{'s' if len(report.joint_actions) > 1 else ''}")
    if ov.status in ("stale", "no_data"):
        parts.append("stale data" if ov.status == "stale" else "no data")
    return " · ".join(parts)


def payload(report: Report) -> dict[str, str]:
    """Subject, plain text (the Markdown report) and HTML (the report without charts: mail clients drop SVG)."""
    return {
        "subject": subject(report),
        "text": render_md(report, {}, chart_dir=None).text,
        "html": render_html(report, {}, email=True).text,
    }


def _insert_ignore(conn: Connection, rows: list[dict[str, Any]]) -> int:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(t.notifications).on_conflict_do_nothing(index_elements=["idempotency_key"])
    stmt = stmt.returning(t.notifications.c.id)  # a skipped duplicate returns no row, on both backends
    return sum(len(conn.execute(stmt, row).all()) for row in rows)


def enqueue_digest(store: Store, config: AppConfig, report: Report, now: datetime) -> int:
    """Queue the digest for every receiver in report.digest_receivers; returns rows newly queued."""
    receivers = config.settings.report.digest_receivers
    if not receivers:
        return 0
    body = payload(report)
    give_up = now + config.settings.alerting.delivery.give_up_after
    rows = [
        {
            "idempotency_key": f"digest:{report.as_of.isoformat()}:{name}",
            "receiver": name,
            "group_key": f"digest:{report.as_of.isoformat()}",
            "kind": "digest",
            "payload": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "give_up_at": give_up,
            "created_at": now,
        }
        for name in receivers
    ]
    with store.engine.begin() as conn:
        return _insert_ignore(conn, rows)
