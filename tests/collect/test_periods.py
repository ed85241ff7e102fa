"""Period labels of the statistical providers, dated at the end of their period."""

from __future__ import annotations

import pandas as pd
import pytest

from sco_monitor.sources.base import SourceError
from sco_monitor.sources.dbnomics import doc_values
from sco_monitor.sources.periods import period_end, period_label


@pytest.mark.parametrize(("label", "end"), [
    ("2023", "2023-12-31"), ("2023-Q2", "2023-06-30"), ("2023Q4", "2023-12-31"), ("2024-02", "2024-02-29"),
    ("2023M04", "2023-04-30"), ("2023-M11", "2023-11-30"), ("2023-S1", "2023-06-30"), ("2023-W05", "2023-02-05"),
    ("2022-02-28", "2022-02-28"), ("2022-02-28T00:00:00", "2022-02-28"),
])
def test_labels_are_dated_at_the_end_of_their_period(label: str, end: str) -> None:
    assert period_end(label, "x") == pd.Timestamp(end)


def test_an_unreadable_label_names_itself() -> None:
    with pytest.raises(SourceError, match=r"IMF CPI: cannot read the period '2023-13'"):
        period_end("2023-13", "IMF CPI")


@pytest.mark.parametrize(("freq", "label"), [("A", "2021"), ("Q", "2021-Q3"), ("M", "2021-08"), ("B", "2021-08-16")])
def test_query_windows_are_written_in_the_series_frequency(freq: str, label: str) -> None:
    assert period_label("2021-08-16", freq) == label


def test_dbnomics_na_is_missing_not_an_error() -> None:
    """DBnomics writes a missing observation as the string "NA" (its documented JSON format)."""
    values = doc_values({"period": ["2020-01", "2020-02", "2020-03"], "value": [1.5, "NA", 2.0]}, "IMF/CPI/M.KZ.PCPI_IX")
    assert values.index.tolist() == [pd.Timestamp("2020-01-31"), pd.Timestamp("2020-02-29"), pd.Timestamp("2020-03-31")]
    assert values.isna().tolist() == [False, True, False]
    with pytest.raises(SourceError, match="2 periods but 1 values"):
        doc_values({"period": ["2020-01", "2020-02"], "value": [1.0]}, "x")
