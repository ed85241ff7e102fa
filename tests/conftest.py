"""Shared fixtures: config directories, stores on SQLite and PostgreSQL, the CLI as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sco_monitor.executor import limit_blas_threads

limit_blas_threads()  # as the CLI does: xdist's workers each running a BLAS thread per core oversubscribe them

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TEST_DATA = Path(__file__).resolve().parent / "data"
GOOD_CONFIG = TEST_DATA / "configs" / "good"
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real history); tests using it skip with a message where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market history not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    return SHARED_DATA


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the good test configuration in a temp folder; tests may edit it."""
    dest = tmp_path / "config"
    shutil.copytree(GOOD_CONFIG, dest)
    return dest


def _pg_reachable(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (install the 'postgres' extra)"
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as e:  # noqa: BLE001 - any failure means "not here"
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    url = os.environ.get("SCO_MONITOR_TEST_PG_URL", DEFAULT_PG_URL)
    problem = _pg_reachable(url)
    if problem:
        if os.environ.get("SCO_MONITOR_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL required (SCO_MONITOR_REQUIRE_PG) but not reachable at {url}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {url} ({problem}); store tests ran on SQLite only")
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards: tests never see each other."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = pg_base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_base_url else "?"
    yield f"{pg_base_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str):  # noqa: ANN201 - sco_monitor.store.Store
    from sco_monitor.store import Store

    s = Store(store_url)
    s.init()
    yield s
    s.dispose()


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCO_MONITOR_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def run_cli(tmp_path: Path):  # noqa: ANN201 - a callable
    """Run `python -m sco_monitor ...` for real, in tmp_path, with JSON logs on stderr."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sco_monitor", "--log-format", "json", *args],
            cwd=cwd or tmp_path, env=cli_env(**(env or {})), capture_output=True, text=True,
            timeout=timeout, input=input,
        )

    return run
