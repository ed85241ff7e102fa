"""Forecasting at scale: a full estimation run, the next day's incremental run, and statsforecast as the peer.

The universe: N business-daily series of ten years each, made of real returns (S&P 500, NASDAQ
and WTI from arch.data) resampled with arch's stationary block bootstrap, one seed per series,
so every series has realistic fat tails and volatility clusters.

(a) full run:        every model estimated from scratch (the default models per kind, see
                     `plan_slots`; `--level-share` of the series also get ARIMA/ETS level models)
(b) incremental run: the next day, one new observation per series, from the states saved by (a)
                     (load states from the store, run, save states); then again on a Dask
                     LocalCluster, whose results must equal the process pool's
(c) the peer:        statsforecast's AutoARIMA (and a fixed ARIMA(1,1,1)) fitted per series on
                     the same 100·ln(price) series, one core

Targets: (b) <= 60 s on 2 cores; (b) at least 5x faster than (a); the per-series cost of (b)
(CPU time of all processes / N) at most 1/3 of statsforecast's per-series fit (CPU time); peak
memory <= 2 GB. Run: python benchmarks/bench_assess.py [--series 1000] [--workers N] [--skip-dask]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import os
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sco_monitor.assess.forecast import ForecastRun, run_forecasts
from sco_monitor.assess.forecast.layer import states_from_rows
from sco_monitor.catalog import Series
from sco_monitor.config.settings import AssessmentConfig, ExecutorConfig
from sco_monitor.executor import cores, make_executor
from sco_monitor.logs import configure
from sco_monitor.store import Store
from sco_monitor.store.model_states import load_states, save_states

YEARS_DAYS = 2610  # ten years of business days


# --- the universe ---------------------------------------------------------------------------------
def source_returns() -> dict[str, tuple[str, np.ndarray]]:
    from arch.data import nasdaq, sp500, wti

    def pct(p: pd.Series) -> np.ndarray:
        p = p.dropna()
        p = p[p > 0]
        return 100 * np.diff(np.log(p.to_numpy()))

    return {"sp500": ("equity", pct(sp500.load()["Adj Close"])),
            "nasdaq": ("equity", pct(nasdaq.load()["Adj Close"])),
            "wti": ("commodity", pct(wti.load()["DCOILWTICO"]))}


def universe(n: int, level_share: float) -> tuple[pd.DataFrame, list[Series], AssessmentConfig]:
    """N price series of YEARS_DAYS + 1 days (the last day is the incremental run's new observation)."""
    from arch.bootstrap import StationaryBootstrap

    sources = list(source_returns().items())
    dates = pd.bdate_range(end="2024-12-31", periods=YEARS_DAYS + 1)
    cols, catalog = {}, []
    for i in range(n):
        name, (kind, r) = sources[i % len(sources)]
        bs = StationaryBootstrap(20, r, seed=i)
        (sample,), _ = next(bs.bootstrap(1))
        path = np.r_[0.0, np.cumsum(sample[: YEARS_DAYS]) / 100]
        sid = f"bench.{name}_{i:04d}"
        cols[sid] = 100 * np.exp(path)
        catalog.append(Series(id=sid, name=sid, source="csv", kind=kind, country="WLD", frequency="B",
                              unit="index", direction="down"))
    frames = pd.DataFrame(cols, index=dates)
    levels = [s.id for s in catalog[: round(level_share * n)]]
    return frames, catalog, AssessmentConfig(forecast_series=levels)


# --- measurement --------------------------------------------------------------------------------------
class PeakMemory:
    """Peak of the summed RSS of this process and its children (shared pages counted per process)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.2)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def cpu_seconds() -> float:
    """User + system CPU time of this process and all its descendants (pool workers, Dask workers)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


@dataclass
class Timed:
    seconds: float
    run: ForecastRun
    io_seconds: float = 0.0
    cpu: float = 0.0


def full_run(frames: pd.DataFrame, catalog: list[Series], settings: AssessmentConfig, as_of: date,
             store: Store, executor) -> Timed:
    c0, t0 = cpu_seconds(), time.perf_counter()
    run = run_forecasts(frames, catalog, as_of, {}, settings, executor)
    t1 = time.perf_counter()
    save_states(store, run.states)
    return Timed(time.perf_counter() - t0, run, time.perf_counter() - t1, cpu_seconds() - c0)


def incremental_run(frames: pd.DataFrame, catalog: list[Series], settings: AssessmentConfig, as_of: date,
                    store: Store, executor, save: bool = True) -> Timed:
    c0, t0 = cpu_seconds(), time.perf_counter()
    states = states_from_rows(load_states(store, [s.id for s in catalog]))
    t1 = time.perf_counter()
    run = run_forecasts(frames, catalog, as_of, states, settings, executor)
    t2 = time.perf_counter()
    if save:
        save_states(store, run.states)
    t3 = time.perf_counter()
    return Timed(t3 - t0, run, (t1 - t0) + (t3 - t2), cpu_seconds() - c0)


def peer(frames: pd.DataFrame, count: int, horizon: int) -> dict[str, float]:
    """statsforecast fits per series on one core (after a warm-up that compiles its numba code)."""
    from statsforecast.models import ARIMA, AutoARIMA

    ys = [100 * np.log(frames[c].to_numpy()) for c in frames.columns[:count]]
    out: dict[str, float] = {}
    for name, make in (("AutoARIMA", lambda: AutoARIMA()),
                       ("ARIMA(1,1,1)+drift", lambda: ARIMA(order=(1, 1, 1), include_drift=True))):
        t0 = time.perf_counter()
        make().fit(ys[0]).predict(h=horizon, level=[90])
        out[f"{name} warm-up"] = time.perf_counter() - t0
        t0 = time.process_time()
        for y in ys:
            make().fit(y).predict(h=horizon, level=[90])
        out[name] = (time.process_time() - t0) / len(ys)
    return out


def same_results(a: ForecastRun, b: ForecastRun) -> bool:
    return (a.forecasts == b.forecasts and a.return_forecasts == b.return_forecasts and a.states == b.states
            and a.var == b.var and a.volatility == b.volatility and a.regime_prob == b.regime_prob)


def describe(run: ForecastRun) -> str:
    return (f"extended {run.count('extended')}, re-estimated {run.count('reestimated')}, "
            f"fallbacks {run.count('fallback')}, skipped {run.count('skipped')}, failed {run.count('failed')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=None, help="process pool size (default: all cores)")
    ap.add_argument("--level-share", type=float, default=0.02,
                    help="share of series that also get ARIMA/ETS level models (as in forecast_series)")
    ap.add_argument("--peer-series", type=int, default=100, help="series statsforecast is timed on")
    ap.add_argument("--db", default=None, help="store URL (default: SQLite in a temp folder)")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    configure("console", "warning")
    warnings.simplefilter("ignore")

    workers = args.workers or cores()
    tmp = tempfile.TemporaryDirectory()
    store = Store(args.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}")
    store.init()

    t0 = time.perf_counter()
    frames, catalog, settings = universe(args.series, args.level_share)
    n = len(catalog)
    day0, day1 = frames.index[-2].date(), frames.index[-1].date()
    print(f"universe: {n} business-daily series x {YEARS_DAYS} days (bootstrapped real returns), "
          f"{len(settings.forecast_series)} with level models; built in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {cores()} cores available, {workers} workers; load average {os.getloadavg()[0]:.1f}")

    with PeakMemory() as mem:
        t0 = time.perf_counter()
        pool = make_executor(ExecutorConfig(kind="process", workers=workers))
        pool.map(abs, [1] * workers)
        print(f"process pool started in {time.perf_counter() - t0:.1f} s (not counted below)")
        with pool:
            a = full_run(frames.loc[:pd.Timestamp(day0)], catalog, settings, day0, store, pool)
            print(f"(a) full run, every model estimated:   {a.seconds:8.1f} s  ({describe(a.run)})")
            b = incremental_run(frames, catalog, settings, day1, store, pool, save=False)
            print(f"(b) next day, incremental from states: {b.seconds:8.1f} s  ({describe(b.run)}; "
                  f"state load/save {b.io_seconds:.1f} s)")
        if not args.skip_dask:
            dask = make_executor(ExecutorConfig(kind="dask", workers=workers))
            with dask:
                bd = incremental_run(frames, catalog, settings, day1, store, dask, save=False)
            print(f"(b) on a Dask LocalCluster:            {bd.seconds:8.1f} s  results equal the process "
                  f"pool's: {same_results(b.run, bd.run)}")
        save_states(store, b.run.states)
    mem_gb = mem.peak / 1e9

    c = peer(frames.loc[:pd.Timestamp(day1)], min(args.peer_series, n), settings.forecast_horizon)
    per_series_b = b.cpu / n
    print("\npeer: statsforecast (numba), one process, on the same 100*ln(price) series, "
          f"{min(args.peer_series, n)} of them; fit + {settings.forecast_horizon}-step forecast with 90% interval")
    for name in ("AutoARIMA", "ARIMA(1,1,1)+drift"):
        print(f"  {name:20s} {1000 * c[name]:8.1f} ms CPU per series (numba warm-up {c[name + ' warm-up']:.1f} s, excluded)")

    print("\nfigures (CPU = user+system time of all processes, robust to a busy machine)")
    print(f"  (a) full run                     {a.seconds:8.1f} s wall {1000 * a.cpu / n:9.1f} ms CPU per series")
    print(f"  (b) incremental run              {b.seconds:8.1f} s wall {1000 * per_series_b:9.1f} ms CPU per series")
    print(f"  peak memory (RSS, all processes) {mem_gb:8.2f} GB")
    print("ratios and targets")
    checks = [
        (f"(b) <= 60 s on {workers} cores", b.seconds <= 60, f"{b.seconds:.1f} s"),
        ("(a) / (b) >= 5", a.seconds / b.seconds >= 5, f"{a.seconds / b.seconds:.1f}x"),
        ("(b) per series <= 1/3 of AutoARIMA's fit", per_series_b <= c["AutoARIMA"] / 3,
         f"{per_series_b / c['AutoARIMA']:.3f} of it"),
        ("(b) per series <= 1/3 of ARIMA(1,1,1)'s fit", per_series_b <= c["ARIMA(1,1,1)+drift"] / 3,
         f"{per_series_b / c['ARIMA(1,1,1)+drift']:.3f} of it"),
        ("peak memory <= 2 GB", mem_gb <= 2, f"{mem_gb:.2f} GB"),
    ]
    for label, ok, value in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {value}")
    store.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
