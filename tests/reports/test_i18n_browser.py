"""The Russian and Chinese reports in headless Chromium: no errors, no outside requests, and no
character drawn as a missing-glyph box (which is what a machine without CJK fonts shows)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sco_monitor import i18n
from sco_monitor.config import AppConfig
from sco_monitor.reports.build import build_report
from sco_monitor.reports.render import render

from . import fixtures as fx
from .browser import Browser, find_chromium
from .conftest import memory_inputs

pytestmark = pytest.mark.slow

#: Draws each distinct non-Latin character of the page's headings, tables and recommendations on a
#: canvas in the page's own font stack, and the missing-glyph box (a noncharacter, U+10FFFF, has no
#: glyph in any font). A character without a font is drawn as that same box, so two different
#: characters then look alike.
GLYPHS = r"""(() => {
  const nodes = [...document.querySelectorAll('h1, h2, h3, h4, th, td, li, .k, figcaption, svg text')];
  const text = nodes.map(n => n.textContent).join('');
  const chars = [...new Set([...text].filter(c => /[\p{Script=Han}\p{Script=Cyrillic}]/u.test(c)))];
  const font = getComputedStyle(document.querySelector('h1')).fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 40; canvas.height = 40;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  g.font = `32px ${font}`;
  const draw = ch => {
    g.clearRect(0, 0, 40, 40); g.fillText(ch, 2, 32);
    const a = g.getImageData(0, 0, 40, 40).data; let s = '', ink = 0;
    for (let i = 3; i < a.length; i += 4) { s += a[i] > 127 ? '1' : '0'; ink += a[i] > 127; }
    return {s, ink};
  };
  const box = draw('\u{10FFFF}').s;
  const drawn = chars.map(c => [c, draw(c)]);
  return {
    font, count: chars.length,
    boxes: drawn.filter(([c, d]) => d.s === box || d.ink === 0).map(([c]) => c).join(''),
    distinct: new Set(drawn.map(([c, d]) => d.s)).size,
  };
})()"""


@pytest.fixture(scope="module")
def pages(shipped_config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("i18n-browser")
    paths = {}
    for lang in ("ru", "zh"):
        with i18n.use(lang):
            report = build_report(fx.assessment(), shipped_config, memory_inputs(), fx.NOW, fx.track_record())
            paths[lang] = out / f"report.{lang}.html"
            paths[lang].write_text(render(report, ["html"])["html"].text, encoding="utf-8")
    return paths


@pytest.mark.parametrize("lang", ["ru", "zh"])
def test_the_report_renders_every_character_with_a_real_glyph(pages: dict[str, Path], lang: str, tmp_path: Path) -> None:
    find_chromium()
    url = pages[lang].resolve().as_uri()
    with Browser(tmp_path / "profile") as browser:
        visit = browser.visit(url, width=1280, height=900, evaluate={"glyphs": GLYPHS})
    shots = Path(os.environ.get("SCO_MONITOR_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    (shots / f"report.{lang}.png").write_bytes(visit.screenshot)
    assert visit.errors == [], visit.errors
    assert [u for u in visit.requests if not u.startswith(("file://", "data:"))] == []
    glyphs = visit.values["glyphs"]
    assert glyphs["count"] > (300 if lang == "zh" else 25), glyphs  # the page is really in the language
    assert glyphs["boxes"] == "", f"drawn as a missing-glyph box: {glyphs['boxes'][:40]} (font {glyphs['font']})"
    assert glyphs["distinct"] >= glyphs["count"] * 0.95, glyphs  # different characters look different
    title = {"ru": "Отчёт ШОС о рисках 10 окт. 2008\u202fг.: ОЧЕНЬ ВЫСОКИЙ", "zh": "上合组织风险报告 2008年10月10日：极高"}
    assert visit.layout["title"] == title[lang]
    assert visit.layout["scrollWidth"] <= visit.layout["innerWidth"] and visit.layout["svgs"] >= 15
    print(f"screenshot {shots / f'report.{lang}.png'}: {glyphs['count']} distinct characters, font {glyphs['font']}")
