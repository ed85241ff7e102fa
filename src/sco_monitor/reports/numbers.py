"""How the report writes numbers, levels and country names: one place, so all formats agree."""

from __future__ import annotations

import re

from sco_monitor import i18n
from sco_monitor.i18n import finite

from sco_monitor.vocabulary import WORLD, severity_rank  # noqa: F401 - severity_rank: the report modules read it here

LEVELS: tuple[str, ...] = ("low", "moderate", "elevated", "high", "severe")

#: Member states first (SCO order), then the benchmarks the universe watches.
COUNTRY_NAMES: dict[str, str] = {
    "KAZ": "Kazakhstan",
    "CHN": "China",
    "RUS": "Russia",
    "KGZ": "Kyrgyzstan",
    "TJK": "Tajikistan",
    "UZB": "Uzbekistan",
    "IND": "India",
    "PAK": "Pakistan",
    "IRN": "Iran",
    "BLR": "Belarus",
    WORLD: "World",
    "USA": "United States",
    "EMU": "Euro area",
    "JPN": "Japan",
    "HKG": "Hong Kong",
    "GBR": "United Kingdom",
    "DEU": "Germany",
}

#: Kinds of rule whose values are fractions shown as percentages.
_PERCENT_KINDS = {"change", "drawdown", "probability", "vol_regime", "forecast_breach"}
_SIGNED_KINDS = {"change", "drawdown"}


def country_name(code: str | None) -> str:
    """The country's name in the active language: English from this table, others from Babel (CLDR)."""
    if not code:
        return ""
    if i18n.current() != i18n.DEFAULT:
        return i18n.territory(code) or COUNTRY_NAMES.get(code, code)
    return COUNTRY_NAMES.get(code, code)


def level_rank(level: str | None) -> int:
    """low=0 … severe=4; unknown=-1, so max() picks the worst known level."""
    return LEVELS.index(level) if level in LEVELS else -1




def fmt_number(x: float | None, digits: int = 4) -> str:
    """Plain numbers: 4 significant digits, thousands separated, no scientific notation (locale-aware)."""
    return i18n.significant(finite(x), digits)


def fmt_value(x: float | None, kind: str | None = None) -> str:
    """A rule value as an analyst reads it: +6.1% for a change, 2.7σ for a z-score, 0.62 for an index."""
    x = finite(x)
    if x is None:
        return i18n.gettext("n/a")
    if kind in _SIGNED_KINDS:
        return i18n.percent(x, 1, signed=True)
    if kind in _PERCENT_KINDS:
        return i18n.percent(x, 0 if abs(x) >= 0.1 else 1)
    if kind == "zscore":
        return i18n.decimal(x, 1, signed=True) + "\u03c3"
    if kind == "stress_level":
        return i18n.decimal(x, 2)
    return fmt_number(x)


#: Format specs a playbook text may give a number, e.g. {value:.1%} or {value:+.2f}.
_SPEC = re.compile(r"^(?P<sign>\+)?,?\.(?P<decimals>\d+)(?P<type>[f%])$")


class Num:
    """A number that formats itself by rule kind unless a spec is given: `{value}` vs `{value:.2f}`."""

    __slots__ = ("kind", "value")

    def __init__(self, value: float | None, kind: str | None = None) -> None:
        self.value = finite(value)
        self.kind = kind

    def __format__(self, spec: str) -> str:
        if self.value is None:
            return i18n.gettext("n/a")
        if not spec:
            return fmt_value(self.value, self.kind)
        m = _SPEC.match(spec)
        if m is None:
            return format(self.value, spec)
        decimals, signed = int(m["decimals"]), bool(m["sign"])
        if m["type"] == "%":
            return i18n.percent(self.value, decimals, signed=signed)
        return i18n.decimal(self.value, decimals, signed=signed)

    def __str__(self) -> str:
        return format(self, "")


def join_names(names: list[str]) -> str:
    """['Russia', 'Kazakhstan', 'Iran'] → 'Russia, Kazakhstan and Iran' (in the active language)."""
    return i18n.join(names)
