"""yahoo: daily bars from Yahoo Finance through yfinance, in batches, failures surfaced per series.

yfinance's `download` swallows per-ticker failures: it logs them and returns an empty or all-NaN
column. This source hands yfinance its own curl_cffi session (`YahooSession`) which applies the
house HTTP policy (rate limit, timeouts, retries with backoff honouring Retry-After) and records
what happened to each ticker's requests; it also catches yfinance's log records. A ticker whose
column comes back empty or all-NaN is a failed series, with the most telling reason available:
the HTTP outcome (429 → `YFRateLimitError`, 5xx, timeout), else yfinance's own message
(`possibly delisted; no timezone found`, ...), else "no data".

`sources.yahoo.base_url` sends every request for a *.yahoo.com host to that server instead
(a mirror, a recording proxy, or a local replay server in tests), path and query unchanged.
"""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sco_monitor.catalog import Series
from sco_monitor.config.settings import SourceSettings
from sco_monitor.sources.base import Fetched, Query, SourceError, batched, values_frame
from sco_monitor.sources.base import Source as BaseSource
from sco_monitor.sources.http import (
    RETRY_STATUSES,
    RateLimiter,
    RetryableStatus,
    describe,
    is_transient,
    parse_retry_after,
    retrying,
)

_CHART = re.compile(r"/v\d+/finance/chart/([^/?]+)")
_LIST_MSG = re.compile(r"^\s*(\[[^\]]*\])\s*:\s*(.+)$", re.S)
_DOLLAR_MSG = re.compile(r"^\s*\$([^:\s]+):\s*(.+)$", re.S)
_QUOTED_MSG = re.compile(r"ticker '([^']+)'")

FIELDS = {"close": "Close", "adj_close": "Adj Close"}


class YahooParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["close", "adj_close"] = Field(default="close", description="close, or adj_close (split/dividend adjusted).")


@dataclass
class TickerLog:
    """What the HTTP layer saw for one ticker's chart requests."""

    attempts: int = 0
    status: int | None = None
    error: str | None = None  # the last failure that retries could not cure
    said: str | None = None  # Yahoo's own error description on a 4xx (e.g. "symbol may be delisted")


def _ticker_of(url: str) -> str | None:
    m = _CHART.search(urlsplit(url).path)
    return unquote(m.group(1)).upper() if m else None


def _session_class() -> type:
    from curl_cffi import requests as curl_requests

    class YahooSession(curl_requests.Session):
        """curl_cffi session for yfinance: URL rewrite, rate limit, timeouts, retries, per-ticker log."""

        def __init__(self, settings: SourceSettings, limiter: RateLimiter, base_url: str | None) -> None:
            super().__init__(impersonate="chrome")
            self.sco_settings = settings
            self.sco_limiter = limiter
            self.sco_base = urlsplit(base_url.rstrip("/")) if base_url else None
            self.sco_log: dict[str, TickerLog] = defaultdict(TickerLog)
            self.sco_lock = threading.Lock()

        def _rewrite(self, url: str) -> str:
            parts = urlsplit(url)
            if self.sco_base is None or not (parts.hostname or "").endswith("yahoo.com"):
                return url
            path = self.sco_base.path + parts.path
            return urlunsplit((self.sco_base.scheme, self.sco_base.netloc, path, parts.query, parts.fragment))

        def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            from yfinance.exceptions import YFRateLimitError

            ticker = _ticker_of(url)
            target = self._rewrite(url)
            kwargs["timeout"] = self.sco_settings.timeout

            def once() -> Any:
                if ticker:
                    with self.sco_lock:
                        self.sco_log[ticker].attempts += 1
                self.sco_limiter.acquire()
                resp = super(YahooSession, self).request(method, target, *args, **kwargs)
                if resp.status_code in RETRY_STATUSES:
                    exc = RetryableStatus(resp.status_code, resp.reason or "", urlsplit(url).path,
                                          parse_retry_after(resp.headers.get("Retry-After")))
                    exc.response = resp  # type: ignore[attr-defined]
                    raise exc
                return resp

            try:
                resp = retrying(self.sco_settings, "yahoo")(once)
            except RetryableStatus as exc:
                self._note(ticker, exc.status, f"{exc} (gave up after {self._tries(ticker)} attempts)")
                if exc.status == 429:
                    raise YFRateLimitError() from exc
                return exc.response  # type: ignore[attr-defined]  # yfinance reads the status itself
            except Exception as exc:
                if is_transient(exc):
                    self._note(ticker, None, f"{describe(exc)} (gave up after {self._tries(ticker)} attempts)")
                raise
            self._note(ticker, resp.status_code, None, _yahoo_says(resp) if resp.status_code >= 400 else None)
            return resp

        def _tries(self, ticker: str | None) -> int:
            return self.sco_log[ticker].attempts if ticker else self.sco_settings.retries + 1

        def _note(self, ticker: str | None, status: int | None, error: str | None, said: str | None = None) -> None:
            if ticker:
                with self.sco_lock:
                    rec = self.sco_log[ticker]
                    rec.status, rec.error = status, error
                    rec.said = said or rec.said

        def take(self, tickers: Sequence[str]) -> dict[str, TickerLog]:
            with self.sco_lock:
                return {t: self.sco_log.pop(t, TickerLog()) for t in tickers}

    return YahooSession


@dataclass
class YahooRaw:
    """What one `yf.download` call gave: the frame, yfinance's messages and the HTTP log per ticker."""

    frame: pd.DataFrame
    messages: dict[str, list[str]] = field(default_factory=dict)
    http: dict[str, TickerLog] = field(default_factory=dict)


