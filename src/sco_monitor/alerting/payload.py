"""The JSON a notification carries: what the receiver is told about a group of alerts.

Stored in the outbox as is; channels render it (email, Slack text) or send it (webhook, file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sco_monitor.alerting.state import AlertRecord
from sco_monitor.vocabulary import severity_rank

VERSION = 1


def alert_item(rec: AlertRecord, status: str) -> dict[str, Any]:
    """One alert as the receiver sees it; `status` is firing or resolved *for this group*."""
    item: dict[str, Any] = {
        "fingerprint": rec.fingerprint, "status": status, "state": rec.state, "severity": rec.severity,
        "rule": rec.rule, "kind": rec.kind, "category": rec.category, "labels": dict(rec.labels),
        "series_id": rec.series_id, "value": rec.value, "threshold": rec.threshold, "warn": rec.warn,
        "critical": rec.critical, "clear": rec.clear, "direction": rec.direction, "summary": rec.summary,
        "starts_at": _iso(rec.fired_at or rec.starts_at), "ends_at": _iso(rec.ends_at),
        "as_of": rec.last_eval_date.isoformat() if rec.last_eval_date else None,
    }
    if status == "resolved" and rec.state == "firing":
        item["note"] = f"still firing as {rec.severity}, no longer routed here"
    return item


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def group_payload(*, receiver: str, group_key: str, group_labels: Mapping[str, str], reason: str,
                  firing: Iterable[AlertRecord], resolved: Iterable[AlertRecord], now: datetime) -> dict[str, Any]:
    firing_items = sorted((alert_item(r, "firing") for r in firing), key=_order)
    resolved_items = sorted((alert_item(r, "resolved") for r in resolved), key=_order)
    items = firing_items + resolved_items
    common = _common_labels([i["labels"] | {"severity": i["severity"]} for i in items])
    as_of = max((i["as_of"] for i in items if i["as_of"]), default=None)
    return {
        "version": VERSION, "kind": "alert", "status": "firing" if firing_items else "resolved",
        "reason": reason, "receiver": receiver, "group_key": group_key, "group_labels": dict(group_labels),
        "common_labels": common, "as_of": as_of, "created_at": now.isoformat(),
        "counts": {"firing": len(firing_items), "resolved": len(resolved_items)},
        "severity": firing_items[0]["severity"] if firing_items else None,
        "alerts": items,
    }


def _order(item: Mapping[str, Any]) -> tuple[int, str, str]:
    return (-severity_rank(item["severity"]), item["rule"], json.dumps(item["labels"], sort_keys=True))


def _common_labels(label_sets: list[Mapping[str, str]]) -> dict[str, str]:
    if not label_sets:
        return {}
    first = label_sets[0]
    return {k: v for k, v in sorted(first.items()) if all(s.get(k) == v for s in label_sets[1:])}


def idempotency_key(prefix: str, *parts: object) -> str:
    """A stable id for one notification: the same decision at the same time is the same notification."""
    body = json.dumps([str(p) if not isinstance(p, (dict, list)) else p for p in parts], sort_keys=True)
    return f"{prefix}_{hashlib.sha256(body.encode()).hexdigest()[:32]}"
