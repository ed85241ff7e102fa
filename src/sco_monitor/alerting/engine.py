"""The alert engine: an assessment in, alert states and outbox rows out, in one transaction.

`process` advances the state machine (`state.apply`) and then `flush`es: every group of firing
alerts (after silences and inhibition) is routed to its receivers and `dedup.decide` says whether
that receiver must be told now. A notification is enqueued in the same transaction as the state
change and the group's record of what was told, so a crash loses nothing and duplicates nothing.
`flush` alone also runs before each delivery run, so `group_wait` / `group_interval` elapse
without a new assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from sco_monitor.alerting import db, outbox, routing, silences
from sco_monitor.alerting.dedup import GroupEntry, Timing, decide, told
from sco_monitor.alerting.inhibit import inhibited
from sco_monitor.alerting.payload import group_payload, idempotency_key
from sco_monitor.alerting.state import AlertRecord, apply
from sco_monitor.assess.model import Assessment
from sco_monitor.config.settings import Settings
from sco_monitor.logs import get_logger
from sco_monitor.vocabulary import severity_rank

log = get_logger("sco_monitor.alerting")


@dataclass
class AlertRun:
    """What one assessment did to the alerts (printed by `cycle`, logged by the daemon)."""

    as_of: date
    evaluated: int
    skipped: int
    transitions: dict[str, int]
    notifications: list[int] = field(default_factory=list)

    def summary(self) -> str:
        moved = ", ".join(f"{n} {k}" for k, n in sorted(self.transitions.items())) or "no state changes"
        s = f"as of {self.as_of}: {self.evaluated} evaluations, {moved}; {len(self.notifications)} notifications queued"
        return s + (f" ({self.skipped} already evaluated for this date)" if self.skipped else "")


def process(engine: Engine, settings: Settings, assessment: Assessment, now: datetime) -> AlertRun:
    """Advance every alert by this assessment and queue what must be told; idempotent per as_of."""
    with db.write_txn(engine) as conn:
        records = db.load_alerts(conn)
        tr = apply(records, assessment.rules, assessment.as_of, now, settings.alerting.hysteresis)
        db.save_alerts(conn, tr.changed, stored=records)
        records.update({r.fingerprint: r for r in tr.changed})
        ids = flush(conn, settings, now, records)
    run = AlertRun(assessment.as_of, len(assessment.rules), tr.skipped, tr.counts, ids)
    log.info("alerts_processed", as_of=str(run.as_of), evaluated=run.evaluated, skipped=run.skipped,
             transitions=run.transitions, notifications=len(ids))
    return run


def flush_due(engine: Engine, settings: Settings, now: datetime) -> list[int]:
    """Queue notifications that were waiting for group_wait / group_interval (run before delivery)."""
    with db.write_txn(engine) as conn:
        return flush(conn, settings, now)


@dataclass
class _View:
    node: routing.RouteNode
    group_labels: dict[str, str]
    firing: dict[str, str] = field(default_factory=dict)


def muted(records: Mapping[str, AlertRecord], active_silences: list[silences.Silence],
          settings: Settings, now: datetime) -> dict[str, str]:
    """Fingerprint -> why it is muted now ('silenced by ID' / 'inhibited by RULE TARGET')."""
    labels = {fp: r.routing_labels() for fp, r in records.items()}
    out: dict[str, str] = {}
    for fp, lab in labels.items():
        s = silences.muting(active_silences, lab, now)
        if s is not None:
            out[fp] = f"silenced by {s.id}"
    firing = {fp: lab for fp, lab in labels.items() if records[fp].state == "firing"}
    for fp, src in inhibited(firing, settings.alerting.inhibit_rules).items():
        r = records[src]
        target = r.labels.get("scope") or r.series_id or r.labels.get("country", "")
        out.setdefault(fp, f"inhibited by {r.rule} {target}".rstrip())
    return out


def flush(conn: Connection, settings: Settings, now: datetime,
          records: Mapping[str, AlertRecord] | None = None) -> list[int]:
    """Decide, group by group, who must be told now; enqueue those notifications. Returns their ids."""
    alerting = settings.alerting
    groups = db.load_groups(conn)
    if records is None:
        records = db.load_alerts(conn, states=["firing"])
        # the told alerts that stopped firing (the others were just loaded): none on most runs, no query then
        told_fps = {fp for g in groups.values() for fp in g.entry.firing if fp not in records}
        if told_fps:
            records |= db.load_alerts(conn, fingerprints=told_fps)
    firing = {fp: r for fp, r in records.items() if r.state == "firing"}
    relevant = dict(firing) | {fp: records[fp] for g in groups.values() for fp in g.entry.firing if fp in records}
    mutes = muted(relevant, silences.load(conn, now), settings, now)

    root, nd = routing.build(settings.route, alerting), routing.no_data_node(alerting)
    views: dict[tuple[str, str], _View] = {}
    for fp, rec in firing.items():
        if fp in mutes:
            continue
        labels = rec.routing_labels()
        nodes = ([nd] if nd else []) if rec.is_no_data else (root.match(labels) if root else [])
        for node in nodes:
            key = (node.receiver, node.group_key(labels))
            view = views.setdefault(key, _View(node, node.group_labels(labels)))
            view.firing[fp] = rec.severity

    known_receivers = {r.name for r in settings.receivers}
    defaults = Timing(alerting.group_wait, alerting.group_interval, alerting.repeat_interval)
    queued: list[dict[str, Any]] = []
    to_save: list[db.GroupRow] = []
    to_delete: list[tuple[str, str]] = []
    for key in sorted(set(views) | set(groups)):
        receiver, group_key = key
        view, row = views.get(key), groups.get(key)
        if receiver not in known_receivers:
            if row is not None:
                to_delete.append(key)
            continue
        entry = row.entry if row else None
        node = view.node if view else routing.find(root, row.route, alerting) if row else None
        timing = node.timing if node else defaults
        now_firing = view.firing if view else {}
        group_labels = view.group_labels if view else dict(row.group_labels) if row else {}
        route_id = node.id if node else row.route if row else ""
        if entry is not None and entry.notified_at is not None:
            # A told alert that resolved while silenced is dropped quietly: its receiver asked for quiet.
            quiet = {fp for fp in entry.firing if fp not in now_firing and fp in mutes
                     and (fp not in records or records[fp].state != "firing")}
            if quiet:
                entry = replace(entry, firing={k: v for k, v in entry.firing.items() if k not in quiet})
        told_firing = entry.firing if entry is not None else {}
        resolved = {fp for fp in told_firing if fp not in now_firing and fp not in mutes}
        decision = decide(entry, now_firing, resolved, now, timing)
        if decision.notify:
            payload = group_payload(
                receiver=receiver, group_key=group_key, group_labels=group_labels, reason=decision.reason or "",
                firing=[records[fp] for fp in now_firing],
                resolved=[records[fp] for fp in sorted(resolved) if fp in records], now=now,
            )
            key_ = idempotency_key("alert", receiver, group_key, now.isoformat(), decision.reason,
                                   now_firing, sorted(resolved))
            queued.append(outbox.row(receiver, "alert", payload, key_, now, group_key=group_key,
                                     give_up_after=alerting.delivery.give_up_after))
            entry = told(entry, now_firing, now)
        elif decision.waiting and entry is None:
            entry = GroupEntry(first_seen_at=now)
        finished = entry is None or not (entry.firing if entry.notified_at is not None else now_firing)
        if finished:
            if row is not None:
                to_delete.append(key)
        elif row is None or entry != row.entry:
            to_save.append(db.GroupRow(receiver, group_key, route_id, group_labels, entry))
    db.delete_groups(conn, to_delete)
    db.save_groups(conn, to_save)
    return outbox.enqueue_many(conn, queued)


def alert_rows(conn: Connection, settings: Settings, now: datetime, states: list[str] | None = None) -> list[dict[str, Any]]:
    """Alerts for `alerts list`, each with `muted` saying why it is silenced or inhibited now."""
    records = db.load_alerts(conn, states=states)
    mutes = muted(records, silences.load(conn, now), settings, now)
    order = {"firing": 0, "pending": 1, "resolved": 2, "inactive": 3}
    out = []
    for r in sorted(records.values(), key=lambda r: (order.get(r.state, 9), -severity_rank(r.severity), r.rule,
                                                      sorted(r.labels.items()))):
        out.append({
            "fingerprint": r.fingerprint, "state": r.state, "severity": r.severity, "rule": r.rule,
            "category": r.category, "labels": dict(r.labels), "series_id": r.series_id, "value": r.value,
            "threshold": r.threshold, "summary": r.summary, "pending": f"{r.pending_count}/{r.for_count}",
            "starts_at": r.starts_at.isoformat() if r.starts_at else None,
            "fired_at": r.fired_at.isoformat() if r.fired_at else None,
            "ends_at": r.ends_at.isoformat() if r.ends_at else None,
            "as_of": r.last_eval_date.isoformat() if r.last_eval_date else None,
            "muted": mutes.get(r.fingerprint),
        })
    return out
