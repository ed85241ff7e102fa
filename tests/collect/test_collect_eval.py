"""Evaluation on the real files in ../shared/data: every one read through the csv source."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sco_monitor.catalog import Series
from sco_monitor.collect import collect
from sco_monitor.config import load_config
from sco_monitor.sources import registry
from sco_monitor.sources.base import Query
from sco_monitor.store import Store

pytestmark = pytest.mark.eval

#: file → (params, rows, missing values, {date: value}) — each file in its own real format.
FILES: dict[str, tuple[dict[str, Any], int, int, dict[str, float]]] = {
    "equity/moex-imoex.csv": ({"date_column": "date", "value_column": "close"}, 7185, 0,
                              {"2008-10-08": 637.87, "2014-12-16": 1444.32, "2022-02-24": 2058.12}),
    "equity/moex-imoex-raw.csv": ({"sep": ";", "decimal": ",", "date_column": "TRADEDATE", "value_column": "CLOSE",
                                   "date_format": "%d.%m.%Y"}, 7185, 0, {"2008-10-08": 637.87}),
    "equity/moex-mcftr.csv": ({"date_column": "date", "value_column": "close"}, 5831, 0, {"2026-06-15": 6951.92}),
    "equity/bse-sensex.csv": ({"date_column": "Date", "value_column": "Close"}, 4922, 0, {"2019-12-27": 41575.140625}),
    "equity/nifty-50.csv": ({"date_column": "Date", "value_column": "Close"}, 4954, 0, {"2000-01-03": 1592.2}),
    "equity/djia.csv": ({"date_column": "Date", "value_column": "Close"}, 4967, 0, {"2000-01-03": 11357.509766}),
    "equity/hsi.csv": ({"date_column": "Date", "value_column": "Close"}, 3688, 0, {"2005-01-03": 14237.419922}),
    "equity/nikkei-225.csv": ({"date_column": "Date", "value_column": "Close"}, 3671, 0, {"2019-12-30": 23656.619141}),
    "equity/kaggle-indexdata-partial.csv": ({"date_column": "Date", "value_column": "Close",
                                             "filter": {"column": "Index", "equals": "000001.SS"}}, 5963, 172,
                                            {"2015-06-12": 5166.350098, "2015-08-26": 2927.288086}),
    "equity/sp500-shiller-monthly.csv": ({"value_column": "SP500"}, 1865, 0, {"1871-01-01": 4.44}),
    "commodities/brent-daily.csv": ({}, 9958, 0, {"1987-05-20": 18.63}),
    "commodities/wti-daily.csv": ({}, 10226, 0, {"2020-04-20": -36.98}),
    "commodities/gold-monthly.csv": ({}, 2322, 0, {"1833-01-01": 18.93, "2026-06-01": 4228.0}),
    "volatility/vix-daily.csv": ({"value_column": "CLOSE"}, 9235, 0, {"2020-03-16": 82.69}),
    "fx/fed-h10-daily-1971-2017.csv": ({"value_column": "China"}, 12240, 3025, {"2015-08-10": 6.2094, "2015-08-11": 6.3232}),
    "fx/fed-h10-monthly-1971-2026.csv": ({"value_column": "Exchange rate", "filter": {"column": "Country", "equals": "China"}},
                                         546, 0, {"2026-06-01": 6.7758}),
    "fx/cbr-usdrub-daily-1992-2017.csv": ({}, 5583, 0, {"1992-07-01": 0.1253, "2014-12-16": 58.3461}),
    "rates/BAA10Y.csv": ({}, 8307, 340, {"2008-12-05": 6.07}),
    "rates/T10Y2Y.csv": ({}, 10809, 454, {"2017-11-03": 0.71}),
    "rates/T10Y3M.csv": ({}, 9350, 386, {"2017-11-03": 1.16}),
    "rates/TEDRATE.csv": ({}, 8303, 488, {"2017-10-30": 0.28}),
    "rates/DCPF3M.csv": ({}, 5437, 275, {"2017-11-03": 1.29}),
    "rates/DGS10.csv": ({}, 14643, 626, {"2008-10-08": 3.72}),
    # Investing.com in Russian locale: quoted "12.960,00" values, so sep and decimal are both ','
    "fx/investing-usduzs-daily-2020-2025.csv": ({"sep": ",", "decimal": ",", "thousands": ".", "date_column": "Дата",
                                                 "value_column": "Цена", "date_format": "%d.%m.%Y"}, 1365, 0,
                                                {"2020-01-01": 9507.56, "2022-03-01": 10885.0, "2025-03-25": 12960.0}),
    "reference/kcfsi-monthly.csv": ({"value_column": "kcfsi"}, 332, 0, {"1990-02-01": 0.18, "2017-09-01": -0.68}),
    "macro/rosstat-ru-monthly-1999-2018.csv": ({"value_column": "CPI_rog"}, 240, 8, {"1999-01-31": 108.4}),
}

#: Wide files (one row per series, periods as columns) read by the bis_csv source: file → (key, {date: value}).
#: The BIS files themselves are checked in test_source_bis_csv.py.
WIDE_FILES: dict[str, tuple[str, dict[str, float]]] = {
    "payloads/imf/MFS_IR-short-rates-annual.csv": ("KGZ.MMRT_RT_PT_A_PT.A", {"1996-12-31": 42.25, "2019-12-31": 2.3}),
    "payloads/imf/MFS_IR-long-rates-annual.csv": ("RUS.S13BOND_RT_PT_A_PT.A", {"2024-12-31": 13.633333}),
}
BIS_FILES = ("bis/WS_CBPOL_D_csv_col-2022-04.csv", "bis/WS_CBPOL_M_csv_col-2022-04.csv",
             "bis/WS_CREDIT_GAP_csv_col-2022-04.csv", "bis/WS_CREDIT_GAP_csv_col-2026-newlayout.csv",
             "bis/WS_TC_csv_col-2022-04.csv")


def test_every_shared_file_is_covered(shared_data: Path) -> None:
    present = {str(p.relative_to(shared_data)) for p in shared_data.rglob("*.csv")}
    expected = set(FILES) | set(WIDE_FILES) | set(BIS_FILES)
    assert present == expected, "a file in ../shared/data has no expectation here (or one disappeared)"


@pytest.mark.parametrize("name", sorted(WIDE_FILES))
def test_bis_csv_source_reads_the_imf_wide_export(shared_data: Path, name: str) -> None:
    key, known = WIDE_FILES[name]
    source = registry.get("bis_csv")(universe_dir=shared_data)
    s = Series(id="eval.wide", name=name, source="bis_csv", symbol=key, params={"path": name}, kind="rate",
               country="WLD", frequency="A", unit="percent", direction="up")
    source.check(s)
    query = Query((s,), None, date(2026, 12, 31))
    values = source.transform(query, source.extract(query))[s.id].values
    for day, expected in known.items():
        assert values[pd.Timestamp(day)] == pytest.approx(expected), day


@pytest.mark.parametrize("name", sorted(FILES))
def test_csv_source_reads_the_real_file(shared_data: Path, name: str) -> None:
    params, rows, missing, known = FILES[name]
    source = registry.get("csv")(universe_dir=shared_data)
    s = Series(id="eval.file", name=name, source="csv", params={"path": name, **params}, kind="equity",
               country="WLD", frequency="B", unit="u", direction="down")
    source.check(s)
    query = Query((s,), None, date(2026, 12, 31))
    values = source.transform(query, source.extract(query))[s.id].values
    assert len(values) == rows and int(values.isna().sum()) == missing
    assert values.index.is_monotonic_increasing and not values.index.has_duplicates
    for day, expected in known.items():
        assert values[pd.Timestamp(day)] == pytest.approx(expected), day


def test_moex_halt_and_both_imoex_formats_agree(shared_data: Path) -> None:
    source = registry.get("csv")(universe_dir=shared_data)
    out = []
    for name in ("equity/moex-imoex.csv", "equity/moex-imoex-raw.csv"):
        s = Series(id="eval.imoex", name=name, source="csv", params={"path": name, **FILES[name][0]}, kind="equity",
                   country="RUS", frequency="B", unit="index", direction="down")
        q = Query((s,), None, date(2026, 12, 31))
        out.append(source.transform(q, source.extract(q))[s.id].values)
    pd.testing.assert_series_equal(out[0], out[1])
    assert out[0]["2022-02-26":"2022-03-23"].empty  # the real trading halt


def test_collect_all_shared_files_into_a_store(shared_data: Path, tmp_path: Path) -> None:
    """The whole path on real files: csv source → quality checks → store, with the flags it raises."""
    kinds = {"commodities": "commodity", "rates": "spread", "volatility": "volatility", "fx": "fx", "equity": "equity",
             "macro": "macro", "reference": "macro"}
    series = []
    for i, (name, (params, *_)) in enumerate(sorted(FILES.items())):
        freq = "M" if "monthly" in name else "B"
        series.append({"id": f"eval.s{i:02d}", "name": name, "source": "csv", "params": {"path": name, **params},
                       "kind": kinds[name.split("/")[0]], "country": "WLD", "frequency": freq, "unit": "u",
                       "direction": "both"})
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "universe.yaml").write_text(yaml.safe_dump({"series": series}))
    for f in ("rules", "playbooks"):
        (cfg / f"{f}.yaml").write_text(f"{f}: []\n")
    (cfg / "sco-monitor.yaml").write_text(
        f"universe: universe.yaml\nrules: rules.yaml\nplaybooks: playbooks.yaml\n"
        f"store: {{url: 'sqlite:///{tmp_path / 'eval.db'}'}}\n")
    # the csv source resolves relative paths against the universe folder: link the real data there
    for sub in kinds:
        (cfg / sub).symlink_to(shared_data / sub, target_is_directory=True)
    config = load_config(cfg / "sco-monitor.yaml")
    store = Store(config.settings.store.url)
    store.init()
    store.sync_series(config.universe.series)
    summary = collect(config, store, now=datetime(2026, 11, 26, tzinfo=UTC), progress=None)
    assert not summary.failed, [(o.series_id, o.error) for o in summary.failed]
    ids = {s["name"]: s["id"] for s in series}
    wti = store.load_frame([ids["commodities/wti-daily.csv"]])
    assert wti.loc["2020-04-20"].iloc[0] == -36.98  # a commodity may print negative: kept
    vix = store.load_frame([ids["volatility/vix-daily.csv"]])
    assert vix.loc["2020-03-16"].iloc[0] == 82.69
    imoex = {o.series_id: o for o in summary.outcomes}[ids["equity/moex-imoex.csv"]]
    assert imoex.new_rows == 7185 and imoex.flags.get("gap") == 1 and imoex.flags.get("spike", 0) >= 5
    shutil.rmtree(cfg)
