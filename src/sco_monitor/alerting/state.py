"""The alert state machine: pure transitions from (what we knew, today's evaluation) to what we know.

States: `pending` (breaching, the rule's `for` count not met yet), `firing`, `resolved`, and
`inactive` (a pending alert that stopped breaching before it fired; nobody was told).
A firing alert resolves only once its value is back past the clear threshold (hysteresis);
between clear and warn it stays firing, so a value wobbling around warn does not flap.
The same hysteresis keeps a critical alert critical until its value is back a band below critical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Literal

from sco_monitor.assess.model import RuleEvaluation, fingerprint
from sco_monitor.vocabulary import severity_rank

State = Literal["pending", "firing", "resolved", "inactive"]
ACTIVE: frozenset[str] = frozenset({"pending", "firing"})
NO_DATA = "no_data"


@dataclass(frozen=True)
class AlertRecord:
    """One row of the `alerts` table."""

    fingerprint: str
    rule: str
    kind: str
    category: str
    labels: Mapping[str, str]
    state: State
    severity: str  # warn | critical | no_data
    updated_at: datetime
    series_id: str | None = None
    value: float | None = None
    threshold: float | None = None
    warn: float | None = None
    critical: float | None = None
    clear: float | None = None
    direction: str = "above"
    for_count: int = 1
    summary: str = ""
    pending_count: int = 0
    starts_at: datetime | None = None
    fired_at: datetime | None = None
    ends_at: datetime | None = None
    last_eval_date: date | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def is_no_data(self) -> bool:
        return self.severity == NO_DATA

    def routing_labels(self) -> dict[str, str]:
        """The labels routes, silences and inhibit rules see: the alert's own plus rule and severity."""
        return {"rule": self.rule, "kind": self.kind, "category": self.category, **self.labels,
                "severity": self.severity}


def no_data_fingerprint(rule: str, labels: Mapping[str, str]) -> str:
    """A stale series gets its own alert, so it never changes the state of the risk alert."""
    return _fingerprint(f"{rule}:no_data", tuple(sorted(labels.items())))


def risk_fingerprint(ev: RuleEvaluation) -> str:
    """`ev.fingerprint`, memoised: the engine sees the same targets every day."""
    return _fingerprint(ev.rule, tuple(sorted(ev.labels.items())))


@lru_cache(maxsize=200_000)
def _fingerprint(rule: str, labels: tuple[tuple[str, str], ...]) -> str:
    return fingerprint(rule, dict(labels))


def _beyond(value: float, level: float, direction: str) -> bool:
    return value > level if direction == "above" else value < level


def _band(base: float, other: float | None, hysteresis: float) -> float:
    if base != 0:
        return hysteresis * abs(base)
    return hysteresis * abs(other - base) if other is not None else 0.0


def clear_level(ev: RuleEvaluation | AlertRecord, hysteresis: float) -> float | None:
    """Where a firing alert resolves: the rule's clear threshold, else warn moved back by the band."""
    if ev.clear is not None:
        return ev.clear
    base = ev.warn if ev.warn is not None else ev.critical
    if base is None:
        return None
    other = ev.critical if ev.warn is not None else None
    band = _band(base, other, hysteresis)
    return base - band if ev.direction == "above" else base + band


def critical_clear_level(ev: RuleEvaluation | AlertRecord, hysteresis: float) -> float | None:
    """Where a critical alert steps down to warn: critical moved back by the band."""
    if ev.critical is None:
        return None
    band = _band(ev.critical, ev.warn, hysteresis)
    return ev.critical - band if ev.direction == "above" else ev.critical + band


def held_severity(current: str, ev: RuleEvaluation, hysteresis: float) -> str:
    """The severity of an alert that is already firing at `current`: 'ok' means resolve."""
    raw = ev.severity
    if raw == "critical":
        return "critical"
    value = ev.value
    if current == "critical" and value is not None:
        level = critical_clear_level(ev, hysteresis)
        if level is not None and _beyond(value, level, ev.direction):
            return "critical"
    if raw == "warn":
        return "warn"
    if value is not None:
        level = clear_level(ev, hysteresis)
        if level is not None and _beyond(value, level, ev.direction):
            return "warn" if ev.warn is not None else current
    return "ok"


def _from_evaluation(prev: AlertRecord | None, ev: RuleEvaluation, fp: str, severity: str,
                     as_of: date, now: datetime) -> AlertRecord:
    base = prev or AlertRecord(fingerprint=fp, rule=ev.rule, kind=ev.kind, category=ev.category,
                               labels=dict(ev.labels), state="inactive", severity=severity, updated_at=now)
    return replace(
        base, rule=ev.rule, kind=ev.kind, category=ev.category, labels=dict(ev.labels), severity=severity,
        series_id=ev.series_id, value=ev.value, threshold=ev.threshold, warn=ev.warn, critical=ev.critical,
        clear=ev.clear, direction=ev.direction, for_count=max(1, ev.for_), summary=ev.summary,
        updated_at=now, last_eval_date=as_of,
    )


