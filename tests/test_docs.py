"""The docs site: the configuration reference is generated from the models (this keeps it true), the
README gives the two set-up commands, and CI runs the test one and builds the site strictly."""

from __future__ import annotations

from sco_monitor.config.reference import END, START, generate

from .conftest import ROOT


def test_docs_configuration_reference_matches_the_models() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert START in page and END in page
    current = page[page.index(START): page.index(END) + len(END)]
    assert current == generate(), (
        "docs/configuration.md is stale: run `python -m sco_monitor.config.reference --write docs/configuration.md`")


def test_readme_gives_the_two_setup_commands_and_ci_uses_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "mkdocs build --strict" in ci and "make test-long" in ci


def test_readme_is_a_short_front_page_that_points_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    for page in ("configuration", "sources", "methods", "alerts", "daemon", "replay", "architecture"):
        assert f"(docs/{page}.md)" in readme, f"README does not point to docs/{page}.md"
