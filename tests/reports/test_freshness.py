"""/metrics and the report judge staleness with one table: on the same store they name the same
series stale, right at the edge of what each frequency allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from sco_monitor.assess.model import Assessment
from sco_monitor.context import Context
from sco_monitor.daemon.metrics import DaemonMetrics, DaemonView
from sco_monitor.reports.daily import write_report
from sco_monitor.timeutil import utcnow
from sco_monitor.vocabulary import STALE_AFTER_DAYS


def _stale_gauge(metrics: DaemonMetrics) -> float:
    text = metrics.render()[0].decode()
    family = next(f for f in text_string_to_metric_families(text) if f.name == "sco_monitor_series_stale")
    return family.samples[0].value


def test_metrics_and_the_report_agree_on_what_is_stale(shipped_config, store, tmp_path: Path) -> None:  # noqa: ANN001
    config = shipped_config
    today = utcnow().astimezone(ZoneInfo(config.settings.timezone)).date()
    store.sync_series(config.universe.series)
    # per frequency, one series exactly at the limit (fresh) and one a day past it (stale)
    fresh, stale, rows = set(), set(), []
    for freq in sorted({s.frequency for s in config.universe.enabled()}):
        of_freq = [s for s in config.universe.enabled() if s.frequency == freq][:2]
        for s, extra, bucket in zip(of_freq, (0, 1), (fresh, stale)):
            newest = today - timedelta(days=STALE_AFTER_DAYS[freq] + s.publication_lag_days + extra)
            rows += [{"series_id": s.id, "date": pd.Timestamp(newest - timedelta(days=k)), "value": 100.0 + k}
                     for k in (0, 30)]
            bucket.add(s.id)
    store.upsert_observations(pd.DataFrame(rows))

    ctx = Context.from_parts(config, store)
    now = datetime.now(UTC)
    run = write_report(ctx, Assessment(as_of=today), now, out_dir=tmp_path / "reports", formats=["json"],
                       digest=False)
    dq = run.report.data_quality
    reported = {s.series_id for s in dq.stale}
    metrics = DaemonMetrics(store, DaemonView(role=lambda: "active", scheduler_running=lambda: True,
                                              job_health=dict), config.settings.timezone)

    assert stale and fresh and reported == stale  # a day past the limit is stale, the limit itself is not
    never_collected = dq.series_enabled - dq.series_with_data
    assert _stale_gauge(metrics) == len(reported) + never_collected  # /metrics also counts series with none
    assert dq.series_with_data == len(fresh | stale)

