"""`collect` end to end for the official sources on SQLite and PostgreSQL: BIS SDMX, DBnomics, BIS files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sco_monitor.collect import collect
from sco_monitor.config import load_config
from sco_monitor.store import Store, collection

from .official import OfficialReplay

NOW = datetime(2022, 4, 20, 6, 0, tzinfo=UTC)

UNIVERSE = """series:
  - {{id: rate.ru.policy, name: Bank of Russia key rate (BIS), source: bis, symbol: M.RU, params: {{flow: WS_CBPOL}}, kind: rate, country: RUS, frequency: M, unit: percent, direction: up, coverage: policy_rate}}
  - {{id: rate.in.policy, name: RBI policy rate (BIS), source: bis, symbol: M.IN, params: {{flow: WS_CBPOL}}, kind: rate, country: IND, frequency: M, unit: percent, direction: up, coverage: policy_rate}}
  - {{id: trade.t.aes_aes, name: CHELEM AES to AES, source: dbnomics, symbol: AES.AES.CAT.BA, params: {{provider: CEPII, dataset: CHELEM-TRADE-CHEL, dimensions: {{exporter: [AES], importer: [AES]}}}}, kind: macro, country: WLD, frequency: A, unit: million USD, direction: down, coverage: trade}}
  - {{id: trade.t.aes_afa, name: CHELEM AES to AFA, source: dbnomics, symbol: AES.AFA.CAT.BA, params: {{provider: CEPII, dataset: CHELEM-TRADE-CHEL, dimensions: {{exporter: [AES], importer: [AFA]}}}}, kind: macro, country: WLD, frequency: A, unit: million USD, direction: down, coverage: trade}}
  - {{id: macro.cn.credit_gap, name: China credit-to-GDP gap (BIS file), source: bis_csv, symbol: "Q:CN:P:A:C", params: {{path: "{bis}/WS_CREDIT_GAP_csv_col-2026-newlayout.csv"}}, kind: macro, country: CHN, frequency: Q, unit: percentage points, direction: up, coverage: credit}}
"""


@pytest.fixture
def official(replay_server, shared_data: Path):  # noqa: ANN001, ANN201 - OfficialReplay
    replay_server.clear()
    yield OfficialReplay(replay_server, page_cap=100).install()
    replay_server.clear()


def test_collect_official_sources_into_the_store(official: OfficialReplay, store_url: str, tmp_path: Path,
                                                 shared_data: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "universe.yaml").write_text(UNIVERSE.format(bis=shared_data / "bis"), encoding="utf-8")
    (folder / "rules.yaml").write_text("rules: []\n")
    (folder / "playbooks.yaml").write_text("playbooks: []\n")
    knobs = "timeout: 2, retries: 1, backoff: 0.01, backoff_max: 0.02, rate_limit: 1000"
    (folder / "sco-monitor.yaml").write_text(
        "universe: universe.yaml\nrules: rules.yaml\nplaybooks: playbooks.yaml\ntimezone: Asia/Almaty\n"
        f"store: {{url: '{store_url}'}}\nexecutor: {{kind: inline}}\nsources:\n"
        f"  bis: {{base_url: '{official.url('/bis')}', {knobs}}}\n"
        f"  dbnomics: {{base_url: '{official.url()}', {knobs}}}\n", encoding="utf-8")
    config = load_config(folder / "sco-monitor.yaml")
    store = Store(config.settings.store.url)
    try:
        store.init()
        store.sync_series(config.universe.series)
        first = collect(config, store, now=NOW, progress=None)
        got = {o.series_id: o for o in first.outcomes}
        assert not first.failed, [(o.series_id, o.error) for o in first.failed]
        assert got["rate.ru.policy"].new_rows == 363 and got["rate.ru.policy"].last_date == date(2022, 3, 31)
        assert got["trade.t.aes_aes"].new_rows == 55
        assert got["macro.cn.credit_gap"].last_date == date(2022, 3, 31)  # the 2026 vintage, cut at the run date
        frame = store.load_frame(["rate.ru.policy", "rate.in.policy"], start="2022-01-31", end="2022-03-31")
        assert frame.loc["2022-02-28", "rate.ru.policy"] == 20.0 and frame.loc["2022-02-28", "rate.in.policy"] == 4.0
        pages = official.hits("/v22/series/CEPII")  # both trade series in one paged request: 768 docs, 100 a page
        assert [int(args["offset"]) for _, args in pages] == list(range(0, 800, 100))
        runs = {r["series_id"]: r for r in collection.runs_of(store, first.run_id)}
        assert {r["status"] for r in runs.values()} == {"ok"}

        second = collect(config, store, now=NOW, progress=None)
        assert second.new_rows == 0 and not second.failed
        bis_hits = official.hits("/bis/data/WS_CBPOL/M.RU")
        assert "startPeriod" not in bis_hits[0][1]
        assert bis_hits[-1][1]["startPeriod"] == "2021-12"  # incremental: the last date minus the overlap
    finally:
        store.dispose()
