"""The daily digest: the report as a mail (HTML with a text alternative) through the alerting outbox.

One outbox row per receiver, idempotent on `digest:<as_of>:<receiver>`; the alerting deliverer
sends it. Writing the same digest twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime


from sco_monitor.alerting import outbox
from sco_monitor.config import AppConfig
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import render_html, render_md
from sco_monitor.store import Store


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


def enqueue_digest(store: Store, config: AppConfig, report: Report, now: datetime) -> int:
    """Queue the digest for every receiver in report.digest_receivers; returns rows newly queued."""
    receivers = config.settings.report.digest_receivers
    if not receivers:
        return 0
    body = payload(report)
    key = f"digest:{report.as_of.isoformat()}"
    rows = [outbox.row(name, "digest", body, f"{key}:{name}", now, group_key=key,
                       give_up_after=config.settings.alerting.delivery.give_up_after)
            for name in receivers]
    with store.engine.begin() as conn:
        return len(outbox.enqueue_many(conn, rows))
