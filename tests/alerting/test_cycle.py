"""The cycle end to end: a threshold crossing is one email and one signed webhook call; its
resolution one more each. Assessments are fed in through the cycle's assess step."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from sco_monitor import cycle
from sco_monitor.alerting.heartbeat import enqueue_heartbeat
from sco_monitor.assess.model import Assessment
from sco_monitor.config import load_config
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed

from .support import Hook, Smtp, assessment, day, ev

SECRET = "whsec_" + base64.b64encode(b"end-to-end-secret-0123456789").decode()


def write_config(config_dir: Path, smtp: Smtp, hook_url: str, tmp_path: Path, **alerting) -> Path:  # noqa: ANN003
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["store"] = {"url": f"sqlite:///{tmp_path / 'e2e.db'}"}
    data["receivers"] = [
        smtp.receiver("ops-mail"),
        {"name": "ops-hook", "webhook": {"url": hook_url, "secret_env": "E2E_HOOK_SECRET", "timeout": 5}},
        {"name": "log", "file": {"path": str(tmp_path / "out" / "alerts.jsonl")}},
    ]
    data["route"] = {"receiver": "ops-mail", "group_by": ["category", "country"],
                     "routes": [{"match": {"severity": "critical"}, "receiver": "ops-hook", "continue": True}]}
    data["alerting"] = {"repeat_interval": "7d", "heartbeat": {"receiver": "log"}, **alerting}
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    return main


@pytest.fixture
def feed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[date, Assessment]:
    """Assessments by as_of, served by the cycle's assess step; collection is a no-op. Runs in
    tmp_path, where the (real) report step writes whatever it writes."""
    monkeypatch.chdir(tmp_path)
    by_date: dict[date, Assessment] = {}
    monkeypatch.setattr(cycle, "step_assess", lambda ctx, as_of, save=True: by_date[as_of])
    monkeypatch.setattr(cycle, "step_collect", lambda ctx, series=None, sources=None: None)
    return by_date


def test_crossing_is_one_email_and_one_signed_webhook_then_one_more_each_on_resolution(
        config_dir: Path, smtp: Smtp, hook: Hook, tmp_path: Path, feed: dict[date, Assessment],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_HOOK_SECRET", SECRET)
    ctx = Context.from_parts(load_config(write_config(config_dir, smtp, hook.url, tmp_path)))
    values = [0.02, 0.12, 0.13, 0.12, 0.01, 0.02]
    for i, v in enumerate(values):
        as_of, now = day(i)
        feed[as_of] = assessment(as_of, ev(v), ev(0.01, country="RUS", series="fx.usd_rub"))
        result = cycle.run_cycle(ctx, as_of, collect=True, now=now)
        steps = {s.step: s.status for s in result.steps}
        assert steps["assess"] == steps["alert"] == steps["deliver"] == "ok", result.lines()
        if i == 1:
            assert len(smtp.mails) == 1 and len(hook.requests) == 1  # delivered within the same cycle
    assert [m["Subject"] for m in smtp.mails] == ["[FIRING:1] critical · fx · KAZ", "[RESOLVED:1] fx · KAZ"]
    assert len(hook.requests) == 2
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    for req in hook.requests:
        h = req.headers
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req.body
        assert h["webhook-signature"] == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fired, resolved = (r.json()["data"] for r in hook.requests)
    assert (fired["status"], fired["alerts"][0]["severity"]) == ("firing", "critical")
    assert (resolved["status"], resolved["alerts"][0]["status"]) == ("resolved", "resolved")
    assert fired["alerts"][0]["fingerprint"] == resolved["alerts"][0]["fingerprint"]
    lines = cycle.run_cycle(ctx, day(5)[0], collect=False, now=day(5)[1]).lines()
    assert lines[0] == "cycle as of 2024-03-06" and lines[1] == "collect: skipped (--no-collect)"


def test_a_failing_step_skips_what_needs_it_and_never_stops_delivery(
        config_dir: Path, smtp: Smtp, hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = Context.from_parts(load_config(write_config(config_dir, smtp, hook.url, tmp_path)))

    def no_history(*a: object, **k: object) -> None:
        raise RunFailed("no observations in the store up to 2024-03-01; run `sco-monitor collect` first")

    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("provider exploded")

    monkeypatch.setattr(cycle, "step_assess", no_history)
    monkeypatch.setattr(cycle, "step_collect", broken)
    enqueue_heartbeat(ctx, day(0)[1])  # something in the outbox: delivery still runs
    result = cycle.run_cycle(ctx, day(0)[0], now=day(0)[1])
    assert result.lines() == [
        "cycle as of 2024-03-01",
        "collect: failed (RuntimeError: provider exploded)",
        "assess: failed (no observations in the store up to 2024-03-01; run `sco-monitor collect` first)",
        "alert: skipped (needs the assessment)",
        "deliver: ok (delivered 1, retrying 0, failed 0)",
        "report: skipped (needs the assessment)",
    ]
    assert [s.step for s in result.failed] == ["collect", "assess"]
    line = json.loads((tmp_path / "out" / "alerts.jsonl").read_text())
    assert (line["kind"], line["payload"]["status"]) == ("heartbeat", "alive")


def test_heartbeat_is_queued_once_per_minute_and_only_when_configured(
        config_dir: Path, smtp: Smtp, hook: Hook, tmp_path: Path) -> None:
    ctx = Context.from_parts(load_config(write_config(config_dir, smtp, hook.url, tmp_path)))
    now = day(0)[1]
    first = enqueue_heartbeat(ctx, now)
    assert first is not None and enqueue_heartbeat(ctx, now) is None
    assert enqueue_heartbeat(ctx, now.replace(minute=16)) is not None
    off = write_config(config_dir, smtp, hook.url, tmp_path, heartbeat={"receiver": None})
    assert enqueue_heartbeat(Context.from_parts(load_config(off)), now) is None
