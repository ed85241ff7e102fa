"""Inhibition: while a source alert fires, matching target alerts are muted (Alertmanager semantics).

The default rule lets a country-level critical alert (one with a `scope` label) mute the warnings
on that country's own series, so a crisis sends one clear message instead of twenty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sco_monitor.alerting.matchers import Matcher, from_config, match_all
from sco_monitor.config.alerting import InhibitRule


@dataclass(frozen=True)
class Inhibitor:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def of(cls, rule: InhibitRule) -> Inhibitor:
        return cls(from_config(rule.source_match, rule.source_match_re),
                   from_config(rule.target_match, rule.target_match_re), tuple(rule.equal))


def inhibited(firing: Mapping[str, Mapping[str, str]], rules: Iterable[InhibitRule]) -> dict[str, str]:
    """Muted fingerprint -> fingerprint of the alert muting it. `firing`: fingerprint -> labels."""
    out: dict[str, str] = {}
    for rule in map(Inhibitor.of, rules):
        sources: dict[tuple[str, ...], list[str]] = {}
        for fp, labels in firing.items():
            if match_all(rule.source, labels):
                sources.setdefault(tuple(labels.get(k, "") for k in rule.equal), []).append(fp)
        if not sources:
            continue
        for fp, labels in firing.items():
            if fp in out or not match_all(rule.target, labels):
                continue
            candidates = sources.get(tuple(labels.get(k, "") for k in rule.equal), [])
            source = next((s for s in candidates if s != fp), None)  # an alert never mutes itself
            if source is not None:
                out[fp] = source
    return out
