"""A replay of 250 business days against cold `assess` runs on the same store (target: <= 4).

The demo's universe and history (offline), the shipped executor (a process pool). The peer is a
cold assessment of the replay's last day on a fresh copy of the store (no model state: every
model estimated, the level models chosen), timed `--repeat` times, measured in the same run; the
replay runs the 250 days day by day (assess, alert, deliver, a report every `--report-every`
days) from no model state either. Prints both, the ratio, the replay's peak memory, and its CPU
time with its pool's: spread over every core, the least wall time any overlap could reach.

Run: python benchmarks/bench_replay_vs_assess.py [--from 2008-01-02] [--days 250] [--report-every 20] [--repeat 2]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from process_usage import DescendantUsage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sco_monitor import cycle, logs  # noqa: E402
from sco_monitor.app import known_names  # noqa: E402
from sco_monitor.context import Context  # noqa: E402
from sco_monitor.demo import build_store, write_demo  # noqa: E402
from sco_monitor.executor import cores  # noqa: E402
from sco_monitor.replay.driver import business_days, copy_history, run_replay  # noqa: E402

TARGET = 4.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2008, 1, 2))
    ap.add_argument("--days", type=int, default=250)
    ap.add_argument("--report-every", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    logs.configure("json", level="warning")
    work = Path(tempfile.mkdtemp(prefix="bench-replay-assess-"))
    config, chosen = write_demo(work / "demo", args.start)
    ctx = Context(config_path=config, known=known_names)
    build_store(ctx, chosen, args.start)
    days = business_days(args.start, date(2100, 1, 1))[: args.days]
    cold = []
    for i in range(args.repeat):
        store = copy_history(ctx, f"sqlite:///{work / f'cold-{i}.db'}")
        pctx = Context.from_parts(ctx.config, store=store, run_id="bench-cold")
        t0 = time.perf_counter()
        cycle.step_assess(pctx, days[-1], save=True)
        cold.append(time.perf_counter() - t0)
        store.dispose()
    per_assess = min(cold)
    print(f"peer: cold `assess` of {days[-1]} on a fresh copy ({len(chosen)} series, every model estimated): "
          + ", ".join(f"{c:.1f} s" for c in cold) + f" (best {per_assess:.1f} s)")
    t0, c0 = time.perf_counter(), time.process_time()
    with DescendantUsage() as workers:  # the pool's workers are not our children (process_usage.py)
        summary = run_replay(ctx, days[0], days[-1], work / "out", report_every=args.report_every, progress=False)
    replay_s, own_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = "unknown" if workers.largest_mb is None else f"{workers.largest_mb:.0f} MB"
    ratio = replay_s / per_assess
    print(f"replay: {len(summary.ran)} business days {days[0]} .. {days[-1]} (a report every {args.report_every} "
          f"days: {summary.reports}): {replay_s:.1f} s ({1000 * replay_s / len(summary.ran):.0f} ms per day), "
          f"peak memory {rss:.0f} MB ({child} in the largest of its {len(workers.peaks)} child processes: pool workers, fork server)")
    print(f"ratio: the replay costs {ratio:.1f} cold assessments (target <= {TARGET:.0f}): "
          f"{'met' if ratio <= TARGET else 'NOT met'}")
    if workers.cpu_s is not None:  # what no overlap can beat: the replay's CPU spread over every core
        total, n = own_cpu + workers.cpu_s, cores()
        print(f"cpu: this process {own_cpu:.1f} s, its {len(workers.cpu)} child processes {workers.cpu_s:.1f} s "
              f"(sampled every {workers.every:g} s): {total:.1f} s on {n} cores take at least {total / n:.1f} s, "
              f"{total / n / per_assess:.1f} cold assessments, however the work overlaps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
