"""Alerting: the alert state machine, routing, silences, inhibition, the outbox and its channels.

Pure decisions (`state`, `dedup`, `routing`, `inhibit`, `matchers`) sit in the middle; `engine`
and `outbox` do the database work; `channels/` do the network work.
"""

from sco_monitor.alerting.outbox import enqueue

__all__ = ["enqueue"]
