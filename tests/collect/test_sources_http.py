"""The HTTP policy every source shares, against a real local server: retries, Retry-After, timeouts."""

from __future__ import annotations

import time

import pytest

from sco_monitor.sources.base import SourceError
from sco_monitor.sources.http import HttpClient, RateLimiter, parse_retry_after

from .providers import fast_settings

FRED = "/graph/fredgraph.csv"


def client(replay, **over) -> HttpClient:  # noqa: ANN001
    return HttpClient("fred", fast_settings(replay.server.url_for("/"), **over))


def test_500_then_success_is_retried_and_counted(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "500", "500")
    http = client(replay)
    http.reset_attempts()
    resp = http.get(replay.server.url_for(FRED), {"id": "BAA"})
    assert resp.status_code == 200 and resp.text.startswith("observation_date,BAA")
    assert http.attempts == 3
    assert len(replay.hits(FRED)) == 3


def test_429_honours_retry_after(replay) -> None:  # noqa: ANN001
    replay.retry_after = "1"
    replay.fail("BAA", "429")
    http = client(replay, retry_after_max=5.0)
    resp = http.get(replay.server.url_for(FRED), {"id": "BAA"})
    assert resp.status_code == 200
    (t1, *_), (t2, *_) = replay.hits(FRED)
    assert t2 - t1 >= 0.95, "the retry came before the server's Retry-After"


def test_retry_after_is_capped_by_settings(replay) -> None:  # noqa: ANN001
    replay.retry_after = "120"
    replay.fail("BAA", "503")
    started = time.monotonic()
    assert client(replay).get(replay.server.url_for(FRED), {"id": "BAA"}).status_code == 200
    assert time.monotonic() - started < 2


def test_persistent_429_gives_up_with_a_clear_error(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "always-429")
    with pytest.raises(SourceError) as err:
        client(replay).get(replay.server.url_for(FRED), {"id": "BAA"})
    assert "HTTP 429" in str(err.value) and "gave up after 3 attempts" in str(err.value)
    assert err.value.retryable
    assert len(replay.hits(FRED)) == 3


def test_timeout_is_retried_then_succeeds(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "timeout")
    http = client(replay, timeout=1.0)
    http.reset_attempts()
    assert http.get(replay.server.url_for(FRED), {"id": "BAA"}).status_code == 200
    assert http.attempts == 2


def test_timeouts_exhausted_name_the_url_not_the_query(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "always-timeout")
    with pytest.raises(SourceError) as err:
        client(replay, timeout=1.0, retries=1).get(replay.server.url_for(FRED), {"id": "BAA", "api_key": "secret"})
    msg = str(err.value)
    assert msg.startswith("timed out") and "/graph/fredgraph.csv" in msg and "secret" not in msg


def test_truncated_body_is_retried(replay) -> None:  # noqa: ANN001
    replay.fail("BAA", "truncated")
    http = client(replay)
    http.reset_attempts()
    resp = http.get(replay.server.url_for(FRED), {"id": "BAA"})
    assert resp.text.endswith("\n") and http.attempts == 2


def test_404_is_not_retried(replay) -> None:  # noqa: ANN001
    with pytest.raises(SourceError) as err:
        client(replay).get(replay.server.url_for(FRED), {"id": "NOSUCH"})
    assert "HTTP 404" in str(err.value) and not err.value.retryable
    assert len(replay.hits(FRED)) == 1


def test_rate_limit_spaces_requests() -> None:
    limiter = RateLimiter(20.0)
    started = time.monotonic()
    for _ in range(5):
        limiter.acquire()
    assert time.monotonic() - started >= 0.19


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: go now
