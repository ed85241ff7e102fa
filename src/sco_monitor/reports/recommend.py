"""Playbooks → recommendations for each member, and joint action plans where members share a risk.

Pure: rule evaluations and the configuration in, report parts out. Every action text is filled
from the evaluation that triggered it, so each recommendation cites its numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sco_monitor.assess.model import RuleEvaluation
from sco_monitor.catalog import SCO_MEMBERS
from sco_monitor.config import AppConfig
from sco_monitor.config.playbooks import Action, Playbook
from sco_monitor.reports.breaches import (
    BREACHING,
    breach_of,
    country_of,
    series_of,
    subject_of,
    worst_first,
)
from sco_monitor.reports.model import ActionItem, Breach, JointPlan, Recommendation
from sco_monitor.reports.numbers import Num, country_name, join_names, severity_rank
from sco_monitor.vocabulary import WORLD

ALL_MEMBERS = WORLD  # a recommendation to every member state alike
Family = tuple[str, str | None, tuple[str, ...]]  # category, when.direction, when.series_tags


@dataclass
class _Group:
    family: Family
    country: str
    evals: list[RuleEvaluation]


def _family(pb: Playbook) -> Family:
    return pb.key[0], pb.key[2], pb.key[3]


def _matches(pb: Playbook, e: RuleEvaluation, tags: set[str]) -> bool:
    if pb.when is None:
        return True
    if pb.when.direction is not None and pb.when.direction != e.direction:
        return False
    return set(pb.when.series_tags) <= tags


def _specificity(pb: Playbook) -> int:
    if pb.when is None:
        return 0
    return (1 if pb.when.direction else 0) + len(pb.when.series_tags)


class Planner:
    """Chooses playbooks for breaches and fills their texts."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.catalog = config.series
        self.playbooks = config.playbooks.playbooks
        self.members = list(SCO_MEMBERS)
        self.member_tags: dict[str, set[str]] = defaultdict(set)
        for s in config.universe.series:
            if s.country in self.members:
                self.member_tags[s.country].update(s.tags)

    # --- choosing ------------------------------------------------------------------------------------
    def choose(self, e: RuleEvaluation, level: str) -> Playbook | None:
        """The most specific playbook for the breach at `level`; critical falls back to warn."""
        s = series_of(e, self.catalog)
        tags = set(s.tags) if s else set()
        for lvl in (("critical", "warn") if level == "critical" else ("warn",)):
            found = [pb for pb in self.playbooks if pb.category == e.category and pb.level == lvl and _matches(pb, e, tags)]
            if found:
                return max(found, key=_specificity)  # max keeps the first of equals: file order decides
        return None

    def in_family(self, family: Family, level: str) -> Playbook | None:
        for lvl in (("critical", "warn") if level == "critical" else ("warn",)):
            for pb in self.playbooks:
                if _family(pb) == family and pb.level == lvl:
                    return pb
        return None

    def addressees(self, e: RuleEvaluation, pb: Playbook | None) -> list[str]:
        """A member's own breach concerns it; a world-level one concerns the exposed members (or all)."""
        country = country_of(e, self.catalog)
        if country in self.members:
            return [country]
        if pb is not None and pb.exposure is not None:
            ex = pb.exposure
            exposed = [c for c in self.members if c in ex.countries or self.member_tags[c] & set(ex.tags)]
            if exposed:
                return exposed
        return [ALL_MEMBERS]

    # --- filling ----------------------------------------------------------------------------------------
    def context(self, e: RuleEvaluation, country: str, countries: list[str]) -> dict[str, Any]:
        s = series_of(e, self.catalog)
        names = [country_name(c) for c in countries]
        return {
            "value": Num(e.value, e.kind),
            "threshold": Num(e.threshold, e.kind),
            "warn": Num(e.warn, e.kind),
            "critical": Num(e.critical, e.kind),
            "series": (s.id if s else e.series_id) or "",
            "series_name": subject_of(e, self.catalog),
            "country": country,
            "country_name": "all member states" if country == ALL_MEMBERS else country_name(country),
            "countries": join_names(names),
            "n_countries": len(countries),
            "rule": e.rule,
            "severity": e.severity,
            "category": e.category,
        }

    @staticmethod
    def fill(actions: list[Action], ctx: dict[str, Any]) -> list[ActionItem]:
        return [ActionItem(who=a.who, addressee=a.addressee, text=a.text.format(**ctx)) for a in actions]


