"""The file channel: one JSON line per notification, appended (for logs, audits and tests)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from sco_monitor.alerting.channels import Message, Outcome, channels
from sco_monitor.config.alerting import FileReceiver
from sco_monitor.timeutil import utcnow

_lock = threading.Lock()


def line(m: Message) -> bytes:
    record = {"id": m.key, "kind": m.kind, "receiver": m.receiver, "created_at": m.created_at.isoformat(),
              "written_at": utcnow().isoformat(), "payload": m.payload}
    return (json.dumps(record, sort_keys=True, default=str) + "\n").encode()


@channels.register("file")
class FileChannel:
    def send(self, config: FileReceiver, message: Message) -> Outcome:
        return self.send_all(config, [message])

    def send_all(self, config: FileReceiver, messages: Sequence[Message]) -> Outcome:
        """Append every message's line in one write and one sync (a sync costs milliseconds; one per
        line would cost them per notification)."""
        path = Path(config.path).expanduser()
        data = b"".join(line(m) for m in messages)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _lock:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    os.write(fd, data)  # one write of whole lines: concurrent appenders never interleave
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as e:
            return Outcome.retryable(f"cannot append to {path}: {e.strerror or e}")
        return Outcome.ok(str(path))

    def close(self) -> None:
        return None
