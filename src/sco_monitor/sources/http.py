"""HTTP for the sources: timeouts, retries with backoff and jitter, Retry-After, a rate limit.

One policy for every provider: timeouts, connection errors, truncated bodies, 429 and 5xx are
retried (tenacity, exponential backoff with jitter; a 429/503 `Retry-After` is honoured up to
`retry_after_max`); any other 4xx fails at once. The yahoo source applies the same policy to
yfinance's own session (see `sources/yahoo.py`).
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from sco_monitor import __version__
from sco_monitor.catalog import Series
from sco_monitor.config.settings import SourceSettings
from sco_monitor.logs import get_logger
from sco_monitor.sources.base import Query, Source, SourceError, plan_groups

log = get_logger("sco_monitor.sources.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"sco-monitor/{__version__}"


class RateLimiter:
    """At most `rate` request starts per second, shared by every thread using one source."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class RetryableStatus(Exception):
    """A 429 or 5xx answer: worth another try, after `retry_after` seconds when the server says so."""

    def __init__(self, status: int, reason: str, where: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status} {reason} from {where}".rstrip())
        self.status, self.retry_after = status, retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def where(url: str) -> str:
    """Host and path of a URL, never its query (which may carry an API key)."""
    parts = urlsplit(str(url))
    return f"{parts.netloc}{parts.path}"


def is_transient(exc: BaseException) -> bool:
    """Timeouts, connection failures, truncated bodies and retryable statuses."""
    if isinstance(exc, RetryableStatus):
        return True
    if isinstance(exc, httpx.TransportError):  # timeouts, connect errors, incomplete bodies
        return True
    name = type(exc).__name__  # curl_cffi's errors, matched by name to keep it an optional import
    return name in {"Timeout", "ConnectionError", "ReadTimeout", "ConnectTimeout", "IncompleteRead",
                    "ProxyError", "SSLError", "DNSError"} or isinstance(exc, (TimeoutError, ConnectionError))


class _WaitRetryAfter(wait_base):
    """Exponential backoff with jitter, or the server's Retry-After when it asks for longer."""

    def __init__(self, settings: SourceSettings) -> None:
        self.backoff = wait_exponential(multiplier=settings.backoff, max=settings.backoff_max) + wait_random(
            0, settings.backoff / 2
        )
        self.backoff_max = settings.backoff_max
        self.cap = settings.retry_after_max

    def __call__(self, retry_state: RetryCallState) -> float:
        base = min(self.backoff(retry_state), self.backoff_max)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is None:
            return base
        return min(max(base, asked), self.cap)


def retrying(settings: SourceSettings, source: str, on_retry: Callable[[], None] | None = None) -> Retrying:
    """The tenacity policy every source uses: transient errors only, `retries` times."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("request_retrying", source=source, attempt=state.attempt_number,
                 wait=round(state.next_action.sleep if state.next_action else 0.0, 3), error=describe(exc))
        if on_retry:
            on_retry()

    return Retrying(
        stop=stop_after_attempt(settings.retries + 1),
        wait=_WaitRetryAfter(settings),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )


def describe(exc: BaseException | None, url: str = "") -> str:
    """One readable line for a failed request."""
    if exc is None:
        return ""
    at = f" fetching {where(url)}" if url else ""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__}){at}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed before the full response ({exc}){at}"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__}: {exc}){at}"
    return str(exc) if str(exc) else type(exc).__name__


class HttpClient:
    """httpx with the retry policy, a per-source rate limit and attempt counting per thread."""

    def __init__(self, source: str, settings: SourceSettings, limiter: RateLimiter | None = None) -> None:
        self.source = source
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.rate_limit)
        self._client = httpx.Client(
            timeout=settings.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )
        self._local = threading.local()

    # attempts are counted per thread so a query knows what it cost
    def reset_attempts(self) -> None:
        self._local.attempts = 0

    @property
    def attempts(self) -> int:
        return getattr(self._local, "attempts", 0)

    def get(self, url: str, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET with the policy; a `SourceError` (naming the URL, status and tries) when it gives up."""
        return self.request("GET", url, params=params, headers=headers)

    def post(self, url: str, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST (a SOAP call) with the same policy as `get`."""
        return self.request("POST", url, content=content, headers=headers)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        tries = 0

        def once() -> httpx.Response:
            nonlocal tries
            tries += 1
            self._local.attempts = self.attempts + 1
            self.limiter.acquire()
            resp = self._client.request(method, url, params=params, content=content, headers=headers)
            if resp.status_code in RETRY_STATUSES:
                raise RetryableStatus(resp.status_code, resp.reason_phrase, where(url),
                                      parse_retry_after(resp.headers.get("Retry-After")))
            if resp.status_code >= 400:
                raise SourceError(f"HTTP {resp.status_code} {resp.reason_phrase} from {where(url)}: "
                                  f"{snippet(resp.text)}")
            return resp

        try:
            return retrying(self.settings, self.source)(once)
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes one clear line
            if not is_transient(exc):
                raise
            raise SourceError(f"{describe(exc, url)} (gave up after {tries} attempt{'s' * (tries != 1)})",
                              retryable=True) from exc

    def close(self) -> None:
        self._client.close()


def snippet(text: str, limit: int = 120) -> str:
    """The start of a body, on one line, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def json_body(body: bytes, what: str) -> Any:
    """A JSON answer, or a SourceError for an HTML page (maintenance, login) or a truncated body."""
    if looks_like_html(body):
        raise SourceError(f"{what}: expected JSON, got an HTML page: {snippet(body.decode('utf-8', 'replace'))}")
    try:
        return json.loads(body)
    except ValueError as e:
        raise SourceError(f"{what}: malformed JSON ({e}); truncated response?") from None


def looks_like_html(body: bytes | str) -> bool:
    head = (body[:512].decode("utf-8", "replace") if isinstance(body, bytes) else body[:512]).lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or "<html" in head


class HttpSource(Source):
    """A source that speaks HTTP through one `HttpClient` (rate limit, retries, attempt counts)."""

    def __init__(self, settings: SourceSettings | None = None, *, universe_dir: Path | None = None) -> None:
        super().__init__(settings, universe_dir=universe_dir)
        self.http = HttpClient(self.name, self.settings)

    def fetch(self, url: str, params: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.http.get(url, params, headers)

    def read_location(self, location: str) -> bytes:
        """The bytes of an http(s) URL (through the policy) or of a local file."""
        if location.startswith(("http://", "https://")):
            return self.fetch(location).content
        try:
            with open(location, "rb") as fh:
                return fh.read()
        except OSError as e:
            raise SourceError(f"cannot read {location}: {e.strerror or e}") from None

    def reset_attempts(self) -> None:
        self.http.reset_attempts()

    def attempts(self) -> int | None:
        return self.http.attempts

    def close(self) -> None:
        self.http.close()


class SharedFileSource(HttpSource):
    """A source whose series share one download (a file or a URL): one query, one read per location."""

    def location(self, series: Series) -> str:
        """The file path or URL a series is read from."""
        raise NotImplementedError

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        """One query per location; the window is the widest one asked for (rows are cut by the collector)."""
        return plan_groups(series, starts, end, self.location)

    def extract(self, query: Query) -> bytes:
        return self.read_location(self.location(query.series[0]))
