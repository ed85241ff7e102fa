"""The words a partner may use for a risk level, and which of them count as a warning.

The stress levels are the model's own (`assess.stress.LEVELS`); `warning` and `critical` are the
alert words. A view at elevated or worse is a warning when scored; severe and critical are
critical warnings (the model's stress rule warns at high and is critical at severe).
"""

from __future__ import annotations

from sco_monitor.assess.stress import LEVELS

ALERT_WORDS: tuple[str, ...] = ("warning", "critical")
PARTNER_LEVELS: tuple[str, ...] = (*LEVELS, *ALERT_WORDS)

#: level → the severity a view at that level signals (levels absent here signal nothing).
SIGNAL_SEVERITY: dict[str, str] = {
    "elevated": "warn",
    "high": "warn",
    "warning": "warn",
    "severe": "critical",
    "critical": "critical",
}
_RANK = {"warn": 1, "critical": 2}


def signal_of(level: str | None, forecast_level: str | None = None) -> str | None:
    """warn, critical or None: the worse of the view's level and its forecast's."""
    found = [SIGNAL_SEVERITY[x] for x in (level, forecast_level) if x in SIGNAL_SEVERITY]
    return max(found, key=_RANK.__getitem__) if found else None