def advance(prev: AlertRecord | None, ev: RuleEvaluation, as_of: date, now: datetime,
            hysteresis: float, fp: str | None = None) -> AlertRecord | None:
    """The risk alert after this evaluation; None when there is nothing to record.

    `ev.severity` must not be no_data (see `advance_no_data`). Callers skip evaluations whose
    as_of is not after `prev.last_eval_date`, which makes a repeated as_of a no-op.
    """
    fp = fp or risk_fingerprint(ev)
    if prev is None or not prev.active:
        if ev.severity not in ("warn", "critical"):
            return None
        rec = _from_evaluation(prev, ev, fp, ev.severity, as_of, now)
        rec = replace(rec, state="pending", pending_count=1, starts_at=now, fired_at=None, ends_at=None)
        return _maybe_fire(rec, now)
    if prev.state == "pending":
        if ev.severity not in ("warn", "critical"):
            return replace(_from_evaluation(prev, ev, fp, prev.severity, as_of, now), state="inactive",
                           pending_count=0, ends_at=now)
        rec = _from_evaluation(prev, ev, fp, ev.severity, as_of, now)
        return _maybe_fire(replace(rec, pending_count=prev.pending_count + 1), now)
    held = held_severity(prev.severity, ev, hysteresis)
    if held == "ok":
        return replace(_from_evaluation(prev, ev, fp, prev.severity, as_of, now), state="resolved", ends_at=now)
    return _from_evaluation(prev, ev, fp, held, as_of, now)


def _maybe_fire(rec: AlertRecord, now: datetime) -> AlertRecord:
    if rec.pending_count >= rec.for_count:
        return replace(rec, state="firing", fired_at=now)
    return rec


def advance_no_data(prev: AlertRecord | None, ev: RuleEvaluation, as_of: date, now: datetime) -> AlertRecord | None:
    """The no-data alert of a rule target: fires while its series is stale, resolves when data is back."""
    if ev.severity == NO_DATA:
        if prev is not None and prev.state == "firing":
            return replace(prev, updated_at=now, last_eval_date=as_of, summary=ev.summary or prev.summary)
        rec = _from_evaluation(prev, ev, no_data_fingerprint(ev.rule, ev.labels), NO_DATA, as_of, now)
        summary = ev.summary or f"no recent data for {ev.series_id or ev.labels.get('scope', ev.rule)}"
        return replace(rec, state="firing", pending_count=1, for_count=1, starts_at=now, fired_at=now,
                       ends_at=None, value=None, threshold=None, summary=summary)
    if prev is not None and prev.state == "firing":
        return replace(prev, state="resolved", ends_at=now, updated_at=now, last_eval_date=as_of)
    return None


def hold(prev: AlertRecord, as_of: date, now: datetime) -> AlertRecord:
    """The risk alert while its data is stale: unchanged (no count advanced, nothing resolved)."""
    return replace(prev, updated_at=now, last_eval_date=as_of)


def gone(prev: AlertRecord, as_of: date, now: datetime) -> AlertRecord:
    """An active alert its rule no longer evaluates (rule or target removed) resolves, as in Prometheus."""
    if prev.state == "pending":
        return replace(prev, state="inactive", pending_count=0, ends_at=now, updated_at=now, last_eval_date=as_of)
    return replace(prev, state="resolved", ends_at=now, updated_at=now, last_eval_date=as_of)


@dataclass
class Transition:
    """What one assessment changed: the records to write, and counts for the log."""

    changed: list[AlertRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def dedupe(evaluations: Iterable[RuleEvaluation]) -> dict[str, RuleEvaluation]:
    """One evaluation per fingerprint; if a target was evaluated twice, the worse one counts."""
    out: dict[str, RuleEvaluation] = {}
    for ev in evaluations:
        fp = risk_fingerprint(ev)
        if fp not in out or severity_rank(ev.severity) > severity_rank(out[fp].severity):
            out[fp] = ev
    return out


def apply(records: Mapping[str, AlertRecord], evaluations: Iterable[RuleEvaluation], as_of: date,
          now: datetime, hysteresis: float) -> Transition:
    """Advance every alert by one assessment. Pure: `records` are the stored alerts by fingerprint."""
    result = Transition()
    evs = dedupe(evaluations)
    seen: set[str] = set()

    def fresh(prev: AlertRecord | None) -> bool:
        if prev is not None and prev.last_eval_date is not None and as_of <= prev.last_eval_date:
            result.skipped += 1
            return False
        return True

    def keep(prev: AlertRecord | None, new: AlertRecord | None) -> None:
        if new is None or new == prev:
            return
        result.changed.append(new)
        if prev is None or prev.state != new.state:
            result.count(new.state if not new.is_no_data else f"no_data_{new.state}")
        elif prev.severity != new.severity:
            result.count("severity_changed")

    for fp, ev in evs.items():
        nd_fp = no_data_fingerprint(ev.rule, ev.labels)
        seen.update((fp, nd_fp))
        prev, nd_prev = records.get(fp), records.get(nd_fp)
        if ev.severity == NO_DATA:
            if prev is not None and prev.active and fresh(prev):
                keep(prev, hold(prev, as_of, now))
            if fresh(nd_prev):
                keep(nd_prev, advance_no_data(nd_prev, ev, as_of, now))
            continue
        if fresh(prev):
            keep(prev, advance(prev, ev, as_of, now, hysteresis, fp))
        if nd_prev is not None and nd_prev.active and fresh(nd_prev):
            keep(nd_prev, advance_no_data(nd_prev, ev, as_of, now))

    for fp, prev in records.items():
        if fp not in seen and prev.active and fresh(prev):
            keep(prev, gone(prev, as_of, now))
    return result
