"""Languages of reports and notifications: gettext catalogs, and Babel's locale formatting.

The active language is a context variable: `with use("ru"):` around building and rendering a
report (or a notification) makes every `_()` lookup, number, date and country name Russian,
without threading a `language` argument through every pure function in between. The default
is English, whose texts are the catalog's message ids, so English output needs no catalog.

A lower layer: imports nothing from the rest of sco_monitor.
"""

from __future__ import annotations

import copy
import gettext as _gettext
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.core import get_global
from babel.dates import UTC, format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal, parse_pattern
from babel.support import Translations

Language = Literal["en", "ru", "zh"]
#: Languages with a catalog; `en` is the source language (message ids are English).
LANGUAGES: tuple[str, ...] = ("en", "ru", "zh")
DEFAULT: str = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
MINUS = "\u2212"

_current: ContextVar[str] = ContextVar("sco_monitor_language", default=DEFAULT)


def current() -> str:
    """The language texts are produced in right now."""
    return _current.get()


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """Make `language` (None: the default) the active one inside the block."""
    lang = language or DEFAULT
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(LANGUAGES)}")
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalog of `language` (English: none, the ids are the texts)."""
    if language == DEFAULT:
        return _gettext.NullTranslations()
    t = Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)
    if not isinstance(t, Translations):  # Babel returns NullTranslations when the .mo is missing
        raise FileNotFoundError(f"no compiled catalog for {language!r} under {LOCALE_DIR} (run pybabel compile)")
    return t


def gettext(message: str, **values: Any) -> str:
    """`message` in the active language, %-formatted with `values` (names survive translation)."""
    text = translations(current()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The plural form for `n` in the active language (Russian has three); `%(num)s` is n."""
    text = translations(current()).ngettext(singular, plural, n)
    return text % ({"num": n} | values)


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (tables of labels)."""
    return message


# --- the words of the domain -------------------------------------------------------------------------------
#: Stress levels, rule severities, stress-index segments, risk categories and data-quality flags as
#: readers see them; the keys are the values the assessment and the config use.
LEVEL_NAMES: dict[str, str] = {
    "low": N_("low"), "moderate": N_("moderate"), "elevated": N_("elevated"), "high": N_("high"),
    "severe": N_("severe"), "unknown": N_("unknown"),
}
SEVERITY_NAMES: dict[str, str] = {
    "ok": N_("ok"), "warn": N_("warn"), "critical": N_("critical"), "no_data": N_("no data"), "none": N_("no rule"),
}
#: English shows the codes themselves (as reports always did); other languages translate them.
SEGMENT_NAMES: dict[str, str] = {
    "equity": N_("equity"), "fx": N_("fx"), "rates": N_("rates"), "commodities": N_("commodities"),
    "volatility": N_("volatility"), "macro": N_("macro"),
}
CATEGORY_NAMES: dict[str, str] = {
    "equity": N_("equity"), "fx": N_("fx"), "rates": N_("rates"), "commodity": N_("commodity"),
    "volatility": N_("volatility"), "macro": N_("macro"), "contagion": N_("contagion"), "stress": N_("stress"),
    "cooperation": N_("cooperation"), "outlook": N_("economic outlook"),
}
FLAG_NAMES: dict[str, str] = {
    "gap": N_("gap"), "spike": N_("spike"), "stale": N_("stale"), "duplicate": N_("duplicate"),
    "non_finite": N_("non-finite value"), "non_positive": N_("non-positive value"),
}


#: Signals of the early-warning model (assess/ews.py) beside the segment sub-indices (seg_<segment>).
DRIVER_NAMES: dict[str, str] = {"stress": N_("own stress index"), "world": N_("world stress")}


def _word(table: dict[str, str], key: str | None) -> str:
    if not key:
        return ""
    return gettext(table[key]) if key in table else key.replace("_", " ")


def level_name(level: str | None) -> str:
    return _word(LEVEL_NAMES, level)


def severity_name(severity: str | None) -> str:
    return _word(SEVERITY_NAMES, severity)


def segment_name(segment: str | None) -> str:
    return _word(SEGMENT_NAMES, segment)


def category_name(category: str | None) -> str:
    return _word(CATEGORY_NAMES, category)


def driver_name(driver: str | None) -> str:
    """A crisis-probability driver: seg_fx → the FX segment's name, seg_fx_rise63 → its rise over 63
    business days, world → world stress."""
    if driver and driver.startswith("seg_"):
        segment, _, days = driver[4:].partition("_rise")
        if days.isdigit():
            return gettext("%(segment)s rising over %(days)s business days", segment=segment_name(segment), days=days)
        return segment_name(driver[4:])
    return _word(DRIVER_NAMES, driver) if driver in DRIVER_NAMES else (driver or "")


def flag_name(flag: str | None) -> str:
    return _word(FLAG_NAMES, flag)


# --- jinja2 ---------------------------------------------------------------------------------------------
def _plain_gettext(message: str) -> str:
    return translations(current()).gettext(message)


def _plain_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def install(env: Any) -> Any:
    """Give a jinja2 Environment (with jinja2.ext.i18n) gettext callables that follow `use()`."""
    env.install_gettext_callables(_plain_gettext, _plain_ngettext, newstyle=True)
    return env


# --- Babel formatting -------------------------------------------------------------------------------------
def locale(language: str | None = None) -> Locale:
    """Babel's locale of the language (default: the active one)."""
    return _locale(language or current())


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def finite(x: Any) -> float | None:
    """A float, or None for None/NaN/inf (JSON has no NaN; a formatter writes n/a)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _signed(text: str, value: float, signed: bool) -> str:
    text = text.replace("-", MINUS)
    if signed and not text.startswith((MINUS, "+")):
        return "+" + text
    return text


def _with_fraction(pattern: str, decimals: int) -> Any:
    p = copy.copy(parse_pattern(pattern))
    p.frac_prec = (decimals, decimals)
    return p


def decimal(x: Any, decimals: int | None = None, *, signed: bool = False, group: bool = True) -> str:
    """A number in the active locale: `decimals` fixed digits, else as many as it has (max 6)."""
    v = finite(x)
    if v is None:
        return gettext("n/a")
    loc = locale()
    if decimals is None:
        text = format_decimal(v, locale=loc, group_separator=group, decimal_quantization=False)
    else:
        p = _with_fraction(loc.decimal_formats[None].pattern, decimals)
        text = p.apply(round(v, decimals), loc, group_separator=group)
    return _signed(text, v, signed)


def significant(x: Any, digits: int = 4) -> str:
    """`digits` significant digits, thousands grouped, no scientific notation, no trailing zeros."""
    v = finite(x)
    if v is None:
        return gettext("n/a")
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    return decimal(round(v, decimals), None)


def percent(x: Any, decimals: int = 0, *, signed: bool = False) -> str:
    """A fraction as a percentage in the active locale: 0.123 → 12% / 12 % / 12%."""
    v = finite(x)
    if v is None:
        return gettext("n/a")
    loc = locale()
    p = _with_fraction(loc.percent_formats[None].pattern, decimals)
    return _signed(p.apply(v, loc), v, signed)


def day(d: date | None, fmt: str = "medium") -> str:
    """A date in the active locale; English keeps ISO (2008-10-13), which its readers expect."""
    if d is None:
        return ""
    if current() == DEFAULT:
        return d.isoformat()
    return format_date(d, fmt, locale=locale())


def moment(dt: datetime | None) -> str:
    """A UTC time in the active locale, e.g. 2008-10-13 08:00 UTC / 13 окт. 2008 г., 08:00 UTC."""
    if dt is None:
        return ""
    if current() == DEFAULT:
        return dt.strftime("%Y-%m-%d %H:%M UTC")
    return format_datetime(dt, "medium", locale=locale(), tzinfo=UTC).rsplit(":", 1)[0] + " UTC"


def join(items: list[str]) -> str:
    """['Russia', 'Kazakhstan', 'Iran'] → 'Russia, Kazakhstan and Iran' / 'Россия, Казахстан и Иран'."""
    if len(items) <= 1:
        return "".join(items)
    if current() == DEFAULT:  # no serial comma, as the English reports always wrote it
        return ", ".join(items[:-1]) + " and " + items[-1]
    return format_list(items, locale=locale())


#: Codes the universe uses that are not ISO 3166 alpha-3, as CLDR territory codes.
_SPECIAL_TERRITORIES = {"WLD": "001", "EMU": "EZ", "EUU": "EU"}


def alpha2(code: str) -> str | None:
    """ISO 3166 alpha-3 (or WLD, EMU) → the CLDR territory code Babel names (KAZ → KZ)."""
    if code in _SPECIAL_TERRITORIES:
        return _SPECIAL_TERRITORIES[code]
    target = get_global("territory_aliases").get(code)
    return target[0] if target else None


#: Shorter names than CLDR's for a few territories, as analysts write them.
_SHORT_NAMES: dict[str, dict[str, str]] = {
    "ru": {"HK": "Гонконг", "US": "США", "001": "Мир", "EZ": "Еврозона", "KG": "Кыргызстан"},  # KG: as SCO documents write it
    "zh": {"HK": "中国香港"},
}


def territory(code: str | None, language: str | None = None) -> str | None:
    """Babel's name of the territory in the language; None when Babel does not know it."""
    if not code:
        return None
    lang = language or current()
    a2 = alpha2(code)
    if a2 is None:
        return None
    return _SHORT_NAMES.get(lang, {}).get(a2) or Locale.parse(lang).territories.get(a2)


__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "Language",
    "_",
    "alpha2",
    "category_name",
    "current",
    "day",
    "decimal",
    "driver_name",
    "finite",
    "flag_name",
    "gettext",
    "install",
    "join",
    "level_name",
    "locale",
    "moment",
    "ngettext",
    "percent",
    "segment_name",
    "severity_name",
    "significant",
    "territory",
    "translations",
    "use",
]
