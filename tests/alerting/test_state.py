"""The alert state machine (pure): pending until `for`, firing, hysteresis, severity, no data, idempotence."""

from __future__ import annotations

from sco_monitor.alerting.state import (
    AlertRecord,
    apply,
    clear_level,
    critical_clear_level,
    no_data_fingerprint,
)

from .support import day, ev

H = 0.1


def run(values: list[float | None], **kw) -> list[dict[str, AlertRecord]]:  # noqa: ANN003
    """Feed one evaluation per day; return the stored records after each day."""
    records: dict[str, AlertRecord] = {}
    history = []
    for i, v in enumerate(values):
        as_of, now = day(i)
        tr = apply(records, [ev(v, **kw)], as_of, now, H)
        records = records | {r.fingerprint: r for r in tr.changed}
        history.append(dict(records))
    return history


def states(values: list[float | None], **kw) -> list[str]:  # noqa: ANN003
    fp = ev(0.0, **kw).fingerprint
    return [(h[fp].state if fp in h else "-") for h in run(values, **kw)]


def test_pending_until_the_for_count_is_met_then_firing() -> None:
    assert states([0.06, 0.06, 0.06, 0.06], for_=3) == ["pending", "pending", "firing", "firing"]
    assert states([0.06], for_=1) == ["firing"]


def test_a_pending_alert_that_stops_breaching_starts_over() -> None:
    assert states([0.06, 0.02, 0.06, 0.06], for_=2) == ["pending", "inactive", "pending", "firing"]
    # between clear and warn does not advance a pending alert either (only a breach counts)
    assert states([0.06, 0.04, 0.06], for_=2) == ["pending", "inactive", "pending"]


def test_hysteresis_keeps_firing_between_clear_and_warn() -> None:
    assert states([0.06, 0.04, 0.031, 0.03]) == ["firing", "firing", "firing", "resolved"]
    rec = run([0.06, 0.04])[-1][ev(0.0).fingerprint]
    assert (rec.severity, rec.value) == ("warn", 0.04)


def test_default_hysteresis_without_a_clear_threshold() -> None:
    # warn 0.05, no clear: resolves only at or below 0.05 - 10% of 0.05 = 0.045
    assert clear_level(ev(0.0, clear=None), H) == 0.045
    assert states([0.05, 0.046, 0.045], clear=None) == ["firing", "firing", "resolved"]
    # direction below (a drawdown of -10%): resolves only back above -0.09
    kw = {"warn": -0.10, "critical": -0.20, "clear": None, "direction": "below", "series": "eq.us.spx"}
    assert states([-0.12, -0.095, -0.085], **kw) == ["firing", "firing", "resolved"]


def test_severity_escalates_and_steps_down_with_hysteresis() -> None:
    fp = ev(0.0).fingerprint
    sev = [h[fp].severity for h in run([0.06, 0.12, 0.095, 0.089, 0.06])]
    # critical 0.10 holds until below 0.10 - 10% = 0.09
    assert critical_clear_level(ev(0.0), H) == 0.09
    assert sev == ["warn", "critical", "critical", "warn", "warn"]


def test_a_critical_only_rule_stays_critical_inside_its_band() -> None:
    fp = ev(0.0, warn=None).fingerprint
    hist = run([0.12, 0.095, 0.02], warn=None, clear=None)
    assert [(h[fp].state, h[fp].severity) for h in hist] == [("firing", "critical"), ("firing", "critical"),
                                                            ("resolved", "critical")]


def test_the_same_as_of_twice_does_not_advance_the_for_count() -> None:
    as_of, now = day(0)
    e = ev(0.06, for_=2)
    first = apply({}, [e], as_of, now, H)
    records = {r.fingerprint: r for r in first.changed}
    again = apply(records, [e], as_of, now, H)
    assert again.changed == [] and again.skipped == 1
    assert records[e.fingerprint].pending_count == 1
    as_of2, now2 = day(1)
    assert apply(records, [e], as_of2, now2, H).changed[0].state == "firing"


