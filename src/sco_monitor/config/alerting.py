"""Models of receivers, the route tree and alert delivery (the alerting part of sco-monitor.yaml)."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sco_monitor.config.types import Duration
from sco_monitor.i18n import Language


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


def _regexes(value: dict[str, str]) -> dict[str, str]:
    """Label regexes are anchored like Alertmanager's; a bad one is a load-time error."""
    for label, pattern in value.items():
        try:
            re.compile(pattern)
        except re.error as e:
            raise ValueError(f"invalid regex {pattern!r} for label {label!r}: {e}") from None
    return value


def _address(value: str) -> str:
    if "@" not in parseaddr(value)[1]:
        raise ValueError(f"expected an email address like ops@example.org, got {value!r}")
    return value


class EmailReceiver(Model):
    host: str = Field(description="SMTP server host.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls, ssl, or none for a local relay."
    )
    username_env: str | None = Field(default=None, description="Env variable with the SMTP login name.")
    password_env: str | None = Field(default=None, description="Env variable with the SMTP password.")
    from_: str = Field(alias="from", description="Sender address.")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    timeout: float = Field(default=30.0, gt=0, description="Connection timeout in seconds.")

    @field_validator("from_")
    @classmethod
    def _from_address(cls, v: str) -> str:
        return _address(v)

    @field_validator("to")
    @classmethod
    def _to_addresses(cls, v: list[str]) -> list[str]:
        return [_address(a) for a in v]

    @model_validator(mode="after")
    def _login_pair(self) -> EmailReceiver:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together (a login needs both)")
        return self


class WebhookReceiver(Model):
    url: str = Field(description="Endpoint receiving a POST per notification.")
    secret_env: str | None = Field(
        default=None, description="Env variable with the Standard Webhooks signing secret."
    )
    format: Literal["json", "slack"] = Field(default="json", description="Body: json, or slack-compatible text.")
    timeout: float = Field(default=10.0, gt=0, description="Request timeout in seconds.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected an http:// or https:// URL, got {v!r}")
        return v


class FileReceiver(Model):
    path: str = Field(default="alerts/out/alerts.jsonl", description="JSON-lines file notifications are appended to.")


class Receiver(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Name routes refer to.")
    language: Language = Field(default="en", description="Language of its notifications and digests: en, ru or zh.")
    email: EmailReceiver | None = None
    webhook: WebhookReceiver | None = None
    file: FileReceiver | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Receiver":
        set_ = [k for k in ("email", "webhook", "file") if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError(f"a receiver needs exactly one of email, webhook, file (got {set_ or 'none'})")
        return self

    @property
    def channel(self) -> str:
        return next(k for k in ("email", "webhook", "file") if getattr(self, k) is not None)


class Route(Model):
    receiver: str | None = Field(default=None, description="Receiver name; inherited from the parent when empty.")
    match: dict[str, str] = Field(default_factory=dict, description="Labels that must equal these values.")
    match_re: dict[str, str] = Field(default_factory=dict, description="Labels that must match these regexes.")
    group_by: list[str] | None = Field(default=None, description="Labels that group alerts into one notification.")
    group_wait: Duration | None = Field(default=None, description="Wait before the first notification of a group.")
    group_interval: Duration | None = Field(default=None, description="Wait before notifying new alerts in a group.")
    repeat_interval: Duration | None = Field(default=None, description="Re-notify a still-firing group after this.")
    continue_: bool = Field(default=False, alias="continue", description="Keep matching siblings after a match.")
    routes: list["Route"] = Field(default_factory=list, description="Child routes.")

    @field_validator("match_re")
    @classmethod
    def _valid_regexes(cls, v: dict[str, str]) -> dict[str, str]:
        return _regexes(v)

    def receivers(self) -> list[str]:
        out = [self.receiver] if self.receiver else []
        for r in self.routes:
            out.extend(r.receivers())
        return out


class InhibitRule(Model):
    source_match: dict[str, str] = Field(default_factory=dict, description="Labels of the muting alert, e.g. severity: critical.")
    source_match_re: dict[str, str] = Field(default_factory=dict, description="Label regexes of the muting alert.")
    target_match: dict[str, str] = Field(default_factory=dict, description="Labels of the muted alerts, e.g. severity: warn.")
    target_match_re: dict[str, str] = Field(default_factory=dict, description="Label regexes of the muted alerts.")
    equal: list[str] = Field(default_factory=list, description="Labels that must be equal on both.")

    @field_validator("source_match_re", "target_match_re")
    @classmethod
    def _valid_regexes(cls, v: dict[str, str]) -> dict[str, str]:
        return _regexes(v)

    @model_validator(mode="after")
    def _both_sides(self) -> InhibitRule:
        if not (self.source_match or self.source_match_re):
            raise ValueError("an inhibit rule needs source_match or source_match_re (else every alert mutes)")
        if not (self.target_match or self.target_match_re):
            raise ValueError("an inhibit rule needs target_match or target_match_re (else every alert is muted)")
        return self


class Delivery(Model):
    max_attempts: int = Field(default=12, ge=1, description="Attempts before a notification is failed.")
    give_up_after: Duration = Field(default="24h", description="A notification older than this is failed.")
    backoff_base: Duration = Field(default="30s", description="First retry delay; doubles with jitter.")
    backoff_max: Duration = Field(default="1h", description="Longest retry delay.")
    workers: int = Field(default=4, ge=1, description="Concurrent deliveries.")
    lease: Duration = Field(
        default="5m", description="A claimed notification whose sender died is retried after this."
    )
    keep: Duration = Field(default="90d", description="Delivered and failed notifications are deleted after this.")


class Heartbeat(Model):
    receiver: str | None = Field(default=None, description="Receiver of the watchdog notification; none disables it.")
    give_up_after: Duration = Field(default="1h", description="A heartbeat not delivered by then is failed (it is stale).")


class AlertingSettings(Model):
    group_by: list[str] = Field(default_factory=lambda: ["category", "country"], description="Default grouping.")
    group_wait: Duration = Field(default="0s", description="Default group wait.")
    group_interval: Duration = Field(default="5m", description="Default group interval.")
    repeat_interval: Duration = Field(default="24h", description="Default repeat interval.")
    inhibit_rules: list[InhibitRule] = Field(
        default_factory=lambda: [
            InhibitRule(
                source_match={"severity": "critical"},
                source_match_re={"scope": ".+"},
                target_match={"severity": "warn"},
                target_match_re={"series": ".+"},
                equal=["country"],
            )
        ],
        description="Alerts that mute others while they fire.",
    )
    hysteresis: float = Field(
        default=0.1, ge=0, le=1,
        description="Without a rule's clear threshold, a firing alert resolves only this fraction of |warn| back past warn.",
    )
    no_data_receiver: str | None = Field(
        default=None, description="Receiver of no-data (stale series) alerts; unset = recorded but not sent."
    )
    heartbeat: Heartbeat = Field(default_factory=Heartbeat)
    delivery: Delivery = Field(default_factory=Delivery)
