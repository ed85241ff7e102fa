"""Imported first by the benchmarks that fit models: one BLAS thread per process, which the CLI sets
before numpy loads (`sco_monitor.executor.BLAS_THREADS`), so a benchmark measures what a user runs.
Without it the process that drives a pool runs a BLAS thread per core beside the workers: on 2
cores a busy machine then filters a SARIMAX up to 20 times slower (1.2 ms against 28 ms, measured)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sco_monitor.executor import limit_blas_threads  # noqa: E402

limit_blas_threads()
