"""`sco-monitor tokens create|list|revoke`: the token is printed once and only its hash is stored."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from sco_monitor.store import Store
from sco_monitor.store import schema as t

pytestmark = pytest.mark.slow


@pytest.mark.long  # forty CLI starts, 41 s: CI's second step (`make test-long`)
def test_tokens_are_created_once_listed_without_secrets_and_revoked(config_dir: Path, tmp_path: Path, run_cli) -> None:
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    url = f"sqlite:///{tmp_path / 'store.db'}"
    data["store"] = {"url": url}
    main.write_text(yaml.safe_dump(data))
    cfg = ("--config", str(main))

    made = run_cli(*cfg, "tokens", "create", "astana-centre", "--scope", "partner")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("scom_") and len(token) == 48
    assert "shown only this once" in made.stderr
    again = run_cli(*cfg, "tokens", "create", "astana-centre", "--scope", "read")
    assert again.returncode == 2 and "exists and is active; revoke it first" in again.stderr
    bad = run_cli(*cfg, "tokens", "create", "x", "--scope", "root")
    assert bad.returncode == 2 and "--scope" in bad.stderr

    listed = run_cli(*cfg, "tokens", "list", "--json")
    assert [(i["name"], i["scope"], i["revoked_at"]) for i in json.loads(listed.stdout)] == [
        ("astana-centre", "partner", None)]
    assert token not in listed.stdout + listed.stderr

    store = Store(url)
    try:
        with store.engine.connect() as conn:
            (stored,) = conn.execute(select(t.api_tokens.c.token_hash)).scalars().all()
        assert stored == hashlib.sha256(token.encode()).hexdigest()
        revoked = run_cli(*cfg, "tokens", "revoke", "astana-centre")
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        twice = run_cli(*cfg, "tokens", "revoke", "astana-centre")
        assert twice.returncode == 2 and "already revoked" in twice.stderr
        assert "revoked 20" in run_cli(*cfg, "tokens", "list").stdout
        with store.engine.connect() as conn:
            actions = conn.execute(select(t.audit_log.c.action, t.audit_log.c.target)).all()
        assert [tuple(a) for a in actions] == [("token.create", "astana-centre"), ("token.revoke", "astana-centre")]
    finally:
        store.dispose()
    renewed = run_cli(*cfg, "tokens", "create", "astana-centre", "--scope", "partner")
    assert renewed.returncode == 0 and renewed.stdout.strip() != token
