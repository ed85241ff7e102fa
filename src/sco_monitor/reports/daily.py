"""The daily report run: read → build → render → write files, index and `reports` rows → queue the digest.

`write_report` is what the cycle's report step calls (`cycle.step_report`, `cycle.report_command`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from sco_monitor import i18n
from sco_monitor.assess.model import Assessment
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.logs import get_logger
from sco_monitor.reports.build import build_report, fan_selection
from sco_monitor.reports.digest import enqueue_digest
from sco_monitor.reports.inputs import DAY_DIR, read_inputs
from sco_monitor.reports.model import Report
from sco_monitor.reports.render import formats as registry
from sco_monitor.reports.render import render, render_index
from sco_monitor.store import schema as t

log = get_logger(__name__)
FORMAT_ORDER = ("html", "md", "json")


@dataclass
class ReportRun:
    """What a report run wrote."""

    as_of: date
    directory: Path
    overall: str
    headline: str
    files: dict[str, Path] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    index: Path | None = None
    digests_queued: int = 0
    report: Report | None = field(default=None, repr=False)
    language: str = "en"

    def summary(self) -> str:
        """The line the cycle and job_runs show."""
        queued = f"; digest queued for {self.digests_queued}" if self.digests_queued else ""
        return f"as of {self.as_of}: overall {self.overall}; {', '.join(self.files) or 'no files'} in {self.directory}{queued}"


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_formats(value: str | list[str] | None, default: list[str]) -> list[str]:
    names = default if not value else [n.strip() for n in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    for n in names:
        if n not in registry:
            raise UsageError(f"unknown report format {n!r}; expected one of: {', '.join(registry.names())}")
    return sorted(dict.fromkeys(names), key=lambda n: FORMAT_ORDER.index(n) if n in FORMAT_ORDER else 99)


def file_stem(language: str) -> str:
    """report for English (the names reports always had), report.ru / report.zh for the others."""
    return "report" if language == i18n.DEFAULT else f"report.{language}"


def write_report(
    ctx: Context,
    assessment: Assessment,
    now: datetime,
    *,
    formats: list[str] | None = None,
    out_dir: str | Path | None = None,
    track_record: dict[str, Any] | None = None,
    digest: bool = True,
    languages: list[str] | None = None,
    source: str | Callable[[], str] = "",
    mistakes: dict[str, Any] | None = None,
) -> ReportRun:
    """Write the report for assessment.as_of into OUT/YYYY-MM-DD/ in each language, refresh OUT/index.html, record it.

    The first language is the run's headline; the rest only change the words, never the numbers.
    """
    config = ctx.config
    settings = config.settings.report
    names = parse_formats(formats, list(settings.formats))
    langs = parse_languages(languages, list(settings.languages))
    out = Path(out_dir if out_dir is not None else settings.out_dir)
    _, fans = fan_selection(assessment, config)
    inputs = read_inputs(ctx.store, config, assessment, now, out, fans)
    built: dict[str, Report] = {}

    def report_in(language: str) -> Report:
        if language not in built:
            with i18n.use(language):
                built[language] = build_report(assessment, config, inputs, now, track_record, source=source,
                                                 mistakes=mistakes)
        return built[language]

    day = out / assessment.as_of.isoformat()
    first = report_in(langs[0])
    run = ReportRun(as_of=assessment.as_of, directory=day, overall=first.overall.level,
                    headline=first.overall.headline, report=first, language=langs[0])
    attachments: set[str] = set()
    for lang in langs:
        report = report_in(lang)
        with i18n.use(lang):
            rendered = render(report, names)
        for name, r in rendered.items():
            data = r.text.encode("utf-8")
            key = name if lang == i18n.DEFAULT else f"{lang}.{name}"
            path = day / f"{file_stem(lang)}.{name}"
            write_atomic(path, data)
            run.files[key] = path
            run.checksums[key] = hashlib.sha256(data).hexdigest()
            for rel, text in r.attachments.items():
                write_atomic(day / rel, text.encode("utf-8"))
                attachments.add(rel)
    charts = day / "charts"
    if charts.is_dir():  # charts of an earlier run of the same day that this one no longer draws
        for old in charts.glob("*.svg"):
            if f"charts/{old.name}" not in attachments and _chart_language(old.name) in langs:
                old.unlink()
    run.index = write_index(out)
    _record(ctx, run, now)
    if digest:
        run.digests_queued = enqueue_digest(ctx.store, config, report_in, now)
    log.info("report_written", as_of=str(run.as_of), overall=run.overall, dir=str(day),
             formats=names, languages=langs, digests=run.digests_queued)
    return run


def parse_languages(value: str | list[str] | None, default: list[str]) -> list[str]:
    names = default if not value else [n.strip() for n in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    for n in names:
        if n not in i18n.LANGUAGES:
            raise UsageError(f"unknown report language {n!r}; expected one of: {', '.join(i18n.LANGUAGES)}")
    return list(dict.fromkeys(names))


def _chart_language(filename: str) -> str:
    """stress-1y.svg is English, stress-1y.ru.svg Russian."""
    parts = filename.split(".")
    return parts[-2] if len(parts) > 2 and parts[-2] in i18n.LANGUAGES else i18n.DEFAULT


def _record(ctx: Context, run: ReportRun, now: datetime) -> None:
    """One `reports` row per (as_of, format); a rerun replaces it."""
    r = t.reports
    with ctx.store.engine.begin() as conn:
        for name, path in run.files.items():
            conn.execute(delete(r).where(r.c.as_of == run.as_of, r.c.format == name))
            conn.execute(r.insert().values(
                as_of=run.as_of, format=name, path=str(path.resolve()), checksum=run.checksums[name], generated_at=now,
            ))


def index_entries(out: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    days = sorted((p for p in out.iterdir() if p.is_dir() and DAY_DIR.match(p.name)), reverse=True) if out.is_dir() else []
    for day in days:
        by_lang = {
            lang: [(fmt, f"{day.name}/{file_stem(lang)}.{fmt}") for fmt in FORMAT_ORDER
                   if (day / f"{file_stem(lang)}.{fmt}").is_file()]
            for lang in i18n.LANGUAGES
        }
        files = by_lang.pop(i18n.DEFAULT)
        translations = [(lang, fs) for lang, fs in by_lang.items() if fs]
        if not files and not translations:
            continue
        level, headline = None, ""
        js = next((day / f"{file_stem(lang)}.json" for lang in i18n.LANGUAGES if (day / f"{file_stem(lang)}.json").is_file()), None)
        if js is not None:
            try:
                ov = json.loads(js.read_text(encoding="utf-8")).get("overall") or {}
                level, headline = ov.get("level"), ov.get("headline", "")
            except (OSError, ValueError):
                headline = f"({js.name} unreadable)"
        entries.append({"as_of": day.name, "level": level, "headline": headline, "files": files,
                        "translations": translations})
    return entries


def write_index(out: Path) -> Path:
    path = out / "index.html"
    write_atomic(path, render_index(index_entries(out)).encode("utf-8"))
    return path


def load_assessment(path: Path) -> Assessment:
    try:
        return Assessment.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read assessment {path}: {e.strerror or e}") from None
    except ValueError as e:
        first = str(e).strip().splitlines()
        raise UsageError(f"{path} is not a valid assessment: {' '.join(first[:3])}") from None
