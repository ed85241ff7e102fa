"""The daily digest: the report as a mail (HTML with a text alternative) through the alerting outbox.

One outbox row per receiver, idempotent on `digest:<as_of>:<receiver>`; the alerting deliverer
sends it. Writing the same digest twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sco_monitor import i18n
from sco_monitor.alerting import outbox
from sco_monitor.i18n import _, ngettext
from sco_monitor.config import AppConfig
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import render_html, render_md
from sco_monitor.store import Store


def subject(report: Report) -> str:
    """The mail subject, in the active language."""
    ov = report.overall
    parts = [_("SCO risk report %(date)s: %(level)s", date=i18n.day(report.as_of), level=i18n.level_name(ov.level).upper())]
    c = ov.counts
    if c.get("critical_breaches") or c.get("warn_breaches"):
        parts.append(_("%(critical)s critical, %(warn)s warnings", critical=c.get("critical_breaches", 0),
                       warn=c.get("warn_breaches", 0)))
    if report.joint_actions:
        parts.append(ngettext("%(num)s joint action plan", "%(num)s joint action plans", len(report.joint_actions)))
    if ov.status in ("stale", "no_data"):
        parts.append(_("stale data") if ov.status == "stale" else _("no data"))
    return " · ".join(parts)


def payload(report: Report) -> dict[str, str]:
    """Subject, plain text (the Markdown report) and HTML (the report without charts: mail clients drop SVG)."""
    return {
        "subject": subject(report),
        "text": render_md(report, {}, chart_dir=None).text,
        "html": render_html(report, {}, email=True).text,
    }


def enqueue_digest(store: Store, config: AppConfig, report_in: Callable[[str], Report], now: datetime) -> int:
    """Queue the digest for every receiver in report.digest_receivers, each in its language; returns rows newly queued."""
    receivers = config.settings.report.digest_receivers
    if not receivers:
        return 0
    language = {r.name: r.language for r in config.settings.receivers}
    bodies: dict[str, dict[str, str]] = {}
    rows = []
    for name in receivers:
        lang = language.get(name, i18n.DEFAULT)
        report = report_in(lang)
        if lang not in bodies:
            with i18n.use(lang):
                bodies[lang] = payload(report)
        key = f"digest:{report.as_of.isoformat()}"
        rows.append(outbox.row(name, "digest", bodies[lang], f"{key}:{name}", now, group_key=key,
                               give_up_after=config.settings.alerting.delivery.give_up_after))
    with store.engine.begin() as conn:
        return len(outbox.enqueue_many(conn, rows))
