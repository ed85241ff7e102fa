"""The alerting commands as a user runs them, and crash safety under SIGKILL (real subprocesses)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from sco_monitor.alerting import commands, engine
from sco_monitor.config import load_config
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.store import Store, schema
from sco_monitor.timeutil import utcnow

from ..conftest import cli_env
from .support import Hook, Reply, assessment, ev


def setup(config_dir: Path, tmp_path: Path, hook_url: str = "http://127.0.0.1:9/hook", lease: str = "5m") -> Path:
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["store"] = {"url": f"sqlite:///{tmp_path / 'var' / 'test.db'}"}
    data["receivers"][1]["webhook"]["url"] = hook_url
    data["alerting"]["delivery"] = {"lease": lease}
    data["receivers"][1]["webhook"]["timeout"] = 1  # shorter than any lease here, as the load check requires
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    return main


def fire(main: Path, *evaluations) -> None:  # noqa: ANN002
    """What a cycle's alert step does, run in this process against the CLI's database, now
    (the commands below read the real clock)."""
    cfg = load_config(main)
    store = Store(cfg.settings.store.url)
    store.init()
    now = utcnow()
    engine.process(store.engine, cfg.settings, assessment(now.date(), *evaluations), now)
    store.dispose()


def outbox_rows(main: Path) -> list[dict]:
    store = Store(load_config(main).settings.store.url)
    with store.engine.connect() as conn:
        t = schema.notifications
        rows = [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]
    store.dispose()
    return rows


def test_alerts_list_table_json_and_state_filter(run_cli, cli, config_dir: Path, tmp_path: Path) -> None:
    main = setup(config_dir, tmp_path)
    proc = run_cli("--config", str(main), "alerts", "list")  # the installed entry point, for real
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["no pending or firing alerts", "",
                                        "outbox: 0 pending, 0 delivered, 0 failed"]
    fire(main, ev(0.06), ev(0.12, country="RUS", series="fx.usd_rub"), ev(0.07, for_=3, series="fx.eur_kzt"))
    proc = cli("--config", str(main), "alerts", "list")
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["STATE", "SEVERITY", "RULE", "TARGET", "VALUE", "THRESHOLD", "SINCE", "FOR", "MUTED"]
    assert [ln.split()[:4] for ln in lines[1:4]] == [
        ["firing", "critical", "fx_depreciation_20d", "fx.usd_rub"],
        ["firing", "warn", "fx_depreciation_20d", "fx.usd_kzt"],
        ["pending", "warn", "fx_depreciation_20d", "fx.eur_kzt"]]
    assert lines[3].split()[-1] == "1/3"
    assert "outbox: 3 pending, 0 delivered, 0 failed" in proc.stdout  # log: 2 groups; hook: the critical one
    data = json.loads(cli("--config", str(main), "alerts", "list", "--json", "--state", "pending").stdout)
    assert [a["series_id"] for a in data["alerts"]] == ["fx.eur_kzt"] and data["outbox"]["pending"] == 3
    proc = cli("--config", str(main), "alerts", "list", "--state", "burning")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "sco-monitor: --state: unknown state 'burning'; expected one of: pending, firing, resolved, inactive, all")


def test_silence_silences_unsilence(cli, config_dir: Path, tmp_path: Path) -> None:
    main = setup(config_dir, tmp_path)
    fire(main, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"))
    cfg = ["--config", str(main)]
    proc = cli(*cfg, "alerts", "silence", "--match", "country=KAZ", "--match", "category=fx", "--for", "2d",
                   "--comment", "tenge float announced", "--author", "analyst")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("silence ") and out.endswith("(country=KAZ, category=fx); mutes 1 active alert(s) now")
    sid = out.split()[1]
    listing = cli(*cfg, "alerts", "silences").stdout.splitlines()
    assert listing[1].split()[:2] == [sid[:8], "active"] and "tenge float announced" in listing[1]
    muted = [ln for ln in cli(*cfg, "alerts", "list").stdout.splitlines() if "fx.usd_kzt" in ln]
    assert muted[0].endswith(f"silenced by {sid}")
    proc = cli(*cfg, "alerts", "unsilence", sid[:8])
    assert proc.returncode == 0 and proc.stdout.strip() == f"silence {sid} expired (country=KAZ category=fx)"
    assert cli(*cfg, "alerts", "silences").stdout.strip() == "no active silences"
    assert "expired" in cli(*cfg, "alerts", "silences", "--all").stdout
    again = cli(*cfg, "alerts", "unsilence", sid)
    assert again.returncode == 2 and "already expired" in again.stderr
    ctx = Context(main)
    proc = cli(*cfg, "alerts", "silence", "--match", "country", "--for", "1d", "--comment", "x")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "sco-monitor: --match: expected LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX, got 'country'")
    for args, message in [
        ((["country=~K["], "1d", None, "x"), "--match: invalid regex"),
        ((["country=KAZ"], None, None, "x"), "give either --for DURATION"),
        ((["country=KAZ"], "soon", None, "x"), "--for: expected a duration"),
        ((["country=KAZ"], "1d", None, " "), "--comment: say why"),
        ((["country=~.*"], "1d", None, "x"), "would match every alert"),
        ((["country=KAZ"], None, "2001-01-01", "x"), "is in the past"),
    ]:
        with pytest.raises(UsageError, match=message):
            commands.silence(ctx, *args, author=None, now=utcnow())


def test_alerts_test_and_deliver(cli, config_dir: Path, tmp_path: Path, hook: Hook) -> None:
    main = setup(config_dir, tmp_path, hook.url)
    cfg = ["--config", str(main)]
    proc = cli(*cfg, "alerts", "test", "log")
    assert (proc.returncode, proc.stdout.strip()) == (0, "test to log: ok: out/alerts.jsonl")
    assert json.loads((tmp_path / "out" / "alerts.jsonl").read_text())["kind"] == "test"
    proc = cli(*cfg, "alerts", "test", "hook")
    assert proc.returncode == 1
    assert proc.stdout.strip() == "test to hook: retryable: webhook hook: env variable TEST_WEBHOOK_SECRET is not set"
    proc = cli(*cfg, "alerts", "test", "hook", env={"TEST_WEBHOOK_SECRET": "s"})
    assert proc.returncode == 0 and proc.stdout.strip() == "test to hook: ok: HTTP 200"
    assert hook.requests[0].json()["type"] == "test"
    with pytest.raises(UsageError, match="unknown receiver 'pager'; known receivers: hook, log"):
        commands.test_receiver(Context(main), "pager", utcnow())

    fire(main, ev(0.12))
    hook.script = [Reply(400, body="nope")]
    proc = cli(*cfg, "deliver", env={"TEST_WEBHOOK_SECRET": "s"})
    assert proc.returncode == 1
    assert proc.stdout.strip() == "delivered 1, retrying 0, failed 1"
    assert re.search(r"^notification \d+ to hook failed: HTTP 400: nope$", proc.stderr, re.MULTILINE)
    listing = cli(*cfg, "alerts", "list").stdout
    assert "FAILED NOTIFICATIONS" in listing and "HTTP 400: nope" in listing


def test_cycle_command_options(cli, config_dir: Path, tmp_path: Path) -> None:
    main = setup(config_dir, tmp_path)
    proc = cli("--config", str(main), "cycle", "--no-collect", "--as-of", "2024-03-01")
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["cycle as of 2024-03-01", "collect: skipped (--no-collect)"]
    assert "deliver: ok (delivered 0, retrying 0, failed 0)" in lines


KILL_AFTER_STATE_CHANGE = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{tests!r}]
    from tests.alerting.support import assessment, ev
    from sco_monitor.config import load_config
    from sco_monitor.context import Context
    from sco_monitor.cycle import step_alert
    from sco_monitor.timeutil import utcnow
    ctx = Context.from_parts(load_config({main!r}))
    now = utcnow()
    run = step_alert(ctx, assessment(now.date(), ev(0.12)), now)
    print(len(run.notifications), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies between the state change and delivery
""")


