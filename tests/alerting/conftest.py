"""Fixtures of the alerting tests: a real local webhook endpoint and a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Hook, Smtp


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    s = Smtp().start()
    yield s
    s.stop()
