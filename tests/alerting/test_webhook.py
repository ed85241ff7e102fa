"""The webhook channel against a real local HTTP server: signatures, retries, permanent failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import select

from sco_monitor.alerting import engine, outbox
from sco_monitor.alerting.channels.webhook import retry_after
from sco_monitor.alerting.signing import verify
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store, schema

from .support import T0, Hook, Reply, assessment, day, ev, free_port, settings

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def receiver(url: str, **kw: Any) -> Receiver:
    return Receiver.model_validate({"name": "ops-hook", "webhook": {"url": url, "secret_env": "TEST_HOOK_SECRET",
                                                                    "timeout": 0.5, **kw}})


def spec_signature(secret: str, msg_id: str, ts: str, body: bytes) -> str:
    """Standard Webhooks, written out independently of the code under test."""
    key = base64.b64decode(secret.split("_", 1)[1]) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def queue_alert(store: Store, hook_url: str) -> None:
    cfg = settings(receivers=[receiver(hook_url).model_dump(by_alias=True)], route={"receiver": "ops-hook"})
    as_of, now = day(0)
    engine.process(store.engine, cfg, assessment(as_of, ev(0.12)), now)


def status(store: Store) -> list[tuple[str, int, str | None]]:
    t = schema.notifications
    with store.engine.connect() as conn:
        return [(r.status, r.attempts, r.last_error) for r in conn.execute(select(t).order_by(t.c.id))]


@pytest.mark.parametrize("secret", [SECRET, "plain shared secret"])
def test_signed_delivery_verifies_with_the_spec_algorithm(store: Store, hook: Hook, secret: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    queue_alert(store, hook.url)
    report = outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), day(0)[1])
    assert report.delivered == 1
    (req,) = hook.requests
    h = req.headers
    assert h["content-type"] == "application/json"
    assert h["webhook-id"].startswith("alert_") and abs(int(h["webhook-timestamp"]) - time.time()) < 60
    assert h["webhook-signature"] == spec_signature(secret, h["webhook-id"], h["webhook-timestamp"], req.body)
    assert verify(secret, h["webhook-id"], int(h["webhook-timestamp"]), req.body, h["webhook-signature"])
    assert not verify(secret, h["webhook-id"], int(h["webhook-timestamp"]), req.body + b" ", h["webhook-signature"])
    body = req.json()
    assert (body["id"], body["type"]) == (h["webhook-id"], "alert")
    alert = body["data"]["alerts"][0]
    assert (alert["status"], alert["severity"], alert["labels"]["country"], alert["value"]) == ("firing", "critical", "KAZ", 0.12)


def test_failures_are_retried_until_it_works_and_400_is_final(store: Store, hook: Hook,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    queue_alert(store, hook.url)
    rcv, delivery = [receiver(hook.url)], Delivery(backoff_base="10s")
    hook.script = [Reply(500, body="upstream down"), Reply(429, {"Retry-After": "7"}), Reply(200, delay=1.5),
                   Reply(200)]
    now = day(0)[1]
    for expect in ["HTTP 500: upstream down", "HTTP 429", "timed out after 0.5s (ReadTimeout)"]:
        outbox.deliver_due(store.engine, rcv, delivery, now)
        (st,) = status(store)
        assert st[0] == "pending" and st[2] == expect
        with store.engine.connect() as conn:
            next_at = conn.execute(select(schema.notifications.c.next_attempt_at)).scalar()
        if expect == "HTTP 429":
            assert next_at == now + timedelta(seconds=7)  # Retry-After honoured
        now = next_at
    assert outbox.deliver_due(store.engine, rcv, delivery, now).delivered == 1
    assert status(store) == [("delivered", 4, None)]
    ids = {r.headers["webhook-id"] for r in hook.requests}
    assert len(hook.requests) == 4 and len(ids) == 1  # every attempt carries the same idempotency id

    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-hook", "test", {"text": "hi"}, "bad-one", now)
    hook.script = [Reply(400, body='{"error": "unknown field"}')]
    report = outbox.deliver_due(store.engine, rcv, delivery, now)
    assert report.failed == 1 and status(store)[1] == ("failed", 1, 'HTTP 400: {"error": "unknown field"}')


def test_connection_refused_is_retried_and_delivered_when_the_endpoint_is_back(store: Store, hook: Hook,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    dead = f"http://127.0.0.1:{free_port()}/hook"
    queue_alert(store, dead)
    with store.engine.begin() as conn:
        for i in range(3):
            outbox.enqueue(conn, "ops-hook", "test", {"text": f"more {i}"}, f"more-{i}", day(0)[1])
    report = outbox.deliver_due(store.engine, [receiver(dead)], Delivery(), day(0)[1])
    # one attempt found it down; the others waited instead of hammering it
    assert (report.retrying, report.postponed, report.failed) == (1, 3, 0)
    assert [s[1] for s in status(store)] == [1, 0, 0, 0]
    assert "cannot reach" in status(store)[0][2]
    later = day(0)[1] + timedelta(hours=2)
    report = outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), later)  # endpoint back (new url)
    assert report.delivered == 4 and len(hook.requests) == 4


def test_slack_format_and_digests(store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    queue_alert(store, hook.url)
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-hook", "digest", {"subject": "Daily risk 2024-03-01", "text": "KAZ elevated",
                                                    "html": "<b>KAZ</b>"}, "digest-1", day(0)[1])
    outbox.deliver_due(store.engine, [receiver(hook.url, format="slack")], Delivery(), day(0)[1])
    digest, alert = sorted((r.json() for r in hook.requests), key=lambda b: "FIRING" in b["text"])
    assert set(alert) == {"text"} and alert["text"].startswith("*[FIRING:1] critical · fx · KAZ*")
    assert "fx_depreciation_20d fx.usd_kzt" in alert["text"]
    assert digest == {"text": "*Daily risk 2024-03-01*\nKAZ elevated"}
    hook.requests.clear()
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-hook", "digest", {"subject": "S", "text": "T", "html": "<p>H</p>"}, "digest-2", day(0)[1])
    outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), day(0)[1])
    body = hook.requests[0].json()
    assert (body["type"], body["data"]) == ("digest", {"subject": "S", "text": "T"})


def test_missing_secret_is_retried_not_sent_unsigned(store: Store, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_HOOK_SECRET", raising=False)
    queue_alert(store, hook.url)
    outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), day(0)[1])
    assert hook.requests == []
    assert status(store) == [("pending", 1, "webhook ops-hook: env variable TEST_HOOK_SECRET is not set")]


def test_two_deliverers_at_once_send_each_notification_once(store: Store, hook: Hook,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    with store.engine.begin() as conn:
        for i in range(40):
            outbox.enqueue(conn, "ops-hook", "test", {"text": str(i)}, f"n-{i}", T0)
    hook.default = Reply(200, delay=0.01)
    reports: list[outbox.DeliveryReport] = []
    runs = [threading.Thread(target=lambda: reports.append(
        outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(workers=3), T0))) for _ in range(2)]
    for r in runs:
        r.start()
    for r in runs:
        r.join()
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert sum(r.delivered for r in reports) == 40 and all(r.delivered for r in reports)


def test_redirects_are_permanent_and_retry_after_dates_parse(store: Store, hook: Hook,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    queue_alert(store, hook.url)
    hook.script = [Reply(301, {"Location": "https://elsewhere.example/hook"})]
    assert outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), day(0)[1]).failed == 1
    assert "redirect to https://elsewhere.example/hook" in status(store)[0][2]
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert retry_after("120") == 120 and retry_after("soon") is None and retry_after(None) is None


def test_signature_header_is_absent_without_a_secret(store: Store, hook: Hook) -> None:
    rcv = Receiver.model_validate({"name": "ops-hook", "webhook": {"url": hook.url, "headers": {"X-Team": "risk"}}})
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-hook", "test", {"text": "hi"}, "t1", T0)
    assert outbox.deliver_due(store.engine, [rcv], Delivery(), T0).delivered == 1
    h = hook.requests[0].headers
    assert "webhook-signature" not in h and h["webhook-id"] == "t1" and h["x-team"] == "risk"
    assert json.loads(hook.requests[0].body)["data"] == {"text": "hi"}


def test_the_docs_verification_snippet_accepts_our_requests(store: Store, hook: Hook,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ..conftest import ROOT

    page = (ROOT / "docs" / "alerts.md").read_text()
    section = page[page.index("## Verifying webhook signatures"):]
    code = section[section.index("```python") + len("```python"):section.index("```", section.index("```python") + 9)]
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/alerts.md", "exec"), scope)  # noqa: S102 - our own documentation
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    queue_alert(store, hook.url)
    outbox.deliver_due(store.engine, [receiver(hook.url)], Delivery(), day(0)[1])
    req = hook.requests[0]
    assert scope["verify"](SECRET, req.headers, req.body)
    assert not scope["verify"]("whsec_" + base64.b64encode(b"another key").decode(), req.headers, req.body)
