"""The yahoo source through yfinance's own client and parsing, against a local chart-API server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources.base import Query
from sco_monitor.sources.yahoo import Source

from .providers import CLIENT_TIMEOUT, fast_settings, nasdaq, sp500

END = date(2026, 11, 26)
SPX = Series(id="eq.us.spx", name="S&P 500", source="yahoo", symbol="^GSPC", kind="equity", country="USA",
             frequency="B", unit="index", direction="down")
SPX_ADJ = SPX.model_copy(update={"id": "eq.us.spx_adj", "params": {"field": "adj_close"}})
NDX = SPX.model_copy(update={"id": "eq.us.nasdaq", "symbol": "^IXIC"})


@pytest.fixture
def yahoo(replay, yf_cache: str) -> Source:  # noqa: ANN001
    src = Source(fast_settings(replay.server.url_for("").rstrip("/"), cache_dir=yf_cache, timeout=CLIENT_TIMEOUT))
    yield src
    src.close()


def chart_hits(replay, symbol: str) -> int:  # noqa: ANN001
    return len(replay.hits(f"/v8/finance/chart/{symbol}"))


def fetch(src: Source, *members: Series, start: date | None = date(2018, 1, 1)):  # noqa: ANN202
    (query,) = src.plan(list(members), {m.id: start for m in members}, END)
    return src.transform(query, src.extract(query))


def test_a_batch_gives_close_and_adjusted_close_per_series(yahoo: Source, replay) -> None:  # noqa: ANN001
    out = fetch(yahoo, SPX, SPX_ADJ, NDX)
    spx, adj, ndx = (out[s.id] for s in (SPX, SPX_ADJ, NDX))
    assert spx.error is None and adj.error is None and ndx.error is None
    real = sp500()["2018-01-01":]
    assert len(spx.values) == len(real) == 251
    assert spx.values[pd.Timestamp("2018-12-24")] == pytest.approx(real.loc["2018-12-24", "Close"])
    assert adj.values[pd.Timestamp("2018-02-05")] == pytest.approx(real.loc["2018-02-05", "Adj Close"])
    assert ndx.values.iloc[-1] == pytest.approx(nasdaq()["Close"].iloc[-1])
    windows = [h[2] for h in replay.hits("/v8/finance/chart/") if "period1" in h[2]]
    assert len(windows) == 2  # one chart request per ticker, both in one yf.download call
    assert {w["crumb"] for w in windows} == {"crumb-for-tests"}


def test_429_with_retry_after_then_success(yahoo: Source, replay) -> None:  # noqa: ANN001
    replay.fail("^GSPC", "429")
    out = fetch(yahoo, SPX)
    assert out[SPX.id].error is None and len(out[SPX.id].values) == 251
    assert out[SPX.id].attempts == chart_hits(replay, "^GSPC") >= 2  # the 429 and its retry counted


def test_persistent_429_is_yfinance_rate_limit_error_for_that_series_only(yahoo: Source, replay) -> None:  # noqa: ANN001
    replay.fail("^GSPC", "always-429")
    out = fetch(yahoo, SPX, NDX)
    err = out[SPX.id].error
    assert err is not None and "HTTP 429" in str(err) and "YFRateLimitError" in str(err)
    assert out[SPX.id].attempts == chart_hits(replay, "^GSPC") == 3  # retries=2
    assert out[NDX.id].error is None and len(out[NDX.id].values) == 251


def test_500_then_success_and_timeout_then_success(yahoo: Source, replay) -> None:  # noqa: ANN001
    replay.fail("^GSPC", "500")
    replay.fail("^IXIC", "timeout")
    out = fetch(yahoo, SPX, NDX)
    assert out[SPX.id].error is None and out[NDX.id].error is None
    assert out[SPX.id].attempts == chart_hits(replay, "^GSPC") >= 2
    assert out[NDX.id].attempts == chart_hits(replay, "^IXIC") >= 2


def test_delisted_symbol_is_a_failure_naming_the_reason(yahoo: Source, replay) -> None:  # noqa: ANN001
    gone = SPX.model_copy(update={"id": "eq.gone", "symbol": "GONE.ME"})
    out = fetch(yahoo, gone, SPX)
    assert "No data found, symbol may be delisted (HTTP 404)" in str(out["eq.gone"].error)
    assert out[SPX.id].error is None


def test_missing_timezone_and_empty_result_are_failures(yahoo: Source, replay) -> None:  # noqa: ANN001
    new = SPX.model_copy(update={"id": "eq.new", "symbol": "^NEW"})  # not in yfinance's timezone cache
    replay.fail("^NEW", "always-notz")
    replay.fail("^IXIC", "empty", "empty")
    out = fetch(yahoo, new, NDX)
    assert "no timezone found" in str(out[new.id].error)
    assert out[NDX.id].error is not None and out[NDX.id].values.empty


def test_truncated_chart_answer_is_retried(yahoo: Source, replay) -> None:  # noqa: ANN001
    replay.fail("^GSPC", "truncated")
    out = fetch(yahoo, SPX)
    assert out[SPX.id].error is None and len(out[SPX.id].values) == 251


def test_full_history_asks_for_period_max(yahoo: Source, replay) -> None:  # noqa: ANN001
    out = fetch(yahoo, NDX, start=None)
    assert len(out[NDX.id].values) == len(nasdaq())
    chart = [h[2] for h in replay.hits("/v8/finance/chart/") if "period1" in h[2]]
    assert int(chart[0]["period1"]) < 0  # 99 years back: yfinance's "max"


def test_query_batches_by_window_and_batch_size(tmp_path: Path) -> None:
    from sco_monitor.config.settings import SourceSettings

    src = Source(SourceSettings(batch_size=2))
    many = [SPX.model_copy(update={"id": f"eq.s{i}", "symbol": f"S{i}"}) for i in range(5)]
    starts = {s.id: (date(2024, 1, 1) if i < 3 else None) for i, s in enumerate(many)}
    queries = src.plan(many, starts, END)
    assert [(q.start, len(q.series)) for q in queries] == [(None, 2), (date(2024, 1, 1), 2), (date(2024, 1, 1), 1)]
    assert isinstance(queries[0], Query)
