"""Small configurations and frames for the assessment tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sco_monitor.app import load_app_config
from sco_monitor.config import AppConfig

SERIES: dict[str, dict[str, Any]] = {
    "eq.us.spx": {"kind": "equity", "country": "USA", "direction": "down", "unit": "index", "tags": ["world"]},
    "eq.ru.imoex": {"kind": "equity", "country": "RUS", "direction": "down", "unit": "index", "tags": ["sco"]},
    "fx.usd_rub": {"kind": "fx", "country": "RUS", "direction": "up", "unit": "RUB per USD", "tags": ["sco"]},
    "fx.usd_kzt": {"kind": "fx", "country": "KAZ", "direction": "up", "unit": "KZT per USD", "tags": ["sco"]},
    "fx.eur_usd": {"kind": "fx", "country": "EMU", "direction": "down", "unit": "USD per EUR", "tags": ["world"]},
    "cmd.brent": {"kind": "commodity", "country": "WLD", "direction": "both", "unit": "USD", "tags": ["oil"]},
    "vol.vix": {"kind": "volatility", "country": "USA", "direction": "up", "unit": "points", "tags": ["world"]},
    "spread.us.baa10y": {"kind": "spread", "country": "USA", "direction": "up", "unit": "pp"},
    "macro.kz.inflation": {"kind": "macro", "country": "KAZ", "direction": "up", "unit": "percent",
                           "frequency": "A", "publication_lag_days": 200, "source": "worldbank",
                           "params": {"country": "KAZ"}},
}


def write_config(tmp: Path, rules: list[dict[str, Any]] | None = None, series: list[str] | None = None,
                 assessment: dict[str, Any] | None = None, extra_series: dict[str, dict[str, Any]] | None = None
                 ) -> AppConfig:
    """Write sco-monitor.yaml, universe.yaml, rules.yaml and playbooks.yaml into tmp and load them."""
    tmp.mkdir(parents=True, exist_ok=True)
    catalog = {**SERIES, **(extra_series or {})}
    ids = series or list(catalog)
    universe = []
    for sid in ids:
        meta = {"source": "yahoo", "frequency": "B", **catalog[sid]}
        universe.append({"id": sid, "name": sid.upper(), "symbol": sid, **meta})
    (tmp / "universe.yaml").write_text(yaml.safe_dump({"series": universe}))
    (tmp / "rules.yaml").write_text(yaml.safe_dump({"rules": rules or []}))
    (tmp / "playbooks.yaml").write_text("playbooks: []\n")
    main = {"universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml",
            "store": {"url": f"sqlite:///{tmp / 'store.db'}"}, "executor": {"kind": "inline"},
            "assessment": assessment or {}}
    (tmp / "sco-monitor.yaml").write_text(yaml.safe_dump(main))
    return load_app_config(tmp / "sco-monitor.yaml")


def random_walks(ids: list[str], start: str = "2010-01-01", periods: int = 900, seed: int = 7,
                 vol: float = 0.01, level: float = 100.0) -> pd.DataFrame:
    """Business-daily geometric random walks (positive), one column per id."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=periods)
    steps = rng.normal(0, vol, size=(periods, len(ids)))
    return pd.DataFrame(level * np.exp(np.cumsum(steps, axis=0)), index=idx, columns=ids)
