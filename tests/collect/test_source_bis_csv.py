"""bis_csv on the real BIS bulk downloads: both csv_col layouts, known values, one read per file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import Series
from sco_monitor.sources import registry
from sco_monitor.sources.base import SourceError


def bis(sid: str, key: str, path: str, frequency: str = "Q") -> Series:
    return Series(id=sid, name=sid, source="bis_csv", symbol=key, params={"path": path}, kind="macro",
                  country="RUS", frequency=frequency, unit="percent", direction="up")


def collect(series: list[Series], folder: Path) -> dict:
    src = registry.get("bis_csv")(universe_dir=folder)
    queries = src.plan(series, {s.id: None for s in series}, date(2026, 6, 30))
    out = {}
    for q in queries:
        out.update(src.transform(q, src.extract(q)))
    return out, queries


@pytest.mark.parametrize(("file", "key", "first", "last", "value"), [
    # 2022 layout: label columns only, the key under "Time Period"
    ("WS_CBPOL_M_csv_col-2022-04.csv", "M:RU", "1992-01-31", "2022-03-31", 20.0),
    ("WS_CREDIT_GAP_csv_col-2022-04.csv", "Q:CN:P:A:C", "1995-12-31", "2021-09-30", -3.4),
    ("WS_TC_csv_col-2022-04.csv", "Q:IN:C:A:M:770:A", "1981-03-31", "2021-09-30", 172.7),
    # 2026 layout: code and label columns side by side, the key under "Series"
    ("WS_CREDIT_GAP_csv_col-2026-newlayout.csv", "Q:RU:P:A:C", "2005-06-30", "2025-12-31", -6.4163),
    ("WS_CREDIT_GAP_csv_col-2026-newlayout.csv", "Q:RU:P:A:A", None, "2025-12-31", 106.06924143713),
])
def test_real_layouts_give_known_values(shared_data: Path, file: str, key: str, first: str | None,
                                        last: str, value: float) -> None:
    s = bis("macro.t.bis", key, str(shared_data / "bis" / file))
    got, _ = collect([s], shared_data)
    values = got[s.id].values
    assert got[s.id].error is None
    if first:
        assert values.index[0] == pd.Timestamp(first)
    assert values.index[-1] == pd.Timestamp(last)  # quarters dated at their last day
    assert values.iloc[-1] == pytest.approx(value)


def test_daily_policy_rate_file_and_a_relative_path(shared_data: Path) -> None:
    s = bis("rate.t.ru_key_daily", "D:RU", "bis/WS_CBPOL_D_csv_col-2022-04.csv", frequency="D")
    got, _ = collect([s], shared_data)
    values = got[s.id].values
    assert values[pd.Timestamp("2022-02-25")] == 9.5 and values[pd.Timestamp("2022-02-28")] == 20.0
    assert values.index[-1] == pd.Timestamp("2022-04-18") and values.iloc[-1] == 17.0


def test_several_series_of_one_file_cost_one_read_and_a_bad_key_fails_alone(shared_data: Path) -> None:
    path = str(shared_data / "bis" / "WS_CREDIT_GAP_csv_col-2022-04.csv")
    good = [bis(f"macro.t.gap_{c.lower()}", f"Q:{c}:P:A:C", path) for c in ("CN", "IN", "RU")]
    bad = bis("macro.t.gap_kz", "Q:RU:P:A:Z", path)
    got, queries = collect([*good, bad], shared_data)
    assert len(queries) == 1
    assert got["macro.t.gap_in"].values[pd.Timestamp("2021-09-30")] == pytest.approx(-12.3)
    assert got["macro.t.gap_ru"].values[pd.Timestamp("2021-09-30")] == pytest.approx(-8.8)
    err = got["macro.t.gap_kz"].error
    assert isinstance(err, SourceError)
    assert "no series 'Q:RU:P:A:Z'; keys for RU: Q:RU:P:A:A, Q:RU:P:A:B, Q:RU:P:A:C" in str(err)


def test_a_file_that_is_not_a_bis_download_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("date,value\n2020-01-01,1\n")
    with pytest.raises(SourceError, match=r"x\.csv: no period columns; is this a BIS csv_col file\?"):
        collect([bis("macro.t.bis", "M:RU", "x.csv")], tmp_path)
    (tmp_path / "y.csv").write_text("Country,2020-01\nRussia,1\n")
    with pytest.raises(SourceError, match=r"y\.csv: no column of series keys \(like M:RU\) among Country"):
        collect([bis("macro.t.bis2", "M:RU", "y.csv")], tmp_path)
