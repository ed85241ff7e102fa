"""Route tree, matchers and inhibition: pure functions of labels and config."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sco_monitor.alerting import routing
from sco_monitor.alerting.inhibit import inhibited
from sco_monitor.alerting.matchers import MatcherError, parse
from sco_monitor.config.alerting import AlertingSettings, InhibitRule, Route

TREE = Route.model_validate({
    "receiver": "ops-mail",
    "group_by": ["category", "country"],
    "routes": [
        {"match": {"severity": "critical"}, "receiver": "ops-hook", "continue": True, "repeat_interval": "4h"},
        {"match_re": {"country": "KAZ|KGZ"}, "receiver": "central-asia", "group_by": ["country"],
         "routes": [{"match": {"category": "fx"}, "receiver": "fx-desk", "group_wait": "1m"}]},
        {"match": {"category": "equity"}, "receiver": "equity-desk"},
    ],
})


def land(labels: dict[str, str]) -> list[str]:
    root = routing.build(TREE, AlertingSettings())
    assert root is not None
    return [n.receiver for n in root.match(labels)]


@pytest.mark.parametrize("labels,receivers", [
    ({"severity": "warn", "category": "rates", "country": "CHN"}, ["ops-mail"]),
    ({"severity": "critical", "category": "rates", "country": "CHN"}, ["ops-hook", "ops-mail"]),
    ({"severity": "warn", "category": "fx", "country": "KAZ"}, ["fx-desk"]),
    ({"severity": "warn", "category": "equity", "country": "KGZ"}, ["central-asia"]),
    ({"severity": "critical", "category": "fx", "country": "KGZ"}, ["ops-hook", "fx-desk"]),
    ({"severity": "warn", "category": "equity", "country": "RUS"}, ["equity-desk"]),
    ({"severity": "warn", "category": "fx", "country": "KAZAKH"}, ["ops-mail"]),  # regexes are anchored
])
def test_first_match_wins_unless_continue(labels: dict[str, str], receivers: list[str]) -> None:
    assert land(labels) == receivers


def test_children_inherit_grouping_and_timing() -> None:
    root = routing.build(TREE, AlertingSettings(repeat_interval="12h"))
    assert root is not None
    hook, desk = root.children[0], root.children[1].children[0]
    assert hook.group_by == ("category", "country") and hook.timing.repeat_interval == timedelta(hours=4)
    assert desk.receiver == "fx-desk" and desk.group_by == ("country",)
    assert desk.timing.group_wait == timedelta(minutes=1) and desk.timing.repeat_interval == timedelta(hours=12)
    assert routing.find(root, desk.id, AlertingSettings()) == desk
    assert routing.find(root, "0.9", AlertingSettings()) is None


def test_group_keys_separate_groups_and_nodes() -> None:
    root = routing.build(TREE, AlertingSettings())
    assert root is not None
    a = {"category": "rates", "country": "CHN", "series": "x", "severity": "warn"}
    b = a | {"series": "y"}
    c = a | {"country": "IND"}
    assert root.group_key(a) == root.group_key(b) != root.group_key(c)
    assert root.group_labels(a) == {"category": "rates", "country": "CHN"}
    every = routing.RouteNode("1", "r", (), ("...",), root.timing)
    assert every.group_key(a) != every.group_key(b)


def test_no_route_means_no_tree_and_no_data_goes_to_its_own_receiver() -> None:
    assert routing.build(None, AlertingSettings()) is None
    assert routing.no_data_node(AlertingSettings()) is None
    nd = routing.no_data_node(AlertingSettings(no_data_receiver="data-team"))
    assert nd is not None and nd.receiver == "data-team" and nd.group_by == ()


@pytest.mark.parametrize("text,labels,hit", [
    ("country=KAZ", {"country": "KAZ"}, True),
    ("country=KAZ", {"country": "RUS"}, False),
    ("country!=KAZ", {"country": "RUS"}, True),
    ("country=~K.*", {"country": "KGZ"}, True),
    ("country=~K", {"country": "KGZ"}, False),
    ("country!~K.*", {"country": "RUS"}, True),
    ("series=", {"country": "RUS"}, True),  # a missing label is the empty string
    (' category = "fx" ', {"category": "fx"}, True),
])
def test_matchers(text: str, labels: dict[str, str], hit: bool) -> None:
    assert parse(text).matches(labels) is hit


@pytest.mark.parametrize("text", ["country", "=KAZ", "country=~K[", "1abc=x"])
def test_bad_matchers_are_refused(text: str) -> None:
    with pytest.raises(MatcherError):
        parse(text)


def test_default_inhibition_country_critical_mutes_that_countrys_series_warnings() -> None:
    rules = AlertingSettings().inhibit_rules
    firing = {
        "stress": {"severity": "critical", "scope": "KAZ", "country": "KAZ", "category": "contagion"},
        "kzt": {"severity": "warn", "series": "fx.usd_kzt", "country": "KAZ", "category": "fx"},
        "kase": {"severity": "critical", "series": "eq.kz.kase", "country": "KAZ", "category": "equity"},
        "rub": {"severity": "warn", "series": "fx.usd_rub", "country": "RUS", "category": "fx"},
        "kz_prob": {"severity": "warn", "scope": "KAZ", "country": "KAZ", "category": "contagion"},
    }
    assert inhibited(firing, rules) == {"kzt": "stress"}


def test_inhibition_needs_a_firing_source_and_never_mutes_itself() -> None:
    rule = InhibitRule(source_match={"severity": "critical"}, target_match_re={"severity": ".+"}, equal=["country"])
    firing = {"a": {"severity": "critical", "country": "KAZ"}}
    assert inhibited(firing, [rule]) == {}
    firing["b"] = {"severity": "critical", "country": "KAZ"}
    assert inhibited(firing, [rule]) == {"a": "b", "b": "a"}
    assert inhibited({"c": {"severity": "warn", "country": "KAZ"}}, [rule]) == {}
