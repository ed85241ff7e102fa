"""The notify decision (`dedup.decide`): every branch, table-driven like Alertmanager's needsUpdate tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sco_monitor.alerting.dedup import GroupEntry, Timing, decide, told

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)
TIMING = Timing(group_wait=timedelta(0), group_interval=timedelta(minutes=5), repeat_interval=timedelta(hours=24))


def told_at(ago: timedelta, firing: dict[str, str]) -> GroupEntry:
    return GroupEntry(first_seen_at=NOW - ago - H, notified_at=NOW - ago, firing=firing)


CASES = [
    # (name, entry, firing, resolved, expected (notify, reason))
    ("never told, nothing firing", None, {}, set(), (False, None)),
    ("never told, one firing", None, {"a": "warn"}, set(), (True, "first")),
    ("never told, only resolved", None, {}, {"a"}, (False, None)),
    ("told, unchanged, within repeat", told_at(H, {"a": "warn"}), {"a": "warn"}, set(), (False, None)),
    ("told, unchanged, repeat elapsed", told_at(25 * H, {"a": "warn"}), {"a": "warn"}, set(), (True, "repeat")),
    ("told, unchanged, repeat elapsed less slack", told_at(24 * H - timedelta(minutes=30), {"a": "warn"}),
     {"a": "warn"}, set(), (True, "repeat")),
    ("told, unchanged, well before repeat", told_at(22 * H, {"a": "warn"}), {"a": "warn"}, set(), (False, None)),
    ("new alert joins", told_at(H, {"a": "warn"}), {"a": "warn", "b": "warn"}, set(), (True, "new_alerts")),
    ("warn escalates to critical", told_at(H, {"a": "warn"}), {"a": "critical"}, set(), (True, "severity_changed")),
    ("critical steps down to warn", told_at(H, {"a": "critical"}), {"a": "warn"}, set(), (True, "severity_changed")),
    ("one of two resolves", told_at(H, {"a": "warn", "b": "warn"}), {"a": "warn"}, {"b"}, (True, "resolved")),
    ("all resolve", told_at(H, {"a": "warn"}), {}, {"a"}, (True, "resolved")),
    ("resolved we never told about", told_at(H, {"a": "warn"}), {"a": "warn"}, {"z"}, (False, None)),
    ("told alert gone but muted (not in resolved)", told_at(H, {"a": "warn", "b": "warn"}), {"a": "warn"}, set(),
     (False, None)),
    ("fewer firing and muted, nothing firing", told_at(H, {"a": "warn"}), {}, set(), (False, None)),
    ("repeat does not fire with nothing firing", told_at(48 * H, {}), {}, set(), (False, None)),
    ("new alert and a resolution: new wins", told_at(H, {"a": "warn"}), {"b": "warn"}, {"a"}, (True, "new_alerts")),
    ("severity change and a resolution", told_at(H, {"a": "warn", "b": "warn"}), {"a": "critical"}, {"b"},
     (True, "severity_changed")),
]


@pytest.mark.parametrize("name,entry,firing,resolved,expected", CASES, ids=[c[0] for c in CASES])
def test_decide(name: str, entry: GroupEntry | None, firing: dict[str, str], resolved: set[str],
                expected: tuple[bool, str | None]) -> None:
    d = decide(entry, firing, resolved, NOW, TIMING)
    assert (d.notify, d.reason if d.notify else None) == expected


def test_group_wait_holds_the_first_notification_then_releases_it() -> None:
    timing = Timing(group_wait=timedelta(minutes=10))
    d = decide(None, {"a": "warn"}, set(), NOW, timing)
    assert (d.notify, d.reason, d.not_before) == (False, "first", NOW + timedelta(minutes=10))
    waiting = GroupEntry(first_seen_at=NOW)
    assert not decide(waiting, {"a": "warn"}, set(), NOW + timedelta(minutes=9), timing).notify
    assert decide(waiting, {"a": "warn", "b": "warn"}, set(), NOW + timedelta(minutes=10), timing).reason == "first"


def test_group_interval_holds_changes_but_not_forever() -> None:
    entry = told_at(timedelta(minutes=2), {"a": "warn"})
    d = decide(entry, {"a": "warn", "b": "warn"}, set(), NOW, TIMING)
    assert (d.notify, d.reason, d.not_before) == (False, "new_alerts", entry.notified_at + timedelta(minutes=5))
    later = decide(entry, {"a": "warn", "b": "warn"}, set(), NOW + timedelta(minutes=3), TIMING)
    assert (later.notify, later.reason) == (True, "new_alerts")
    assert decide(entry, {}, {"a"}, NOW, TIMING).waiting


def test_told_records_what_went_out_and_keeps_first_seen() -> None:
    first = GroupEntry(first_seen_at=NOW - H)
    after = told(first, {"a": "critical"}, NOW)
    assert after == GroupEntry(first_seen_at=NOW - H, notified_at=NOW, firing={"a": "critical"})
    assert not decide(after, {"a": "critical"}, set(), NOW + H, TIMING).notify
    assert told(None, {"a": "warn"}, NOW).first_seen_at == NOW
