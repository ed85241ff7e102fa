"""Label matchers (`country=KAZ`, `series!=x`, `country=~K.*`, `scope!~WLD`), Alertmanager-style.

A missing label matches as the empty string; regexes are anchored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Op = Literal["=", "!=", "=~", "!~"]
_SYNTAX = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(self.value)  # anchored by fullmatch, so errors point into the user's own text

    def matches(self, labels: Mapping[str, str]) -> bool:
        got = labels.get(self.name, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        hit = self._regex.fullmatch(got) is not None
        return hit if self.op == "=~" else not hit

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> Matcher:
        return cls(d["name"], d["op"], d["value"])  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse(text: str) -> Matcher:
    """'country=KAZ' → Matcher; a bad one raises MatcherError naming it."""
    m = _SYNTAX.match(text)
    if not m:
        raise MatcherError(f"expected LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX, got {text!r}")
    name, op, value = m.group(1), m.group(2), m.group(3).strip("\"'")
    matcher = Matcher(name, op, value)  # type: ignore[arg-type]
    if op in ("=~", "!~"):
        try:
            matcher._regex  # noqa: B018 - compile now so a bad regex fails here, not at match time
        except re.error as e:
            raise MatcherError(f"invalid regex in {text!r}: {e}") from None
    return matcher


def from_config(match: Mapping[str, str], match_re: Mapping[str, str] | None = None) -> tuple[Matcher, ...]:
    """A route's or inhibit rule's `match` / `match_re` maps as matchers."""
    out = [Matcher(k, "=", v) for k, v in match.items()]
    out += [Matcher(k, "=~", v) for k, v in (match_re or {}).items()]
    return tuple(out)


def match_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
