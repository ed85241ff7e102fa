"""Fixtures of the collection tests: a real local server replaying every provider."""

from __future__ import annotations

import pytest

from .providers import Replay


@pytest.fixture(scope="session")
def replay_server():  # noqa: ANN201 - pytest_httpserver.HTTPServer
    """One threaded local server for the session (stopping one takes half a second)."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def replay(replay_server):  # noqa: ANN001, ANN201 - Replay
    """Every provider installed afresh on the local server; faults are queued per test."""
    replay_server.clear()
    yield Replay(replay_server).install()
    replay_server.clear()


@pytest.fixture(scope="session")
def yf_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """yfinance fixes its cache folder for the whole process on first use: one per test session."""
    return str(tmp_path_factory.mktemp("yfinance-cache"))


@pytest.fixture
def banks(replay, shared_data):  # noqa: ANN001, ANN201 - CentralBanks
    """The central banks and MOEX ISS on the same local server (recorded payloads from ../shared/data)."""
    from .central_banks import CentralBanks

    return CentralBanks(replay.server, shared_data).install()
