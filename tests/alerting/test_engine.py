"""The alert engine on SQLite and PostgreSQL: states and outbox rows written together, exactly once."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import select

from sco_monitor.alerting import db, engine, silences
from sco_monitor.alerting.matchers import parse
from sco_monitor.store import Store, schema

from .support import assessment, day, ev, settings

CONFIG: dict[str, Any] = {
    "receivers": [{"name": "ops-mail", "file": {"path": "unused-mail.jsonl"}},
                  {"name": "ops-hook", "file": {"path": "unused-hook.jsonl"}},
                  {"name": "data-team", "file": {"path": "unused-data.jsonl"}}],
    "route": {"receiver": "ops-mail", "group_by": ["category", "country"],
              "routes": [{"match": {"severity": "critical"}, "receiver": "ops-hook", "continue": True}]},
}


def notes(store: Store) -> list[dict[str, Any]]:
    t = schema.notifications
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def told(store: Store, receiver: str | None = None) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(receiver, reason, [(status, severity, country)]) per notification."""
    out = []
    for n in notes(store):
        if receiver is None or n["receiver"] == receiver:
            p = n["payload"]
            out.append((n["receiver"], p["reason"], [(a["status"], a["severity"], a["labels"]["country"])
                                                     for a in p["alerts"]]))
    return out


def cycle(store: Store, i: int, *evaluations, cfg: dict[str, Any] | None = None, hours: float = 0) -> engine.AlertRun:  # noqa: ANN002
    as_of, now = day(i)
    return engine.process(store.engine, settings(**(cfg or CONFIG)), assessment(as_of, *evaluations),
                          now + timedelta(hours=hours))


def test_crossing_notifies_once_and_resolving_once_more(store: Store) -> None:
    cycle(store, 0, ev(0.02))
    assert notes(store) == []
    run = cycle(store, 1, ev(0.06))
    assert run.transitions == {"firing": 1} and len(run.notifications) == 1
    cycle(store, 1, ev(0.06))  # the same as_of again: nothing new
    cycle(store, 2, ev(0.04), hours=-2)  # between clear and warn, within the repeat interval: quiet
    cycle(store, 3, ev(0.02), hours=-4)
    assert told(store) == [("ops-mail", "first", [("firing", "warn", "KAZ")]),
                           ("ops-mail", "resolved", [("resolved", "warn", "KAZ")])]
    n = notes(store)
    assert {x["status"] for x in n} == {"pending"} and len({x["idempotency_key"] for x in n}) == 2
    with store.engine.connect() as conn:
        rec = db.load_alerts(conn)[ev(0.0).fingerprint]
        assert conn.execute(select(schema.notification_groups)).all() == []  # group done, record dropped
    assert (rec.state, rec.fired_at, rec.ends_at) == ("resolved", day(1)[1], day(3)[1] - timedelta(hours=4))


def test_escalation_goes_to_the_critical_route_and_the_root(store: Store) -> None:
    cycle(store, 0, ev(0.06))
    cycle(store, 1, ev(0.12))
    cycle(store, 2, ev(0.07), hours=-3)   # steps down: mail hears it, the hook hears its critical condition ended
    assert told(store, "ops-mail") == [("ops-mail", "first", [("firing", "warn", "KAZ")]),
                                       ("ops-mail", "severity_changed", [("firing", "critical", "KAZ")]),
                                       ("ops-mail", "severity_changed", [("firing", "warn", "KAZ")])]
    hook = told(store, "ops-hook")
    assert hook == [("ops-hook", "first", [("firing", "critical", "KAZ")]),
                    ("ops-hook", "resolved", [("resolved", "warn", "KAZ")])]
    last_hook = [n for n in notes(store) if n["receiver"] == "ops-hook"][-1]["payload"]["alerts"][0]
    assert last_hook["note"] == "still firing as warn, no longer routed here"


def test_for_count_survives_a_restart_and_groups_collect_alerts(store_url: str) -> None:
    first = Store(store_url)
    first.init()
    cycle(first, 0, ev(0.06, for_=2), ev(0.07, for_=2, series="fx.eur_kzt"))
    first.dispose()
    again = Store(store_url)  # a new process: only the database remembers
    run = cycle(again, 1, ev(0.06, for_=2), ev(0.07, for_=2, series="fx.eur_kzt"))
    assert run.transitions == {"firing": 2}
    assert told(again) == [("ops-mail", "first", [("firing", "warn", "KAZ"), ("firing", "warn", "KAZ")])]
    again.dispose()


def test_repeat_interval_and_new_alerts_in_a_group(store: Store) -> None:
    cfg = CONFIG | {"alerting": {"repeat_interval": "3d"}}
    cycle(store, 0, ev(0.06), cfg=cfg)
    cycle(store, 1, ev(0.06), cfg=cfg)
    cycle(store, 2, ev(0.06), ev(0.08, series="fx.eur_kzt"), cfg=cfg)
    for i in range(3, 6):
        cycle(store, i, ev(0.06), ev(0.08, series="fx.eur_kzt"), cfg=cfg)
    assert [r[1] for r in told(store)] == ["first", "new_alerts", "repeat"]
    assert notes(store)[-1]["created_at"] == day(5)[1]


