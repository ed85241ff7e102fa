"""The file channel: one JSON line per notification, appended (for logs, audits and tests).

Delivery is at-least-once: a process that stops between appending a line and recording the delivery
sends it again when it runs next. The file is its own receiver, so it deduplicates on the
notification's id itself: the ids already in the file are read once, then only what was appended
since, under an exclusive lock on the file (another process may append to it too), and a message
whose id is there is not written again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sco_monitor.alerting.channels import Message, Outcome, channels
from sco_monitor.config.alerting import FileReceiver
from sco_monitor.timeutil import utcnow

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: this process's lock only
    fcntl = None  # type: ignore[assignment]

_lock = threading.Lock()


def line(m: Message) -> bytes:
    record = {"id": m.key, "kind": m.kind, "receiver": m.receiver, "created_at": m.created_at.isoformat(),
              "written_at": utcnow().isoformat(), "payload": m.payload}
    return (json.dumps(record, sort_keys=True, default=str) + "\n").encode()


@dataclass
class _Written:
    """The ids of one file's lines up to `offset` (the file `inode` names: a rotated file is read afresh)."""

    inode: tuple[int, int]
    offset: int = 0
    ids: set[str] = field(default_factory=set)


_written: dict[Path, _Written] = {}


def _ids_in(fd: int, path: Path) -> _Written:
    """The ids in the file open at `fd`, reading only what was appended since the last call."""
    st = os.fstat(fd)
    known = _written.get(path)
    if known is None or known.inode != (st.st_dev, st.st_ino) or st.st_size < known.offset:
        known = _written[path] = _Written((st.st_dev, st.st_ino))
    if st.st_size > known.offset:
        data = os.pread(fd, st.st_size - known.offset, known.offset)
        complete = data[: data.rfind(b"\n") + 1]  # a line cut short by a crash is read when it is whole
        for raw in complete.splitlines():
            try:
                key = json.loads(raw).get("id")
            except (ValueError, AttributeError):
                continue  # not one of ours: left as it is
            if isinstance(key, str):
                known.ids.add(key)
        known.offset += len(complete)
    return known


@channels.register("file")
class FileChannel:
    def send(self, config: FileReceiver, message: Message) -> Outcome:
        return self.send_all(config, [message])

    def send_all(self, config: FileReceiver, messages: Sequence[Message]) -> Outcome:
        """Append every message not yet in the file in one write and one sync (a sync costs
        milliseconds; one per line would cost them per notification)."""
        path = Path(config.path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _lock:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes
                    there = _ids_in(fd, path)
                    fresh = [m for m in dict((m.key, m) for m in messages).values() if m.key not in there.ids]
                    data = b"".join(line(m) for m in fresh)
                    if data:
                        os.write(fd, data)  # one write of whole lines: concurrent appenders never interleave
                        os.fsync(fd)
                        there.ids.update(m.key for m in fresh)
                        there.offset += len(data)
                finally:
                    os.close(fd)
        except OSError as e:
            return Outcome.retryable(f"cannot append to {path}: {e.strerror or e}")
        repeated = len(messages) - len(fresh)
        return Outcome.ok(str(path) + (f" ({repeated} already there, not written again)" if repeated else ""))

    def close(self) -> None:
        return None
