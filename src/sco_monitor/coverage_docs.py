"""docs/coverage.md, generated from config/universe.yaml (tests/test_coverage.py keeps it true).

`python -m sco_monitor.coverage_docs [universe.yaml] > docs/coverage.md`
"""

from __future__ import annotations

import sys
from pathlib import Path

from sco_monitor.catalog import Universe
from sco_monitor.config.load import parse, read_yaml
from sco_monitor.coverage import build, markdown

DOC_HEADER = """# Coverage of the member states

Generated from `config/universe.yaml` by `python -m sco_monitor.coverage_docs > docs/coverage.md`
(a test keeps this page true). Every cell lists the enabled series that cover the member for
that kind, with their source; `sco-monitor coverage` shows the same table with the last stored
date and status of each series, and the daily report carries it in its data-quality section.
Kinds: `fx` (official or market exchange rate), `policy_rate`, `cpi_monthly`, `reserves`,
`credit` (BIS credit-to-GDP gap, total credit, debt service), `equity`, `bond`, `trade`,
`external` (annual external-vulnerability series: external debt, current account).

"""


def docs_page(universe: Universe) -> str:
    return DOC_HEADER + markdown(build(universe, {}, None), heading="#")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "config" / "universe.yaml"
    universe = parse(Universe, path, read_yaml(path), empty={"series": []})
    sys.stdout.write(docs_page(universe))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
