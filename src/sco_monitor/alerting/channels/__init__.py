"""Channels deliver one notification to one receiver and say how it went: ok, retryable or permanent.

One registry: config names a channel by the receiver key (`email`, `webhook`, `file`); an
extension registers a factory under a new name the same way the built-ins do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sco_monitor.registry import Registry

Status = Literal["ok", "retryable", "permanent"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str = ""
    retry_after: float | None = None  # seconds the receiver asked us to wait (Retry-After)

    @classmethod
    def ok(cls, detail: str = "") -> Outcome:
        return cls("ok", detail)

    @classmethod
    def retryable(cls, detail: str, retry_after: float | None = None) -> Outcome:
        return cls("retryable", detail, retry_after)

    @classmethod
    def permanent(cls, detail: str) -> Outcome:
        return cls("permanent", detail)

    def __str__(self) -> str:
        s = self.status + (f": {self.detail}" if self.detail else "")
        return s + (f" (retry after {self.retry_after:g}s)" if self.retry_after is not None else "")


@dataclass(frozen=True)
class Message:
    """A notification as a channel sees it. `key` is the idempotency id receivers deduplicate on."""

    key: str
    receiver: str
    kind: str  # alert | heartbeat | digest | test
    payload: dict[str, Any]
    created_at: datetime
    attempt: int = 1
    id: int | None = None


class Channel(Protocol):
    def send(self, config: Any, message: Message) -> Outcome:
        """Deliver `message` with the receiver's channel config; never raise for delivery failures."""

    def close(self) -> None:
        """Release connections (called once per delivery run)."""


class BatchChannel(Channel, Protocol):
    """A channel that can also deliver several notifications to one receiver in one go (the file channel:
    one append and one sync for all of them). The outbox sends a local batch's notifications for such a
    receiver together; a retryable failure counts as its first one's (the probe), the rest wait."""

    def send_all(self, config: Any, messages: Sequence[Message]) -> Outcome:
        """Deliver every message (in order) with the receiver's channel config: one outcome for all."""


class ChannelFactory(Protocol):
    def __call__(self) -> Channel: ...


#: The built-ins register themselves (`@channels.register`) like any extension; the outbox, which
#: looks channels up, imports them.
channels: Registry[ChannelFactory] = Registry("channel")


def secret_from_env(name: str | None, what: str) -> tuple[str | None, Outcome | None]:
    """Read a secret from the env variable the config names; a missing one is retryable (fix and wait)."""
    if name is None:
        return None, None
    value = os.environ.get(name)
    if not value:
        return None, Outcome.retryable(f"{what}: env variable {name} is not set")
    return value, None
