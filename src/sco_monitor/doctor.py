"""`sco-monitor doctor`: one line per check (config, store, schedules, sources, receivers, clock).

Nothing is sent and nothing is written: sources and webhooks get a HEAD (or GET) with a short
timeout, SMTP servers a connect + EHLO (+ STARTTLS when configured). Any HTTP answer, even 404,
proves reachability; only a failed connection or a timeout fails the check.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import httpx
import typer
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from sco_monitor.app import load_app_config
from sco_monitor.config import AppConfig, ConfigError
from sco_monitor.config.alerting import EmailReceiver, FileReceiver, WebhookReceiver
from sco_monitor.store import Store, StoreError, migrate, schema
from sco_monitor.timeutil import utcnow

# Where each provider answers when sources.<name>.base_url does not say otherwise.
PROVIDER_URLS = {
    "yahoo": "https://query1.finance.yahoo.com",
    "fred": "https://fred.stlouisfed.org",
    "worldbank": "https://api.worldbank.org",
    "ecb": "https://www.ecb.europa.eu",
}
CLOCK_TOLERANCE_DB = 5.0  # seconds, against the database server's clock
CLOCK_TOLERANCE_HTTP = 30.0  # seconds, against HTTP Date headers (1 s resolution plus latency)


@dataclass(frozen=True)
class Check:
    name: str
    status: Literal["ok", "fail", "skip"]
    detail: str
    hint: str = ""


@dataclass
class _Clocks:
    """Reference clocks met along the way: (what, its time, when we read it)."""

    seen: list[tuple[str, datetime, datetime, float]]

    def add(self, what: str, theirs: datetime, ours: datetime, tolerance: float) -> None:
        self.seen.append((what, theirs, ours, tolerance))


def run_checks(config_path: str | Path | None, timeout: float = 5.0) -> list[Check]:
    from sco_monitor.load_checks import check_config

    try:
        config = load_app_config(config_path)
        check_config(config)
    except ConfigError as e:
        return [Check("config", "fail", str(e), "fix that key; docs/configuration.md lists every key")]
    s = config.settings
    enabled = sum(1 for x in config.universe.series if x.enabled)
    checks = [Check("config", "ok", f"{config.path}: {len(config.universe.series)} series ({enabled} enabled), "
                    f"{len(config.rules.rules)} rules, {len(s.receivers)} receivers, {len(s.schedules)} schedules")]
    clocks = _Clocks([])
    checks += _store(config, clocks)
    checks.append(_schedules(config))
    checks += _sources(config, timeout, clocks)
    checks += _receivers(config, timeout, clocks)
    checks.append(_clock(config, clocks))
    return checks


def _store(config: AppConfig, clocks: _Clocks) -> list[Check]:
    url = config.settings.store.url
    try:
        store = Store(url)
        store.check()
    except StoreError as e:
        return [Check("store", "fail", str(e), "check store.url (or SCO_MONITOR_DB_URL) and that the database is up")]
    try:
        tables = set(inspect(store.engine).get_table_names())
        missing = sorted(set(schema.metadata.tables) - tables)
        if store.dialect == "postgresql":
            with store.engine.connect() as conn:
                ours = utcnow()
                clocks.add("the database server", conn.execute(text("SELECT now()")).scalar(), ours,
                           CLOCK_TOLERANCE_DB)
        revision, head = store.schema_revision(), migrate.head_revision()
        empty = len(missing) == len(schema.metadata.tables)
        if revision != head and not empty:  # a store behind head lacks later revisions' tables: upgrade it
            out = [Check("store", "fail", f"{store.display_url}: schema revision {revision or 'none (release 0.1.0)'}, "
                         f"this version expects {head}", "run `sco-monitor init` to upgrade it")]
        elif missing:
            out = [Check("store", "fail", f"{store.display_url}: missing tables {', '.join(missing)}",
                         "run `sco-monitor init`")]
        else:
            out = [Check("store", "ok", f"{store.display_url}: {len(schema.metadata.tables)} tables present, "
                         f"schema revision {revision}")]
        out.append(_daemon(store))
        return out
    except (SQLAlchemyError, OSError) as e:
        return [Check("store", "fail", f"{store.display_url}: {str(e).splitlines()[0]}", "check the database")]
    finally:
        store.dispose()


def _daemon(store: Store) -> Check:
    from sco_monitor.daemon.lock import instance_name, store_lock
    from sco_monitor.errors import UsageError

    try:
        lock = store_lock(store, instance_name())
    except UsageError as e:
        return Check("daemon", "fail", str(e), "use a file path or PostgreSQL in store.url")
    try:
        holder = lock.holder()
    finally:
        lock.release()
    if holder is None:
        return Check("daemon", "ok", f"no daemon running on this store ({lock.where} is free)")
    return Check("daemon", "ok", f"running: {holder.instance} holds the {lock.where}")


def _schedules(config: AppConfig) -> Check:
    from sco_monitor.config.cron import next_fire
    from sco_monitor.daemon.service import plan_jobs

    try:
        jobs = plan_jobs(config)
    except ConfigError as e:
        return Check("schedules", "fail", str(e), "name a registered job or package.module:function")
    if not jobs:
        return Check("schedules", "fail", "every schedule is disabled", "enable at least one schedule")
    now = utcnow()
    soonest = min(jobs.values(), key=lambda j: next_fire(j.trigger, now))
    when = next_fire(soonest.trigger, now)
    return Check("schedules", "ok", f"{len(jobs)} jobs scheduled; next: {soonest.id} at "
                 f"{when.astimezone(ZoneInfo(config.settings.timezone)):%Y-%m-%d %H:%M:%S %z}")


def _default_url(name: str) -> str | None:
    from sco_monitor.sources import registry

    try:
        cls = registry.get(name)
    except (ImportError, AttributeError, KeyError):
        return PROVIDER_URLS.get(name)
    return getattr(cls, "default_base_url", None) or PROVIDER_URLS.get(name)


def _sources(config: AppConfig, timeout: float, clocks: _Clocks) -> list[Check]:
    s = config.settings
    used = {x.source for x in config.universe.series if x.enabled}
    out: list[Check] = []
    for name in sorted(used | set(s.sources)):
        opts = s.sources.get(name)
        label = f"source {name}"
        if name not in used:
            out.append(Check(label, "skip", f"configured under sources.{name}, but no enabled series uses it"))
            continue
        if name == "csv":
            out.append(_csv_files(config))
            continue
        url = (opts.base_url if opts else None) or _default_url(name)
        if url is None:
            out.append(Check(label, "skip", "no base URL known", f"set sources.{name}.base_url"))
            continue
        check = _reach(label, url, timeout, clocks,
                       f"check the network or proxy (HTTPS_PROXY), or set sources.{name}.base_url")
        if opts is not None and opts.api_key_env and not os.environ.get(opts.api_key_env):
            check = replace(check, detail=f"{check.detail}; env {opts.api_key_env} is not set, so no API key is sent")
        out.append(check)
    return out


def _csv_files(config: AppConfig) -> Check:
    """csv series read files beside the universe file (or URLs, reached when collected)."""
    paths = [Path(str(x.params["path"])) for x in config.universe.series
             if x.enabled and x.source == "csv" and x.params.get("path")]
    resolved = [p if p.is_absolute() else config.universe_dir / p for p in paths]
    missing = [str(p) for p in resolved if not p.is_file()]
    if missing:
        return Check("source csv", "fail", f"missing file(s): {', '.join(missing)}",
                     "put the files there or fix params.path (relative to the universe file's folder)")
    return Check("source csv", "ok", f"{len(resolved)} local file(s) present")


def _reach(label: str, url: str, timeout: float, clocks: _Clocks, hint: str) -> Check:
    t0 = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            resp = client.head(url)
            if resp.status_code in (405, 501):
                resp = client.get(url)
    except httpx.HTTPError as e:
        return Check(label, "fail", f"{url} unreachable: {type(e).__name__}: {e}", hint)
    ms = (time.monotonic() - t0) * 1000
    if "date" in resp.headers:
        try:
            clocks.add(url, parsedate_to_datetime(resp.headers["date"]), utcnow(), CLOCK_TOLERANCE_HTTP)
        except (TypeError, ValueError):
            pass
    return Check(label, "ok", f"{url} answered {resp.status_code} in {ms:.0f} ms")


def _receivers(config: AppConfig, timeout: float, clocks: _Clocks) -> list[Check]:
    out: list[Check] = []
    for r in config.settings.receivers:
        label = f"receiver {r.name}"
        if isinstance(r.email, EmailReceiver):
            out.append(_smtp(label, r.email, timeout))
        elif isinstance(r.webhook, WebhookReceiver):
            w = r.webhook
            if w.secret_env and not os.environ.get(w.secret_env):
                out.append(Check(label, "fail", f"env {w.secret_env} (the signing secret) is not set",
                                 f"export {w.secret_env}=<the secret shared with the endpoint>"))
                continue
            out.append(_reach(label, w.url, min(timeout, w.timeout), clocks,
                              f"check receivers.{r.name}.webhook.url and that the endpoint is up"))
        elif isinstance(r.file, FileReceiver):
            out.append(_file(label, r.file))
    return out


def _smtp(label: str, e: EmailReceiver, timeout: float) -> Check:
    missing = [v for v in (e.username_env, e.password_env) if v and not os.environ.get(v)]
    where = f"{e.host}:{e.port}"
    try:
        cls = smtplib.SMTP_SSL if e.security == "ssl" else smtplib.SMTP
        with cls(e.host, e.port, timeout=min(timeout, e.timeout)) as smtp:
            code, _ = smtp.ehlo()
            if code != 250:
                return Check(label, "fail", f"{where} refused EHLO ({code})", "check the SMTP server")
            if e.security == "starttls":
                if not smtp.has_extn("starttls"):
                    return Check(label, "fail", f"{where} does not offer STARTTLS",
                                 "set security: ssl (port 465) or none for a local relay")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
    except (OSError, smtplib.SMTPException) as err:
        return Check(label, "fail", f"SMTP {where} unreachable: {type(err).__name__}: {err}",
                     "check host, port and security of the email receiver")
    if missing:
        return Check(label, "fail", f"SMTP {where} answered, but env {', '.join(missing)} not set",
                     "export the SMTP login and password variables")
    return Check(label, "ok", f"SMTP {where} answered EHLO ({e.security}); nothing sent")


def _file(label: str, f: FileReceiver) -> Check:
    target = Path(f.path)
    existing = next((p for p in (target.parent, *target.parent.parents) if p.exists()), Path("."))
    if os.access(existing, os.W_OK):
        return Check(label, "ok", f"appends to {target.resolve()}")
    return Check(label, "fail", f"cannot write under {existing.resolve()}",
                 "make the folder writable for the daemon's user or change the path")


def _clock(config: AppConfig, clocks: _Clocks) -> Check:
    tz = ZoneInfo(config.settings.timezone)
    local = utcnow().astimezone(tz)
    about = f"{config.settings.timezone}, local time {local:%Y-%m-%d %H:%M:%S %z}"
    if not clocks.seen:
        return Check("clock", "ok", f"{about}; no reference clock reachable to compare with")
    skews = [(what, (theirs - ours).total_seconds(), tol) for what, theirs, ours, tol in clocks.seen]
    bad = [x for x in skews if abs(x[1]) > x[2]]
    if bad:
        what, skew, _ = max(bad, key=lambda x: abs(x[1]))
        return Check("clock", "fail", f"{about}; this clock is {-skew:+.0f} s off {what}",
                     "enable time synchronisation (e.g. `timedatectl set-ntp true` or chrony)")
    worst = max(abs(x[1]) for x in skews)
    return Check("clock", "ok", f"{about}; within {worst:.0f} s of {len(skews)} reference clock(s)")


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[c.status]
        line = f"{mark}  {c.name.ljust(width)}  {c.detail}"
        if c.hint and c.status != "ok":
            line += f"  -> fix: {c.hint}"
        lines.append(line)
    return "\n".join(lines)


def run_doctor(config_path: str | Path | None, timeout: float) -> int:
    """Print every check; 1 if any failed, 2 (like every command) when the config itself is wrong."""
    checks = run_checks(config_path, timeout)
    typer.echo(render(checks))
    if checks[0].name == "config" and checks[0].status == "fail":
        return 2  # nothing else could be checked
    failed = sum(1 for c in checks if c.status == "fail")
    typer.echo(f"\n{failed} of {len(checks)} checks failed" if failed else f"\nall {len(checks)} checks passed")
    return 1 if failed else 0
