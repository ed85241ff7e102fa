"""The webhook channel: a signed JSON POST (Standard Webhooks headers), or a Slack-compatible body.

2xx is delivered; 408, 429, 5xx, timeouts and connection errors are retried (honouring
`Retry-After`); any other status is a permanent failure (the request itself is wrong).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sco_monitor import __version__
from sco_monitor.alerting import render
from sco_monitor.alerting.channels import Message, Outcome, channels, secret_from_env
from sco_monitor.alerting.signing import sign
from sco_monitor.config.alerting import WebhookReceiver

RETRYABLE_STATUS = {408, 425, 429}


def body(config: WebhookReceiver, m: Message) -> dict[str, Any]:
    if config.format == "slack":
        return render.slack(m)
    data: dict[str, Any] = m.payload
    if m.kind == "digest":
        data = {"subject": m.payload["subject"], "text": m.payload["text"]}
    return {"id": m.key, "type": m.kind, "timestamp": m.created_at.isoformat(), "data": data}


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(response: httpx.Response) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome.ok(f"HTTP {code}")
    snippet = response.text[:200].strip().replace("\n", " ")
    detail = f"HTTP {code}" + (f": {snippet}" if snippet else "")
    if code in RETRYABLE_STATUS or code >= 500:
        return Outcome.retryable(detail, retry_after(response.headers.get("retry-after")))
    if 300 <= code < 400:
        return Outcome.permanent(f"{detail} (redirect to {response.headers.get('location', '?')}; update the url)")
    return Outcome.permanent(detail)


@channels.register("webhook")
class WebhookChannel:
    def __init__(self) -> None:
        self._client = httpx.Client(headers={"user-agent": f"sco-monitor/{__version__}"}, follow_redirects=False)

    def send(self, config: WebhookReceiver, message: Message) -> Outcome:
        secret, problem = secret_from_env(config.secret_env, f"webhook {message.receiver}")
        if problem is not None:
            return problem
        content = json.dumps(body(config, message), sort_keys=True, separators=(",", ":"), default=str).encode()
        timestamp = int(time.time())
        headers = {**config.headers, "content-type": "application/json", "webhook-id": message.key,
                   "webhook-timestamp": str(timestamp)}
        if secret is not None:
            headers["webhook-signature"] = sign(secret, message.key, timestamp, content)
        try:
            response = self._client.post(config.url, content=content, headers=headers, timeout=config.timeout)
        except httpx.TimeoutException as e:
            return Outcome.retryable(f"timed out after {config.timeout:g}s ({type(e).__name__})")
        except httpx.TransportError as e:
            return Outcome.retryable(f"cannot reach {config.url}: {type(e).__name__}: {e}")
        return classify(response)

    def close(self) -> None:
        self._client.close()
