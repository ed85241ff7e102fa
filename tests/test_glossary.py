"""The playbooks' translations use the glossary's terms (docs/glossary.md)."""

from __future__ import annotations

import re

from sco_monitor.config import AppConfig

from .conftest import ROOT
from .reports.conftest import shipped_config  # noqa: F401 - the fixture


def glossary() -> list[tuple[str, str, str]]:
    rows = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("English", "---") and "/" not in cells[0] and ":" not in cells[0]:
            en = re.sub(r"\s*\(.*\)", "", cells[0])
            rows.append((en, cells[1], cells[2]))
    return rows


def stems(russian: str) -> list[str]:
    """Each word of a Russian term without its ending, so any case or number matches."""
    return [w[: max(4, len(w) - 2)].lower() for w in re.split(r"\s+", russian)]


def test_the_glossary_has_the_terms_the_issue_names() -> None:
    terms = {en for en, _, _ in glossary()}
    assert {"stress index", "drawdown", "depreciation", "swap line", "joint action plan", "crisis probability",
            "threshold"} <= terms


def test_playbook_translations_use_the_glossary_terms(shipped_config: AppConfig) -> None:  # noqa: F811
    rows = glossary()
    problems, checked = [], 0
    for i, pb in enumerate(shipped_config.playbooks.playbooks):
        for where, texts in pb.texts():
            en, ru, zh = texts["en"].lower(), texts["ru"].lower(), texts["zh"]
            for term, ru_term, zh_term in rows:
                if re.search(rf"\b{re.escape(term.lower())}(s|es)?\b", en):
                    checked += 1
                    if not all(s in ru for s in stems(ru_term)):
                        problems.append(f"playbooks[{i}].{where}: '{term}' is not '{ru_term}': {texts['ru']}")
                    if zh_term not in zh:
                        problems.append(f"playbooks[{i}].{where}: '{term}' is not '{zh_term}': {texts['zh']}")
    assert checked > 40
    assert problems == [], "\n".join(problems)
