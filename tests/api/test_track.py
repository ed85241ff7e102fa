"""GET /api/v1/track-record: the model's warnings and a partner's views, scored against the same
configured episode on the same assessment days."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sco_monitor.store import schema as t

from .conftest import make_api


def test_the_track_record_scores_the_model_and_each_partner(tmp_path: Path) -> None:
    clock = {"now": datetime(2008, 8, 25, 6, 0, tzinfo=UTC)}
    api = make_api(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", clock=lambda: clock["now"],
                   assessment={"crisis_horizon": 20, "episodes": [
                       {"name": "KAZ 2008", "start": "2008-09-15", "end": "2008-10-31", "countries": ["KAZ"]}]})
    days = pd.bdate_range("2008-06-02", "2008-12-31")
    with api.ctx.store.engine.begin() as conn:
        conn.execute(t.rule_evaluations.insert(), [
            {"as_of": d.date(), "fingerprint": "fp", "rule": "fx_jump", "labels": {"country": "KAZ"}, "value": 0.0,
             "threshold": 0.05, "kind": "change", "summary": "", "details": {},
             "severity": "warn" if pd.Timestamp("2008-09-01") <= d <= pd.Timestamp("2008-09-12") else "ok"}
            for d in days])
    api.ctx.store.upsert_observations(pd.DataFrame({"series_id": "eq.us.spx", "date": days, "value": 1.0}))

    posted = api.client.post("/api/v1/partner-assessments", headers=api.auth("partner"),
                             json={"country": "KAZ", "level": "elevated", "text": "Outflows from the tenge."})
    assert posted.status_code == 201
    clock["now"] = datetime(2008, 11, 3, 6, 0, tzinfo=UTC)
    calm = api.client.post("/api/v1/partner-assessments", headers=api.auth("partner"),
                           json={"country": "KAZ", "level": "moderate", "text": "Stabilised."})
    assert calm.status_code == 201

    r = api.client.get("/api/v1/track-record", headers=api.auth("read"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["available"] is True and doc["outcomes_known_to"] == "2008-12-31"
    model = doc["model"]
    assert (model["summary"]["episodes"], model["summary"]["warned"]) == (1, 1)
    assert model["episodes"][0]["warning"]["lead_days"] == 10
    (partner,) = doc["partners"]
    assert (partner["author"], partner["views"], partner["countries"]) == ("partner-token", 2, ["KAZ"])
    ep = partner["track_record"]["episodes"][0]
    assert (ep["name"], ep["warning"]["came"], ep["warning"]["first"], ep["warning"]["lead_days"]) == (
        "KAZ 2008", True, "2008-08-25", 15)
    assert "partner-token: 1 of 1 (2 views)" in doc["message"]
    api.ctx.store.dispose()
