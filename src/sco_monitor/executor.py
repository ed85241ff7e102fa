"""Where the per-series work runs: inline, a process pool (the default, all cores) or Dask.

Every executor has one operation, `map(fn, items) -> list`, which keeps the order of `items`;
`fn` and the items must be picklable (module-level functions, plain data). The three give the
same results, so the choice is about scale only: `process` on one machine, `dask` to spread
the work over a cluster (`executor.address`) or a LocalCluster.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, ClassVar, Self, TypeVar

from sco_monitor.config.settings import ExecutorConfig
from sco_monitor.registry import Registry

T = TypeVar("T")
R = TypeVar("R")

#: BLAS threads in a process that fits models. The models' matrices are small, so one thread is
#: fastest, and pool workers each running a thread per core oversubscribe the cores (measured on
#: 2 cores, one re-estimation round of the demo's 24 models: pool 5.0 s → 2.6 s, inline 6.4 s → 5.5 s).
BLAS_THREADS: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def limit_blas_threads() -> None:
    """One BLAS thread per process unless the user set these variables: called by the CLI before
    numpy loads, and before a pool starts its workers (they inherit the environment)."""
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)


#: Modules a process pool imports once, before forking its workers (the forecasting stack).
DEFAULT_PRELOAD: tuple[str, ...] = ("sco_monitor.assess.forecast.run",)
#: Tasks are sent in chunks: about this many chunks per worker balances load and overhead (a
#: forecasting run's few dozen tasks go one by one, costliest first, so no worker waits on a long chunk).
CHUNKS_PER_WORKER = 16


class Executor(ABC):
    """Runs `fn` over items somewhere; use as a context manager so pools and clusters close."""

    kind: ClassVar[str]
    workers: int

    @abstractmethod
    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """[fn(x) for x in items], in that order; an exception in fn propagates."""

    def start(self, fn: Callable[[T], R], items: Sequence[T]) -> Callable[[], list[R]]:
        """`map` begun now and collected by calling the result, so the caller works meanwhile (the
        replay prepares a day while the pool forecasts the next). Here: all the work at collection;
        a pool starts it at once."""
        return lambda: self.map(fn, items)

    def close(self) -> None:
        """Release workers; the executor is unusable afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


def cores() -> int:
    """CPUs this process may use (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


def _chunks(items: Sequence[T], workers: int) -> list[list[T]]:
    size = max(1, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER)))
    return [list(items[i: i + size]) for i in range(0, len(items), size)]


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(x) for x in chunk]


@EXECUTORS.register("inline")
class InlineExecutor(Executor):
    """In the calling process, one item after the other (tests, debugging, tiny universes)."""

    kind = "inline"

    def __init__(self, workers: int | None = None, **_: Any) -> None:
        self.workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(x) for x in items]


@EXECUTORS.register("process")
class ProcessExecutor(Executor):
    """A `concurrent.futures` process pool; workers start from a fork server with `preload` imported.

    The fork server (spawn on platforms without it) avoids forking a parent that may run
    threads (scheduler, database pools), and imports the heavy modules once, not per worker.
    """

    kind = "process"

    def __init__(self, workers: int | None = None, preload: Sequence[str] = DEFAULT_PRELOAD, **_: Any) -> None:
        self.workers = workers or cores()
        limit_blas_threads()
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(list(preload))
        else:  # pragma: no cover - Windows
            ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return self.start(fn, items)()

    def start(self, fn: Callable[[T], R], items: Sequence[T]) -> Callable[[], list[R]]:
        if not items:
            return list
        size = max(1, math.ceil(len(items) / (self.workers * CHUNKS_PER_WORKER)))
        results = self._pool.map(fn, items, chunksize=size)  # submitted now, results come in order
        return lambda: list(results)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@EXECUTORS.register("dask")
class DaskExecutor(Executor):
    """dask.distributed: the scheduler at `address`, or a LocalCluster of `workers` single-threaded workers.

    `processes=False` keeps a LocalCluster's workers as threads of this process (light, for tests).
    """

    kind = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None, processes: bool = True,
                 **_: Any) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - the dask extra is missing
            raise RuntimeError("executor kind 'dask' needs the dask extra: pip install 'sco-monitor[dask]'") from e
        self._cluster = None
        if address:
            self._client = Client(address)
            self.workers = max(1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))
        else:
            self.workers = workers or cores()
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=processes,
                                         dashboard_address=None)
            self._client = Client(self._cluster)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        chunks = _chunks(items, self.workers)
        futures = self._client.map(_run_chunk, [fn] * len(chunks), chunks, pure=False)
        return [r for part in self._client.gather(futures) for r in part]

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(config: ExecutorConfig, **options: Any) -> Executor:
    """The executor the config names; `options` (e.g. processes=False, preload=[...]) go to its constructor."""
    return EXECUTORS.get(config.kind)(workers=config.workers, address=config.address, **options)
