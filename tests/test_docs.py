"""The README's configuration reference is generated from the models; this keeps it true."""

from __future__ import annotations

from sco_monitor.config.reference import END, START, generate

from .conftest import ROOT


def test_readme_configuration_reference_matches_the_models() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    current = readme[readme.index(START): readme.index(END) + len(END)]
    assert current == generate(), "README is stale: run `python -m sco_monitor.config.reference` and paste it"


def test_readme_gives_the_two_setup_commands_and_ci_uses_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
