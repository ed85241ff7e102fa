"""Active alerts as the alerting engine recorded them, with silences marked. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sco_monitor.reports.model import AlertItem
from sco_monitor.reports.numbers import finite, fmt_value, severity_rank

Matcher = tuple[str, str, str]  # label, op (= != =~ !~), value

_STRING_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


def parse_matchers(raw: Any) -> list[Matcher]:
    """Silence matchers in the forms Alertmanager users write them.

    `{"country": "RUS"}`; `[{"name": "country", "value": "R.*", "isRegex": true, "isEqual": true}]`;
    `[{"label": "country", "op": "=~", "value": "R.*"}]`; `['country="RUS"', 'rule=~"fx_.*"']`.
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw]
    if isinstance(raw, dict):
        return [(str(k), "=", str(v)) for k, v in raw.items()]
    out: list[Matcher] = []
    for m in raw or []:
        if isinstance(m, str):
            hit = _STRING_MATCHER.match(m)
            if hit:
                out.append((hit.group(1), hit.group(2), hit.group(3)))
        elif isinstance(m, dict):
            name = m.get("name", m.get("label"))
            if name is None:
                continue
            op = m.get("op") or m.get("operator")
            if op is None:
                regex = bool(m.get("isRegex", m.get("regex", False)))
                equal = bool(m.get("isEqual", True))
                op = ("=~" if regex else "=") if equal else ("!~" if regex else "!=")
            out.append((str(name), str(op), str(m.get("value", ""))))
    return out


def silenced_by(labels: dict[str, str], matchers: list[Matcher]) -> bool:
    """All matchers hold (Alertmanager semantics; a missing label reads as the empty string)."""
    if not matchers:
        return False
    for name, op, value in matchers:
        got = labels.get(name, "")
        if op == "=" and got != value:
            return False
        if op == "!=" and got == value:
            return False
        if op in ("=~", "!~"):
            try:
                hit = re.fullmatch(value, got) is not None
            except re.error:
                return False
            if hit != (op == "=~"):
                return False
    return True


def _labels(raw: Any) -> dict[str, str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return {str(k): str(v) for k, v in (raw or {}).items()}


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def alert_items(
    rows: Iterable[dict[str, Any]],
    silences: Iterable[dict[str, Any]],
    since: datetime | None,
    kinds: dict[str, str],
) -> dict[str, list[AlertItem]]:
    """Alerts by state (firing, pending, resolved, no_data), worst first, new and silenced marked.

    `kinds` (rule name → rule kind) decides how values read: +6.1% for a change, 70 for a level.
    """
    active = [(parse_matchers(s.get("matchers")), _aware(s.get("ends_at"))) for s in silences]
    out: dict[str, list[AlertItem]] = {"firing": [], "pending": [], "resolved": [], "no_data": []}
    since = _aware(since)
    for row in rows:
        labels = _labels(row.get("labels"))
        full = {**labels, "alertname": row["rule"], "rule": row["rule"], "severity": row.get("severity", "")}
        until = [end for matchers, end in active if silenced_by(full, matchers)]
        kind = kinds.get(row["rule"]) or labels.get("kind")
        starts, ends = _aware(row.get("starts_at")), _aware(row.get("ends_at"))
        state = row["state"]
        item = AlertItem(
            fingerprint=row["fingerprint"],
            rule=row["rule"],
            state=state,
            severity=row.get("severity") or "warn",
            labels=labels,
            value=finite(row.get("value")),
            threshold=finite(row.get("threshold")),
            value_text=fmt_value(row.get("value"), kind),
            threshold_text=fmt_value(row.get("threshold"), kind),
            summary=row.get("summary") or "",
            starts_at=starts,
            ends_at=ends,
            new=bool(state == "firing" and since and starts and starts >= since),
            silenced=bool(until),
            silenced_until=max((u for u in until if u), default=None),
        )
        if state in out:
            out[state].append(item)
    for items in out.values():
        items.sort(key=lambda a: (a.silenced, -severity_rank(a.severity), not a.new, a.rule, a.fingerprint))
    return out
