"""A fixture of SCO bilateral trade built in the DBnomics v22 `series` answer format (IMF DOT).

NOT recorded data: the recorded DBnomics payload holds CEPII regions, not SCO members. The
monthly values below are round illustrative magnitudes near 2023 levels (million USD, exports
FOB), held flat through 2023-2024 and then cut from January 2025 (intra-SCO flows by
`INTRA_CUT`, totals by `WORLD_CUT`), so a rule on intra-SCO exports has a fall to see.
"""

from __future__ import annotations

import json

import pandas as pd

MEMBERS = ("CN", "RU", "KZ", "IN", "KG")
#: reporter → partner → monthly exports, million USD (illustrative).
MONTHLY: dict[str, dict[str, float]] = {
    "CN": {"RU": 9000, "KZ": 2000, "IN": 10000, "KG": 1600, "W00": 283000},
    "RU": {"CN": 10000, "KZ": 1400, "IN": 5200, "KG": 280, "W00": 35000},
    "KZ": {"CN": 1300, "RU": 800, "IN": 80, "KG": 100, "W00": 6700},
    "IN": {"CN": 1400, "RU": 350, "KZ": 40, "KG": 5, "W00": 36000},
    "KG": {"CN": 10, "RU": 40, "KZ": 60, "IN": 1, "W00": 280},
}
START, END, CUT_FROM = "2023-01", "2025-06", "2025-01"
INTRA_CUT, WORLD_CUT = 0.20, 0.05


def periods() -> list[str]:
    return [str(p) for p in pd.period_range(START, END, freq="M")]


def value(reporter: str, partner: str, period: str) -> float:
    base = MONTHLY[reporter][partner]
    if period >= CUT_FROM:
        base *= 1 - (WORLD_CUT if partner == "W00" else INTRA_CUT)
    return round(base, 3)


def doc(reporter: str, partner: str) -> dict:
    ps = periods()
    return {
        "@frequency": "monthly", "dataset_code": "DOT", "dataset_name": "Direction of Trade Statistics (DOTS)",
        "dimensions": {"FREQ": "M", "REF_AREA": reporter, "INDICATOR": "TXG_FOB_USD", "COUNTERPART_AREA": partner},
        "indexed_at": "2025-09-30T00:00:00.000Z", "period": ps, "period_start_day": [f"{p}-01" for p in ps],
        "provider_code": "IMF", "series_code": f"M.{reporter}.TXG_FOB_USD.{partner}",
        "series_name": f"Monthly – {reporter} – Goods, Value of Exports, Free on board (FOB), US Dollars – {partner}",
        "value": [value(reporter, partner, p) for p in ps],
    }


def payload() -> bytes:
    """One v22 answer page holding every member pair and every member's world total."""
    docs = [doc(r, p) for r in MEMBERS for p in (*[m for m in MEMBERS if m != r], "W00")]
    return json.dumps({"_meta": {"version": "22.0.0"}, "errors": None,
                       "series": {"docs": docs, "limit": 1000, "num_found": len(docs), "offset": 0}}).encode()