def test_silence_mutes_until_it_expires(store: Store) -> None:
    cfg = CONFIG | {"alerting": {"repeat_interval": "1d"}}
    cycle(store, 0, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"), cfg=cfg)
    with db.write_txn(store.engine) as conn:
        silences.create(conn, [parse("country=KAZ"), parse("category=fx")], day(0)[1], day(3)[1] - timedelta(hours=1),
                        "known devaluation", "analyst")
    for i in (1, 2):
        cycle(store, i, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"), cfg=cfg)
    cycle(store, 3, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"), cfg=cfg)  # expired: reminders resume
    kaz = [(r[1]) for r in told(store) if r[2][0][2] == "KAZ"]
    rus = [(r[1]) for r in told(store) if r[2][0][2] == "RUS"]
    assert kaz == ["first", "repeat"] and rus == ["first", "repeat", "repeat", "repeat"]
    with store.engine.connect() as conn:
        rows = engine.alert_rows(conn, settings(**cfg), day(1)[1], ["firing"])
    assert {r["labels"]["country"]: (r["muted"] or "")[:11] for r in rows} == {"KAZ": "silenced by", "RUS": ""}


def test_a_resolution_inside_a_silence_stays_quiet(store: Store) -> None:
    cycle(store, 0, ev(0.06))
    with db.write_txn(store.engine) as conn:
        silences.create(conn, [parse("country=KAZ")], day(0)[1], day(9)[1], "maintenance")
    cycle(store, 1, ev(0.01))
    cycle(store, 10, ev(0.01))
    assert [r[1] for r in told(store)] == ["first"]


def test_country_critical_inhibits_its_series_warnings(store: Store) -> None:
    stress = ev(0.9, rule="stress_kaz", series=None, scope="KAZ", warn=0.5, critical=0.8, clear=None,
                category="contagion", kind="stress_level")
    cycle(store, 0, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"), stress)
    sent = told(store, "ops-mail")
    assert sorted((r[2][0][2], r[2][0][1]) for r in sent) == [("KAZ", "critical"), ("RUS", "warn")]
    with store.engine.connect() as conn:
        rows = engine.alert_rows(conn, settings(**CONFIG), day(0)[1], ["firing"])
    assert {r["series_id"] or r["labels"]["scope"]: r["muted"] for r in rows} == {
        "KAZ": None, "fx.usd_kzt": "inhibited by stress_kaz KAZ", "fx.usd_rub": None}
    # once the country alert is gone, the muted warning is news
    cycle(store, 1, ev(0.06), ev(0.06, country="RUS", series="fx.usd_rub"),
          ev(0.1, rule="stress_kaz", series=None, scope="KAZ", warn=0.5, critical=0.8, clear=None,
             category="contagion", kind="stress_level"), hours=-2)
    last = told(store, "ops-mail")[len(sent):]
    assert sorted((r[1], [a[:2] for a in r[2]]) for r in last) == [
        ("first", [("firing", "warn")]), ("resolved", [("resolved", "critical")])]


def test_no_data_goes_only_to_the_no_data_receiver(store: Store) -> None:
    stale = ev(None, country="TJK", series="fx.usd_tjs")
    cycle(store, 0, stale, ev(0.06))
    assert [r[0] for r in told(store)] == ["ops-mail"]  # no no_data_receiver configured: kept, not sent
    cfg = CONFIG | {"alerting": {"no_data_receiver": "data-team"}}
    cycle(store, 1, stale, ev(None, country="BLR", series="fx.usd_byn"), ev(0.06), cfg=cfg)
    data = told(store, "data-team")
    assert data == [("data-team", "first", [("firing", "no_data", "BLR"), ("firing", "no_data", "TJK")])]
    assert all(r[0] != "ops-hook" for r in told(store))


def test_group_wait_holds_the_first_notification_for_flush(store: Store) -> None:
    cfg = CONFIG | {"alerting": {"group_wait": "10m"}}
    run = cycle(store, 0, ev(0.06), cfg=cfg)
    assert run.notifications == [] and notes(store) == []
    s = settings(**cfg)
    assert engine.flush_due(store.engine, s, day(0)[1] + timedelta(minutes=5)) == []
    assert len(engine.flush_due(store.engine, s, day(0)[1] + timedelta(minutes=10))) == 1
    assert engine.flush_due(store.engine, s, day(0)[1] + timedelta(minutes=11)) == []
    assert [r[1] for r in told(store)] == ["first"]


def test_a_receiver_removed_from_the_config_drops_its_groups(store: Store) -> None:
    cycle(store, 0, ev(0.12))
    cfg = CONFIG | {"receivers": CONFIG["receivers"][:1], "route": {"receiver": "ops-mail"}}
    cycle(store, 1, ev(0.01), cfg=cfg)
    with store.engine.connect() as conn:
        groups = conn.execute(select(schema.notification_groups.c.receiver)).scalars().all()
    assert groups == []
    assert [(r[0], r[1]) for r in told(store)] == [("ops-hook", "first"), ("ops-mail", "first"),
                                                   ("ops-mail", "resolved")]


def test_flapping_is_at_most_one_notification_per_repeat_interval(store: Store) -> None:
    """A value oscillating around warn (default hysteresis, no clear threshold) for 60 days."""
    cfg = CONFIG | {"alerting": {"repeat_interval": "7d"}}
    for i in range(60):
        value = 0.0505 if i % 2 else 0.0495
        cycle(store, i, ev(value, clear=None, for_=1), cfg=cfg)
    times = [n["created_at"] for n in notes(store)]
    assert [r[1] for r in told(store)][:2] == ["first", "repeat"]
    assert all(b - a >= timedelta(days=7) - timedelta(hours=1) for a, b in pairwise(times))
    assert len(times) == 9  # day 1, then every 7 days up to day 57
