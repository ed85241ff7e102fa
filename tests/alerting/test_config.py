"""The alerting part of sco-monitor.yaml: the full good example loads and routes as written.

Bad examples live in tests/data/configs/bad/main--*.yaml and are checked by tests/test_config.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sco_monitor.alerting import routing
from sco_monitor.config import load_config


def test_the_full_alerting_example_loads_and_routes(config_dir: Path) -> None:
    cfg = load_config(config_dir / "alerting-full.yaml")
    s = cfg.settings
    assert [r.channel for r in s.receivers] == ["email", "email", "webhook", "webhook", "file"]
    assert s.alerting.delivery.lease == timedelta(minutes=2) and s.alerting.heartbeat.give_up_after == timedelta(minutes=30)
    root = routing.build(s.route, s.alerting)
    assert root is not None
    where = lambda **labels: [n.receiver for n in root.match(labels)]  # noqa: E731
    assert where(severity="critical", category="fx", country="KAZ") == ["ops-hook", "ops-mail"]
    assert where(severity="warn", category="equity", country="UZB") == ["chat"]
    assert where(severity="warn", category="macro", country="IND") == ["relay"]
    assert where(severity="warn", category="rates", country="CHN") == ["ops-mail"]
    assert root.children[0].timing.repeat_interval == timedelta(hours=4)
    assert root.children[1].children[0].group_by == ("country",)
