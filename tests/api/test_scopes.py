"""Every API route needs a token of the right scope, route by route.

The parametrization walks the app's own route table (its OpenAPI operations), and each operation
must appear in EXPECTED: a new route without an entry here fails `test_every_route_is_listed`
and its own case below.
"""

from __future__ import annotations

import re

import pytest

from sco_monitor.api.app import PUBLIC_PATHS, create_app, route_table
from sco_monitor.api.scopes import SCOPES, allows
from sco_monitor.context import Context

from .conftest import Api

EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/assessments"): "read",
    ("GET", "/api/v1/assessments/latest"): "read",
    ("GET", "/api/v1/assessments/{day}"): "read",
    ("GET", "/api/v1/stress-index"): "read",
    ("GET", "/api/v1/crisis-probability"): "read",
    ("GET", "/api/v1/alerts"): "read",
    ("GET", "/api/v1/alerts/history"): "read",
    ("GET", "/api/v1/acknowledgements"): "read",
    ("GET", "/api/v1/silences"): "read",
    ("GET", "/api/v1/reports"): "read",
    ("GET", "/api/v1/reports/{day}/json"): "read",
    ("GET", "/api/v1/reports/{day}/html"): "read",
    ("GET", "/api/v1/reports/{day}/md"): "read",
    ("GET", "/api/v1/track-record"): "read",
    ("GET", "/api/v1/coverage"): "read",
    ("GET", "/api/v1/freshness"): "read",
    ("GET", "/api/v1/partner-assessments"): "read",
    ("GET", "/api/v1/notes"): "read",
    ("POST", "/api/v1/partner-assessments"): "partner",
    ("POST", "/api/v1/silences"): "operator",
    ("DELETE", "/api/v1/silences/{silence_id}"): "operator",
    ("POST", "/api/v1/alerts/{fingerprint}/acknowledgements"): "operator",
    ("POST", "/api/v1/notes"): "operator",
    ("GET", "/api/v1/audit"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
}
SAMPLE = {"day": "2008-10-10", "silence_id": "0000", "fingerprint": "fp-kzt"}


def _operations() -> list[tuple[str, str, str | None]]:
    schema = create_app(Context()).openapi()
    return [(m.upper(), p, op.get("x-scope")) for p, ops in schema["paths"].items() for m, op in ops.items()]


OPERATIONS = _operations()


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


def test_every_route_is_listed_with_its_scope() -> None:
    in_schema = {(m, p): s for m, p, s in OPERATIONS}
    assert in_schema == EXPECTED
    # and nothing under /api/v1 escapes the schema, except the public contract itself
    routed = {(m, p) for m, p, _ in route_table()}
    assert routed == set(EXPECTED)
    assert {p for p in PUBLIC_PATHS if p.startswith("/api")} == {"/api/v1/openapi.json", "/api/v1/docs"}


def test_scopes_are_hierarchical() -> None:
    assert [s for s in SCOPES if allows(s, "operator")] == ["operator", "admin"]
    assert all(allows(s, "read") for s in SCOPES)
    assert not allows("partner", "operator") and not allows("bogus", "read")


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_route_needs_its_scope(api: Api, method: str, path: str, scope: str | None) -> None:
    need = EXPECTED.get((method, path))
    assert need is not None, f"{method} {path} has no entry in EXPECTED: say which scope it needs"
    assert scope == need
    url = _url(path)

    def call(headers: dict[str, str] | None = None):
        return api.client.request(method, url, headers=headers or {}, json={} if method == "POST" else None)

    r = call()
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["error"]["message"].startswith("missing bearer token")
    assert call({"Authorization": f"Basic {api.tokens['admin']}"}).status_code == 401
    assert call({"Authorization": "Bearer scom_not-a-token"}).status_code == 401
    revoked = call(api.auth("revoked"))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]
    for s in SCOPES:
        r = call(api.auth(s))
        if allows(s, need):
            assert r.status_code not in (401, 403), f"{s} token: {r.status_code} {r.text}"
        else:
            assert r.status_code == 403, f"{s} token: {r.status_code} {r.text}"
            assert f"needs {need!r}" in r.json()["error"]["message"]


def test_public_paths_answer_without_a_token(api: Api) -> None:
    schema = api.client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = api.client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert '<span class="scope">partner</span><span class="m">post</span> <code>/api/v1/partner-assessments</code>' in docs.text
    assert "<script" not in docs.text and "cdn" not in docs.text.lower()
