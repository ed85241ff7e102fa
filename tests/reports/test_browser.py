"""A real browser (headless Chromium) opens the HTML report from disk: no console errors, no
request leaving the file, readable on a phone (no sideways scrolling), screenshots kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from sco_monitor.reports.daily import write_index
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import render

from .browser import Browser, find_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def written(report_2008: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "reports"
    page = out / "2008-10-10" / "report.html"
    page.parent.mkdir(parents=True)
    page.write_text(render(report_2008, ["html"])["html"].text, encoding="utf-8")
    (out / "2008-10-10" / "report.json").write_text(render(report_2008, ["json"])["json"].text, encoding="utf-8")
    write_index(out)
    return out


def test_report_loads_in_chromium_without_errors_or_external_requests(written: Path, tmp_path: Path) -> None:
    find_chromium()
    page = written / "2008-10-10" / "report.html"
    url = page.resolve().as_uri()
    with Browser(tmp_path / "profile") as browser:
        desktop = browser.visit(url, width=1280, height=900)
        phone = browser.visit(url, width=390, height=844, mobile=True)
        index = browser.visit((written / "index.html").resolve().as_uri(), width=1280, height=600)
    for name, visit in (("desktop", desktop), ("phone", phone), ("index", index)):
        (tmp_path / f"{name}.png").write_bytes(visit.screenshot)
        assert visit.errors == [], f"{name}: {visit.errors}"
        external = [u for u in visit.requests if not u.startswith(("file://", "data:"))]
        assert external == [], f"{name} requested {external}"
        assert visit.screenshot.startswith(b"\x89PNG")
    assert desktop.requests == [url]  # the page itself and nothing else
    assert desktop.layout["title"] == "SCO risk report 2008-10-10: SEVERE"
    assert desktop.layout["svgs"] >= 5 + 10  # five charts and a sparkline per member state
    assert phone.layout["scrollWidth"] <= phone.layout["innerWidth"], "the page scrolls sideways on a phone"
    assert desktop.layout["height"] > 3000 and phone.layout["height"] > desktop.layout["height"]
    print(f"screenshots in {tmp_path}")