def plan(config: AppConfig, evaluations: list[RuleEvaluation]) -> tuple[list[Recommendation], list[JointPlan]]:
    """Recommendations per member (or to all members) and joint plans for risks members share."""
    p = Planner(config)
    breaches = [e for e in evaluations if e.severity in BREACHING]
    groups: dict[tuple[str, Family], _Group] = {}
    uncovered: dict[tuple[str, str, str], list[RuleEvaluation]] = defaultdict(list)
    for e in worst_first(breaches):
        pb = p.choose(e, e.severity)
        if pb is None:
            uncovered[(country_of(e, p.catalog) or ALL_MEMBERS, e.category, e.severity)].append(e)
            continue
        for country in p.addressees(e, pb):
            key = (country, _family(pb))
            groups.setdefault(key, _Group(_family(pb), country, [])).evals.append(e)

    recs: list[Recommendation] = []
    for g in groups.values():
        ordered = worst_first(g.evals)
        top = ordered[0]
        level = "critical" if top.severity == "critical" else "warn"
        pb = p.in_family(g.family, level) or p.choose(top, level)
        assert pb is not None  # the group exists because a playbook of its family matched
        ctx = p.context(top, g.country, [g.country])
        note = ""
        if level == "critical" and pb.level == "warn":
            note = f"No critical playbook for {pb.category}: the warning one applies."
        recs.append(
            Recommendation(
                category=pb.category,
                level=level,
                country=g.country,
                country_name="All member states" if g.country == ALL_MEMBERS else country_name(g.country),
                title=pb.title.format(**ctx),
                triggers=[breach_of(e, p.catalog) for e in ordered],
                actions=p.fill(pb.actions, ctx),
                note=note,
            )
        )
    for (country, category, severity), evals in uncovered.items():
        ordered = worst_first(evals)
        recs.append(
            Recommendation(
                category=category,
                level="critical" if severity == "critical" else "warn",
                country=country,
                country_name="All member states" if country == ALL_MEMBERS else country_name(country),
                title=f"{category} risk ({severity}): no playbook",
                triggers=[breach_of(e, p.catalog) for e in ordered],
                note=f"No playbook answers category {category!r} at level {severity}; add one to playbooks.yaml.",
            )
        )
    recs.sort(key=_rec_order(p.members))

    joint = _joint_plans(p, groups)
    return recs, joint


def _rec_order(members: list[str]):  # noqa: ANN202 - a sort key
    def key(r: Recommendation) -> tuple:
        where = members.index(r.country) if r.country in members else -1
        return (-severity_rank(r.level), where, r.category, r.title)

    return key


def _joint_plans(p: Planner, groups: dict[tuple[str, Family], _Group]) -> list[JointPlan]:
    by_family: dict[Family, list[_Group]] = defaultdict(list)
    for g in groups.values():
        if g.country in p.members:
            by_family[g.family].append(g)
    world = worst_first(list({
        id(e): e for g in groups.values() for e in g.evals if country_of(e, p.catalog) not in p.members
    }.values()))
    plans: list[JointPlan] = []
    for family, gs in by_family.items():
        countries = sorted({g.country for g in gs}, key=p.members.index)
        if len(countries) < 2:
            continue
        evals = worst_first(list({id(e): e for g in gs for e in g.evals}.values()))
        top = evals[0]
        level = "critical" if top.severity == "critical" else "warn"
        pb = p.in_family(family, level)
        assert pb is not None
        actions = pb.joint_actions or (p.in_family(family, "warn") or pb).joint_actions
        ctx = p.context(top, ALL_MEMBERS, countries)
        triggers = {id(e) for e in evals}
        drivers = [breach_of(e, p.catalog) for e in world if id(e) not in triggers][:5]
        plans.append(
            JointPlan(
                category=pb.category,
                level=level,
                title=pb.title.format(**ctx),
                countries=countries,
                country_names=[country_name(c) for c in countries],
                triggers=[breach_of(e, p.catalog) for e in evals],
                common_drivers=drivers,
                actions=p.fill(actions, ctx),
            )
        )
    plans.sort(key=lambda j: (-severity_rank(j.level), -len(j.countries), j.category))
    return plans


__all__ = ["ALL_MEMBERS", "Breach", "plan"]
