"""Central banks and MOEX ISS on a local server: recorded payloads where they exist, documented formats elsewhere.

Recorded (../shared/data/payloads): the CBR's XML_daily for 15.03.2022 and XML_dynamic for USD
1992-2017 (windows-1251 bytes, served as recorded; XML_dynamic's records are cut to the requested
window line by line, as the CBR does), and the NBK's rates_all.xml of 18.04.2016.

Built from the providers' documented formats (no recorded answer exists): the NBK's dated
get_rates.cfm, the CBR's KeyRateXML SOAP answer, api.nbrb.by, cbu.uz, nbkr.kg daily.xml and the
nbt.tj XML export; the MOEX ISS history JSON is the documented format filled with the real IMOEX
history (equity/moex-imoex.csv), paged at 100 rows with a history.cursor block.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from werkzeug import Request, Response

from .providers import fault_response

PAGE = 100

#: The Bank of Russia's key-rate decisions (effective dates and percent), the documented history.
KEY_RATE_STEPS = [
    ("2013-09-13", 5.50), ("2014-03-03", 7.00), ("2014-04-28", 7.50), ("2014-07-28", 8.00),
    ("2014-11-05", 9.50), ("2014-12-12", 10.50), ("2014-12-16", 17.00), ("2015-02-02", 15.00),
    ("2015-03-16", 14.00), ("2015-05-05", 12.50), ("2015-06-16", 11.50), ("2015-08-03", 11.00),
    ("2016-06-14", 10.50), ("2016-09-19", 10.00), ("2017-03-27", 9.75),
]

#: Documented-format fixture values (not recorded answers): USD rates of the other national banks.
NBRB_USD = {"2023-12-28": 3.1775, "2023-12-29": 3.1775, "2024-01-03": 3.1809, "2024-01-04": 3.1885,
            "2024-01-05": 3.1916, "2024-01-15": 3.1805}
CBU_RATES = {"USD": ("1", 12345.67), "RUB": ("1", 136.85), "KZT": ("1", 27.02), "KRW": ("10", 94.11)}
NBKR_RATES = {"USD": ("1", "89,4500"), "EUR": ("1", "97,5012"), "KZT": ("1", "0,1962"), "RUB": ("1", "0,9962")}
NBT_RATES = {"USD": ("1", "10.9318"), "RUB": ("1", "0.1224"), "UZS": ("1000", "0.8856"), "KZT": ("100", "2.4100")}


def imoex_history(shared: Path) -> pd.DataFrame:
    frame = pd.read_csv(shared / "equity" / "moex-imoex.csv", parse_dates=["date"])
    return frame.sort_values("date").reset_index(drop=True)


def iss_page(frame: pd.DataFrame, secid: str, start: int) -> dict:
    """One page of the documented ISS history JSON (iss.meta=off), with its cursor."""
    cols = ["BOARDID", "TRADEDATE", "SHORTNAME", "SECID", "OPEN", "LOW", "HIGH", "CLOSE", "VALUE",
            "DURATION", "YIELD", "DECIMALS", "CAPITALIZATION", "CURRENCYID", "DIVISOR", "TRADINGSESSION"]
    part = frame.iloc[start:start + PAGE]
    rows = [["SNDX", d.strftime("%Y-%m-%d"), "Индекс МосБиржи", secid, o, lo, hi, c, None, None, None, 2,
             None, "RUB", None, 3] for d, o, hi, lo, c in part[["date", "open", "high", "low", "close"]].itertuples(index=False)]
    return {"history": {"columns": cols, "data": rows},
            "history.cursor": {"columns": ["INDEX", "TOTAL", "PAGESIZE"], "data": [[start, len(frame), PAGE]]}}


def _ru_date(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


class CentralBanks:
    """Handlers for the central banks and MOEX ISS on the shared local server, with queued faults."""

    def __init__(self, server, shared: Path) -> None:  # noqa: ANN001 - pytest_httpserver.HTTPServer
        self.server = server
        self.shared = shared
        payloads = shared / "payloads"
        self.cbr_daily = (payloads / "cbr" / "XML_daily-2022-03-15.xml").read_bytes()
        self.cbr_dynamic = (payloads / "cbr" / "XML_dynamic-R01235-1992-2017.xml").read_bytes()
        self.nbk_rss = (payloads / "nbk" / "rates_all-2016-04-18.xml").read_bytes()
        self.moex: dict[str, pd.DataFrame] = {"IMOEX": imoex_history(shared)}
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()

    # --- bookkeeping ---
    def fail(self, key: str, *faults: str) -> None:
        """Queue faults for a key ('CBR', 'NBK', 'NBRB', 'CBU', 'NBKR', 'NBT', 'KEYRATE', 'MOEX', or
        'NBK:dd.mm.yyyy' for one dated file); 'always-<fault>' sticks."""
        self.faults[key].extend(faults)

    def _fault(self, *keys: str) -> Response | None:
        with self.lock:
            for key in keys:
                queue = self.faults.get(key)
                if queue:
                    fault = queue[0][len("always-"):] if queue[0].startswith("always-") else queue.pop(0)
                    return fault_response(fault, sleep=0.0)
        return None

    def _log(self, req: Request) -> None:
        with self.lock:
            self.requests.append((req.path, dict(req.args), req.get_data()))

    def hits(self, part: str) -> list[tuple[str, dict, bytes]]:
        with self.lock:
            return [r for r in self.requests if part in r[0]]

    def install(self) -> CentralBanks:
        s = self.server
        s.expect_request("/scripts/XML_daily.asp").respond_with_handler(self._cbr_daily)
        s.expect_request("/scripts/XML_dynamic.asp").respond_with_handler(self._cbr_dynamic)
        s.expect_request("/DailyInfoWebServ/DailyInfo.asmx", method="POST").respond_with_handler(self._key_rate)
        s.expect_request("/rss/rates_all.xml").respond_with_handler(self._nbk_rss)
        s.expect_request("/rss/get_rates.cfm").respond_with_handler(self._nbk_dated)
        s.expect_request(re.compile(r"^/exrates/rates/.+")).respond_with_handler(self._nbrb)
        s.expect_request(re.compile(r"^/cbu/.*")).respond_with_handler(self._cbu)
        s.expect_request("/XML/daily.xml").respond_with_handler(self._nbkr)
        s.expect_request("/nbt/export_xml.php").respond_with_handler(self._nbt)
        s.expect_request(re.compile(r"^/iss/history/engines/stock/markets/index/securities/.+\.json$")
                         ).respond_with_handler(self._iss)
        return self

    # --- Bank of Russia ---
    def _cbr_daily(self, req: Request) -> Response:
        self._log(req)
        return self._fault("CBR") or Response(self.cbr_daily, content_type="application/xml; charset=windows-1251")

    def _cbr_dynamic(self, req: Request) -> Response:
        """The recorded XML_dynamic, its records cut to date_req1..date_req2 (bytes kept as recorded)."""
        self._log(req)
        if (bad := self._fault("CBR")) is not None:
            return bad
        lo, hi = _ru_date(req.args["date_req1"]), _ru_date(req.args["date_req2"])
        head = self.cbr_dynamic.partition(b"<Record ")[0]
        spans = re.finditer(rb"<Record Date=\"(\d\d\.\d\d\.\d{4})\".*?</Record>", self.cbr_dynamic, flags=re.DOTALL)
        keep = [m.group(0) for m in spans if lo <= datetime.strptime(m.group(1).decode(), "%d.%m.%Y").date() <= hi]
        body = head + b"\r\n".join(keep) + b"\r\n</ValCurs>\r\n"
        return Response(body, content_type="application/xml; charset=windows-1251")

    def _key_rate(self, req: Request) -> Response:
        """The documented SOAP 1.1 answer of KeyRateXML: one KR per business day of the window."""
        self._log(req)
        if (bad := self._fault("KEYRATE")) is not None:
            return bad
        body = req.get_data(as_text=True)
        lo = date.fromisoformat(re.search(r"<fromDate>([^<]+)</fromDate>", body).group(1)[:10])
        hi = date.fromisoformat(re.search(r"<ToDate>([^<]+)</ToDate>", body).group(1)[:10])
        steps = pd.Series([r for _, r in KEY_RATE_STEPS], index=pd.to_datetime([d for d, _ in KEY_RATE_STEPS]))
        days = pd.bdate_range(max(lo, date(2013, 9, 13)), hi)
        rates = steps.reindex(steps.index.union(days)).ffill().reindex(days)
        krs = "".join(f"<KR><DT>{d:%Y-%m-%d}T00:00:00+03:00</DT><Rate>{r:.2f}</Rate></KR>"
                      for d, r in sorted(rates.items(), reverse=True))
        doc = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
               '<soap:Body><KeyRateXMLResponse xmlns="http://web.cbr.ru/"><KeyRateXMLResult>'
               f'<KeyRate xmlns="">{krs}</KeyRate></KeyRateXMLResult></KeyRateXMLResponse></soap:Body></soap:Envelope>')
        return Response(doc, content_type="text/xml; charset=utf-8")

    # --- National Bank of Kazakhstan ---
    def _nbk_rss(self, req: Request) -> Response:
        self._log(req)
        return self._fault("NBK") or Response(self.nbk_rss, content_type="application/xml")

    def _nbk_dated(self, req: Request) -> Response:
        """The documented get_rates.cfm layout (<rates><date>..</date><item><fullname>..), carrying the
        recorded 18.04.2016 rates for whichever date is asked."""
        self._log(req)
        fdate = req.args.get("fdate", "")
        if (bad := self._fault(f"NBK:{fdate}", "NBK")) is not None:
            return bad
        items = re.findall(rb"<item>(.*?)</item>", self.nbk_rss, flags=re.DOTALL)
        out = []
        for it in items:
            title = re.search(rb"<title>(.*?)</title>", it).group(1).decode()
            desc = re.search(rb"<description>(.*?)</description>", it).group(1).decode()
            quant = re.search(rb"<quant>(.*?)</quant>", it).group(1).decode()
            out.append(f"<item><fullname>{title}</fullname><title>{title}</title><description>{desc}</description>"
                       f"<quant>{quant}</quant><index></index><change>0.00</change></item>")
        doc = ('<?xml version="1.0" encoding="utf-8"?><rates><generator>ColdFusion</generator>'
               "<title>Official exchange rates of National Bank of Republic Kazakhstan</title>"
               "<link>https://nationalbank.kz</link><description>Official exchange rates</description>"
               f"<copyright>www.nationalbank.kz</copyright><date>{fdate}</date>{''.join(out)}</rates>")
        return Response(doc, content_type="application/xml")

    # --- National Bank of Belarus ---
    def _nbrb(self, req: Request) -> Response:
        self._log(req)
        if (bad := self._fault("NBRB")) is not None:
            return bad
        parts = req.path.strip("/").split("/")
        if parts[2] == "dynamics":
            lo, hi = date.fromisoformat(req.args["startdate"]), date.fromisoformat(req.args["enddate"])
            rows = [{"Cur_ID": int(parts[3]), "Date": f"{d}T00:00:00", "Cur_OfficialRate": r}
                    for d, r in NBRB_USD.items() if lo <= date.fromisoformat(d) <= hi]
            return Response(json.dumps(rows), content_type="application/json")
        day = req.args.get("ondate", "2024-01-15")
        rate = NBRB_USD.get(day)
        if rate is None:
            return Response("null", status=404, content_type="application/json")
        return Response(json.dumps({"Cur_ID": int(parts[2]), "Date": f"{day}T00:00:00", "Cur_Abbreviation": "USD",
                                    "Cur_Scale": 1, "Cur_Name": "Доллар США", "Cur_OfficialRate": rate},
                                   ensure_ascii=False), content_type="application/json")

    # --- Central Bank of Uzbekistan (served under /cbu as the base URL) ---
    def _cbu(self, req: Request) -> Response:
        self._log(req)
        if (bad := self._fault("CBU")) is not None:
            return bad
        m = re.match(r"^/cbu/all/(\d{4}-\d\d-\d\d)/$", req.path)
        day = date.fromisoformat(m.group(1)) if m else date(2024, 1, 15)
        step = (day - date(2024, 1, 1)).days  # a documented-format fixture: a small daily drift
        rows = [{"id": i, "Code": "000", "Ccy": ccy, "CcyNm_RU": ccy, "CcyNm_UZ": ccy, "CcyNm_UZC": ccy,
                 "CcyNm_EN": ccy, "Nominal": nominal, "Rate": f"{rate + step:.2f}", "Diff": "0",
                 "Date": day.strftime("%d.%m.%Y")} for i, (ccy, (nominal, rate)) in enumerate(CBU_RATES.items())]
        return Response(json.dumps(rows, ensure_ascii=False), content_type="application/json")

    # --- National Bank of the Kyrgyz Republic ---
    def _nbkr(self, req: Request) -> Response:
        self._log(req)
        if (bad := self._fault("NBKR")) is not None:
            return bad
        cur = "".join(f'<Currency ISOCode="{c}"><Nominal>{n}</Nominal><Value>{v}</Value></Currency>'
                      for c, (n, v) in NBKR_RATES.items())
        doc = f'<?xml version="1.0" encoding="windows-1251"?><CurrencyRates Name="Daily Exchange Rates" Date="15.01.2024">{cur}</CurrencyRates>'
        return Response(doc.encode("cp1251"), content_type="application/xml")

    # --- National Bank of Tajikistan ---
    def _nbt(self, req: Request) -> Response:
        self._log(req)
        if (bad := self._fault("NBT")) is not None:
            return bad
        day = date.fromisoformat(req.args["date"])
        vals = "".join(f'<Valute ID="{i}"><CharCode>{c}</CharCode><Nominal>{n}</Nominal><Name>{c}</Name>'
                       f"<Value>{v}</Value></Valute>" for i, (c, (n, v)) in enumerate(NBT_RATES.items()))
        doc = f'<?xml version="1.0" encoding="UTF-8"?><ValCurs Date="{day:%d.%m.%Y}" name="Official exchange rates">{vals}</ValCurs>'
        return Response(doc, content_type="application/xml")

    # --- MOEX ISS ---
    def _iss(self, req: Request) -> Response:
        self._log(req)
        if (bad := self._fault("MOEX")) is not None:
            return bad
        secid = req.path.rsplit("/", 1)[1][: -len(".json")]
        frame = self.moex.get(secid)
        if frame is None:
            return Response(json.dumps({"history": {"columns": [], "data": []},
                                        "history.cursor": {"columns": ["INDEX", "TOTAL", "PAGESIZE"], "data": [[0, 0, PAGE]]}}),
                            content_type="application/json")
        if "from" in req.args:
            frame = frame[frame["date"] >= pd.Timestamp(req.args["from"])]
        if "till" in req.args:
            frame = frame[frame["date"] <= pd.Timestamp(req.args["till"])]
        start = int(req.args.get("start", 0))
        return Response(json.dumps(iss_page(frame.reset_index(drop=True), secid, start), ensure_ascii=False),
                        content_type="application/json")

