"""API tokens: created once and shown once, kept only as a sha256 hash, revoked by name.

A token is `scom_` + 32 random bytes (secrets.token_urlsafe); its hash is looked up and then
compared in constant time. Creating and revoking a token is audited like any API write.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select, update

from sco_monitor.api import audit
from sco_monitor.api.scopes import SCOPES
from sco_monitor.errors import UsageError
from sco_monitor.store import schema

t = schema.api_tokens
PREFIX = "scom_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class TokenInfo:
    name: str
    scope: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "scope": self.scope, "created_at": self.created_at.isoformat(),
                "created_by": self.created_by, "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def create(engine: Engine, name: str, scope: str, now: datetime, actor: str | None = None) -> str:
    """A new token for `name`; returns the token (the only time it exists outside the caller).
    A revoked name may be given a new token; an active one may not."""
    if not NAME.match(name):
        raise UsageError(f"token name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    if scope not in SCOPES:
        raise UsageError(f"--scope {scope!r}: expected one of {', '.join(SCOPES)}")
    actor = actor or cli_actor()
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        old = conn.execute(select(t.c.revoked_at).where(t.c.name == name)).first()
        if old is not None and old.revoked_at is None:
            raise UsageError(f"token {name!r} exists and is active; revoke it first (`sco-monitor tokens revoke {name}`)")
        conn.execute(delete(t).where(t.c.name == name))
        conn.execute(t.insert().values(name=name, token_hash=digest(token), scope=scope, created_at=now,
                                       created_by=actor, revoked_at=None))
        audit.record(conn, actor=actor, scope="admin", action="token.create", target=name, now=now,
                     detail={"scope": scope})
    return token


def revoke(engine: Engine, name: str, now: datetime, actor: str | None = None) -> TokenInfo:
    actor = actor or cli_actor()
    with engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.name == name)).mappings().first()
        if row is None:
            raise UsageError(f"no token named {name!r}; see `sco-monitor tokens list`")
        if row["revoked_at"] is not None:
            raise UsageError(f"token {name!r} was already revoked at {row['revoked_at']:%Y-%m-%d %H:%M} UTC")
        conn.execute(update(t).where(t.c.name == name).values(revoked_at=now))
        audit.record(conn, actor=actor, scope="admin", action="token.revoke", target=name, now=now)
    return _info({**row, "revoked_at": now})


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(select(t).order_by(t.c.name)).mappings()]


def verify(engine: Engine, token: str) -> TokenInfo | None:
    """The active token this is, or None (unknown or revoked)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    h = digest(token)
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.token_hash == h)).mappings().first()
    if row is None or not hmac.compare_digest(row["token_hash"], h) or row["revoked_at"] is not None:
        return None
    return _info(row)


def _info(r: object) -> TokenInfo:
    m = dict(r)  # type: ignore[call-overload]
    return TokenInfo(name=m["name"], scope=m["scope"], created_at=m["created_at"], created_by=m["created_by"] or "",
                     revoked_at=m["revoked_at"])


def describe(tokens: list[TokenInfo]) -> str:
    """A table for `tokens list`."""
    if not tokens:
        return "no API tokens; create one with `sco-monitor tokens create NAME --scope read`"
    lines = [f"{'NAME':<24} {'SCOPE':<9} {'CREATED (UTC)':<17} {'BY':<16} STATUS"]
    for i in tokens:
        status = f"revoked {i.revoked_at:%Y-%m-%d %H:%M}" if i.revoked_at else "active"
        lines.append(f"{i.name:<24} {i.scope:<9} {i.created_at:%Y-%m-%d %H:%M} {i.created_by:<16} {status}")
    return "\n".join(lines)
