"""Bug 3: the email Message-ID comes from the notification's idempotency key, is valid per RFC 5322
(msg-id = "<" dot-atom-text "@" dot-atom-text ">"), and is the same on every attempt, so a mail that
was delivered twice (its 250 reply was lost) is recognisably one message. Real aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from sco_monitor.alerting import outbox
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store

from ..alerting.support import T0, free_port

ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
DOT_ATOM = rf"{ATEXT}+(?:\.{ATEXT}+)*"
MSG_ID = re.compile(rf"<{DOT_ATOM}@{DOT_ATOM}>")


class LosesFirstReply:
    """Takes every mail; for the first one it drops the connection instead of answering 250."""

    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        if len(self.mails) == 1:
            server.transport.close()  # the 250 never reaches the sender
        return "250 OK"


@pytest.fixture
def lossy_smtp() -> Iterator[tuple[int, LosesFirstReply]]:
    handler, port = LosesFirstReply(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


def _receiver(port: int) -> Receiver:
    return Receiver.model_validate({"name": "ops-mail", "email": {
        "host": "127.0.0.1", "port": port, "security": "none", "from": "sco-monitor@example.org",
        "to": ["ops@example.org"], "timeout": 5}})


def test_a_retried_mail_carries_the_same_valid_message_id(store: Store, lossy_smtp) -> None:
    port, inbox = lossy_smtp
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-mail", "digest", {"subject": "Daily risk", "text": "t", "html": "<p>h</p>"},
                       "digest:2024-03-01:ops-mail", T0)
        outbox.enqueue(conn, "ops-mail", "test", {"text": "hello"}, "alert_0123456789abcdef", T0)
    first = outbox.deliver_due(store.engine, [_receiver(port)], Delivery(workers=1), T0)
    assert first.retrying + first.postponed == 2 and first.delivered == 0  # the lost reply: retried
    second = outbox.deliver_due(store.engine, [_receiver(port)], Delivery(workers=1), T0 + timedelta(hours=1))
    assert second.delivered == 2
    ids = [m["Message-ID"] for m in inbox.mails]
    keys = [m["X-SCO-Monitor-Notification"] for m in inbox.mails]
    assert len(inbox.mails) == 3 and keys.count("digest:2024-03-01:ops-mail") == 2
    digest_ids = {i for i, k in zip(ids, keys) if k.startswith("digest")}
    assert len(digest_ids) == 1, ids  # the duplicate is the same message to the recipient's client
    for mid in ids:
        assert MSG_ID.fullmatch(mid), mid
    assert "2024-03-01" in next(iter(digest_ids))  # readable: derived from the key
    assert len(set(ids)) == 2  # two notifications, two ids
