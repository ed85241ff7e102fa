"""The Docker image, without a Docker engine: the Dockerfile's promises, and its entry command run
from the built wheel in a fresh venv, outside the checkout, on the packaged defaults."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ..conftest import ROOT
from .conftest import free_port, http_get, wait_for

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            word, _, rest = pending.partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck_volume_and_unbuffered_output() -> None:
    ins = instructions()
    stages = [args for word, args in ins if word == "FROM"]
    assert len(stages) == 2 and all("-slim AS " in s for s in stages), stages
    runtime = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM"):]
    words = [w for w, _ in runtime]
    assert "COPY" in words and any(a.startswith("--from=build ") for w, a in runtime if w == "COPY")
    users = [a for w, a in runtime if w == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN")  # nothing runs as root after
    env = " ".join(a for w, a in runtime if w == "ENV")
    assert "PYTHONUNBUFFERED=1" in env and "SCO_MONITOR_HTTP_LISTEN=0.0.0.0:9464" in env
    assert json.loads(next(a for w, a in runtime if w == "VOLUME")) == ["/data"]
    assert next(a for w, a in runtime if w == "WORKDIR") == "/data"
    assert next(a for w, a in runtime if w == "EXPOSE") == "9464"
    health = next(a for w, a in runtime if w == "HEALTHCHECK")
    assert "http://127.0.0.1:9464/healthz" in health
    assert json.loads(next(a for w, a in runtime if w == "ENTRYPOINT")) == ["sco-monitor"]
    assert json.loads(next(a for w, a in runtime if w == "CMD")) == ["run"]
    for word, args in ins:  # everything the build stage copies exists
        if word == "COPY" and not args.startswith("--from"):
            for src in args.split()[:-1]:
                assert (ROOT / src).exists(), src
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and "var" in ignored


def _healthcheck_command(port: int) -> list[str]:
    health = next(a for w, a in instructions() if w == "HEALTHCHECK")
    cmd = json.loads(health[health.index("CMD") + 3:].strip())
    return [arg.replace("127.0.0.1:9464", f"127.0.0.1:{port}") for arg in cmd]


@pytest.mark.slow
def test_the_images_entry_command_works_from_the_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("sco_monitor-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # the dependencies come from this interpreter's environment; the project only from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True, timeout=300)

    home = tmp_path / "data"  # like the image's /data: empty, outside the checkout
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCO_MONITOR_", "PYTHON"))}
    exe = str(venv / "bin" / "sco-monitor")
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import sco_monitor; print(sco_monitor.__file__)"],
                           cwd=home, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site))  # not the checkout

    shown = subprocess.run([exe, "--help"], cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and all(c in shown.stdout for c in ("run", "status", "doctor"))
    init = subprocess.run([exe, "init"], cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert init.stdout.startswith("store ready at sqlite:///var/sco-monitor.db (schema revision 0001): ")
    assert (home / "var" / "sco-monitor.db").is_file()

    entry = [json.loads(a) for w, a in instructions() if w in ("ENTRYPOINT", "CMD")]
    port = free_port()
    daemon = subprocess.Popen([str(venv / "bin" / entry[0][0]), *entry[0][1:], *entry[1]], cwd=home,
                              env={**env, "SCO_MONITOR_HTTP_LISTEN": f"127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def active() -> bool:
            assert daemon.poll() is None, daemon.communicate()[1]
            try:
                code, body = http_get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except OSError:
                return False
            return code == 200 and json.loads(body)["role"] == "active"

        wait_for(active, 60, "the image's daemon to be active")
        check = subprocess.run(_healthcheck_command(port), cwd=home, env=env, timeout=30)
        assert check.returncode == 0, shlex.join(_healthcheck_command(port))
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait()
