"""What the `alerts` and `deliver` commands do, as library calls the CLI wraps thinly."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sco_monitor.alerting import db, engine, outbox, silences
from sco_monitor.alerting.channels import Message, Outcome
from sco_monitor.alerting.payload import idempotency_key
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.timeutil import utcnow

STATES = ("pending", "firing", "resolved", "inactive")
DEFAULT_STATES = ("pending", "firing")


def deliver(ctx: Context, now: datetime | None = None,
            clock: Callable[[], datetime] | None = None) -> outbox.DeliveryReport:
    """Queue what group_wait / group_interval held back, deliver everything due, drop old history.

    The outbox reads `clock` (default: the real one) at each claim, attempt and record; `now`
    freezes it (a simulated day of the replay)."""
    settings = ctx.config.settings
    eng, delivery = ctx.store.engine, settings.alerting.delivery
    clock = clock or ((lambda: now) if now is not None else utcnow)
    engine.flush_due(eng, settings, clock())
    report = outbox.deliver_due(eng, settings.receivers, delivery, clock=clock)
    with eng.begin() as conn:
        outbox.prune(conn, clock(), delivery.keep)
    return report


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *rows])


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _target(row: dict[str, Any]) -> str:
    lab = row["labels"]
    return row.get("series_id") or lab.get("series") or lab.get("scope") or lab.get("country") or ""


def list_alerts(ctx: Context, states: Sequence[str] | None, as_json: bool, now: datetime) -> str:
    """Alerts in the given states (default pending and firing), then notifications that failed."""
    wanted = list(states or DEFAULT_STATES)
    if "all" in wanted:
        wanted = list(STATES)
    bad = [s for s in wanted if s not in STATES]
    if bad:
        raise UsageError(f"--state: unknown state {bad[0]!r}; expected one of: {', '.join(STATES)}, all")
    with ctx.store.engine.connect() as conn:
        rows = engine.alert_rows(conn, ctx.config.settings, now, wanted)
        failed = outbox.failed(conn)
        counts = outbox.counts(conn)
    if as_json:
        for f in failed:
            for k in ("created_at", "last_attempt_at"):
                f[k] = f[k].isoformat() if f[k] else None
        return json.dumps({"alerts": rows, "failed_notifications": failed, "outbox": counts}, indent=2,
                          sort_keys=True)
    out: list[str] = []
    if rows:
        body = [[r["state"], r["severity"], r["rule"], _target(r), _num(r["value"]), _num(r["threshold"]),
                 (r["fired_at"] or r["starts_at"] or "")[:16].replace("T", " "),
                 r["pending"] if r["state"] == "pending" else "", r["muted"] or ""] for r in rows]
        out.append(_table(body, ["STATE", "SEVERITY", "RULE", "TARGET", "VALUE", "THRESHOLD", "SINCE", "FOR", "MUTED"]))
    else:
        out.append(f"no {' or '.join(wanted)} alerts")
    out.append("")
    out.append(f"outbox: {counts['pending']} pending, {counts['delivered']} delivered, {counts['failed']} failed")
    if failed:
        out.append("")
        out.append("FAILED NOTIFICATIONS (not delivered; see last error)")
        out.append(_table([[str(f["id"]), f["receiver"], f["kind"], str(f["attempts"]),
                            f["created_at"].isoformat()[:16].replace("T", " "), (f["last_error"] or "")[:120]]
                           for f in failed], ["ID", "RECEIVER", "KIND", "ATTEMPTS", "CREATED", "LAST ERROR"]))
    return "\n".join(out)


def test_receiver(ctx: Context, name: str, now: datetime) -> Outcome:
    """Send a test message straight to one receiver (not through the outbox) and return the outcome."""
    known = {r.name: r for r in ctx.config.settings.receivers}
    if name not in known:
        raise UsageError(f"unknown receiver {name!r}; known receivers: {', '.join(sorted(known)) or 'none configured'}")
    payload = {"text": "Test notification from sco-monitor: this receiver is reachable.", "at": now.isoformat(),
               "receiver": name}
    message = Message(key=idempotency_key("test", name, now.isoformat()), receiver=name, kind="test",
                      payload=payload, created_at=now)
    return outbox.send(known[name], message)


@dataclass
class SilenceResult:
    silence: silences.Silence
    muting_now: int

    def text(self) -> str:
        s = self.silence
        return (f"silence {s.id} until {s.ends_at:%Y-%m-%d %H:%M} UTC "
                f"({', '.join(map(str, s.matchers))}); mutes {self.muting_now} active alert(s) now")


def silence(ctx: Context, matches: Sequence[str], for_: str | None, until: str | None, comment: str,
            author: str | None, now: datetime) -> SilenceResult:
    from sco_monitor.config.types import parse_duration

    matchers = silences.parse_matchers(matches)
    try:
        duration = parse_duration(for_) if for_ is not None else None
    except ValueError as e:
        raise UsageError(f"--for: {e}") from None
    end = silences.duration_until(now, duration, _parse_until(until))
    if not comment.strip():
        raise UsageError("--comment: say why (it is shown to everyone who wonders where the alerts went)")
    who = author or _user()
    with db.write_txn(ctx.store.engine) as conn:
        s = silences.create(conn, matchers, now, end, comment, who, now)
        records = db.load_alerts(conn, states=["pending", "firing"])
    muting = sum(1 for r in records.values() if s.mutes(r.routing_labels()))
    return SilenceResult(s, muting)


def _parse_until(until: str | None) -> datetime | None:
    if until is None:
        return None
    try:
        dt = datetime.fromisoformat(until)
    except ValueError:
        raise UsageError(f"--until: expected a date or datetime like 2024-03-01T12:00, got {until!r}") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def list_silences(ctx: Context, include_expired: bool, as_json: bool, now: datetime) -> str:
    with ctx.store.engine.connect() as conn:
        items = silences.load(conn, now, include_expired)
    if as_json:
        return json.dumps([s.to_dict() | {"active": s.active(now)} for s in items], indent=2)
    if not items:
        return "no silences" if include_expired else "no active silences"
    rows = [[s.id[:8], "active" if s.active(now) else ("expired" if s.ends_at <= now else "pending"),
             f"{s.ends_at:%Y-%m-%d %H:%M}", " ".join(map(str, s.matchers)), s.created_by, s.comment]
            for s in items]
    return _table(rows, ["ID", "STATUS", "ENDS (UTC)", "MATCHERS", "BY", "COMMENT"])


def unsilence(ctx: Context, silence_id: str, now: datetime) -> str:
    with db.write_txn(ctx.store.engine) as conn:
        s = silences.expire(conn, silence_id, now)
    return f"silence {s.id} expired ({' '.join(map(str, s.matchers))})"
