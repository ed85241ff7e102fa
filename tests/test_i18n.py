"""The gettext catalogs: complete, not fuzzy, placeholders intact, compiled .mo up to date, in sync
with the sources; and Babel's formatting per language."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sco_monitor import i18n

from .conftest import ROOT

LOCALE = ROOT / "src" / "sco_monitor" / "locale"
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|\{(\w+)[^}]*\}")


def catalog(lang: str):
    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_not_fuzzy_and_keeps_its_placeholders(lang: str) -> None:
    cat = catalog(lang)
    messages = [m for m in cat if m.id]
    assert len(messages) > 200
    problems = []
    for m in messages:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        want = names(ids[0]) | names(ids[-1])
        for s in strings:
            if names(s) != want:
                problems.append(f"placeholders {sorted(names(s))} != {sorted(want)}: {ids[0]!r} -> {s!r}")
            words = PLACEHOLDER.sub("", ids[0]).replace("sco-monitor", "")
            if re.search(r"[A-Za-z]{3,}", words) and s == ids[0]:
                problems.append(f"left in English: {ids[0]!r}")
    assert problems == [], "\n".join(problems)
    assert cat.num_plurals == (3 if lang == "ru" else 1)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_committed_mo_is_compiled_from_the_committed_po(lang: str) -> None:
    buf = io.BytesIO()
    write_mo(buf, catalog(lang))
    assert (LOCALE / lang / "LC_MESSAGES" / "messages.mo").read_bytes() == buf.getvalue(), \
        f"{lang}: messages.mo is stale; run `pybabel compile -d src/sco_monitor/locale`"


def test_the_catalogs_hold_every_message_the_sources_use(tmp_path: Path) -> None:
    """pybabel extract on the sources finds no message the catalogs lack (run `pybabel update`)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
                    "-o", str(pot), "--no-location", "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert len(wanted) > 200
    for lang in TRANSLATED:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(lang) if m.id}
        assert wanted - have == set(), f"{lang} lacks {sorted(wanted - have)[:5]}"


def test_gettext_follows_the_active_language_and_english_needs_no_catalog() -> None:
    assert i18n._("Stress index") == "Stress index"
    with i18n.use("ru"):
        assert i18n._("Stress index") == "Индекс стресса"
        assert i18n.ngettext("%(num)s joint action plan", "%(num)s joint action plans", 5) == \
            "5 совместных планов действий"
        assert i18n.ngettext("%(num)s joint action plan", "%(num)s joint action plans", 2) == \
            "2 совместных плана действий"
        with i18n.use("zh"):
            assert i18n._("Stress index") == "压力指数"
        assert i18n.current() == "ru"
    assert i18n.current() == "en"
    with pytest.raises(ValueError, match="unknown language 'fr'"), i18n.use("fr"):
        pass


def test_numbers_dates_and_countries_are_formatted_for_the_locale() -> None:
    cases = {
        "en": ("+6.1%", "12,345.7", "0.87", "Kazakhstan", "2008-10-13", "Russia, Kazakhstan and Iran"),
        "ru": ("+6,1\u00a0%", "12\u00a0345,7", "0,87", "Казахстан", "13 окт. 2008\u202fг.", "Россия, Казахстан и Иран"),
        "zh": ("+6.1%", "12,345.7", "0.87", "哈萨克斯坦", "2008年10月13日", "俄罗斯、哈萨克斯坦和伊朗"),
    }
    for lang, (pct, big, fixed, kz, day, joined) in cases.items():
        with i18n.use(lang):
            assert i18n.percent(0.0612, 1, signed=True) == pct
            assert i18n.significant(12345.67, 6) == big
            assert i18n.decimal(0.8712, 2) == fixed
            assert i18n.territory("KAZ") == kz or lang == "en"
            assert i18n.day(date(2008, 10, 13)) == day
            assert i18n.join([i18n.territory(c) or c for c in ("RUS", "KAZ", "IRN")]) == joined
            assert i18n.decimal(-0.5, 1) == "\u22120" + (",5" if lang == "ru" else ".5")
    with i18n.use("ru"):
        assert i18n.moment(datetime(2008, 10, 13, 8, 5, tzinfo=UTC)) == "13 окт. 2008\u202fг., 08:05 UTC"
    assert i18n.alpha2("KAZ") == "KZ" and i18n.alpha2("WLD") == "001" and i18n.alpha2("EMU") == "EZ"
    assert i18n.territory("WLD", "zh") == "世界" and i18n.territory("XXX", "ru") is None


def test_the_assess_summary_speaks_the_language() -> None:
    from sco_monitor.assess.model import Assessment, CrisisProbability, RuleEvaluation
    from sco_monitor.assess.summary import render_text

    a = Assessment(as_of=date(2008, 10, 10), probability={"RUS": CrisisProbability(country="RUS", horizon=60, probability=0.4)},
                   rules=[RuleEvaluation(rule="fx_depreciation_20d", kind="change", category="fx", labels={},
                                         severity="critical", value=0.12, summary="USD/RUB depreciated 12.0%")])
    assert "  RUS   40.0% within 60 sessions" in render_text(a)
    with i18n.use("ru"):
        text = render_text(a)
    assert text.splitlines()[0] == "Оценка на 2008-10-10"
    assert "  RUS  40,0\u00a0% в течение 60 торговых сессий" in text
    assert "Правила: критических 1, предупреждений 0, в норме 0, без данных 0" in text
    assert "  критический fx_depreciation_20d" in text
