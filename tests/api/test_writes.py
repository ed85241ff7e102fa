"""The write routes: silences, acknowledgements, notes, partner assessments; each audited, each
body validated with a clear 4xx JSON error, and bodies size-limited."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from sco_monitor.store import schema as t

from .conftest import NOW, Api, make_api


def _audit(api: Api) -> list[tuple[str, str, str]]:
    with api.ctx.store.engine.connect() as conn:
        rows = conn.execute(select(t.audit_log.c.actor, t.audit_log.c.action, t.audit_log.c.target, t.audit_log.c.at)
                            .order_by(t.audit_log.c.id)).all()
    assert all(r.at == NOW for r in rows)
    return [(r.actor, r.action, r.target) for r in rows if not r.action.startswith("token.")]


def test_a_silence_is_created_listed_expired_and_audited(api: Api) -> None:
    op = api.auth("operator")
    r = api.client.post("/api/v1/silences", headers=op,
                        json={"matchers": ["country=KAZ", "category=fx"], "comment": "devaluation expected", "duration": "2d"})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["created_by"] == "operator-token" and s["matchers"] == ["country=KAZ", "category=fx"]
    assert s["ends_at"] == "2008-10-12T12:00:00+00:00"
    with api.ctx.store.engine.connect() as conn:
        assert conn.execute(select(t.silences.c.created_by, t.silences.c.comment)).all() == [
            ("operator-token", "devaluation expected")]
    gone = api.client.delete(f"/api/v1/silences/{s['id']}", headers=op)
    assert gone.status_code == 200 and gone.json()["ends_at"] == NOW.isoformat()
    again = api.client.delete(f"/api/v1/silences/{s['id']}", headers=op)
    assert again.status_code == 409 and "already expired" in again.json()["error"]["message"]
    assert api.client.delete("/api/v1/silences/ffff", headers=op).status_code == 404
    assert _audit(api) == [("operator-token", "silence.create", s["id"]), ("operator-token", "silence.expire", s["id"])]


def test_bad_bodies_get_clear_json_errors(api: Api) -> None:
    op = api.auth("operator")
    cases = [
        ({"matchers": ["country=KAZ"], "comment": "x"}, 422, "body: Value error, give either duration (e.g. 2d) or ends_at"),
        ({"matchers": [], "comment": "x", "duration": "1d"}, 422, "body.matchers: List should have at least 1 item"),
        ({"matchers": ["country"], "comment": "x", "duration": "1d"}, 400, "matchers:"),
        ({"matchers": ["country=KAZ"], "comment": "x", "duration": "soon"}, 400, "duration: expected a duration"),
        ({"matchers": ["country=KAZ"], "comment": "x", "duration": "1d", "extra": 1}, 422, "body.extra: Extra inputs"),
    ]
    for body, status, message in cases:
        r = api.client.post("/api/v1/silences", headers=op, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/json"
        assert r.json()["error"]["message"].startswith(message), (body, r.json())
    not_json = api.client.post("/api/v1/silences", headers={**op, "Content-Type": "application/json"}, content=b"{oops")
    assert not_json.status_code == 422 and not_json.json()["error"]["message"].startswith("body.")
    assert _audit(api) == []  # nothing written, nothing audited


def test_partner_assessment_is_stored_with_its_author_and_audited(api: Api) -> None:
    p = api.auth("partner")
    body = {"country": "KAZ", "level": "high", "text": "Tenge under pressure from oil prices.",
            "forecast": {"level": "severe", "horizon_days": 20, "text": "devaluation likely"}}
    r = api.client.post("/api/v1/partner-assessments", headers=p, json=body)
    assert r.status_code == 201, r.text
    view = r.json()
    assert (view["author"], view["country"], view["level"], view["forecast_level"], view["forecast_horizon_days"]) == (
        "partner-token", "KAZ", "high", "severe", 20)
    assert view["created_at"] == NOW.isoformat()
    listed = api.client.get("/api/v1/partner-assessments?country=kaz", headers=api.auth("read")).json()
    assert [v["id"] for v in listed["partner_assessments"]] == [view["id"]]
    assert _audit(api) == [("partner-token", "partner_assessment.create", view["id"])]

    bad = [({**body, "level": "dire"}, ("body.level: Input should be 'low', 'moderate', 'elevated', 'high', "
                                        "'severe', 'warning' or 'critical'")),
           ({**body, "country": "XXX"}, "body.country: 'XXX' is neither WLD, an SCO member nor a country of the catalog"),
           ({**body, "country": "kz"}, "body.country: String should match pattern"),
           ({**body, "forecast": {"level": "high", "horizon_days": 0}},
            "body.forecast.horizon_days: Input should be greater than or equal to 1")]
    for b, message in bad:
        r = api.client.post("/api/v1/partner-assessments", headers=p, json=b)
        assert r.status_code == 422 and r.json()["error"]["message"].startswith(message), r.json()


def test_notes_and_the_audit_log_for_admins(api: Api) -> None:
    r = api.client.post("/api/v1/notes", headers=api.auth("operator"), json={"subject": "KAZ", "text": "Watch the tenge."})
    assert r.status_code == 201
    notes = api.client.get("/api/v1/notes?subject=KAZ", headers=api.auth("read")).json()["notes"]
    assert [(n["author"], n["text"]) for n in notes] == [("operator-token", "Watch the tenge.")]
    log = api.client.get("/api/v1/audit", headers=api.auth("admin")).json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in log][:2] == [
        ("operator-token", "note.create", r.json()["id"]), ("test", "token.revoke", "old-token")]
    tokens = api.client.get("/api/v1/tokens", headers=api.auth("admin")).json()["tokens"]
    assert {i["name"]: i["revoked_at"] is not None for i in tokens}["old-token"] is True
    assert all(set(i) == {"name", "scope", "created_at", "created_by", "revoked_at"} for i in tokens)


def test_bodies_over_the_limit_are_refused_before_parsing(api: Api) -> None:
    p = api.auth("partner")
    huge = json.dumps({"country": "KAZ", "level": "high", "text": "x" * 70_000}).encode()
    r = api.client.post("/api/v1/partner-assessments", headers={**p, "Content-Type": "application/json"}, content=huge)
    assert r.status_code == 413 and r.json()["error"]["message"] == "request body larger than 65536 bytes"

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(huge), 8192):
            yield huge[i:i + 8192]

    r = api.client.post("/api/v1/partner-assessments", headers={**p, "Content-Type": "application/json"}, content=chunks())
    assert r.status_code == 413
    long_text = api.client.post("/api/v1/partner-assessments", headers=p,
                                json={"country": "KAZ", "level": "high", "text": "x" * 6000})
    assert long_text.status_code == 422 and "at most 5000 characters" in long_text.json()["error"]["message"]
    with api.ctx.store.engine.connect() as conn:
        assert conn.execute(select(t.partner_assessments)).all() == []


def test_writes_and_reads_on_both_backends(store_url: str, tmp_path: Path) -> None:
    api = make_api(tmp_path, store_url)
    try:
        r = api.client.post("/api/v1/partner-assessments", headers=api.auth("partner"),
                            json={"country": "WLD", "level": "warning", "text": "Global funding stress.",
                                  "episode": "2008 global financial crisis"})
        assert r.status_code == 201, r.text
        s = api.client.post("/api/v1/silences", headers=api.auth("operator"),
                            json={"matchers": ["country=KAZ"], "comment": "c", "ends_at": "2008-10-11T00:00:00"})
        assert s.status_code == 201 and s.json()["ends_at"] == "2008-10-11T00:00:00+00:00"
        views = api.client.get("/api/v1/partner-assessments", headers=api.auth("read")).json()["partner_assessments"]
        assert [(v["country"], v["episode"], v["author"]) for v in views] == [
            ("WLD", "2008 global financial crisis", "partner-token")]
        assert [a[1] for a in _audit(api)] == ["partner_assessment.create", "silence.create"]
    finally:
        api.ctx.store.dispose()
