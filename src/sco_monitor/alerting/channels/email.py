"""The email channel (smtplib): STARTTLS, SSL, or plain for a local relay; multipart text + HTML.

One mail per notification, i.e. per alert group. SMTP reply codes decide the outcome: 4xx and
lost connections are retried, 5xx (a refused recipient, a rejected login) are permanent.
The Message-ID is built from the idempotency key, so mail clients fold a repeated delivery.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sco_monitor.alerting import render
from sco_monitor.alerting.channels import Message, Outcome, channels, secret_from_env
from sco_monitor.config.alerting import EmailReceiver


def build(config: EmailReceiver, m: Message) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = render.subject(m)
    msg["From"] = config.from_
    msg["To"] = ", ".join(config.to)
    msg["Date"] = format_datetime(m.created_at)
    msg["Message-ID"] = message_id(m.key, config.from_)
    msg["X-SCO-Monitor-Notification"] = m.key
    msg.set_content(render.text(m))
    msg.add_alternative(render.html(m), subtype="html")
    return msg


_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def message_id(key: str, sender: str = "") -> str:
    """`<key@domain>`, valid per RFC 5322 and the same on every attempt, so a repeated delivery is
    recognisably one message. Characters a msg-id cannot hold become dots, and then a short hash of
    the key keeps distinct keys distinct; the domain is the sender's when it is a dot-atom."""
    left = ".".join(part for part in _NOT_ATEXT.sub(".", key).split(".") if part)
    if left != key:
        left = f"{left}.{hashlib.sha256(key.encode()).hexdigest()[:12]}" if left else hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return f"<{left}@{domain if _DOT_ATOM.fullmatch(domain) else 'sco-monitor'}>"


def _by_code(code: int, detail: str) -> Outcome:
    return Outcome.retryable(detail) if 400 <= code < 500 else Outcome.permanent(detail)


def _text(resp: bytes | str) -> str:
    return resp.decode(errors="replace") if isinstance(resp, bytes) else str(resp)


@channels.register("email")
class EmailChannel:
    def send(self, config: EmailReceiver, message: Message) -> Outcome:
        user, problem = secret_from_env(config.username_env, f"email {message.receiver}")
        password, problem2 = secret_from_env(config.password_env, f"email {message.receiver}")
        if problem or problem2:
            return problem or problem2  # type: ignore[return-value]
        msg = build(config, message)
        where = f"{config.host}:{config.port}"
        try:
            with self._connect(config) as smtp:
                if user is not None:
                    smtp.login(user, password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            detail = "; ".join(f"{rcpt} refused: {c} {_text(r)}" for rcpt, (c, r) in e.recipients.items())
            return Outcome.retryable(detail) if all(400 <= c < 500 for c in codes) else Outcome.permanent(detail)
        except smtplib.SMTPConnectError as e:
            return Outcome.retryable(f"{where} refused the connection: {e.smtp_code} {_text(e.smtp_error)}")
        except smtplib.SMTPResponseException as e:
            return _by_code(e.smtp_code, f"{where}: {e.smtp_code} {_text(e.smtp_error)}")
        except smtplib.SMTPNotSupportedError as e:
            return Outcome.permanent(f"{where}: {e} (check `security`)")
        except (smtplib.SMTPException, OSError) as e:
            return Outcome.retryable(f"{where}: {type(e).__name__}: {e}")
        if refused:
            # Some recipients took it: resending would duplicate theirs, so it counts as delivered.
            return Outcome.ok("; ".join(f"{rcpt} refused: {c} {_text(r)}" for rcpt, (c, r) in refused.items()))
        return Outcome.ok(f"accepted by {where}")

    @staticmethod
    def _connect(config: EmailReceiver) -> smtplib.SMTP:
        if config.security == "ssl":
            return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        if config.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def close(self) -> None:
        return None
