"""Alerting throughput: the engine (state machine + routing + outbox writes) and delivery.

Engine: 1,000 fingerprints (rules × targets in 10 countries and 5 categories), whose values drift
around their thresholds so alerts keep going pending, firing, changing severity and resolving.
One cycle is 10 daily assessments of all 1,000 = 10,000 evaluations; the default run is 100
cycles (1,000,000 evaluations), each assessment one transaction including the database writes
and the outbox rows. Peer, measured in the same run: a naive ORM-free loop that, per evaluation,
SELECTs the alert row, applies the same pure transition and INSERTs/UPDATEs it (no routing, no
outbox), over the first cycles.

Delivery: notifications from the outbox to a local webhook (http.server on 127.0.0.1) with 4
concurrent workers, claims and outcome writes included. Peer: the same signed POSTs from 4
threads with httpx and no outbox at all.

    python benchmarks/bench_alerts.py [--cycles 100] [--peer-cycles 5] [--notifications 2000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402

from sco_monitor.alerting import db, engine, outbox  # noqa: E402
from sco_monitor.alerting.signing import sign  # noqa: E402
from sco_monitor.alerting.state import advance  # noqa: E402
from sco_monitor.assess.model import Assessment, RuleEvaluation  # noqa: E402
from sco_monitor.config.settings import Settings  # noqa: E402
from sco_monitor.store import Store, schema  # noqa: E402

COUNTRIES = ["KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"]
CATEGORIES = ["fx", "equity", "rates", "commodity", "volatility"]
START = date(2020, 1, 1)
T0 = datetime(2020, 1, 1, 7, 15, tzinfo=UTC)


def targets(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        country, category = COUNTRIES[i % 10], CATEGORIES[(i // 10) % 5]
        out.append({"rule": f"{category}_rule_{i % 4}", "category": category,
                    "labels": {"category": category, "country": country, "series": f"{category}.{country}.{i}"}})
    return out


class Drift:
    """Per-target values: an AR(1) around the warn threshold, so states keep changing."""

    def __init__(self, n: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.values = [0.04] * n

    def step(self) -> list[float]:
        self.values = [0.04 + 0.8 * (v - 0.04) + self.rng.gauss(0, 0.015) for v in self.values]
        return self.values


def evaluations(tg: list[dict[str, Any]], values: list[float]) -> list[RuleEvaluation]:
    out = []
    for t, v in zip(tg, values):
        sev = "critical" if v >= 0.10 else "warn" if v >= 0.05 else "ok"
        out.append(RuleEvaluation(rule=t["rule"], kind="change", category=t["category"], labels=t["labels"],
                                  series_id=t["labels"]["series"], value=v, threshold=0.05, severity=sev,
                                  warn=0.05, critical=0.10, clear=0.03, for_=2, summary=f"value {v:.3f}"))
    return out


def settings(hook_url: str) -> Settings:
    return Settings.model_validate({
        "receivers": [{"name": "log", "file": {"path": "/dev/null"}},
                      {"name": "hook", "webhook": {"url": hook_url}}],
        "route": {"receiver": "log", "group_by": ["category", "country"],
                  "routes": [{"match": {"severity": "critical"}, "receiver": "hook", "continue": True}]},
        "alerting": {"repeat_interval": "24h", "delivery": {"workers": 4}},
    })


def bench_engine(store: Store, cfg: Settings, n: int, cycles: int, per_cycle: int) -> tuple[float, int, int]:
    tg, drift = targets(n), Drift(n)
    evs, elapsed = 0, 0.0
    for c in range(cycles):
        for d in range(per_cycle):
            k = c * per_cycle + d
            a = Assessment(as_of=START + timedelta(days=k), rules=evaluations(tg, drift.step()))
            started = time.perf_counter()  # the engine only: building evaluations is the assess step's work
            engine.process(store.engine, cfg, a, T0 + timedelta(days=k))
            elapsed += time.perf_counter() - started
            evs += len(a.rules)
    with store.engine.connect() as conn:
        queued = outbox.counts(conn)["pending"]
    return elapsed, evs, queued


def bench_naive(store: Store, n: int, cycles: int, per_cycle: int) -> tuple[float, int]:
    """Per evaluation: SELECT the row, the same pure transition, INSERT or UPDATE it; a commit per day."""
    tg, drift, t = targets(n), Drift(n), schema.alerts
    evs, elapsed = 0, 0.0
    for k in range(cycles * per_cycle):
        as_of, now = START + timedelta(days=k), T0 + timedelta(days=k)
        batch = evaluations(tg, drift.step())
        started = time.perf_counter()
        with store.engine.begin() as conn:
            for ev in batch:
                row = conn.execute(select(t).where(t.c.fingerprint == ev.fingerprint)).mappings().first()
                prev = db._record(row) if row else None
                new = advance(prev, ev, as_of, now, 0.1)
                if new is not None:
                    values = {k_: getattr(new, k_) for k_ in db._RECORD_FIELDS}
                    values["labels"] = dict(new.labels)
                    if row is None:
                        conn.execute(insert(t).values(**values))
                    else:
                        conn.execute(update(t).where(t.c.fingerprint == ev.fingerprint).values(**values))
                evs += 1
        elapsed += time.perf_counter() - started
    return elapsed, evs


class Sink:
    """A local webhook answering 204 at once."""

    def __init__(self) -> None:
        self.count = 0
        lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    sink.count += 1
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def bench_delivery(store: Store, cfg: Settings, sink: Sink, count: int) -> float:
    now = T0 + timedelta(days=4000)
    payload = {"text": "x" * 400}
    with store.engine.begin() as conn:
        for i in range(count):
            outbox.enqueue(conn, "hook", "test", payload, f"bench-{i}", now)
    started = time.perf_counter()
    report = outbox.deliver_due(store.engine, cfg.receivers, cfg.alerting.delivery, now, workers=4)
    elapsed = time.perf_counter() - started
    assert report.delivered == count, report
    return elapsed


def bench_plain_posts(url: str, count: int) -> float:
    body = json.dumps({"id": "x", "type": "test", "data": {"text": "x" * 400}}).encode()
    client = httpx.Client()

    def post(i: int) -> None:
        ts = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": f"p{i}", "webhook-timestamp": str(ts),
                   "webhook-signature": sign("secret", f"p{i}", ts, body)}
        client.post(url, content=body, headers=headers).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, range(count)))
    client.close()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fingerprints", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--per-cycle", type=int, default=10, help="daily assessments per cycle")
    ap.add_argument("--peer-cycles", type=int, default=5, help="cycles the naive peer runs (its rate is per evaluation)")
    ap.add_argument("--notifications", type=int, default=2000)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = ap.parse_args()

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # quiet: warnings and errors only
    tmp = tempfile.mkdtemp(prefix="bench_alerts_")
    url = args.db or f"sqlite:///{tmp}/engine.db"
    sink = Sink()
    cfg = settings(sink.url)

    store = Store(url)
    store.init()
    with store.engine.begin() as conn:
        for t in (schema.notifications, schema.notification_groups, schema.alerts):
            conn.execute(t.delete())
    print(f"store: {store.display_url}")
    elapsed, evs, queued = bench_engine(store, cfg, args.fingerprints, args.cycles, args.per_cycle)
    rate = evs / elapsed
    print(f"engine: {evs:,} evaluations ({args.cycles} cycles x {args.per_cycle} days x {args.fingerprints:,} "
          f"fingerprints) in {elapsed:.1f}s = {rate:,.0f} evaluations/s; {queued:,} notifications queued")

    peer_store = Store(args.db or f"sqlite:///{tmp}/naive.db")
    peer_store.init()
    with peer_store.engine.begin() as conn:
        conn.execute(schema.alerts.delete())
    p_elapsed, p_evs = bench_naive(peer_store, args.fingerprints, args.peer_cycles, args.per_cycle)
    p_rate = p_evs / p_elapsed
    print(f"peer (naive per-row SELECT + INSERT/UPDATE, no routing or outbox): {p_evs:,} evaluations in "
          f"{p_elapsed:.1f}s = {p_rate:,.0f} evaluations/s")
    print(f"ratio engine/peer: {rate / p_rate:.1f}x")

    with store.engine.begin() as conn:
        conn.execute(schema.notifications.delete())
    d_elapsed = bench_delivery(store, cfg, sink, args.notifications)
    d_rate = args.notifications / d_elapsed
    print(f"delivery: {args.notifications:,} notifications to a local webhook, 4 workers, in {d_elapsed:.1f}s "
          f"= {d_rate:,.0f} notifications/s")
    plain = bench_plain_posts(sink.url, args.notifications)
    p_d_rate = args.notifications / plain
    print(f"peer (plain signed httpx POSTs from 4 threads, no outbox): {p_d_rate:,.0f} notifications/s")
    print(f"ratio outbox delivery/plain posts: {d_rate / p_d_rate:.2f}x")


if __name__ == "__main__":
    main()
