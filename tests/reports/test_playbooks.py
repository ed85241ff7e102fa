"""The shipped playbooks answer every risk category the rules use, at both levels."""

from __future__ import annotations

from sco_monitor.config import AppConfig

CATEGORIES = ("fx", "equity", "commodity", "rates", "volatility", "macro", "stress", "contagion")


def test_every_category_has_a_warn_and_a_critical_playbook_with_joint_actions(shipped_config: AppConfig) -> None:
    pbs = shipped_config.playbooks.playbooks
    for category in CATEGORIES:
        for level in ("warn", "critical"):
            generic = [p for p in pbs if p.category == category and p.level == level and p.when is None]
            assert generic, f"no generic {category}/{level} playbook"
            assert generic[0].joint_actions, f"{category}/{level} has no joint actions"
            assert all(a.who["en"] for a in generic[0].actions + generic[0].joint_actions)


def test_commodity_shocks_are_addressed_to_exporters_and_importers(shipped_config: AppConfig) -> None:
    commodity = [p for p in shipped_config.playbooks.playbooks if p.category == "commodity" and p.when]
    oil = {(p.level, p.when.direction): p.exposure.tags for p in commodity if p.when.series_tags == ["oil"]}
    assert oil == {("warn", "below"): ["oil_exporter"], ("critical", "below"): ["oil_exporter"],
                   ("warn", "above"): ["oil_importer"], ("critical", "above"): ["oil_importer"]}
    em = [p for p in shipped_config.playbooks.playbooks if p.category == "rates" and p.when and p.when.series_tags == ["em"]]
    assert {p.level for p in em} == {"warn", "critical"}
    assert all("Capital-flow" in p.title["en"] for p in em)


def test_joint_actions_are_addressed_jointly(shipped_config: AppConfig) -> None:
    for p in shipped_config.playbooks.playbooks:
        assert all(a.addressee == "joint" for a in p.joint_actions), p.title["en"]
        assert any("{countries}" in a.text["en"] for a in p.joint_actions), f"{p.title['en']}: joint plan names no members"