def test_an_older_as_of_changes_nothing() -> None:
    as_of, now = day(5)
    records = {r.fingerprint: r for r in apply({}, [ev(0.06)], as_of, now, H).changed}
    earlier = apply(records, [ev(0.01)], day(3)[0], now, H)
    assert earlier.changed == [] and earlier.skipped == 1


def test_no_data_holds_the_risk_alert_and_raises_its_own() -> None:
    fp = ev(0.0).fingerprint
    nd = no_data_fingerprint("fx_depreciation_20d", ev(0.0).labels)
    hist = run([0.06, None, None, 0.06, 0.01], for_=1)
    assert [h[fp].state for h in hist] == ["firing", "firing", "firing", "firing", "resolved"]
    assert [h[nd].state if nd in h else "-" for h in hist] == ["-", "firing", "firing", "resolved", "resolved"]
    assert hist[1][nd].severity == "no_data"
    # no data never advances a pending risk alert towards firing
    assert states([0.06, None, None, 0.06], for_=2) == ["pending", "pending", "pending", "firing"]


def test_no_data_alone_is_never_a_risk_alert() -> None:
    hist = run([None, None])
    assert all(r.severity == "no_data" for r in hist[-1].values())


def test_an_alert_no_longer_evaluated_resolves() -> None:
    as_of, now = day(0)
    records = {r.fingerprint: r for r in apply({}, [ev(0.06), ev(0.07, country="RUS", series="fx.usd_rub")],
                                                  as_of, now, H).changed}
    as_of, now = day(1)
    tr = apply(records, [ev(0.07, country="RUS", series="fx.usd_rub")], as_of, now, H)
    assert [(r.labels["country"], r.state) for r in tr.changed] == [("RUS", "firing"), ("KAZ", "resolved")]


def test_a_target_evaluated_twice_counts_once_with_the_worse_result() -> None:
    as_of, now = day(0)
    tr = apply({}, [ev(0.02), ev(0.12), ev(0.06)], as_of, now, H)
    assert [(r.state, r.severity) for r in tr.changed] == [("firing", "critical")]


def test_flapping_around_warn_is_one_firing_episode() -> None:
    wobble = [0.049, 0.051] * 15
    st = states(wobble, clear=None)
    assert st[0] == "-" and set(st[1:]) == {"firing"}
    # without hysteresis the same series would fire and resolve fifteen times
    records: dict[str, AlertRecord] = {}
    transitions = 0
    for i, v in enumerate(wobble):
        as_of, now = day(i)
        tr = apply(records, [ev(v, clear=None)], as_of, now, 0.0)
        transitions += sum(1 for r in tr.changed if records.get(r.fingerprint) is None
                           or records[r.fingerprint].state != r.state)
        records |= {r.fingerprint: r for r in tr.changed}
    assert transitions >= 29


def test_n_of_m_confirmation_survives_a_day_back_inside() -> None:
    """for: 3, within: 5 fires on the third breach among the last five evaluations."""
    wobbly = [0.06, 0.02, 0.06, 0.04, 0.06, 0.06]
    assert states(wobbly, for_=3) == ["pending", "inactive", "pending", "inactive", "pending", "pending"]
    assert states(wobbly, for_=3, within=5) == ["pending", "pending", "pending", "pending", "firing", "firing"]
    rec = run(wobbly[:4], for_=3, within=5)[-1][ev(0.0).fingerprint]
    assert (rec.pending_count, rec.breach_bits, rec.within_count) == (2, 0b1010, 5)
    # breaches too far apart never confirm: the oldest falls out of the window
    assert states([0.06, 0.0, 0.0, 0.06, 0.0, 0.0, 0.06], for_=3, within=3)[-1] == "pending"
    assert states([0.06, 0.0, 0.0, 0.0], for_=3, within=3) == ["pending", "pending", "pending", "inactive"]
