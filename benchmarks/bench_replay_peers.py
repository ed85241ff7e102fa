"""The replay's two peers, measured in one run at a size that runs now: today's per-day path and
one causal pass over the same window (the floor a pass-based replay can reach).

- per-day path: `run_replay` (assess → alert → deliver, as the daemon) over a few short stretches
  of consecutive days spread over the window, each on a fresh copy of the store; the first day of
  each stretch (a cold start: every model estimated) is timed apart from the warm days that follow,
  and the warm per-day cost is EXTRAPOLATED to the whole window, as the output says;
- one causal pass: `evaluate_history` over the whole window (indicators, stress index, crisis
  probability refits and every data-based rule severity of every day, causally).

The pass is a floor, not an equal: it has no forecast models (rules fed by forecasts or regime
probabilities read no data in `evaluate_history`), no alerting and no reports; and in this
universe (no member countries with episodes) the crisis probability has no model to refit. The
per-day path's cost is mostly the forecast layer.

Each peer runs in its own child process so its peak memory (max RSS) is its own. Prints both
times, the ratio per-day/pass, the ratio of the extrapolated per-day path to the pass, and peak
memory. Uses the 20-series universe of bench_replay.py.

Run: python benchmarks/bench_replay_peers.py [--from 2006-01-02] [--to 2009-12-31] [--stretches 2] [--days 3]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_day_peer(config: str, work: str, starts: list[str], days: int, q: mp.Queue) -> None:
    from sco_monitor import logs
    from sco_monitor.context import Context
    from sco_monitor.replay.driver import business_days, copy_history, replay_context, run_replay

    logs.configure("json", level="warning")
    ctx = Context(config_path=Path(config), run_id="bench-per-day")
    cold, warm = [], []
    for i, s in enumerate(starts):
        stretch = business_days(date.fromisoformat(s), date(2100, 1, 1))[:days]
        store = copy_history(ctx, f"sqlite:///{Path(work) / f'per-day-{i}.db'}")
        rctx = replay_context(ctx, Path(work) / f"out-{i}", store=store)
        for j, d in enumerate(stretch):
            t0 = time.perf_counter()
            run_replay(rctx, d, d, Path(work) / f"out-{i}", progress=False)
            (cold if j == 0 else warm).append(time.perf_counter() - t0)
        store.dispose()
    q.put({"cold": cold, "warm": warm, "rss": _max_rss_mb()})


def pass_peer(config: str, start: str, end: str, q: mp.Queue) -> None:
    from sco_monitor import logs
    from sco_monitor.assess.pipeline import evaluate_history
    from sco_monitor.context import Context

    logs.configure("json", level="warning")
    ctx = Context(config_path=Path(config), run_id="bench-pass")
    t0 = time.perf_counter()
    frame = ctx.store.load_frame([s.id for s in ctx.config.universe.series], end=date.fromisoformat(end))
    hist = evaluate_history(frame, ctx.config, probability_from=date.fromisoformat(start))
    seconds = time.perf_counter() - t0
    q.put({"seconds": seconds, "days": int((hist.indicators.calendar >= start).sum()), "rss": _max_rss_mb()})


def _child(target: Callable[..., None], *args: object) -> dict[str, Any]:
    q: mp.Queue = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="start", default="2006-01-02")
    ap.add_argument("--to", dest="end", default="2009-12-31")
    ap.add_argument("--stretches", type=int, default=2, help="stretches of consecutive days for the per-day path")
    ap.add_argument("--days", type=int, default=3, help="days per stretch (the first is a cold start)")
    args = ap.parse_args()
    from bench_replay import SERIES

    from sco_monitor import cycle, logs
    from sco_monitor.context import Context
    from sco_monitor.demo import write_workspace
    from sco_monitor.replay.driver import business_days

    logs.configure("json", level="warning")
    tmp = tempfile.TemporaryDirectory(prefix="bench-peers-")
    work = Path(tmp.name)
    config = write_workspace(work / "bench", SERIES)
    cycle.step_collect(Context(config_path=config, run_id="bench"))
    window = business_days(date.fromisoformat(args.start), date.fromisoformat(args.end))
    starts = [str(window[int(i)]) for i in np.linspace(len(window) // 10, len(window) - args.days - 1, args.stretches)]
    print(f"window: {window[0]} .. {window[-1]}, {len(window)} business days, {len(SERIES)} daily series")

    pd_ = _child(per_day_peer, str(config), str(work), starts, args.days)
    warm = float(np.mean(pd_["warm"])) if pd_["warm"] else float("nan")
    extrapolated = warm * len(window)
    print(f"per-day path (run_replay, assess+alert+deliver) on {len(pd_['cold']) + len(pd_['warm'])} SAMPLED days "
          f"in {args.stretches} stretches from {', '.join(starts)}: cold first day {np.mean(pd_['cold']):.2f} s, "
          f"warm days {warm:.2f} s each; EXTRAPOLATED to {len(window)} days: {extrapolated:.0f} s; "
          f"peak memory {pd_['rss']:.0f} MB")
    ps = _child(pass_peer, str(config), args.start, args.end)
    print(f"one causal pass (evaluate_history) over {ps['days']} days: {ps['seconds']:.1f} s "
          f"({1000 * ps['seconds'] / max(ps['days'], 1):.1f} ms per day); peak memory {ps['rss']:.0f} MB")
    print(f"ratios: one warm per-day step / whole pass = {warm / ps['seconds']:.2f}; "
          f"per-day path extrapolated / one pass = {extrapolated / ps['seconds']:.0f}x")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
