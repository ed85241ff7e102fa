"""A receiver with `language: ru` gets its alerts in Russian: the mail is decoded as a client would
(RFC 2047 subject, charset of each part) and the Russian words and numbers checked."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from sco_monitor.alerting import engine, outbox
from sco_monitor.config.alerting import Delivery, Receiver
from sco_monitor.store import Store

from .support import Smtp, assessment, day, ev, mail_parts, settings


def _deliver(store: Store, rcv: dict, *evaluations) -> None:
    cfg = settings(receivers=[rcv], route={"receiver": rcv["name"]})
    as_of, now = day(0)
    engine.process(store.engine, cfg, assessment(as_of, *evaluations), now)
    report = outbox.deliver_due(store.engine, [Receiver.model_validate(rcv)], Delivery(), now + timedelta(minutes=1))
    assert report.delivered == 1


def test_a_russian_receiver_gets_a_russian_mail_with_encoded_subject_and_utf8_body(store: Store, smtp: Smtp) -> None:
    rcv = smtp.receiver() | {"language": "ru"}
    _deliver(store, rcv, ev(0.0612), ev(0.1234, series="fx.eur_kzt"))
    (mail,) = smtp.mails
    raw = mail.as_bytes()
    header = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    subject_lines = [line for line in header.splitlines() if line.lower().startswith(b"subject:")]
    assert subject_lines and b"=?utf-8?" in subject_lines[0].lower(), "the Cyrillic subject is not RFC 2047 encoded"
    # decode it again the way a mail client does, from the bytes on the wire
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "[АКТИВНО:2] критический · валюта · Казахстан"
    parts = {p.get_content_type(): p for p in parsed.walk() if not p.is_multipart()}
    assert {p.get_content_charset() for p in parts.values()} == {"utf-8"}
    text = mail_parts(parsed)
    plain, html = text["text/plain"], text["text/html"]
    assert "АКТИВНЫ (2)" in plain
    assert "[критический] fx_depreciation_20d fx.eur_kzt" in plain
    plain, html = (t.replace("\u00a0", " ").replace("\u202f", " ") for t in (plain, html))  # CLDR spaces
    assert "на 1 мар. 2024 г. · новая группа оповещений" in plain
    assert "значение +12,3 %, порог +10,0 %, с 2024-03-01 07:15" in plain  # Russian percent: comma, space
    assert "[предупреждение] fx_depreciation_20d fx.usd_kzt\n    значение +6,1 %, порог +5,0 %" in plain
    assert '<html lang="ru">' in html and "<th>порог</th>" in html
    assert "fx_depreciation_20d (fx.usd_kzt): значение +6,1 %, порог +5,0 %, предупреждение" in html  # the summary
    assert "threshold" not in plain and "FIRING" not in plain


def test_english_and_chinese_receivers_of_the_same_alert_each_get_their_language(store: Store, smtp: Smtp) -> None:
    en, zh = smtp.receiver("desk-en"), smtp.receiver("desk-zh") | {"language": "zh"}
    cfg = settings(receivers=[en, zh], route={"receiver": "desk-en", "routes": [
        {"receiver": "desk-en", "continue": True}, {"receiver": "desk-zh"}]})
    as_of, now = day(0)
    engine.process(store.engine, cfg, assessment(as_of, ev(0.12)), now)
    outbox.deliver_due(store.engine, [Receiver.model_validate(en), Receiver.model_validate(zh)], Delivery(),
                       now + timedelta(minutes=1))
    subjects = sorted(m["Subject"] for m in smtp.mails)
    assert subjects == ["[FIRING:1] critical · fx · KAZ", "[触发:1] 严重 · 外汇 · 哈萨克斯坦"]
    body = next(mail_parts(m)["text/plain"] for m in smtp.mails if "触发" in m["Subject"])
    assert "数值 +12.0%，阈值 +10.0%" in body
