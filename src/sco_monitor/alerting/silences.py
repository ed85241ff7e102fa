"""Silences: label matchers that mute notifications until they expire. Alerts keep their state."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from sco_monitor.alerting.matchers import Matcher, MatcherError, match_all, parse
from sco_monitor.errors import UsageError
from sco_monitor.store import schema

t = schema.silences


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""
    created_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str]) -> bool:
        return match_all(self.matchers, labels)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "matchers": [str(m) for m in self.matchers], "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(), "created_by": self.created_by, "comment": self.comment}


def _row(r: Mapping[str, object]) -> Silence:
    return Silence(id=r["id"], matchers=tuple(Matcher.from_dict(m) for m in r["matchers"]),  # type: ignore[union-attr]
                   starts_at=r["starts_at"], ends_at=r["ends_at"], created_by=r["created_by"] or "",  # type: ignore[arg-type]
                   comment=r["comment"] or "", created_at=r["created_at"])  # type: ignore[arg-type]


def parse_matchers(texts: Sequence[str]) -> tuple[Matcher, ...]:
    """--match values → matchers; a silence needs at least one, and not one that matches everything."""
    if not texts:
        raise UsageError("--match: a silence needs at least one matcher, e.g. --match country=KAZ")
    try:
        matchers = tuple(parse(t_) for t_ in texts)
    except MatcherError as e:
        raise UsageError(f"--match: {e}") from None
    if all(m.matches({}) for m in matchers):
        raise UsageError("--match: these matchers would match every alert; name a label value to silence")
    return matchers


def create(conn: Connection, matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime,
           comment: str = "", created_by: str = "", now: datetime | None = None) -> Silence:
    if ends_at <= starts_at:
        raise UsageError("a silence must end after it starts")
    s = Silence(str(uuid.uuid4()), tuple(matchers), starts_at, ends_at, created_by, comment, now or starts_at)
    conn.execute(t.insert().values(id=s.id, matchers=[m.to_dict() for m in s.matchers], starts_at=starts_at,
                                   ends_at=ends_at, created_by=created_by, comment=comment, created_at=s.created_at))
    return s


def expire(conn: Connection, silence_id: str, now: datetime) -> Silence:
    """End a silence now; an unknown or already expired id is a usage error naming it."""
    rows = conn.execute(select(t).where(or_(t.c.id == silence_id, t.c.id.startswith(silence_id)))).mappings().all()
    if not rows:
        raise UsageError(f"no silence with id {silence_id!r}; see `sco-monitor alerts silences --all`")
    if len(rows) > 1:
        raise UsageError(f"silence id {silence_id!r} is ambiguous ({len(rows)} match); give more of it")
    s = _row(rows[0])
    if s.ends_at <= now:
        raise UsageError(f"silence {s.id} already expired at {s.ends_at:%Y-%m-%d %H:%M} UTC")
    conn.execute(update(t).where(t.c.id == s.id).values(ends_at=max(now, s.starts_at)))
    return Silence(s.id, s.matchers, s.starts_at, max(now, s.starts_at), s.created_by, s.comment, s.created_at)


def load(conn: Connection, now: datetime, include_expired: bool = False) -> list[Silence]:
    """Silences not yet ended (current and future), or all of them."""
    stmt = select(t).order_by(t.c.ends_at)
    if not include_expired:
        stmt = stmt.where(t.c.ends_at > now)
    return [_row(r) for r in conn.execute(stmt).mappings()]


def muting(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> Silence | None:
    return next((s for s in silences if s.active(now) and s.mutes(labels)), None)


def duration_until(now: datetime, for_: timedelta | None, until: datetime | None) -> datetime:
    if (for_ is None) == (until is None):
        raise UsageError("give either --for DURATION (e.g. 2d) or --until DATETIME")
    end = now + for_ if for_ is not None else until
    assert end is not None
    if end <= now:
        raise UsageError(f"--until {end.isoformat()} is in the past")
    return end
