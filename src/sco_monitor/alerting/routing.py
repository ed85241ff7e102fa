"""The route tree: labels → (receiver, grouping, timing), with Alertmanager's matching rules.

An alert walks down from the root; at each level the first matching child takes it unless that
child says `continue`, in which case later siblings may take it too. A node lands the alert itself
when no child took it for good: when no child matched, or every child that matched said `continue`.
(The last clause differs from Alertmanager, where a matching `continue` child still keeps the alert
from its parent: here `{match: {severity: critical}, receiver: ops-hook, continue: true}` under an
`ops-mail` root sends a critical alert to both, which is what that config reads as.)
Children inherit receiver, group_by and intervals from their parent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from sco_monitor.alerting.dedup import Timing
from sco_monitor.alerting.matchers import Matcher, from_config, match_all
from sco_monitor.config.alerting import AlertingSettings, Route

ALL_LABELS = "..."
NO_DATA_ROUTE = "no_data"


@dataclass(frozen=True)
class RouteNode:
    id: str  # "0", "0.1", ...: the node's place in the tree, part of its groups' keys
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    timing: Timing
    continue_: bool = False
    children: tuple[RouteNode, ...] = field(default_factory=tuple)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if ALL_LABELS in self.group_by:
            return dict(sorted(labels.items()))
        return {k: labels.get(k, "") for k in self.group_by}

    def group_key(self, labels: Mapping[str, str]) -> str:
        return f"{self.id}:{json.dumps(self.group_labels(labels), sort_keys=True, separators=(',', ':'))}"

    def match(self, labels: Mapping[str, str]) -> list[RouteNode]:
        """The nodes this alert lands on (empty when this node does not match)."""
        if not match_all(self.matchers, labels):
            return []
        out: list[RouteNode] = []
        for child in self.children:
            hit = child.match(labels)
            if hit:
                out.extend(hit)
                if not child.continue_:
                    return out
        return out + [self]

    def walk(self) -> list[RouteNode]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def build(route: Route | None, settings: AlertingSettings) -> RouteNode | None:
    """The compiled tree, or None when no route is configured (alerts are kept, nobody is told)."""
    if route is None or route.receiver is None:
        return None
    defaults = Timing(settings.group_wait, settings.group_interval, settings.repeat_interval)
    return _node(route, "0", route.receiver, tuple(settings.group_by), defaults)


def _node(route: Route, id_: str, receiver: str, group_by: tuple[str, ...], timing: Timing) -> RouteNode:
    receiver = route.receiver or receiver
    group_by = tuple(route.group_by) if route.group_by is not None else group_by
    timing = Timing(
        route.group_wait if route.group_wait is not None else timing.group_wait,
        route.group_interval if route.group_interval is not None else timing.group_interval,
        route.repeat_interval if route.repeat_interval is not None else timing.repeat_interval,
    )
    children = tuple(_node(c, f"{id_}.{i}", receiver, group_by, timing) for i, c in enumerate(route.routes))
    return RouteNode(id_, receiver, from_config(route.match, route.match_re), group_by, timing,
                     route.continue_, children)


def no_data_node(settings: AlertingSettings) -> RouteNode | None:
    """No-data alerts skip the risk routes: one group per receiver, listing every stale target."""
    if settings.no_data_receiver is None:
        return None
    timing = Timing(settings.group_wait, settings.group_interval, settings.repeat_interval)
    return RouteNode(NO_DATA_ROUTE, settings.no_data_receiver, (), (), timing)


def find(root: RouteNode | None, node_id: str, settings: AlertingSettings) -> RouteNode | None:
    """A node by id (to time a group whose alerts all left it); None if the tree changed under it."""
    if node_id == NO_DATA_ROUTE:
        return no_data_node(settings)
    if root is None:
        return None
    return next((n for n in root.walk() if n.id == node_id), None)
