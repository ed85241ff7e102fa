"""Benchmark: the daily report for the default universe, beside the assessment that fed it.

The store holds the shipped universe (every enabled series) filled with real daily history from
`arch.data` (S&P 500, NASDAQ, WTI, VIX; monthly CPI and Baa yields for macro series), each series
a rescaled, shifted copy of one of them, and a 20-year stress-index history derived from the real
S&P 500. The report is the full daily run: store reads, build, 20 charts (17 fan charts of the key
series, two stress-index charts, the segment chart), HTML + Markdown + JSON, index, `reports` rows.
Target: <= 3 s per report.

The assessment is `sco_monitor.cycle.step_assess` over the same store.

Run: python benchmarks/bench_report.py [--runs N]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.reports import fixtures as fx  # noqa: E402  (the real-data helpers of the report tests)

from sco_monitor.config import AppConfig, load_config  # noqa: E402
from sco_monitor.context import Context  # noqa: E402
from sco_monitor.cycle import step_assess  # noqa: E402
from sco_monitor.logs import configure  # noqa: E402
from sco_monitor.reports.daily import write_report  # noqa: E402
from sco_monitor.store import Store, schema  # noqa: E402
from sco_monitor.store.upsert import upsert  # noqa: E402

AS_OF = date(2018, 12, 24)  # the Christmas-Eve 2018 sell-off: S&P 500 ~20 % below its September high
NOW = datetime(2018, 12, 24, 2, tzinfo=UTC)
KEY_SERIES = 17
DAILY_START = "2017-01-01"


def daily_histories() -> list[pd.Series]:
    import arch.data.nasdaq
    import arch.data.sp500
    import arch.data.vix

    sp, nq = arch.data.sp500.load(), arch.data.nasdaq.load()
    out = [sp["Adj Close"], nq["Adj Close"], fx.wti(AS_OF), arch.data.vix.load()["vix"], sp["Low"], nq["High"]]
    return [s.loc[DAILY_START:str(AS_OF)].dropna().astype(float) for s in out]


def monthly_histories() -> list[pd.Series]:
    import arch.data.core_cpi
    import arch.data.default

    return [arch.data.core_cpi.load()["CPILFESL"], arch.data.default.load()["BAA"]]


def seed(store: Store, config: AppConfig) -> int:
    """Every enabled series gets a rescaled copy of a real history; returns the observation count."""
    daily, monthly = daily_histories(), monthly_histories()
    frames = []
    for i, s in enumerate(config.universe.enabled()):
        if s.frequency in ("B", "D", "W"):
            base = daily[i % len(daily)].shift(i // len(daily)).dropna()
        else:
            base = monthly[i % len(monthly)].loc[:str(AS_OF - timedelta(days=s.publication_lag_days))]
            base = base.resample("YE").last() if s.frequency == "A" else base
        values = base / base.iloc[0] * (50 + 7 * i)
        frames.append(pd.DataFrame({"series_id": s.id, "date": values.index, "value": values.to_numpy()}))
    obs = pd.concat(frames, ignore_index=True)
    store.upsert_observations(obs, fetched_at=NOW - timedelta(hours=1))
    with store.engine.begin() as conn:
        upsert(conn, schema.stress_index, fx.stress_rows(AS_OF))
    return len(obs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    configure("json", "warning")
    config = load_config(ROOT / "config" / "sco-monitor.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.init()
        store.sync_series(config.universe.series)
        n_obs = seed(store, config)
        ctx = Context.from_parts(config, store)

        t0 = time.perf_counter()
        assessment = step_assess(ctx, AS_OF, save=False)
        source = "the assessment engine (sco_monitor.cycle.step_assess)"
        t_assess = time.perf_counter() - t0

        key = [f.series_id for f in assessment.forecasts][:KEY_SERIES]
        settings = config.settings.model_copy(update={"report": config.settings.report.model_copy(update={"key_series": key})})
        ctx = Context.from_parts(dataclasses.replace(config, settings=settings), store)
        times, run = [], None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            run = write_report(ctx, assessment, NOW, out_dir=Path(tmp) / "reports")
            times.append(time.perf_counter() - t0)
        charts = len(list((run.directory / "charts").glob("*.svg")))
        sizes = ", ".join(f"{name} {path.stat().st_size / 1024:.0f} KiB" for name, path in run.files.items())
        med = statistics.median(times)
        print(f"bench_report: default universe, {len(config.universe.enabled())} enabled series, "
              f"{n_obs:,} stored observations (stand-ins: real arch.data history), as_of {AS_OF}")
        print(f"  assessment:  {t_assess:6.2f} s   {source}; {len(assessment.rules)} rule evaluations, "
              f"{len(assessment.forecasts)} forecasts")
        print(f"  report:      {med:6.2f} s   median of {args.runs} (min {min(times):.2f} s): read store, build, "
              f"{charts} charts, html+md+json ({sizes}), index, reports rows")
        print(f"  target:      {'met' if med <= 3.0 else 'MISSED'} (<= 3 s per report); "
              f"report / assessment = {med / t_assess:.2f}x")
        if not np.isfinite(med):
            sys.exit(1)


if __name__ == "__main__":
    main()
