"""The layers of the package, checked on its source: no import runs up the layers (deferred
imports included), and assess/ stays pure (no database, network or clock)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "sco_monitor"

#: Lowest first. A module may import its own layer and the ones below, never one above.
LAYERS: list[set[str]] = [
    {"vocabulary", "errors", "timeutil", "logs", "registry", "i18n", "locale", "__init__"},
    {"catalog"},
    {"config"},
    {"store", "migrations", "sources", "executor", "assess"},
    {"quality", "collect", "collect_view", "context", "export", "results",
     "coverage", "coverage_view", "coverage_docs"},
    {"alerting", "reports"},
    {"cycle"},
    {"daemon", "replay", "app", "load_checks", "demo", "doctor", "cli", "__main__", "partners", "api"},
]
LAYER = {part: i for i, parts in enumerate(LAYERS) for part in parts}
#: Siblings in one layer that must not import each other.
APART = [("store", "assess"), ("assess", "store"), ("assess", "sources"), ("store", "sources")]


def _part(module: str) -> str:
    """sco_monitor.store.repo → store; sco_monitor and its attributes (__version__) → __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYER else "__init__"


def _imports() -> list[tuple[str, str, str]]:
    """(importing file, importing part, imported module) for every import of the package."""
    out = []
    for path in sorted((SRC / PKG).rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        module = ".".join(parts)
        base = module if rel.name == "__init__" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    b = base
                    for _ in range(node.level - 1):
                        b = b.rpartition(".")[0]
                    mod = f"{b}.{mod}" if mod else b
                targets = [mod] + ([f"{mod}.{a.name}" for a in node.names] if mod == PKG else [])
            out += [(str(rel), _part(module), t) for t in targets]
    return out


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in (SRC / PKG).iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert parts - set(LAYER) == set(), "new part: give it a layer in LAYERS"


def test_no_import_runs_up_the_layers() -> None:
    upward = []
    for where, part, target in _imports():
        if not target.startswith(PKG + "."):
            continue
        to = _part(target)
        if to != part and (LAYER[to] > LAYER[part] or (part, to) in APART):
            upward.append(f"{where} imports {target} ({part} is below {to})")
    assert upward == []


def test_assess_does_no_io_and_reads_no_clock() -> None:
    io = ("sqlalchemy", "httpx", "requests", "sco_monitor.store", "sco_monitor.context", "sco_monitor.sources")
    found = [f"{where} imports {t}" for where, part, t in _imports() if part == "assess" and t.startswith(io)]
    clock = [str(p.relative_to(SRC)) for p in (SRC / PKG / "assess").rglob("*.py")
             if any(c in p.read_text(encoding="utf-8") for c in ("utcnow(", "datetime.now(", "date.today(", "time.time("))]
    assert found == [] and clock == []
