"""`sco-monitor review --month YYYY-MM`: the month's warnings, their outcomes and the rules that
earned their keep or did not, as HTML, Markdown and JSON. Scored by `replay.live` with outcomes
known up to the last stored observation (never after today)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sco_monitor import i18n, results
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.replay.live import LiveRecord, Scored, counts, explain, live_record
from sco_monitor.reports.review import render_review
from sco_monitor.timeutil import utcnow
from sco_monitor.vocabulary import json_safe

Verdict = str  # earned | did_not | open


def month_range(month: str) -> tuple[date, date]:
    """'2008-10' → (2008-10-01, 2008-10-31); a UsageError naming the option otherwise."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise UsageError(f"--month: expected YYYY-MM, got {month!r}") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def verdict(hits: int, false_alarms: int, open_: int) -> Verdict:
    """A rule earned its keep when it announced a crisis at least as often as it cried wolf; it did
    not when its false alarms outnumber its hits; open while none of its warnings is scored."""
    if hits == 0 and false_alarms == 0:
        return "open"
    return "earned" if hits >= false_alarms else "did_not"


def rule_rows(scored: list[Scored]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for sc in scored:
        row = out.setdefault(sc.warning.rule, {"rule": sc.warning.rule, "warnings": 0, "hits": 0, "false_alarms": 0,
                                               "open": 0, "countries": set()})
        row["warnings"] += 1
        row[{"hit": "hits", "false_alarm": "false_alarms", "open": "open"}[sc.outcome]] += 1
        row["countries"].add(sc.warning.country)
    return [{**r, "countries": sorted(r["countries"]), "verdict": verdict(r["hits"], r["false_alarms"], r["open"])}
            for r in sorted(out.values(), key=lambda r: r["rule"])]


def review_data(ctx: Context, record: LiveRecord) -> dict[str, Any]:
    """The review as plain data: the month's warnings with outcomes, the rules' verdicts, the mistakes."""
    warnings = [{
        "first": sc.warning.first, "last": sc.warning.last, "rule": sc.warning.rule, "country": sc.warning.country,
        "severity": sc.warning.severity, "value": sc.warning.value, "threshold": sc.warning.threshold,
        "outcome": sc.outcome, "episode": sc.episode.name if sc.episode else None,
        "episode_start": sc.episode.start if sc.episode else None,
    } for sc in record.scored]
    return {
        "month": record.start.strftime("%Y-%m"), "start": record.start, "end": record.end,
        "known_until": record.known_until, "horizon": record.horizon, "counts": counts(record),
        "warnings": warnings, "rules": rule_rows(record.scored), "mistakes": explain(ctx, record),
    }


@dataclass(frozen=True)
class ReviewRun:
    month: str
    files: dict[str, Path]
    counts: dict[str, int]

    def lines(self) -> list[str]:
        c = self.counts
        head = (f"review {self.month}: {c['warnings']} warning(s): {c['hits']} hit(s), {c['false_alarms']} false "
                f"alarm(s), {c['open']} open; {c['misses']} miss(es)")
        return [head] + [f"  {k:<5} {p}" for k, p in self.files.items()]


def write_review(ctx: Context, month: str, out_dir: Path | None = None) -> ReviewRun:
    """Write OUT/reviews/review-YYYY-MM.{html,md,json} (OUT: the report folder unless given)."""
    start, end = month_range(month)
    today = utcnow().date()
    if start > today:
        raise UsageError(f"--month {month} has not begun yet")
    known = min(max(results.last_observation(ctx.store) or end, end), today)
    data = review_data(ctx, live_record(ctx, start, end, known))
    out = Path(out_dir) if out_dir is not None else Path(ctx.config.settings.report.out_dir) / "reviews"
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with i18n.use(ctx.config.settings.report.languages[0] if ctx.config.settings.report.languages else None):
        texts = {**render_review(data), "json": json.dumps(json_safe(data), indent=1, ensure_ascii=False) + "\n"}
    for fmt, text in texts.items():
        path = out / f"review-{data['month']}.{fmt}"
        path.write_text(text, encoding="utf-8")
        files[fmt] = path
    return ReviewRun(data["month"], files, data["counts"])
