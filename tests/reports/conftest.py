"""Fixtures of the report tests: the shipped configuration, a seeded store, built reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.config import AppConfig, load_config
from sco_monitor.context import Context
from sco_monitor.reports.build import build_report
from sco_monitor.reports.inputs import ReportInputs
from sco_monitor.reports.model import Report

from ..conftest import ROOT
from . import fixtures as fx


@pytest.fixture(scope="session")
def shipped_config() -> AppConfig:
    """The configuration shipped in config/ and alerts/: the real universe and playbooks."""
    return load_config(ROOT / "config" / "sco-monitor.yaml")


def with_report_settings(config: AppConfig, **report: object) -> AppConfig:
    """A copy of the config with report settings changed (key_series, digest_receivers, ...)."""
    settings = config.settings.model_copy(update={"report": config.settings.report.model_copy(update=report)})
    return dataclasses.replace(config, settings=settings)


def memory_inputs(**overrides: object) -> ReportInputs:
    """What the store would say on the morning of 2008-10-10, without a store."""
    stress = pd.DataFrame(fx.stress_rows())[["scope", "date", "value", "level"]]
    stress["date"] = pd.to_datetime(stress["date"])
    obs = fx.observations()
    wide = obs.pivot(index="date", columns="series_id", values="value")
    wide = wide[wide.index >= pd.Timestamp(fx.AS_OF) - pd.Timedelta(days=92)]
    values = dict(
        stress_history=stress,
        observations=wide,
        last_dates={sid: g["date"].max().date() for sid, g in obs.groupby("series_id")},
        alerts=[r for r in fx.alert_rows() if r["state"] != "resolved" or r["ends_at"] >= fx.PREVIOUS_NOW],
        alerts_recorded=True,
        silences=[s for s in fx.silence_rows() if s["starts_at"] <= fx.NOW < s["ends_at"]],
        since=fx.PREVIOUS_NOW,
    )
    values.update(overrides)
    return ReportInputs(**values)


@pytest.fixture(scope="session")
def report_2008(shipped_config: AppConfig) -> Report:
    """The report of 2008-10-10 built from the fixed assessment, with a scored track record."""
    return build_report(fx.assessment(), shipped_config, memory_inputs(), fx.NOW, fx.track_record())


@pytest.fixture
def report_ctx(shipped_config: AppConfig, store) -> Context:  # noqa: ANN001 - the root conftest's Store
    """The shipped config over a store (SQLite and PostgreSQL) seeded as of 2008-10-10."""
    store.sync_series(shipped_config.universe.series)
    fx.seed(store)
    return Context.from_parts(shipped_config, store)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "reports"
