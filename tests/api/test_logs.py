"""No token ever appears in a log line: every request is logged with the token's name only."""

from __future__ import annotations

import logging

import pytest
from structlog.testing import capture_logs

from .conftest import Api


def test_requests_are_logged_by_token_name_never_by_token(seeded: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = list(seeded.tokens.values())
    with capture_logs() as entries:
        for scope in ("read", "partner", "operator", "admin", "revoked"):
            seeded.client.get("/api/v1/assessments/latest", headers=seeded.auth(scope))
            seeded.client.post("/api/v1/silences", headers=seeded.auth(scope),
                               json={"matchers": ["country=KAZ"], "comment": "c", "duration": "1h"})
            seeded.client.post("/api/v1/notes", headers=seeded.auth(scope), json={"subject": "KAZ"})  # a 422
        seeded.client.get("/api/v1/audit", headers={"Authorization": "Bearer scom_guessed-token-value"})
        seeded.client.get("/api/v1/alerts", headers={"Authorization": f"Basic {secrets[0]}"})
    requests = [e for e in entries if e["event"] == "api_request"]
    assert len(requests) == 17
    assert {e["token"] for e in requests} == {"read-token", "partner-token", "operator-token", "admin-token", None}
    assert {e.get("auth") for e in requests if e["status"] == 401} == {"unknown or revoked token", None}
    assert any(e["event"] == "api_write" and e["actor"] == "operator-token" for e in entries)
    logged = repr(entries) + caplog.text
    for token in [*secrets, "scom_guessed-token-value"]:
        assert token not in logged
        assert token[5:20] not in logged  # not even a part of it
