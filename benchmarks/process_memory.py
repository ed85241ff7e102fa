"""The peak memory of a pool's workers, which `getrusage(RUSAGE_CHILDREN)` does not see.

The process pool starts its workers from a fork server: they are the server's children, not this
process's, and the server is never waited for, so RUSAGE_CHILDREN reads 0 MB. The kernel keeps
every process's own peak resident set (VmHWM in /proc/PID/status); a thread reads it for every
descendant of this process while the pool lives. A worker's growth in the last interval before it
exits is missed, so the figure is a lower bound by at most that much. Linux only (elsewhere: None).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    out = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (command)": state, ppid, ...
        out[int(stat.parent.name)] = int(fields[1])
    return out


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def peak_mb(pid: int) -> float | None:
    """The process's own peak resident set (VmHWM), in MB; None once it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class DescendantPeak:
    """`with DescendantPeak() as m: ...` then `m.largest_mb`: the largest peak of any descendant
    (a pool worker, a fork server) seen every `every` seconds while the block ran."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="descendant-peak", daemon=True)

    @property
    def largest_mb(self) -> float | None:
        return max(self.peaks.values()) if self.peaks else None

    def _sample(self) -> None:
        for p in descendants(os.getpid()):
            mb = peak_mb(p)
            if mb is not None:
                self.peaks[p] = max(mb, self.peaks.get(p, 0.0))

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> DescendantPeak:
        if PROC.is_dir():
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
