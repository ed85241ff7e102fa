"""Logs sent to a file: the demo's terminal shows a bar and a summary, its log lines land in OUT/demo.log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sco_monitor import logs


def test_log_lines_go_to_the_file_and_not_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("console", run_id="r1")
    path = tmp_path / "demo" / "demo.log"
    with logs.to_file(path):
        logs.get_logger("t").info("inside_event", n=1)
    logs.get_logger("t").info("outside_event")
    (line,) = path.read_text().splitlines()
    record = json.loads(line)  # JSON lines in the file, whatever the terminal's format
    assert record["event"] == "inside_event" and record["n"] == 1 and record["run_id"] == "r1"
    err = capsys.readouterr().err
    assert "inside_event" not in err and "outside_event" in err  # the set-up is restored after
