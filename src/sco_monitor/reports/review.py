"""The monthly review's HTML and Markdown (its JSON is the data itself): see `replay.review`."""

from __future__ import annotations

from typing import Any

from sco_monitor import i18n
from sco_monitor.i18n import _
from sco_monitor.reports.mistakes import mistake_items
from sco_monitor.reports.render import html_env, md_env


def verdict_name(verdict: str) -> str:
    return {"earned": _("earned its keep"), "did_not": _("did not earn its keep"),
            "open": _("not yet scored")}.get(verdict, verdict)


def outcome_name(outcome: str) -> str:
    return {"hit": _("hit"), "false_alarm": _("false alarm"), "open": _("window still open")}.get(outcome, outcome)


def render_review(data: dict[str, Any]) -> dict[str, str]:
    """{"html": ..., "md": ...} of the review data, in the active language."""
    mistakes = mistake_items(data["mistakes"], int(data["horizon"]))
    ctx = {"d": data, "mistakes": mistakes, "verdict_name": verdict_name, "outcome_name": outcome_name, "lang": i18n.current()}
    return {"html": html_env().get_template("review.html.j2").render(**ctx),
            "md": md_env().get_template("review.md.j2").render(**ctx)}
