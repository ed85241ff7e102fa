"""Cooperation indices on the recorded DBnomics answer (CEPII regions) and on an SCO fixture in its format."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sco_monitor.assess.cooperation import (
    Flow,
    comovement,
    flow_table,
    intra_index,
    matrix,
    member_trade,
    yoy,
)
from sco_monitor.sources.dbnomics import doc_values, read_docs

from . import coop_fixture

CHELEM = "payloads/dbnomics/series-CEPII-CHELEM-TRADE-CHEL-limit1000.json"
GROUP = ("AES", "AFA", "AFN")  # South-East Asia, North Africa, Africa excl. North: the recorded regions


def chelem_flows(shared_data: Path) -> tuple[pd.DataFrame, dict]:
    """Exports per (exporter, importer, year): the CHELEM category docs (secgroup CAT) summed over products."""
    raw = json.loads((shared_data / CHELEM).read_text())
    sums: dict = {}
    flows = []
    for d in raw["series"]["docs"]:
        dims = d["dimensions"]
        if dims["secgroup"] != "CAT":
            continue
        for p, v in zip(d["period"], d["value"], strict=True):
            if v not in ("NA", None):
                key = (dims["exporter"], dims["importer"], int(p))
                sums[key] = sums.get(key, 0.0) + float(v)
    for (r, p, y), v in sums.items():
        flows.append(Flow(r, p, date(y, 12, 31), v))
    return flow_table(flows), sums


def test_recorded_chelem_regions_as_a_group(shared_data: Path) -> None:
    table, sums = chelem_flows(shared_data)
    # the total of AES's exports: to every importer of the answer (itself included: intra-regional flows)
    totals = table[table["reporter"] == "AES"].groupby("period")["value"].sum().to_frame("AES")
    m = matrix(table, GROUP, date(2021, 12, 31))
    assert m.loc["AES", "AFA"] == pytest.approx(sums[("AES", "AFA", 2021)])
    assert m.loc["AES", "AFN"] == pytest.approx(sums[("AES", "AFN", 2021)])
    assert np.isnan(m.loc["AES", "AES"]) and m.loc[["AFA", "AFN"]].isna().all().all()  # no diagonal, no reports
    idx = intra_index(table, GROUP, totals, "A")
    expect = (sums[("AES", "AFA", 2021)] + sums[("AES", "AFN", 2021)]) / sum(
        sums[("AES", p, 2021)] for p in GROUP)
    assert idx.loc[pd.Timestamp("2021-12-31"), "share"] == pytest.approx(expect)
    assert idx["index"].iloc[0] == pytest.approx(100.0)
    intra = sums[("AES", "AFA", 2021)] + sums[("AES", "AFN", 2021)]
    intra_before = sums[("AES", "AFA", 2020)] + sums[("AES", "AFN", 2020)]
    assert idx.loc[pd.Timestamp("2021-12-31"), "intra_yoy"] == pytest.approx(intra / intra_before - 1)
    per = member_trade(table, GROUP, totals, "A").set_index(["member", "period"])
    aes = per.loc[("AES", pd.Timestamp("2021-12-31"))]
    assert aes["exports"] == pytest.approx(intra) and aes["export_share"] == pytest.approx(expect)
    assert np.isnan(aes["imports"])  # nobody else reports: the mirror side is empty
    afa = per.loc[("AFA", pd.Timestamp("2021-12-31"))]
    assert afa["imports"] == pytest.approx(sums[("AES", "AFA", 2021)])  # AFA's imports from AES, mirrored


def fixture_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    docs = read_docs([coop_fixture.payload()], "fixture IMF/DOT")
    flows, totals = [], {}
    for code, d in docs.items():
        _, r, _, p = code.split(".")
        values = doc_values(d, code)
        if p == "W00":
            totals[r] = values
        else:
            flows += [Flow(r, p, ts.date(), v) for ts, v in values.items()]
    return flow_table(flows), pd.DataFrame(totals)


def test_sco_pairs_documented_format_fixture() -> None:
    table, totals = fixture_table()
    members = coop_fixture.MEMBERS
    last = date(2025, 6, 30)
    m = matrix(table, members, last)
    assert m.loc["CN", "RU"] == pytest.approx(9000 * 0.8) and m.loc["KZ", "CN"] == pytest.approx(1300 * 0.8)
    assert m.notna().sum().sum() == 20 and np.isnan(np.diag(m.to_numpy())).all()
    idx = intra_index(table, members, totals, "M")
    intra24 = sum(v for r in members for p, v in coop_fixture.MONTHLY[r].items() if p != "W00")
    world24 = sum(coop_fixture.MONTHLY[r]["W00"] for r in members)
    assert idx.loc[pd.Timestamp("2024-06-30"), "share"] == pytest.approx(intra24 / world24)
    assert idx.loc[pd.Timestamp("2025-06-30"), "intra_yoy"] == pytest.approx(-0.20)
    assert np.isnan(idx.loc[pd.Timestamp("2023-06-30"), "intra_yoy"])  # no year before: no growth
    assert idx.loc[pd.Timestamp("2025-06-30"), "index"] == pytest.approx(100 * 0.8 / 0.95)
    per = member_trade(table, members, totals, "M").set_index(["member", "period"])
    kz = per.loc[("KZ", pd.Timestamp("2025-06-30"))]
    assert kz["exports"] == pytest.approx(0.8 * (1300 + 800 + 80 + 100))
    assert kz["imports"] == pytest.approx(0.8 * (2000 + 1400 + 40 + 60))
    assert kz["export_share"] == pytest.approx(0.8 * 2280 / (0.95 * 6700))
    assert kz["exports_yoy"] == pytest.approx(-0.2)


def test_yoy_matches_periods_across_leap_years() -> None:
    s = pd.Series([100.0, 110.0], index=pd.to_datetime(["2023-02-28", "2024-02-29"]))
    assert yoy(s, "M").iloc[1] == pytest.approx(0.10)


def test_comovement_is_causal_and_rises_when_markets_move_together() -> None:
    rng = np.random.default_rng(7)
    n = 300
    common = rng.normal(0, 0.01, n)
    own = rng.normal(0, 0.01, (n, 3))
    weight = np.where(np.arange(n) < 150, 0.0, 1.0)[:, None]  # independent, then driven by one factor
    rets = own + weight * common[:, None] * 3
    levels = pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=pd.bdate_range("2024-01-01", periods=n),
                          columns=["KZT", "RUB", "CNY"])
    c = comovement(levels, 60)
    assert abs(c.iloc[140]) < 0.3 and c.iloc[-1] > 0.7
    # causal: the value at a date ignores everything after it
    cut = comovement(levels.iloc[:200], 60)
    assert cut.iloc[-1] == pytest.approx(c.iloc[199])
