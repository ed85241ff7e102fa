"""Official-data providers replayed by a local server: SDMX services, DBnomics, BIS files.

- SDMX: the real sdmx1 test specimens in ../shared/data/payloads/sdmx (ECB EXR, IMF PCPS and
  WEO, OECD SDMX-JSON) served as recorded. No BIS *data* message was recorded, so `bis_data`
  writes one in the format the BIS API documents (SDMX-ML 2.1 structure-specific data, series
  attributes on <Series>, OBS_VALUE/OBS_STATUS on <Obs>) around real values read from the BIS
  bulk file WS_CBPOL_M; the handler honours startPeriod/endPeriod like the service.
- DBnomics: the recorded v22 `series` answer (1,000 CEPII CHELEM docs) sliced by the request's
  offset/limit and filtered by its `dimensions`, with the page capped like the API caps it.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from xml.sax.saxutils import quoteattr

from werkzeug import Request, Response

from ..conftest import SHARED_DATA as SHARED

SDMX = SHARED / "payloads" / "sdmx"
DBNOMICS_FILE = SHARED / "payloads" / "dbnomics" / "series-CEPII-CHELEM-TRADE-CHEL-limit1000.json"
BIS = SHARED / "bis"


@cache
def bis_monthly_policy_rates() -> dict[str, dict[str, str]]:
    """REF_AREA → {period: value} from the real BIS bulk file (csv_col layout, key in 'Time Period')."""
    import csv

    with open(BIS / "WS_CBPOL_M_csv_col-2022-04.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    key_at = header.index("Time Period")
    out = {}
    for row in rows[1:]:
        area = row[key_at].split(":")[1]
        out[area] = {p: v for p, v in zip(header[key_at + 1:], row[key_at + 1:], strict=False) if v.strip()}
    return out


def bis_data(areas: list[str], start: str | None = None, end: str | None = None) -> bytes:
    """A BIS WS_CBPOL monthly data message as the BIS API documents it (structure-specific 2.1)."""
    rates = bis_monthly_policy_rates()
    series = []
    for area in areas:
        obs = "".join(f'<Obs TIME_PERIOD="{p}" OBS_VALUE="{v}" OBS_STATUS="A" OBS_CONF="F"/>'
                      for p, v in rates[area].items() if (start is None or p >= start) and (end is None or p <= end))
        series.append(f'<Series FREQ="M" REF_AREA="{area}" TIME_FORMAT="P1M" DECIMALS="4" UNIT_MEASURE="368" '
                      f'UNIT_MULT="0" SOURCE_REF={quoteattr("central bank")} '
                      f'TITLE={quoteattr(f"Central bank policy rates - {area} - Monthly - End of period")}>{obs}</Series>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<message:StructureSpecificData xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:ns1="urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=BIS:WS_CBPOL(1.0):ObsLevelDim:TIME_PERIOD" '
        'xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
        'xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">'
        '<message:Header><message:ID>IDREF1</message:ID><message:Test>false</message:Test>'
        '<message:Prepared>2022-04-20T08:00:00Z</message:Prepared><message:Sender id="BIS"/>'
        '<message:Structure structureID="BIS_WS_CBPOL_1_0" namespace="urn:sdmx:org.sdmx.infomodel.datastructure.'
        'Dataflow=BIS:WS_CBPOL(1.0):ObsLevelDim:TIME_PERIOD" dimensionAtObservation="TIME_PERIOD">'
        '<common:StructureUsage><Ref agencyID="BIS" id="WS_CBPOL" version="1.0"/></common:StructureUsage>'
        '</message:Structure></message:Header>'
        '<message:DataSet ss:dataScope="DataStructure" xsi:type="ns1:DataSetType" ss:structureRef="BIS_WS_CBPOL_1_0">'
        + "".join(series) + "</message:DataSet></message:StructureSpecificData>"
    ).encode()


@cache
def dbnomics_recorded() -> dict:
    return json.loads(DBNOMICS_FILE.read_text(encoding="utf-8"))


class OfficialReplay:
    """Handlers on a pytest-httpserver; `requests` logs (path, args) of every hit."""

    def __init__(self, server, *, page_cap: int = 100) -> None:  # noqa: ANN001 - pytest_httpserver.HTTPServer
        self.server = server
        self.page_cap = page_cap
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def url(self, prefix: str = "") -> str:
        return self.server.url_for(prefix).rstrip("/")

    def hits(self, part: str) -> list[tuple[str, dict]]:
        with self.lock:
            return [r for r in self.requests if part in r[0]]

    def _log(self, req: Request) -> None:
        with self.lock:
            self.requests.append((req.path, dict(req.args)))

    def install(self) -> OfficialReplay:
        import re

        self.server.expect_request(re.compile(r"^/bis/data/WS_CBPOL/.*")).respond_with_handler(self._bis)
        for prefix, path, name, ctype in (
            ("/ecb/data/EXR/M.USD.EUR.SP00.A", SDMX / "ECB_EXR_1_M.USD.EUR.SP00.A.xml", "ecb", "application/xml"),
            ("/imf/data/IMF.RES,WEO,9.0.0/SVK.NGDP_R.A", SDMX / "IMF_RES_WEO-data.xml", "weo", "application/xml"),
            ("/imf/data/PCPS/M.W00.PZINC", SDMX / "IMF_PCPS.xml", "pcps", "application/xml"),
            ("/oecd/data/PART2/all", SDMX / "OECD_data-PART2-all-all.json", "oecd", "application/json"),
        ):
            body = path.read_bytes()
            self.server.expect_request(prefix).respond_with_handler(self._static(body, ctype))
        self.server.expect_request(re.compile(r"^/v22/series.*")).respond_with_handler(self._dbnomics)
        return self

    def _static(self, body: bytes, ctype: str):  # noqa: ANN202 - a werkzeug handler
        def handler(req: Request) -> Response:
            self._log(req)
            return Response(body, content_type=ctype)

        return handler

    def _bis(self, req: Request) -> Response:
        self._log(req)
        key = req.path.rsplit("/", 1)[-1]
        freq, _, areas = key.partition(".")
        known = bis_monthly_policy_rates()
        wanted = [a for a in areas.split("+") if a in known] if areas else list(known)
        if freq not in ("M", "") or not wanted:
            return Response("NoRecordsFound", status=404)  # the BIS answers 404 for an empty query
        body = bis_data(wanted, req.args.get("startPeriod"), req.args.get("endPeriod"))
        return Response(body, content_type="application/vnd.sdmx.structurespecificdata+xml;version=2.1")

    def _dbnomics(self, req: Request) -> Response:
        """The v22 listing: dimension filter, then offset/limit (capped), num_found of the filtered set."""
        self._log(req)
        payload = dbnomics_recorded()
        docs = payload["series"]["docs"]
        parts = req.path.strip("/").split("/")  # v22/series[/provider/dataset]
        if len(parts) == 4:
            provider, dataset = parts[2], parts[3]
            if (provider, dataset) != (payload["provider"]["code"], payload["dataset"]["code"]):
                return Response(json.dumps({"message": f"Dataset {provider}/{dataset} not found"}), status=404,
                                content_type="application/json")
            dims = json.loads(req.args.get("dimensions") or "{}")
            docs = [d for d in docs if all(d["dimensions"].get(k) in v for k, v in dims.items())]
        else:
            ids = set((req.args.get("series_ids") or "").split(","))
            docs = [d for d in docs if f"{d['provider_code']}/{d['dataset_code']}/{d['series_code']}" in ids]
        offset = int(req.args.get("offset", 0))
        limit = min(int(req.args.get("limit", 50)), self.page_cap)
        page = docs[offset:offset + limit]
        if req.args.get("observations") not in ("1", "true"):
            page = [{k: v for k, v in d.items() if k not in ("period", "period_start_day", "value")} for d in page]
        body = {**payload, "series": {"docs": page, "limit": limit, "num_found": len(docs), "offset": offset}}
        return Response(json.dumps(body), content_type="application/json")
