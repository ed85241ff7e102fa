"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1), including one that refuses
recipients and one that is down: nothing is lost, and delivery resumes when it comes back."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sco_monitor.alerting import engine, outbox
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store, schema

from .support import Smtp, assessment, day, ev, mail_parts, self_signed_cert, settings


def queue(store: Store, rcv: dict[str, Any], *evaluations, i: int = 0) -> None:  # noqa: ANN002
    cfg = settings(receivers=[rcv], route={"receiver": rcv["name"]})
    as_of, now = day(i)
    engine.process(store.engine, cfg, assessment(as_of, *evaluations), now)


def deliver(store: Store, rcv: dict[str, Any], i: int = 0, hours: float = 0) -> outbox.DeliveryReport:
    return outbox.deliver_due(store.engine, [Receiver.model_validate(rcv)], Delivery(),
                              day(i)[1] + timedelta(hours=hours))


def rows(store: Store) -> list[tuple[str, int, str | None]]:
    t = schema.notifications
    with store.engine.connect() as conn:
        return [(r.status, r.attempts, r.last_error) for r in conn.execute(select(t).order_by(t.c.id))]


def test_a_group_is_one_multipart_mail(store: Store, smtp: Smtp) -> None:
    rcv = smtp.receiver()
    queue(store, rcv, ev(0.06), ev(0.12, series="fx.eur_kzt"))
    assert deliver(store, rcv).delivered == 1
    (mail,) = smtp.mails
    assert mail["Subject"] == "[FIRING:2] critical · fx · KAZ"
    assert (mail["From"], mail["To"]) == ("sco-monitor@example.org", "ops@example.org")
    with store.engine.connect() as conn:
        key = conn.execute(select(schema.notifications.c.idempotency_key)).scalar()
    assert key in mail["Message-ID"] and mail["X-SCO-Monitor-Notification"] == key
    parts = mail_parts(mail)
    assert set(parts) == {"text/plain", "text/html"}
    assert "[critical] fx_depreciation_20d fx.eur_kzt" in parts["text/plain"]
    assert "[warn] fx_depreciation_20d fx.usd_kzt" in parts["text/plain"]
    assert parts["text/html"].count("<tr style=\"border-top") == 2 and "fx.eur_kzt" in parts["text/html"]


def test_digest_mail_carries_the_reports_subject_text_and_html(store: Store, smtp: Smtp) -> None:
    rcv = smtp.receiver()
    with store.engine.begin() as conn:
        outbox.enqueue(conn, "ops-mail", "digest", {"subject": "SCO risk report 2024-03-01", "text": "Level: elevated",
                                                    "html": "<h1>Level: elevated</h1>"}, "digest-2024-03-01", day(0)[1])
    deliver(store, rcv)
    (mail,) = smtp.mails
    assert mail["Subject"] == "SCO risk report 2024-03-01"
    assert mail_parts(mail) == {"text/plain": "Level: elevated\n", "text/html": "<h1>Level: elevated</h1>\n"}


def test_a_permanently_refused_recipient_fails_and_is_listed(store: Store, smtp: Smtp) -> None:
    rcv = smtp.receiver()
    smtp.refuse = "550 5.1.1 <ops@example.org>: mailbox unavailable"
    queue(store, rcv, ev(0.06))
    report = deliver(store, rcv)
    assert (report.failed, smtp.mails) == (1, [])
    status, attempts, error = rows(store)[0]
    assert (status, attempts) == ("failed", 1)
    assert "ops@example.org refused: 550 5.1.1" in error
    with store.engine.connect() as conn:
        assert [f["receiver"] for f in outbox.failed(conn)] == ["ops-mail"]


def test_a_temporarily_refused_recipient_is_retried_until_accepted(store: Store, smtp: Smtp) -> None:
    rcv = smtp.receiver()
    smtp.refuse = "450 4.2.1 mailbox busy, try later"
    queue(store, rcv, ev(0.06))
    assert deliver(store, rcv).retrying == 1 and rows(store)[0][0] == "pending"
    smtp.refuse = None
    assert deliver(store, rcv, hours=1).delivered == 1
    assert len(smtp.mails) == 1 and rows(store) == [("delivered", 2, None)]


def test_a_server_that_is_down_loses_nothing_and_delivery_resumes(store: Store) -> None:
    server = Smtp()  # not started: connection refused
    rcv = server.receiver()
    queue(store, rcv, ev(0.06), ev(0.07, country="RUS", series="fx.usd_rub"))
    for hours in (0, 1, 2):
        deliver(store, rcv, hours=hours)
    assert {r[0] for r in rows(store)} == {"pending"} and all("Connection refused" in (r[2] or "") or
                                                             "postponed" in (r[2] or "") for r in rows(store))
    server.start()
    try:
        assert deliver(store, rcv, hours=5).delivered == 2
        assert sorted(m["Subject"] for m in server.mails) == ["[FIRING:1] warn · fx · KAZ", "[FIRING:1] warn · fx · RUS"]
        assert deliver(store, rcv, hours=6).attempted == 0  # once each
    finally:
        server.stop()


def test_starttls_and_login_from_env(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the client trusts our test CA through the default context
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = Smtp(tls=tls, logins={"monitor": "s3cret"}).start()
    try:
        rcv = server.receiver()
        rcv["email"].update(security="starttls", username_env="TEST_SMTP_USER", password_env="TEST_SMTP_PASSWORD")
        monkeypatch.setenv("TEST_SMTP_USER", "monitor")
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        queue(store, rcv, ev(0.06))
        assert deliver(store, rcv).failed == 1  # 535: a rejected login is not retried
        assert "535" in rows(store)[0][2]
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        with store.engine.begin() as conn:
            outbox.enqueue(conn, "ops-mail", "test", {"text": "hello"}, "test-1", day(0)[1])
        assert deliver(store, rcv).delivered == 1
        assert server.logged_in == ["monitor"] and len(server.mails) == 1
    finally:
        server.stop()
