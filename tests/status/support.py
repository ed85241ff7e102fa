"""A small all-CSV configuration for the status tests: real files, no network, one series can be broken."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml

from ..conftest import GOOD_CONFIG

TZ = "Asia/Almaty"


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()


def history(end: date, seed: int = 7, periods: int = 300, jump: bool = False) -> pd.DataFrame:
    days = pd.bdate_range(end=pd.Timestamp(end), periods=periods)
    rng = np.random.default_rng(seed)
    values = 450 * np.exp(np.cumsum(rng.normal(0, 0.002, len(days))))
    if jump:
        values[-10:] = values[-11] * np.linspace(1.015, 1.15, 10)
    return pd.DataFrame({"date": days.date, "close": values})


def csv_series(sid: str, path: str, kind: str = "fx", country: str = "KAZ", **params: Any) -> dict[str, Any]:
    return {"id": sid, "name": sid, "source": "csv", "symbol": sid.upper(),
            "params": {"path": path, "date_column": "date", "value_column": "close", **params},
            "kind": kind, "country": country, "frequency": "B", "unit": "x", "direction": "up"}


def write_config(root: Path, series: list[dict[str, Any]], *, files: dict[str, pd.DataFrame] | None = None,
                 rules: list[dict[str, Any]] | None = None, **settings: Any) -> Path:
    """config/ under root with these series and CSV files; returns the main file's path."""
    cfg = root / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    for name, frame in (files or {}).items():
        frame.to_csv(cfg / name, index=False)
    (cfg / "universe.yaml").write_text(yaml.safe_dump({"series": series}, sort_keys=False))
    (cfg / "rules.yaml").write_text(yaml.safe_dump({"rules": rules if rules is not None else [
        {"name": "fx_jump", "kind": "change", "category": "fx", "select": {"kind": "fx"},
         "params": {"window": 20}, "warn": 0.05, "critical": 0.10, "clear": 0.03, "for": 1}]}, sort_keys=False))
    (cfg / "playbooks.yaml").write_text((GOOD_CONFIG / "playbooks.yaml").read_text())
    main: dict[str, Any] = {
        "universe": "universe.yaml", "rules": "rules.yaml", "playbooks": "playbooks.yaml", "timezone": TZ,
        "store": {"url": f"sqlite:///{root / 'store.db'}"}, "executor": {"kind": "inline"},
        "report": {"out_dir": str(root / "reports"), "formats": ["json"]},
    }
    main.update(settings)
    path = cfg / "sco-monitor.yaml"
    path.write_text(yaml.safe_dump(main, sort_keys=False))
    return path
