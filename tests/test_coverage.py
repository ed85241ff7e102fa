"""Coverage: the pure member x kind table, the default universe's completeness, the docs page, the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sco_monitor.catalog import COVERAGE_KINDS, SCO_MEMBERS, Gap, Series, Universe
from sco_monitor.config import load_config
from sco_monitor.context import Context
from sco_monitor.coverage import build, markdown, text
from sco_monitor.coverage_docs import docs_page
from sco_monitor.coverage_view import coverage_now
from sco_monitor.store import Store

from .conftest import ROOT


def s(sid: str, country: str, kind: str = "macro", frequency: str = "M", **kw) -> Series:  # noqa: ANN003
    return Series(id=sid, name=sid, source="dbnomics", kind=kind, country=country, frequency=frequency, unit="u",
                  direction="up", **kw)


def small() -> Universe:
    return Universe(series=[
        s("fx.usd_kzt", "KAZ", kind="fx", frequency="B"),                       # fx by its kind
        s("rate.kz.policy", "KAZ", coverage="policy_rate", publication_lag_days=60),
        s("rate.ru.policy", "RUS", coverage="policy_rate", publication_lag_days=7),
        s("macro.ru.cpi_m", "RUS", coverage="cpi_monthly"),
        s("macro.ru.cpi", "RUS", coverage="cpi_monthly", enabled=False, note="stopped in 2022-02"),
        s("eq.kz.kase", "KAZ", kind="equity", frequency="B", enabled=False, note="no free feed"),
        s("macro.us.cpi", "USA", coverage="cpi_monthly"),                       # not a member: ignored
        s("macro.kz.gdp", "KAZ"),                                               # macro without coverage: ignored
    ], gaps=[Gap(country="IRN", coverage="policy_rate", note="no published policy rate")])


def test_statuses_follow_the_store_dates_and_the_lags() -> None:
    as_of = date(2026, 6, 30)
    last = {"fx.usd_kzt": date(2026, 6, 29), "rate.kz.policy": date(2026, 4, 30), "rate.ru.policy": date(2026, 1, 31)}
    cov = build(small(), last, as_of)
    assert cov.cell("KAZ", "fx").status == "stored"
    assert cov.cell("KAZ", "policy_rate").status == "stored"  # 61 days old, allowed 45 + 60
    ru = cov.cell("RUS", "policy_rate")
    assert ru.status == "stale" and ru.series[0].last_date == date(2026, 1, 31)  # 150 days, allowed 45 + 7
    assert cov.cell("RUS", "cpi_monthly").status == "configured"  # the enabled twin counts; the disabled one does not
    assert cov.cell("IRN", "policy_rate").note == "no published policy rate"
    assert cov.cell("KAZ", "equity").note == "eq.kz.kase is disabled: no free feed"
    assert len(cov.cells) == len(SCO_MEMBERS) * len(COVERAGE_KINDS)
    assert cov.counts() == {"stored": 2, "stale": 1, "configured": 1, "missing": 86}
    assert [(c.country, c.kind) for c in cov.unexplained()][:2] == [("KAZ", "cpi_monthly"), ("KAZ", "reserves")]


def test_text_and_markdown_show_series_sources_dates_and_reasons() -> None:
    cov = build(small(), {"rate.ru.policy": date(2026, 1, 31)}, date(2026, 6, 30))
    out = text(cov)
    assert "RUS policy_rate stale      rate.ru.policy (dbnomics, 2026-01-31, stale)" in out
    assert "IRN policy_rate missing    no published policy rate" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("member "))
    assert header.split() == ["member", *COVERAGE_KINDS]
    assert next(line for line in lines if line.startswith("RUS ")).split()[1:4] == ["--", "STALE", "conf"]
    md = markdown(cov)
    assert "| Kazakhstan (KAZ) | `fx.usd_kzt` (dbnomics, configured) | `rate.kz.policy` (dbnomics, configured) |" in md
    assert "- **Iran, policy_rate**: no published policy rate" in md


@pytest.fixture(scope="module")
def shipped() -> Universe:
    return load_config(ROOT / "config" / "sco-monitor.yaml").universe


def test_default_universe_covers_every_member_or_says_why(shipped: Universe) -> None:
    cov = build(shipped, {}, None)
    assert cov.unexplained() == []
    for country in SCO_MEMBERS:
        for kind in ("fx", "cpi_monthly", "external"):
            assert cov.cell(country, kind).status == "configured", (country, kind)
        assert len(cov.cell(country, "external").series) >= 2, country
        if country != "IRN":
            assert cov.cell(country, "policy_rate").status == "configured", country
            assert cov.cell(country, "reserves").status == "configured", country
    for country in ("CHN", "IND", "RUS"):
        ids = {e.series_id for e in cov.cell(country, "credit").series}
        cc = {"CHN": "cn", "IND": "in", "RUS": "ru"}[country]
        assert {f"macro.{cc}.credit_gap", f"macro.{cc}.total_credit"} <= ids
        extra = {"cbr_key_rate"} if country == "RUS" else set()  # the CBR's daily key rate beside the BIS's monthly
        assert {e.source for e in cov.cell(country, "policy_rate").series} == {"bis"} | extra


def test_catalog_fixes_of_the_issue(shipped: Universe) -> None:
    by_id = {s.id: s for s in shipped.series}
    assert not by_id["macro.ru.cpi"].enabled and "February 2022" in by_id["macro.ru.cpi"].note
    assert by_id["macro.in.cpi"].publication_lag_days >= 200  # the OECD prints India ~7 months late
    debt = [x for x in shipped.series if x.symbol == "DT.DOD.DECT.GN.ZS"]
    assert len(debt) == 10 and {x.publication_lag_days for x in debt} == {340}


def test_docs_coverage_page_matches_the_universe(shipped: Universe) -> None:
    page = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert page == docs_page(shipped), "docs/coverage.md is stale: run `python -m sco_monitor.coverage_docs > docs/coverage.md`"


def test_cli_coverage_reads_the_store(run_cli, config_dir: Path, tmp_path: Path,  # noqa: ANN001
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    universe = config_dir / "universe.yaml"
    universe.write_text(universe.read_text(encoding="utf-8").rstrip() + "\n"
        "  - {id: rate.ru.policy, name: RU key rate, source: bis, symbol: M.RU, params: {flow: WS_CBPOL}, kind: rate, "
        "country: RUS, frequency: M, unit: percent, direction: up, coverage: policy_rate}\n"
        "gaps:\n  - {country: IRN, coverage: policy_rate, note: no published policy rate}\n", encoding="utf-8")
    shutil.rmtree(tmp_path / "var", ignore_errors=True)
    cfg = load_config(config_dir / "sco-monitor.yaml")
    store = Store(cfg.settings.store.url.replace("sqlite:///", f"sqlite:///{tmp_path}/"))
    store.init()
    store.upsert_observations(pd.DataFrame({"series_id": "rate.ru.policy", "date": pd.to_datetime(["2022-03-31"]),
                                            "value": [20.0]}))
    store.dispose()
    proc = run_cli("--config", str(config_dir / "sco-monitor.yaml"), "coverage", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    cells = {(c["country"], c["kind"]): c for c in doc["cells"]}
    assert cells[("RUS", "policy_rate")]["status"] == "stale"  # 2022 data read years later
    assert cells[("RUS", "policy_rate")]["series"] == [{"id": "rate.ru.policy", "source": "bis", "status": "stale",
                                                       "last_date": "2022-03-31"}]
    assert cells[("KAZ", "fx")]["status"] == "configured"
    assert cells[("IRN", "policy_rate")] == {"country": "IRN", "kind": "policy_rate", "status": "missing",
                                             "note": "no published policy rate", "series": []}
    # the table form, from the same library call the command prints (in-process: one interpreter start is enough)
    monkeypatch.chdir(tmp_path)
    ctx = Context(config_path=config_dir / "sco-monitor.yaml")
    try:
        printed = text(coverage_now(ctx))
    finally:
        ctx.store.dispose()
    assert "RUS policy_rate stale      rate.ru.policy (bis, 2022-03-31, stale)" in printed