class _Capture(logging.Handler):
    """yfinance's log records during one download, attributed to tickers."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: dict[str, list[str]] = defaultdict(list)

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage().strip()
        if not msg or "Failed download" in msg:
            return
        m = _LIST_MSG.match(msg)
        if m:
            try:
                tickers = [str(t) for t in ast.literal_eval(m.group(1))]
            except (ValueError, SyntaxError):
                tickers = []
            for t in tickers:
                self.messages[t.upper()].append(m.group(2).strip())
            return
        m = _DOLLAR_MSG.match(msg)
        if m:
            self.messages[m.group(1).upper()].append(m.group(2).strip())
            return
        m = _QUOTED_MSG.search(msg)
        if m:
            self.messages[m.group(1).upper()].append(msg)


@contextmanager
def _captured() -> Iterator[_Capture]:
    handler = _Capture()
    logger = logging.getLogger("yfinance")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class Source(BaseSource):
    """Batches of tickers per `yf.download`; `params.field` picks close or adjusted close."""

    name = "yahoo"
    default_base_url = ""  # yfinance's own hosts
    Params = YahooParams
    _download_lock = threading.Lock()

    def __init__(self, settings: SourceSettings | None = None, **kw: Any) -> None:
        super().__init__(settings, **kw)
        self._limiter = RateLimiter(self.settings.rate_limit)
        self._session: Any = None
        self._local = threading.local()

    def session(self) -> Any:
        if self._session is None:
            import yfinance as yf

            if self.settings.cache_dir:
                yf.set_tz_cache_location(self.settings.cache_dir)
            self._session = _session_class()(self.settings, self._limiter, self.settings.base_url)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def plan(self, series: Sequence[Series], starts: dict[str, date | None], end: date) -> list[Query]:
        """Series sharing a window go in batches of `batch_size` tickers."""
        by_start: dict[date | None, list[Series]] = defaultdict(list)
        for s in series:
            by_start[starts.get(s.id)].append(s)
        return [Query(batch, start, end)
                for start, members in sorted(by_start.items(), key=lambda kv: (kv[0] is not None, kv[0] or date.min))
                for batch in batched(members, self.settings.batch_size)]

    def reset_attempts(self) -> None:
        self._local.attempts = 0

    def attempts(self) -> int | None:
        return getattr(self._local, "attempts", None)

    def extract(self, query: Query) -> YahooRaw:
        import yfinance as yf
        from yfinance.data import YfData

        session = self.session()
        tickers = sorted({s.symbol.upper() for s in query.series})
        kwargs: dict[str, Any] = {"interval": "1d", "auto_adjust": False, "actions": False, "group_by": "ticker",
                                  "progress": False, "threads": min(len(tickers), self.settings.concurrency),
                                  "timeout": self.settings.timeout, "session": session, "multi_level_index": True}
        if query.start is None:
            kwargs["period"] = "max"
        else:
            # end is exclusive for yfinance; a future end also keeps yfinance off its response cache
            kwargs.update(start=query.start.isoformat(), end=(query.end + timedelta(days=1)).isoformat())
        with self._download_lock:  # yfinance keeps one global client; one download at a time
            clear = getattr(YfData.cache_get, "cache_clear", None)
            if clear:
                clear()  # a cached failure from an earlier run must not answer this one
            session.take(tickers)
            with _captured() as cap:
                frame = yf.download(tickers, **kwargs)
            http = session.take(tickers)
        self._local.attempts = sum(r.attempts for r in http.values())
        return YahooRaw(frame if frame is not None else pd.DataFrame(), dict(cap.messages), http)

    def transform(self, query: Query, raw: Any) -> dict[str, Fetched]:
        assert isinstance(raw, YahooRaw)
        frame = raw.frame
        have = set(frame.columns.get_level_values(0)) if isinstance(frame.columns, pd.MultiIndex) else set()
        out: dict[str, Fetched] = {}
        for s in query.series:
            ticker = s.symbol.upper()
            column = FIELDS[self.params(s).field]
            rec = raw.http.get(ticker, TickerLog())
            values = frame[(ticker, column)].dropna() if (ticker in have and (ticker, column) in frame.columns) else None
            if values is None or values.empty:
                out[s.id] = Fetched.failed(SourceError(_reason(ticker, rec, raw.messages.get(ticker, [])),
                                                       retryable=rec.error is not None), rec.attempts or None)
                continue
            out[s.id] = Fetched(values_frame(values.index, values.to_numpy(), what=f"Yahoo {ticker}"),
                                attempts=rec.attempts or None)
        return out


def _yahoo_says(resp: Any) -> str | None:
    """The error description in a chart-API answer, e.g. 'No data found, symbol may be delisted'."""
    try:
        error = (resp.json().get("chart") or {}).get("error") or {}
    except (ValueError, AttributeError):
        return None
    text = error.get("description") or error.get("code")
    return f"{text} (HTTP {resp.status_code})" if text else None


def _reason(ticker: str, rec: TickerLog, messages: list[str]) -> str:
    """The most telling explanation of an empty column: HTTP failure, Yahoo's words, yfinance's."""
    said = "; ".join(dict.fromkeys(messages))
    parts = [p for p in (rec.error, f"Yahoo says: {rec.said}" if rec.said else None,
                         f"yfinance: {said}" if said else None) if p]
    if not parts:
        parts = ["no data returned (empty or all-NaN column)"]
    return f"Yahoo {ticker}: " + "; ".join(parts)
