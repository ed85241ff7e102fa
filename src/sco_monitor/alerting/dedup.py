"""Whether a group's receiver must be told now: one pure function, like Alertmanager's `needsUpdate`.

A group's receiver is told when a group first has firing alerts (after `group_wait`), when alerts
join it, when an alert's severity changes, when alerts it was told about resolve (each after
`group_interval` since the last notification), and again every `repeat_interval` while anything
fires. Nothing else: a flapping value between the clear and warn thresholds changes nothing here.

A repeat is due a little early (5% of repeat_interval, at most an hour): a daily cycle that starts
a few minutes earlier than yesterday's still reminds daily under a 24h repeat interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Reason = Literal["first", "new_alerts", "severity_changed", "resolved", "repeat"]


@dataclass(frozen=True)
class GroupEntry:
    """What a group's receiver was last told (a row of `notification_groups`)."""

    first_seen_at: datetime
    notified_at: datetime | None = None
    firing: Mapping[str, str] = field(default_factory=dict)  # fingerprint -> severity


@dataclass(frozen=True)
class Timing:
    group_wait: timedelta = timedelta(0)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Decision:
    notify: bool
    reason: Reason | None = None
    not_before: datetime | None = None  # set when a change waits for group_wait / group_interval

    @property
    def waiting(self) -> bool:
        return self.not_before is not None


NOTHING = Decision(False)
REPEAT_SLACK = 0.05
MAX_SLACK = timedelta(hours=1)


def repeat_due(notified_at: datetime, repeat_interval: timedelta) -> datetime:
    return notified_at + repeat_interval - min(repeat_interval * REPEAT_SLACK, MAX_SLACK)


def decide(entry: GroupEntry | None, firing: Mapping[str, str], resolved: AbstractSet[str], now: datetime,
           timing: Timing) -> Decision:
    """Notify now, wait, or do nothing.

    `firing`: the group's firing, unmuted alerts (fingerprint -> severity); `resolved`: alerts the
    receiver was told were firing that no longer fire in this group (muted ones excluded).
    """
    if entry is None or entry.notified_at is None:
        if not firing:
            return NOTHING  # never told, nothing firing: a blip that came and went stays unsent
        first_seen = entry.first_seen_at if entry is not None else now
        due = first_seen + timing.group_wait
        return Decision(True, "first") if now >= due else Decision(False, "first", due)

    reason: Reason | None = None
    if any(fp not in entry.firing for fp in firing):
        reason = "new_alerts"
    elif any(entry.firing[fp] != sev for fp, sev in firing.items()):
        reason = "severity_changed"
    elif any(fp in entry.firing for fp in resolved):
        reason = "resolved"
    if reason is not None:
        due = entry.notified_at + timing.group_interval
        return Decision(True, reason) if now >= due else Decision(False, reason, due)
    if firing and now >= repeat_due(entry.notified_at, timing.repeat_interval):
        return Decision(True, "repeat")
    return NOTHING


def told(entry: GroupEntry | None, firing: Mapping[str, str], now: datetime) -> GroupEntry:
    """The entry after a notification went out with these alerts."""
    first_seen = entry.first_seen_at if entry is not None else now
    return GroupEntry(first_seen_at=first_seen, notified_at=now, firing=dict(firing))
