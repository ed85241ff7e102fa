"""The peak memory and CPU time of a pool's workers, which `getrusage(RUSAGE_CHILDREN)` does not see.

The process pool starts its workers from a fork server: they are the server's children, not this
process's, and the server is never waited for, so RUSAGE_CHILDREN reads 0 MB and 0 s. The kernel
keeps every process's own peak resident set (VmHWM in /proc/PID/status) and CPU time (utime and
stime in /proc/PID/stat); a thread reads them for every descendant of this process while the pool
lives. What a worker does in the last interval before it exits is missed, so both figures are lower
bounds by at most that much. Linux only (elsewhere: None).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def _stats() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after "pid (command)": state (field 3 of proc(5)), ppid, ..."""
    out = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        out[int(stat.parent.name)] = text[text.rindex(")") + 2:].split()
    return out


def descendants(pid: int, stats: dict[int, list[str]]) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(child)
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(fields: list[str]) -> float:
    """User and system CPU time so far, from a process's stat fields (utime, stime: fields 14, 15)."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mb(pid: int) -> float | None:
    """The process's own peak resident set (VmHWM), in MB; None once it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class DescendantUsage:
    """`with DescendantUsage() as m: ...` then `m.largest_mb`, the largest peak of any descendant (a
    pool worker, a fork server), and `m.cpu_s`, their CPU time, as seen every `every` seconds."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.peaks: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="descendant-peak", daemon=True)

    @property
    def largest_mb(self) -> float | None:
        return max(self.peaks.values()) if self.peaks else None

    @property
    def cpu_s(self) -> float | None:
        return sum(self.cpu.values()) if self.cpu else None

    def _sample(self) -> None:
        stats = _stats()  # one read of each process's stat per sample: its parent and its CPU time
        for p in descendants(os.getpid(), stats):
            mb = peak_mb(p)
            if mb is not None:
                self.peaks[p] = max(mb, self.peaks.get(p, 0.0))
            self.cpu[p] = max(cpu_seconds(stats[p]), self.cpu.get(p, 0.0))

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> DescendantUsage:
        if PROC.is_dir():
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
