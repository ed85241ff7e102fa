"""How the report writes numbers, levels and country names: one place, so all formats agree."""

from __future__ import annotations

import math
from typing import Any

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
    if not code:
        return ""
    return COUNTRY_NAMES.get(code, code)


def level_rank(level: str | None) -> int:
    """low=0 … severe=4; unknown=-1, so max() picks the worst known level."""
    return LEVELS.index(level) if level in LEVELS else -1


def finite(x: Any) -> float | None:
    """A float, or None for None/NaN/inf (JSON has no NaN)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt_number(x: float | None, digits: int = 4) -> str:
    """Plain numbers: 4 significant digits, thousands separated, no scientific notation."""
    x = finite(x)
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_value(x: float | None, kind: str | None = None) -> str:
    """A rule value as an analyst reads it: +6.1% for a change, 2.7σ for a z-score, 0.62 for an index."""
    x = finite(x)
    if x is None:
        return "n/a"
    if kind in _SIGNED_KINDS:
        return f"{x:+.1%}".replace("-", "\u2212")
    if kind in _PERCENT_KINDS:
        return f"{x:.0%}" if abs(x) >= 0.1 else f"{x:.1%}"
    if kind == "zscore":
        return f"{x:+.1f}\u03c3".replace("-", "\u2212")
    if kind == "stress_level":
        return f"{x:.2f}"
    return fmt_number(x).replace("-", "\u2212") if x < 0 else fmt_number(x)


class Num:
    """A number that formats itself by rule kind unless a spec is given: `{value}` vs `{value:.2f}`."""

    __slots__ = ("kind", "value")

    def __init__(self, value: float | None, kind: str | None = None) -> None:
        self.value = finite(value)
        self.kind = kind

    def __format__(self, spec: str) -> str:
        if self.value is None:
            return "n/a"
        if not spec:
            return fmt_value(self.value, self.kind)
        return format(self.value, spec)

    def __str__(self) -> str:
        return format(self, "")


def join_names(names: list[str]) -> str:
    """['Russia', 'Kazakhstan', 'Iran'] → 'Russia, Kazakhstan and Iran'."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
