"""Imported first by the benchmarks that fit models, so a benchmark measures what a user runs:

- one BLAS thread per process, which the CLI sets before numpy loads (`sco_monitor.executor.BLAS_THREADS`).
  Without it the process that drives a pool runs a BLAS thread per core beside the workers: on 2 cores a
  busy machine then filters a SARIMAX up to 20 times slower (1.2 ms against 28 ms, measured);
- this checkout's code in every process: its `src` first on sys.path here and on PYTHONPATH for the pool's
  workers, which otherwise import the installed package (an editable install of another checkout, say).
"""

import os
import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p)

from sco_monitor.executor import limit_blas_threads  # noqa: E402

limit_blas_threads()
