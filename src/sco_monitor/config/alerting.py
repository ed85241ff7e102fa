"""Models of receivers, the route tree and alert delivery (the alerting part of sco-monitor.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.config.types import Duration


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


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


class WebhookReceiver(Model):
    url: str = Field(description="Endpoint receiving a POST per notification.")
    secret_env: str | None = Field(
        default=None, description="Env variable with the Standard Webhooks signing secret."
    )
    format: Literal["json", "slack"] = Field(default="json", description="Body: json, or slack-compatible text.")
    timeout: float = Field(default=10.0, gt=0, description="Request timeout in seconds.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")


class FileReceiver(Model):
    path: str = Field(default="alerts/out/alerts.jsonl", description="JSON-lines file notifications are appended to.")


class Receiver(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Name routes refer to.")
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

    def receivers(self) -> list[str]:
        out = [self.receiver] if self.receiver else []
        for r in self.routes:
            out.extend(r.receivers())
        return out


class InhibitRule(Model):
    source_match: dict[str, str] = Field(description="Labels of the muting alert, e.g. severity: critical.")
    target_match: dict[str, str] = Field(description="Labels of the muted alerts, e.g. severity: warn.")
    equal: list[str] = Field(default_factory=list, description="Labels that must be equal on both.")


class Delivery(Model):
    max_attempts: int = Field(default=12, ge=1, description="Attempts before a notification is failed.")
    give_up_after: Duration = Field(default="24h", description="A notification older than this is failed.")
    backoff_base: Duration = Field(default="30s", description="First retry delay; doubles with jitter.")
    backoff_max: Duration = Field(default="1h", description="Longest retry delay.")
    workers: int = Field(default=4, ge=1, description="Concurrent deliveries.")


class Heartbeat(Model):
    receiver: str | None = Field(default=None, description="Receiver of the watchdog notification; none disables it.")


class AlertingSettings(Model):
    group_by: list[str] = Field(default_factory=lambda: ["category", "country"], description="Default grouping.")
    group_wait: Duration = Field(default="0s", description="Default group wait.")
    group_interval: Duration = Field(default="5m", description="Default group interval.")
    repeat_interval: Duration = Field(default="24h", description="Default repeat interval.")
    inhibit_rules: list[InhibitRule] = Field(
        default_factory=lambda: [
            InhibitRule(
                source_match={"severity": "critical", "scope": "country"},
                target_match={"severity": "warn"},
                equal=["country"],
            )
        ],
        description="Alerts that mute others while they fire.",
    )
    no_data_receiver: str | None = Field(default=None, description="Receiver of no-data (stale series) alerts.")
    heartbeat: Heartbeat = Field(default_factory=Heartbeat)
    delivery: Delivery = Field(default_factory=Delivery)
