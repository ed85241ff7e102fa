"""The API for real: `sco-monitor run` in a subprocess serves /api/v1 beside /healthz and /metrics.

Without a token every API route answers 401; a read token reads the latest assessment but may
not create a silence (403); an operator token creates it; a partner's assessment appears in the
next report and in the track record; a revoked token is refused; no token reaches the log.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from ..conftest import GOOD_CONFIG
from ..daemon.conftest import wait_for

pytestmark = pytest.mark.slow
SAMPLE = {"day": "2008-10-10", "silence_id": "0000", "fingerprint": "fp"}


def _config(root: Path) -> Path:
    cfg = root / "config"
    cfg.mkdir()
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty")).date()
    days = pd.bdate_range(end=pd.Timestamp(today), periods=300)
    rng = np.random.default_rng(11)
    kzt = 450 * np.exp(np.cumsum(rng.normal(0, 0.002, len(days))))
    kzt[-10:] = kzt[-11] * np.linspace(1.015, 1.15, 10)
    pd.DataFrame({"date": days.date, "close": kzt}).to_csv(cfg / "usd_kzt.csv", index=False)
    universe = {"series": [
        {"id": "fx.usd_kzt", "name": "USD/KZT", "source": "csv", "symbol": "KZT",
         "params": {"path": "usd_kzt.csv", "date_column": "date", "value_column": "close"},
         "kind": "fx", "country": "KAZ", "frequency": "B", "unit": "KZT per USD", "direction": "up"}]}
    rules = {"rules": [{"name": "fx_jump", "kind": "change", "category": "fx", "select": {"series": ["fx.usd_kzt"]},
                        "params": {"window": 20}, "warn": 0.05, "critical": 0.10, "clear": 0.03, "for": 1}]}
    (cfg / "universe.yaml").write_text(yaml.safe_dump(universe, sort_keys=False))
    (cfg / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (cfg / "playbooks.yaml").write_text((GOOD_CONFIG / "playbooks.yaml").read_text())
    main = {
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml",
        "timezone": "Asia/Almaty",
        "store": {"url": f"sqlite:///{root / 'var' / 'store.db'}"},
        "executor": {"kind": "inline"},
        "schedules": {"collect_market": {"cron": "*/5 * * * * *", "timeout": "2m"},
                      "assess": {"cron": "2/5 * * * * *", "timeout": "2m"}},
        "receivers": [{"name": "log", "file": {"path": str(root / "alerts.jsonl")}}],
        "route": {"receiver": "log"},
        "report": {"out_dir": str(root / "reports"), "formats": ["html", "md", "json"]},
        "daemon": {"standby_poll": "1s", "shutdown_grace": "2s"},
    }
    path = cfg / "sco-monitor.yaml"
    path.write_text(yaml.safe_dump(main, sort_keys=False))
    return path


@pytest.mark.long  # about a minute of a live daemon: CI's second step (`make test-long`)
def test_the_running_daemon_serves_the_api_with_scoped_tokens(tmp_path: Path, start_daemon, run_cli) -> None:
    cfg = _config(tmp_path)
    tokens = {}
    for name, scope in (("analyst", "read"), ("duty-officer", "operator"), ("partner-centre", "partner")):
        made = run_cli("--config", str(cfg), "tokens", "create", name, "--scope", scope)
        assert made.returncode == 0, made.stderr
        tokens[scope] = made.stdout.strip()
        assert re.fullmatch(r"scom_[A-Za-z0-9_-]{43}", tokens[scope])
    listed = run_cli("--config", str(cfg), "tokens", "list")
    assert "partner-centre" in listed.stdout and not any(tok in listed.stdout for tok in tokens.values())

    d = start_daemon(cfg)
    d.wait_role("active", timeout=60)
    base = d.url
    auth = {s: {"Authorization": f"Bearer {tok}"} for s, tok in tokens.items()}
    with httpx.Client(base_url=base, timeout=30) as http:
        schema = http.get("/api/v1/openapi.json").json()
        operations = [(m.upper(), p) for p, ops in schema["paths"].items() for m in ops]
        assert len(operations) >= 25
        for method, path in operations:
            url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
            r = http.request(method, url, json={} if method == "POST" else None)
            assert r.status_code == 401, f"{method} {path}: {r.status_code}"

        def latest() -> dict | None:
            r = http.get("/api/v1/assessments/latest", headers=auth["read"])
            return r.json() if r.status_code == 200 else None

        doc = wait_for(latest, 150, "the daemon's first saved assessment", every=1)
        assert {r["rule"] for r in doc["rules"]} == {"fx_jump"}
        assert any(s["scope"] == "KAZ" for s in doc["stress_index"]) or doc["stress_index"] == []

        silence = {"matchers": ["country=KAZ"], "comment": "devaluation announced", "duration": "1d"}
        denied = http.post("/api/v1/silences", headers=auth["read"], json=silence)
        assert denied.status_code == 403 and "needs 'operator'" in denied.json()["error"]["message"]
        made = http.post("/api/v1/silences", headers=auth["operator"], json=silence)
        assert made.status_code == 201 and made.json()["created_by"] == "duty-officer"
        listed = http.get("/api/v1/silences", headers=auth["read"]).json()["silences"]
        assert [s["id"] for s in listed] == [made.json()["id"]]

        view = http.post("/api/v1/partner-assessments", headers=auth["partner"],
                         json={"country": "KAZ", "level": "high", "text": "Tenge pressure from capital outflows.",
                               "forecast": {"level": "severe", "horizon_days": 10}})
        assert view.status_code == 201, view.text

        assert http.get("/healthz").status_code in (200, 503)
        assert http.get("/metrics").text.startswith("# HELP")

        report = run_cli("--config", str(cfg), "report", "--format", "html,json")
        assert report.returncode == 0, report.stderr
        day = next(p for p in (tmp_path / "reports").iterdir() if p.is_dir())
        rj = json.loads((day / "report.json").read_text())
        assert [(p["author"], p["country"], p["level"], p["forecast_level"]) for p in rj["partners"]["items"]] == [
            ("partner-centre", "KAZ", "high", "severe")]
        assert "Tenge pressure from capital outflows." in (day / "report.html").read_text()

        track = http.get("/api/v1/track-record", headers=auth["read"])
        assert track.status_code == 200, track.text
        (partner,) = track.json()["partners"]
        assert (partner["author"], partner["views"], partner["countries"]) == ("partner-centre", 1, ["KAZ"])
        signalled = partner["track_record"]["timeline"]["KAZ"]["warn"]
        assert signalled and signalled[-1][1] == date.fromisoformat(doc["as_of"]).isoformat()

        revoked = run_cli("--config", str(cfg), "tokens", "revoke", "analyst")
        assert revoked.returncode == 0, revoked.stderr
        assert http.get("/api/v1/assessments/latest", headers=auth["read"]).status_code == 401
    assert d.terminate(timeout=60) == 0
    logs = d.logs()
    assert '"event": "api_request"' in logs and "partner-centre" in logs
    for tok in tokens.values():
        assert tok not in logs and tok not in report.stderr