@pytest.mark.slow
def test_killed_after_the_state_change_delivers_once_after_restart(run_cli, config_dir: Path, tmp_path: Path,
                                                                   hook: Hook) -> None:
    main = setup(config_dir, tmp_path, hook.url)
    script = KILL_AFTER_STATE_CHANGE.format(tests=str(Path(__file__).parents[2]), main=str(main))
    proc = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip().splitlines()[-1] == "2"
    assert hook.requests == [] and not (tmp_path / "out").exists()
    for _ in range(2):  # the restarted deliverer, then once more: nothing is sent twice
        done = run_cli("--config", str(main), "deliver", env={"TEST_WEBHOOK_SECRET": "s"})
        assert done.returncode == 0, done.stderr
    assert len(hook.requests) == 1
    assert len((tmp_path / "out" / "alerts.jsonl").read_text().splitlines()) == 1
    assert [r["status"] for r in outbox_rows(main)] == ["delivered", "delivered"]


@pytest.mark.slow
def test_killed_mid_delivery_is_redelivered_after_the_lease_with_the_same_id(
        config_dir: Path, tmp_path: Path, hook: Hook) -> None:
    main = setup(config_dir, tmp_path, hook.url, lease="2s")
    fire(main, ev(0.12))
    hook.script = [Reply(200, delay=30)]  # the first attempt hangs; we kill the sender meanwhile
    env = cli_env(TEST_WEBHOOK_SECRET="s")
    cmd = [sys.executable, "-m", "sco_monitor", "--log-format", "json", "--config", str(main), "deliver"]
    sender = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not hook.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hook.requests, "the sender never reached the webhook"
    sender.send_signal(signal.SIGKILL)
    sender.wait(timeout=30)
    rows = outbox_rows(main)
    hook_row = next(r for r in rows if r["receiver"] == "hook")
    assert hook_row["status"] == "pending" and hook_row["claim_token"] is not None  # claimed, outcome unknown
    time.sleep(2.1)  # the lease runs out
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert len(ids) == 2 and ids[0] == ids[1] == hook_row["idempotency_key"]  # at-least-once, same id
    assert {r["status"] for r in outbox_rows(main)} == {"delivered"}
