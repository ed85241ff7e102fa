"""The read routes serve what the store saved: assessments, history, alerts, reports, data."""

from __future__ import annotations

from .conftest import Api


def test_latest_and_dated_assessments_are_what_the_store_saved(seeded: Api) -> None:
    h = seeded.auth("read")
    latest = seeded.client.get("/api/v1/assessments/latest", headers=h)
    assert latest.status_code == 200, latest.text
    doc = latest.json()
    assert doc["as_of"] == "2008-10-10" and doc["overall_level"] == "severe"
    assert {(s["scope"], s["level"]) for s in doc["stress_index"]} == {("WLD", "severe"), ("KAZ", "elevated")}
    assert doc["crisis_probability"] == [{"country": "KAZ", "horizon": 20, "probability": 0.30000000000000004,
                                          "details": {"n": 3}}]
    assert [(r["rule"], r["severity"], r["labels"]["country"]) for r in doc["rules"]] == [("fx_jump", "critical", "KAZ")]
    assert doc["indicators"] == [{"series_id": "fx.usd_kzt", "indicator": "change_20", "value": 0.12}]
    assert doc["rule_counts"] == {"critical": 1}

    day = seeded.client.get("/api/v1/assessments/2008-10-09", headers=h).json()
    assert day["as_of"] == "2008-10-09" and day["overall_level"] == "high"
    assert seeded.client.get("/api/v1/assessments", headers=h).json() == {"days": ["2008-10-09", "2008-10-10"],
                                                                         "count": 2}
    missing = seeded.client.get("/api/v1/assessments/2001-01-01", headers=h)
    assert missing.status_code == 404 and "no assessment saved for 2001-01-01" in missing.json()["error"]["message"]
    bad = seeded.client.get("/api/v1/assessments/yesterday", headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("path.day:")


def test_no_assessment_yet_is_a_clear_404(api: Api) -> None:
    r = api.client.get("/api/v1/assessments/latest", headers=api.auth("read"))
    assert r.status_code == 404 and "no assessment saved yet" in r.json()["error"]["message"]


def test_history_filters_by_dates_and_scope(seeded: Api) -> None:
    h = seeded.auth("read")
    rows = seeded.client.get("/api/v1/stress-index?scope=wld&from=2008-10-10", headers=h).json()["rows"]
    assert [(r["scope"], r["date"], r["level"]) for r in rows] == [("WLD", "2008-10-10", "severe")]
    prob = seeded.client.get("/api/v1/crisis-probability?scope=KAZ&to=2008-10-09&horizon=20", headers=h).json()
    assert [(r["date"], r["probability"]) for r in prob["rows"]] == [("2008-10-09", 0.2)]
    backwards = seeded.client.get("/api/v1/stress-index?from=2008-10-10&to=2008-10-01", headers=h)
    assert backwards.status_code == 400 and backwards.json()["error"]["message"] == "from 2008-10-10 is after to 2008-10-01"


def test_alerts_their_history_and_acknowledgements(seeded: Api) -> None:
    ack = seeded.client.post("/api/v1/alerts/fp-kzt/acknowledgements", headers=seeded.auth("operator"),
                             json={"comment": "central bank informed"})
    assert ack.status_code == 201, ack.text
    alerts = seeded.client.get("/api/v1/alerts", headers=seeded.auth("read")).json()["alerts"]
    assert [(a["rule"], a["state"]) for a in alerts] == [("fx_jump", "firing")]
    assert [(k["author"], k["comment"]) for k in alerts[0]["acknowledgements"]] == [("operator-token",
                                                                                      "central bank informed")]
    resolved = seeded.client.get("/api/v1/alerts?state=resolved", headers=seeded.auth("read")).json()
    assert resolved["count"] == 0
    hist = seeded.client.get("/api/v1/alerts/history?country=KAZ", headers=seeded.auth("read")).json()
    assert [(r["date"], r["rule"], r["country"]) for r in hist["rows"]] == [("2008-10-10", "fx_jump", "KAZ")]
    unknown = seeded.client.post("/api/v1/alerts/nope/acknowledgements", headers=seeded.auth("operator"), json={})
    assert unknown.status_code == 404


def test_reports_are_listed_and_served_from_their_recorded_files(seeded: Api) -> None:
    h = seeded.auth("read")
    listed = seeded.client.get("/api/v1/reports", headers=h).json()
    assert listed["count"] == 1
    assert set(listed["reports"][0]["formats"]) == {"html", "json"}
    html = seeded.client.get("/api/v1/reports/2008-10-10/html", headers=h)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "report of 2008-10-10" in html.text
    assert seeded.client.get("/api/v1/reports/2008-10-10/json", headers=h).json()["overall"]["level"] == "severe"
    assert seeded.client.get("/api/v1/reports/2008-10-10/md", headers=h).status_code == 404
    assert seeded.client.get("/api/v1/reports/2008-10-09/html", headers=h).status_code == 404


def test_coverage_and_freshness_from_stored_observations(seeded: Api) -> None:
    h = seeded.auth("read")
    cov = seeded.client.get("/api/v1/coverage", headers=h).json()
    assert cov["series_total"] == 6 and cov["series_with_data"] == 2
    spx = next(s for s in cov["series"] if s["id"] == "eq.us.spx")
    assert (spx["first_date"], spx["last_date"], spx["observations"]) == ("2008-10-09", "2008-10-10", 2)
    assert "CHN" in cov["members_without_series"]
    fresh = seeded.client.get("/api/v1/freshness", headers=h).json()
    by_id = {s["series_id"]: s for s in fresh["series"]}
    assert fresh["as_of"] == "2008-10-10"  # the app's clock
    assert (by_id["eq.us.spx"]["last_date"], by_id["eq.us.spx"]["status"]) == ("2008-10-10", "fresh")
    assert (by_id["fx.usd_kzt"]["age_days"], by_id["fx.usd_kzt"]["status"]) == (39, "stale")  # > 5 days, business-daily
    assert by_id["rate.us.baa10y"]["status"] == "no_data"
    assert fresh["counts"]["no_data"] == 4
