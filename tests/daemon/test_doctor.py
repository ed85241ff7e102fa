"""`sco-monitor doctor` against real local servers: HTTP sources and webhook, an SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from sco_monitor.store import schema

from .conftest import free_port


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def _configure(config_dir: Path, tmp_path: Path, http_base: str, smtp_port: int) -> Path:
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["store"] = {"url": f"sqlite:///{tmp_path / 'store.db'}"}
    data["sources"] = {name: {"base_url": http_base} for name in ("yahoo", "ecb", "fred", "worldbank")}
    data["receivers"] += [{"name": "mail", "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                                                      "from": "monitor@example.org", "to": ["desk@example.org"]}}]
    data["receivers"][1]["webhook"]["url"] = f"{http_base}/hook"
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    (config_dir / "imoex.csv").write_text("date,close\n2024-01-02,3100.5\n")
    return main


def test_doctor_passes_when_everything_answers(config_dir, tmp_path, httpserver, smtp_port, run_cli) -> None:
    httpserver.expect_request("/").respond_with_data("ok")
    httpserver.expect_request("/hook").respond_with_data("", status=405)
    main = _configure(config_dir, tmp_path, httpserver.url_for("").rstrip("/"), smtp_port)
    assert run_cli("--config", str(main), "init").returncode == 0
    proc = run_cli("--config", str(main), "doctor", env={"TEST_WEBHOOK_SECRET": "s3cret"})
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.strip().splitlines()
    by_name = {line.split()[1] + (" " + line.split()[2] if line.split()[1] in ("source", "receiver") else ""): line
               for line in lines[:-2]}
    assert all(line.startswith(("ok  ", "skip")) for line in by_name.values()), proc.stdout
    assert set(by_name) == {"config", "store", "daemon", "schedules", "source csv", "source ecb", "source fred",
                            "source worldbank", "source yahoo", "receiver log", "receiver hook", "receiver mail",
                            "clock"}
    assert "6 series (6 enabled), 2 rules, 3 receivers, 6 schedules" in by_name["config"]
    assert f"{len(schema.metadata.tables)} tables present" in by_name["store"]
    assert "no daemon running on this store" in by_name["daemon"]
    assert f"{httpserver.url_for('').rstrip('/')} answered 200" in by_name["source fred"]
    assert "answered 405" in by_name["receiver hook"]  # any HTTP answer proves the endpoint is reachable
    assert f"SMTP 127.0.0.1:{smtp_port} answered EHLO (none); nothing sent" in by_name["receiver mail"]
    assert "1 local file(s) present" in by_name["source csv"]
    assert "Asia/Almaty, local time" in by_name["clock"] and "reference clock(s)" in by_name["clock"]
    assert lines[-1] == f"all {len(by_name)} checks passed"


def test_doctor_names_each_failure_with_a_fix_and_exits_1(config_dir, tmp_path, httpserver, run_cli) -> None:
    httpserver.expect_request("/").respond_with_data("ok")
    dead = f"http://127.0.0.1:{free_port()}"
    main = _configure(config_dir, tmp_path, httpserver.url_for("").rstrip("/"), free_port())
    data = yaml.safe_load(main.read_text())
    data["sources"]["worldbank"]["base_url"] = dead
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    (config_dir / "imoex.csv").unlink()
    proc = run_cli("--config", str(main), "doctor", "--timeout", "2")  # and no TEST_WEBHOOK_SECRET
    assert proc.returncode == 1
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 5, proc.stdout
    text = "\n".join(failed)
    assert "FAIL  store" in text and "-> fix: run `sco-monitor init`" in text  # never initialised
    assert f"source worldbank  {dead} unreachable: ConnectError" in text
    assert "-> fix: check the network or proxy (HTTPS_PROXY), or set sources.worldbank.base_url" in text
    assert "source csv" in text and "imoex.csv" in text
    assert "receiver hook" in text and "env TEST_WEBHOOK_SECRET (the signing secret) is not set" in text
    assert "receiver mail" in text and "SMTP 127.0.0.1:" in text and "unreachable: ConnectionRefusedError" in text
    assert proc.stdout.strip().endswith("5 of 13 checks failed")


def test_doctor_reports_a_config_error_as_a_failed_check(config_dir, run_cli) -> None:
    main = config_dir / "sco-monitor.yaml"
    main.write_text(main.read_text() + "\nfrobnicate: 1\n")
    proc = run_cli("--config", str(main), "doctor")
    assert proc.returncode == 2  # a config error is exit 2, as for every command
    assert proc.stdout.splitlines()[0] == (
        "FAIL  config  sco-monitor.yaml: frobnicate: unknown key"
        "  -> fix: fix that key; docs/configuration.md lists every key")
