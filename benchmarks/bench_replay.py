"""Replay benchmark: 20 daily series x 20 years of real history replayed day by day.

Target: <= 5 minutes on 2 cores, >= 20x faster than re-estimating every model every day, and the
replay's data-based results equal to a cold daily assessment on sampled days (model-based rule
values: the largest difference and the severities that differ are printed). Two peers in the same run: the
per-day cold path (below) and one causal pass over the same window (`evaluate_history`: the
floor, with no models, alerting or reports); both ratios and the replay's peak memory are printed.

The peer (re-estimating every model every day) is a cold `step_assess(D)` on a store holding only
the observations, so nothing fitted earlier can be reused. Running it on all ~5,200 days would take
hours, so it is measured on a sample of days spread over the range and extrapolated to the whole
range; the output says so. The replay time includes alerting, delivery and the alert history while
the peer times the assessment alone, so the ratio printed understates the replay's advantage.

Also times `sco-monitor demo` on its default windows (target: at most 90 s).

Run: python benchmarks/bench_replay.py [--from 1999-01-04] [--to 2018-12-31] [--sample-days 5] [--workdir DIR]
     [--skip-demo] (the executor is the shipped default: a process pool on every core)
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import select
from process_usage import DescendantUsage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sco_monitor import cycle, logs
from sco_monitor.assess.model import Assessment
from sco_monitor.assess.rules import MODEL_KINDS
from sco_monitor.context import Context
from sco_monitor.executor import cores
from sco_monitor.demo import (
    CATALOG,
    DEFAULT_WINDOWS,
    ECB_ORIGIN,
    DemoSeries,
    ecb_cross,
    run_demo,
    write_workspace,
)
from sco_monitor.replay.driver import business_days, copy_history, run_replay
from sco_monitor.store import Store
from sco_monitor.store import schema as t

START, END = date(1999, 1, 4), date(2018, 12, 31)
TARGET_SECONDS = 300.0
TARGET_RATIO = 20.0
DEMO_TARGET_SECONDS = 90.0

# every currency the ECB quoted without a break from 1999 to 2018, as local currency per USD
_FX = [("JPY", "JPN"), ("GBP", "GBR"), ("CHF", "CHE"), ("SEK", "SWE"), ("NOK", "NOR"), ("DKK", "DNK"),
       ("CZK", "CZE"), ("HUF", "HUN"), ("PLN", "POL"), ("AUD", "AUS"), ("CAD", "CAN"), ("HKD", "HKG"),
       ("NZD", "NZL"), ("SGD", "SGP"), ("KRW", "KOR"), ("ZAR", "ZAF")]
SERIES: list[DemoSeries] = [
    *(s for s in CATALOG if s.id in ("eq.us.spx", "eq.us.nasdaq", "cmd.wti")),
    *(ecb_cross(c, country) for c, country in _FX),
    DemoSeries("fx.eur_usd", "EUR/USD (ECB)", "fx", "EMU", "USD per EUR", "down", origin=ECB_ORIGIN,
               currency="USD", quote="EUR"),
]


def stored(store: Store, day: date, horizon: int) -> dict[str, dict[str, tuple]]:
    with store.engine.connect() as conn:
        stress = conn.execute(select(t.stress_index.c.scope, t.stress_index.c.value)
                              .where(t.stress_index.c.date == day)).all()
        prob = conn.execute(select(t.crisis_probability.c.country, t.crisis_probability.c.probability)
                            .where(t.crisis_probability.c.date == day, t.crisis_probability.c.horizon == horizon)).all()
        rules = conn.execute(select(t.rule_evaluations.c.fingerprint, t.rule_evaluations.c.value,
                                    t.rule_evaluations.c.severity, t.rule_evaluations.c.kind)
                             .where(t.rule_evaluations.c.as_of == day)).all()
    return {"stress": {r[0]: (r[1],) for r in stress}, "probability": {r[0]: (r[1],) for r in prob},
            "rules": {r[0]: (r[1], r[2]) for r in rules if r[3] not in MODEL_KINDS},
            "model": {r[0]: (r[1], r[2]) for r in rules if r[3] in MODEL_KINDS}}


def computed(a: Assessment, horizon: int) -> dict[str, dict[str, tuple]]:
    # the store holds a scope's stress row only where the index has a value
    return {"stress": {k: (v.value,) for k, v in a.stress_index.items() if v.value is not None},
            "probability": {k: (v.probability,) for k, v in a.probability.items() if v.horizon == horizon},
            "rules": {r.fingerprint: (r.value, r.severity) for r in a.rules if r.kind not in MODEL_KINDS},
            "model": {r.fingerprint: (r.value, r.severity) for r in a.rules if r.kind in MODEL_KINDS}}


def model_differences(a: dict[str, tuple], b: dict[str, tuple]) -> tuple[int, int, float]:
    """Model-based values: how many compared, how many severities differ, the largest value difference."""
    compared, severities, worst = 0, 0, 0.0
    for key in set(a) & set(b):
        (u, su), (v, sv) = a[key], b[key]
        compared += 1
        severities += su != sv
        if u is not None and v is not None and not (math.isnan(u) or math.isnan(v)):
            worst = max(worst, abs(u - v))
    return compared, severities, worst


def differences(a: dict[str, dict[str, tuple]], b: dict[str, dict[str, tuple]]) -> tuple[list[str], float]:
    """Keys or values that differ, and the largest absolute numeric difference."""
    problems, worst = [], 0.0
    for part in ("stress", "probability", "rules"):
        if set(a[part]) != set(b[part]):
            problems.append(f"{part}: keys differ ({len(a[part])} vs {len(b[part])})")
            continue
        for key, x in a[part].items():
            for u, v in zip(x, b[part][key]):
                if isinstance(u, float) or isinstance(v, float):
                    if u is None or v is None or (math.isnan(u) != math.isnan(v)):
                        if not (u is None and v is None):
                            problems.append(f"{part} {key}: {u} vs {v}")
                        continue
                    if not math.isnan(u):
                        worst = max(worst, abs(u - v))
                        if not math.isclose(u, v, rel_tol=1e-7, abs_tol=1e-10):
                            problems.append(f"{part} {key}: {u} vs {v}")
                elif u != v:
                    problems.append(f"{part} {key}: {u} vs {v}")
    return problems, worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample-days", type=int, default=5, help="days on which the peer is measured")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the workspace here (default: a temp folder)")
    ap.add_argument("--skip-demo", action="store_true", help="do not time the demo")
    ap.add_argument("--from", dest="start", type=date.fromisoformat, default=START, help="first day replayed")
    ap.add_argument("--to", dest="end", type=date.fromisoformat, default=END, help="last day replayed")
    args = ap.parse_args()
    logs.configure("json", level="warning")  # the figures on stdout, not every step's info line
    start, end = args.start, args.end
    tmp = tempfile.TemporaryDirectory(prefix="bench-replay-")
    work = (args.workdir or Path(tmp.name)).resolve()

    (work / "bench" / "var" / "demo.db").unlink(missing_ok=True)  # a cold start: nothing fitted before
    config = write_workspace(work / "bench", SERIES)
    ctx = Context(config_path=config, run_id="bench")
    t0 = time.perf_counter()
    cycle.step_collect(ctx)
    obs = len(ctx.store.load_long([s.id for s in SERIES]))
    print(f"setup: {len(SERIES)} daily series, {obs} observations collected in {time.perf_counter() - t0:.1f} s "
          f"({ctx.store.display_url})")

    days = business_days(start, end)
    horizon = ctx.config.settings.assessment.crisis_horizon
    sample = [days[int(i)] for i in np.linspace(len(days) // 10, len(days) - 1, args.sample_days)]
    for d in sample:  # a kept --workdir's peers would hold the models an earlier run fitted
        (work / f"peer-{d}.db").unlink(missing_ok=True)
    fresh = {d: copy_history(ctx, f"sqlite:///{work / f'peer-{d}.db'}") for d in sample}  # before the replay

    t0, c0 = time.perf_counter(), time.process_time()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with DescendantUsage() as workers:  # the pool's workers are not our children (process_usage.py)
        summary = run_replay(ctx, start, end, work / "out", report_every=len(days), progress=sys.stderr.isatty())
    replay_s, own_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = "unknown" if workers.largest_mb is None else f"{workers.largest_mb:.0f} MB"
    print(f"replay: {len(summary.ran)} business days {start} .. {end}: {replay_s:.1f} s "
          f"({1000 * replay_s / max(len(summary.ran), 1):.0f} ms per day; target <= {TARGET_SECONDS:.0f} s); "
          f"peak memory {rss:.0f} MB in the replay's process (before: {rss0:.0f} MB), {child} in the largest "
          f"of its {len(workers.peaks)} child processes (pool workers, fork server); "
          f"executor {ctx.config.settings.executor.kind}")
    if workers.cpu_s is not None:  # what no overlap can beat: the replay's CPU spread over every core
        total, n = own_cpu + workers.cpu_s, cores()
        print(f"replay cpu: this process {own_cpu:.1f} s, its child processes {workers.cpu_s:.1f} s (sampled every "
              f"{workers.every:g} s): {total:.1f} s on {n} cores take at least {total / n:.1f} s however it overlaps")

    from bench_replay_peers import pass_peer  # the floor, in a child process for its own peak memory

    q: mp.Queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=pass_peer, args=(str(config), start.isoformat(), end.isoformat(), q))
    proc.start()
    floor = q.get()
    proc.join()
    print(f"peer (floor): one causal pass, evaluate_history over the same window: {floor['seconds']:.1f} s "
          f"for {floor['days']} calendar days, peak memory {floor['rss']:.0f} MB; "
          f"replay / pass = {replay_s / floor['seconds']:.1f}x")

    peer_s, ok, worst = [], True, 0.0
    m_compared, m_severities, m_worst = 0, 0, 0.0
    for d in sample:
        pctx = Context.from_parts(ctx.config, store=fresh[d], run_id="bench-peer")
        t0 = time.perf_counter()
        a = cycle.step_assess(pctx, d, save=False)
        peer_s.append(time.perf_counter() - t0)
        mine, cold = stored(ctx.store, d, horizon), computed(a, horizon)
        problems, w = differences(mine, cold)
        n, sev, mw = model_differences(mine.pop("model"), cold.pop("model"))
        m_compared, m_severities, m_worst = m_compared + n, m_severities + sev, max(m_worst, mw)
        worst = max(worst, w)
        if problems:
            ok = False
            print(f"  MISMATCH on {d}: " + "; ".join(problems[:5]), file=sys.stderr)
        fresh[d].dispose()
    per_day = float(np.mean(peer_s))
    extrapolated = per_day * len(days)
    ratio = extrapolated / replay_s
    print(f"peer: re-estimating every model every day (cold assessment), measured on {len(sample)} sampled days "
          f"({', '.join(map(str, sample))}): {per_day:.2f} s per day, extrapolated to {len(days)} days: "
          f"{extrapolated:.0f} s")
    print(f"ratio: {ratio:.1f}x faster than the peer (target >= {TARGET_RATIO:.0f}x)")
    print(f"data-based results (stress index, crisis probability, data-based rules) equal to the cold daily "
          f"assessment on the {len(sample)} sampled days: {'yes' if ok else 'NO'} (largest absolute difference {worst:.2e})")
    print(f"model-based rule values (regime probabilities, forecast breaches) on those days: {m_compared} compared, "
          f"{m_severities} severities differ, largest value difference {m_worst:.3f}")

    demo_ok = True
    if not args.skip_demo:
        t0 = time.perf_counter()
        run_demo(work / "demo", DEFAULT_WINDOWS, progress=False)
        demo_s = time.perf_counter() - t0
        demo_ok = demo_s <= DEMO_TARGET_SECONDS
        windows = ", ".join(f"{a} .. {b}" for a, b in DEFAULT_WINDOWS)
        print(f"demo: default windows {windows} from scratch in {demo_s:.0f} s "
              f"(target < {DEMO_TARGET_SECONDS:.0f} s)")
    met = replay_s <= TARGET_SECONDS and ratio >= TARGET_RATIO and ok and demo_ok and (start, end) == (START, END)
    print(f"targets {'met' if met else 'NOT met'}")
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
