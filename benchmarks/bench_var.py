"""Volatility forecasts: QLIKE of GARCH(1,1)-t against its peer EWMA(0.94), per series, out of sample.

For each series the one-day variance forecast of every day from the evaluation start is scored
against that day's squared return with QLIKE (ln h + r^2 / h; Patton 2011, robust to the noise of
r^2 as a variance proxy). GARCH is re-estimated every `--refit` business days on the data before
each block and filtered through the block at those parameters; EWMA(0.94) needs no estimation.
Lower is better. Printed per series: QLIKE of each (and their difference), the ratio of Patton's
non-negative form r^2/h - ln(r^2/h) - 1 (GARCH / EWMA, below 1: GARCH wins; days with a zero
return are left out of it, as its log needs r^2 > 0), and the cost of each in seconds and their
ratio, all measured in this run. Variances are floored at 1e-4 percent^2 (0.01% a day) for both
models alike: on a pegged currency EWMA's variance decays towards zero and one small move then
costs it a near-infinite loss. A series is scored from `--from` or three years after its start.

Series: the real history in ../shared/data when it sits beside the checkout (S&P 500's place:
DJIA and NYSE Composite, IMOEX, Shanghai Composite, Sensex, Hang Seng, Nikkei, Brent, USD/CNY,
USD/INR), plus what ships inside installed packages (arch's S&P 500, the ECB's USD/RUB).

Run: python benchmarks/bench_var.py [--from 2005-01-01] [--refit 250]
"""

from __future__ import annotations

import process_setup  # noqa: F401  (first: one BLAS thread and this checkout's code in every process)

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


#: Variance floor (percent^2) applied to both models' forecasts.
FLOOR = 1e-4


def patton(h: np.ndarray, r: np.ndarray) -> float:
    """Mean of Patton's non-negative QLIKE loss r^2/h - ln(r^2/h) - 1 (needs r != 0)."""
    x = r ** 2 / h
    return float(np.mean(x - np.log(x) - 1.0))


def load_series() -> dict[str, pd.Series]:
    import arch.data.sp500

    out: dict[str, pd.Series] = {"S&P 500 (arch data)": arch.data.sp500.load()["Adj Close"]}
    from tests import realdata

    out["USD/RUB (ECB)"] = realdata._ecb_usd_rub()
    shared = ROOT.parent / "shared" / "data"
    if shared.is_dir():
        frame = realdata.load(str(shared))
        names = {"eq.us.spx": "NYSE Composite", "eq.ru.imoex": "IMOEX", "eq.cn.sse": "Shanghai Composite",
                 "eq.in.sensex": "BSE Sensex", "eq.hk.hsi": "Hang Seng", "eq.jp.n225": "Nikkei 225",
                 "cmd.brent": "Brent", "fx.usd_cny": "USD/CNY", "fx.usd_inr": "USD/INR"}
        for sid, name in names.items():
            out[name] = frame[sid].dropna()
        djia = realdata._price(shared / "equity/djia.csv", "Date", "Close")
        out["DJIA"] = djia[~djia.index.duplicated()]
    else:
        print(f"(no ../shared/data at {shared}: only the package-shipped series)")
    return {k: v[v > 0].sort_index() for k, v in out.items()}


def garch_variance(y: pd.Series, start: pd.Timestamp, refit: int) -> tuple[pd.Series, float]:
    """One-step GARCH variances from `start`, re-estimated every `refit` days on the data before."""
    from sco_monitor.assess.forecast.base import FitFailed
    from sco_monitor.assess.forecast.garch import GarchFitted, GarchSpec

    t0 = time.perf_counter()
    pos = int(y.index.searchsorted(start))
    parts = []
    for b in range(pos, len(y), refit):
        try:
            g = GarchFitted.fit(y.iloc[:b], GarchSpec()).extend(y.iloc[b: b + refit])
        except FitFailed:
            continue
        parts.append(g.conditional_volatility.iloc[-len(y.iloc[b: b + refit]):] ** 2)
    return pd.concat(parts), time.perf_counter() - t0


def ewma_variance(y: pd.Series) -> tuple[pd.Series, float]:
    from sco_monitor.assess.forecast.garch import EwmaFitted, EwmaSpec

    t0 = time.perf_counter()
    e = EwmaFitted.fit(y, EwmaSpec(lam=0.94))
    return e.conditional_volatility ** 2, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="start", default="2005-01-01")
    ap.add_argument("--refit", type=int, default=250)
    args = ap.parse_args()
    from sco_monitor.assess.forecast.garch import qlike

    start = pd.Timestamp(args.start)
    print(f"QLIKE of one-day variance forecasts from {start.date()} (GARCH re-estimated every {args.refit} days)")
    print(f"{'series':22s} {'from':10s} {'days':>5s} {'GARCH':>8s} {'EWMA':>8s} {'G - E':>8s} {'ratio':>6s}  "
          f"{'GARCH s':>8s} {'EWMA s':>7s} {'cost x':>7s}")
    wins, ratios = 0, []
    for name, y in load_series().items():
        first = max(start, y.index[0] + pd.DateOffset(years=3))
        if y.index[-1] < first + pd.DateOffset(years=1):
            continue
        r = pd.Series(100 * np.diff(np.log(y.to_numpy())), index=y.index[1:])
        hg, sg = garch_variance(y, first, args.refit)
        he, se = ewma_variance(y)
        both = pd.concat({"g": hg, "e": he, "r": r}, axis=1).dropna().loc[first:]
        g, e, rr = np.maximum(both["g"].to_numpy(), FLOOR), np.maximum(both["e"].to_numpy(), FLOOR), both["r"].to_numpy()
        qg, qe = qlike(g, rr), qlike(e, rr)
        moved = rr != 0
        ratio = patton(g[moved], rr[moved]) / patton(e[moved], rr[moved])
        wins += qg < qe
        ratios.append(ratio)
        print(f"{name:22s} {first.date()!s:10s} {len(both):5d} {qg:8.4f} {qe:8.4f} {qg - qe:+8.4f} {ratio:6.3f}  "
              f"{sg:8.2f} {se:7.3f} {sg / se:7.0f}")
    print(f"GARCH beats EWMA(0.94) on {wins} of {len(ratios)} series (QLIKE); "
          f"median loss ratio GARCH / EWMA {np.median(ratios):.3f}")


if __name__ == "__main__":
    main()
