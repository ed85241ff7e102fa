"""Test support for alerting: evaluations as the assess engine makes them, and real local servers
(the `hook` and `smtp` fixtures in conftest.py start them).

`Hook` is an http.server on 127.0.0.1 that records every request and answers from a script
(status, headers, delay); `Smtp` is an aiosmtpd server that records mails and can refuse
recipients or be stopped and started again on the same port.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message as MailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sco_monitor.assess.model import Assessment, RuleEvaluation
from sco_monitor.config.settings import Settings

T0 = datetime(2024, 3, 1, 7, 15, tzinfo=UTC)
D0 = date(2024, 3, 1)


def day(i: int) -> tuple[date, datetime]:
    """(as_of, now) of the i-th daily cycle."""
    return D0 + timedelta(days=i), T0 + timedelta(days=i)


def severity_of(value: float | None, warn: float | None, critical: float | None, direction: str = "above") -> str:
    """Raw severity as the (stateless) assess engine computes it: thresholds only, no hysteresis."""
    if value is None:
        return "no_data"

    def past(level: float | None) -> bool:
        return level is not None and (value >= level if direction == "above" else value <= level)

    return "critical" if past(critical) else "warn" if past(warn) else "ok"


def ev(value: float | None, *, rule: str = "fx_depreciation_20d", country: str = "KAZ",
       series: str | None = "fx.usd_kzt", scope: str | None = None, warn: float | None = 0.05,
       critical: float | None = 0.10, clear: float | None = 0.03, for_: int = 1, direction: str = "above",
       category: str = "fx", kind: str = "change", severity: str | None = None,
       labels: dict[str, str] | None = None, within: int | None = None) -> RuleEvaluation:
    lab = {"category": category, "country": country}
    if series:
        lab["series"] = series
    if scope:
        lab["scope"] = scope
    lab.update(labels or {})
    sev = severity or severity_of(value, warn, critical, direction)
    threshold = critical if sev == "critical" else warn
    return RuleEvaluation(
        rule=rule, kind=kind, category=category, labels=lab, series_id=series, value=value, threshold=threshold,
        severity=sev, warn=warn, critical=critical, clear=clear, direction=direction, for_=for_, within=within,
        summary=f"{series or scope} {rule} at {value}",
    )


def assessment(as_of: date, *evaluations: RuleEvaluation) -> Assessment:
    return Assessment(as_of=as_of, rules=list(evaluations))


def settings(**data: Any) -> Settings:
    return Settings.model_validate(data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- webhook receiver --------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: str = ""


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Hook:
    """A real HTTP endpoint: replies from `script` in order, then `default`; records every request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with hook._lock:
                    hook.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = hook.script.pop(0) if hook.script else hook.default
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- SMTP receiver ----------------------------------------------------------------------------------------
class Smtp:
    """aiosmtpd on 127.0.0.1; `refuse` = an SMTP reply for RCPT (e.g. '550 5.1.1 no such user')."""

    def __init__(self, port: int | None = None, tls: Any = None, logins: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.mails: list[MailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: str | None = None
        self.tls = tls  # an ssl.SSLContext: STARTTLS offered and required
        self.logins = logins  # user -> password: AUTH required
        self.logged_in: list[str] = []
        self._controller: Any = None

    def start(self) -> Smtp:
        from aiosmtpd.controller import Controller

        smtp = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001, ANN201
                if smtp.refuse:
                    return smtp.refuse
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
                smtp.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                smtp.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 Message accepted"

        kwargs: dict[str, Any] = {}
        if self.tls is not None:
            kwargs.update(tls_context=self.tls, require_starttls=True)
        if self.logins is not None:
            from aiosmtpd.smtp import AuthResult, LoginPassword

            def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
                ok = isinstance(auth_data, LoginPassword) and \
                    self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
                if ok:
                    self.logged_in.append(auth_data.login.decode())
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=self.tls is not None)
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, server_hostname="127.0.0.1",
                                      **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def receiver(self, name: str = "ops-mail") -> dict[str, Any]:
        return {"name": name, "email": {"host": "127.0.0.1", "port": self.port, "security": "none",
                                        "from": "sco-monitor@example.org", "to": ["ops@example.org"], "timeout": 5}}


def self_signed_cert(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 made with the openssl CLI: (cert path, key path)."""
    import subprocess

    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def mail_parts(msg: MailMessage) -> dict[str, str]:
    """content type -> decoded text of a multipart mail."""
    return {part.get_content_type(): part.get_content().replace("\r\n", "\n")
            for part in msg.walk() if not part.is_multipart()}
