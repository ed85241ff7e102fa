"""Cross-reference checks: a rule naming an unknown series is a load-time error, not a 3 a.m. one.

Names that only the upper layers know (sources, jobs, indicators: their registries) come in as
`KnownNames` from the layer that composes the application (`sco_monitor.app`); config imports none
of those registries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sco_monitor.catalog import Series, Universe
from sco_monitor.config.errors import ConfigError
from sco_monitor.config.playbooks import Playbooks, missing_languages
from sco_monitor.config.rules import RulePack
from sco_monitor.config.settings import Settings
from sco_monitor.logs import get_logger


@dataclass(frozen=True)
class KnownNames:
    """The registered names config may refer to; a kind left None is not checked by this load."""

    sources: Collection[str] | None = None
    jobs: Collection[str] | None = None
    indicators: Collection[str] | None = None


def _one_of(names: Collection[str]) -> str:
    return ", ".join(sorted(names))


def check(
    path: Path,
    settings: Settings,
    universe_path: Path,
    universe: Universe,
    rules_path: Path,
    rules: RulePack,
    playbooks_path: Path,
    playbooks: Playbooks,
    known: KnownNames | None = None,
) -> dict[str, Series]:
    known = known or KnownNames()
    sources, jobs = known.sources, known.jobs
    series: dict[str, Series] = {}
    for i, s in enumerate(universe.series):
        if s.id in series:
            raise ConfigError(universe_path, f"series[{i}].id", f"duplicate series id {s.id!r}")
        if sources is not None and s.source not in sources:
            raise ConfigError(
                universe_path,
                f"series[{i}].source",
                f"unknown source {s.source!r}; expected one of: {_one_of(sources)}",
            )
        series[s.id] = s

    for i, s in enumerate(universe.series):
        if s.fallback is not None:
            _check_fallback(universe_path, i, s, series)

    for name in settings.sources:
        if sources is not None and name not in sources:
            raise ConfigError(path, f"sources.{name}", f"unknown source; expected one of: {_one_of(sources)}")

    for name, schedule in settings.schedules.items():
        job = schedule.job or name
        if jobs is not None and job not in jobs and ":" not in job:
            where = f"schedules.{name}.job" if schedule.job else f"schedules.{name}"
            raise ConfigError(path, where, f"unknown job {job!r}; expected one of: {_one_of(jobs)}, "
                              "or package.module:function")

    receivers: set[str] = set()
    for i, r in enumerate(settings.receivers):
        if r.name in receivers:
            raise ConfigError(path, f"receivers[{i}].name", f"duplicate receiver name {r.name!r}")
        receivers.add(r.name)

    def need_receiver(name: str | None, where: str) -> None:
        if name is not None and name not in receivers:
            known = ", ".join(sorted(receivers)) or "none configured"
            raise ConfigError(path, where, f"unknown receiver {name!r}; known receivers: {known}")

    if settings.route is not None:
        if settings.route.receiver is None:
            raise ConfigError(path, "route.receiver", "the root route needs a receiver")
        if settings.route.match or settings.route.match_re:
            raise ConfigError(path, "route.match", "the root route takes every alert; put matchers on its routes")
        _check_route(settings.route, "route", need_receiver)
    need_receiver(settings.alerting.no_data_receiver, "alerting.no_data_receiver")
    need_receiver(settings.alerting.heartbeat.receiver, "alerting.heartbeat.receiver")
    for i, name in enumerate(settings.report.digest_receivers):
        need_receiver(name, f"report.digest_receivers[{i}]")

    for i, sid in enumerate(settings.report.key_series):
        if sid not in series:
            raise ConfigError(path, f"report.key_series[{i}]", f"unknown series {sid!r}")
    for i, sid in enumerate(settings.assessment.forecast_series):
        if sid not in series:
            raise ConfigError(path, f"assessment.forecast_series[{i}]", f"unknown series {sid!r}")
    for i, panel in enumerate(settings.assessment.nowcasts):
        for part in ("targets", "monthly", "quarterly"):
            for j, sid in enumerate(getattr(panel, part)):
                if sid not in series:
                    raise ConfigError(path, f"assessment.nowcasts[{i}].{part}[{j}]", f"unknown series {sid!r}")

    names: set[str] = set()
    for i, rule in enumerate(rules.rules):
        if rule.name in names:
            raise ConfigError(rules_path, f"rules[{i}].name", f"duplicate rule name {rule.name!r}")
        names.add(rule.name)
        for j, sid in enumerate(rule.select.series):
            if sid not in series:
                raise ConfigError(rules_path, f"rules[{i}].select.series[{j}]", f"unknown series {sid!r}")
    _check_assessment(path, settings, series, rules_path, rules, known.indicators)

    seen: set[tuple] = set()
    tags = {t for s in universe.series for t in s.tags}
    languages = settings.languages()
    for i, pb in enumerate(playbooks.playbooks):
        for where, texts in pb.texts():
            missing = missing_languages(texts, languages)
            if missing:
                raise ConfigError(playbooks_path, f"playbooks[{i}].{where}",
                                  f"no {', '.join(missing)} text; every playbook needs each configured language "
                                  f"({', '.join(languages)}: report.languages and receivers' language)")
    for i, pb in enumerate(playbooks.playbooks):
        if pb.key in seen:
            narrowed = " with the same `when`" if pb.when else ""
            raise ConfigError(playbooks_path, f"playbooks[{i}]", f"second playbook for {pb.category}/{pb.level}{narrowed}")
        seen.add(pb.key)
        named = [("when.series_tags", t) for t in (pb.when.series_tags if pb.when else [])]
        named += [("exposure.tags", t) for t in (pb.exposure.tags if pb.exposure else [])]
        for where, tag in named:
            if tag not in tags:  # a trimmed universe may leave a playbook idle: worth a word, not a refusal
                get_logger("sco_monitor.config").debug(
                    "playbook_tag_unused", file=playbooks_path.name, path=f"playbooks[{i}].{where}", tag=tag)
    return series


def _check_assessment(path: Path, settings: Settings, series: dict[str, Series], rules_path: Path,
                      rules: RulePack, indicators: Collection[str] | None) -> None:
    """Indicator names and spread legs of the assessment settings, and indicators the rules cite."""
    a = settings.assessment
    for i, spec in enumerate(a.indicators):
        if indicators is not None and spec.indicator not in indicators:
            raise ConfigError(path, f"assessment.indicators[{i}].indicator",
                              f"unknown indicator {spec.indicator!r}; expected one of: {_one_of(indicators)}")
    for i, sp in enumerate(a.spreads):
        for leg in ("a", "b"):
            sid = getattr(sp, leg)
            if sid not in series:
                raise ConfigError(path, f"assessment.spreads[{i}].{leg}", f"unknown series {sid!r}")
        if series[sp.a].frequency != series[sp.b].frequency:
            raise ConfigError(path, f"assessment.spreads[{i}]", "a and b must have the same frequency")
    if indicators is None:
        return
    names = {s.name for s in a.indicators}
    for i, rule in enumerate(rules.rules):
        name = rule.params.get("indicator")
        if name is not None and name not in names and name not in indicators:
            raise ConfigError(rules_path, f"rules[{i}].params.indicator",
                              f"unknown indicator {name!r}; expected a name from assessment.indicators "
                              f"({', '.join(sorted(names))}) or a registered indicator")


def _check_route(route, where: str, need) -> None:  # noqa: ANN001
    need(route.receiver, f"{where}.receiver")
    for i, child in enumerate(route.routes):
        _check_route(child, f"{where}.routes[{i}]", need)


def _check_fallback(universe_path: Path, i: int, s: Series, series: dict[str, Series]) -> None:
    """A stand-in must exist, measure the same thing, and be tagged alternative (so it weighs once)."""
    assert s.fallback is not None
    where = f"series[{i}].fallback.series"
    alt = series.get(s.fallback.series)
    if alt is None:
        raise ConfigError(universe_path, where, f"unknown series {s.fallback.series!r}")
    if alt.id == s.id:
        raise ConfigError(universe_path, where, "a series cannot be its own fallback")
    if (alt.kind, alt.country) != (s.kind, s.country):
        raise ConfigError(universe_path, where, f"{alt.id} is {alt.kind} of {alt.country}; "
                                                f"{s.id} needs {s.kind} of {s.country}")
    if alt.publication_lag_days != s.publication_lag_days:
        raise ConfigError(universe_path, where, f"{alt.id} has publication_lag_days {alt.publication_lag_days}, "
                                                f"{s.id} {s.publication_lag_days}: a stand-in must be knowable as soon")
    if "alternative" not in alt.tags:
        raise ConfigError(universe_path, where, f"tag {alt.id} 'alternative', or both feed the stress index")
