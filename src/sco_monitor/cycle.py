"""The one place where steps are composed: collect → assess → alert → deliver → report.

`run_day` is what the CLI `cycle`, every daemon job and the replay call; they differ only in
which steps they ask for and with which options. The steps themselves are thin: each calls one
library function of its layer (collect, store.assessments + assess, alerting, reports) and returns
that function's typed result. The IO of the assessment (frame, quality flags, model states,
results) is done here and in `store/`; `assess/` only computes.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

import pandas as pd

from sco_monitor import results
from sco_monitor.alerting.commands import deliver
from sco_monitor.alerting.engine import AlertRun, process
from sco_monitor.alerting.heartbeat import enqueue_heartbeat
from sco_monitor.alerting.outbox import DeliveryReport
from sco_monitor.assess.forecast.layer import (
    Forecaster,
    forecast_layer,
    forecast_series,
    start_series_days,
    states_from_rows,
    with_nowcasts,
)
from sco_monitor.assess.forecast.run import ForecastRun
from sco_monitor.assess.model import Assessment, Forecast, QualityFlag
from sco_monitor.assess.pipeline import AssessmentRun, Window, evaluate, point_in_time
from sco_monitor.assess.rows import result_rows
from sco_monitor.collect import CollectSummary, collect_context
from sco_monitor.config import AppConfig
from sco_monitor.context import Context
from sco_monitor.errors import RunFailed, UsageError
from sco_monitor.executor import Executor, make_executor
from sco_monitor.i18n import _, moment
from sco_monitor.logs import get_logger
from sco_monitor.reports.daily import (
    ReportRun,
    load_assessment,
    parse_formats,
    parse_languages,
    write_report,
)
from sco_monitor.store import assessments, model_states
from sco_monitor.timeutil import utcnow

log = get_logger("sco_monitor.cycle")

Status = Literal["ok", "partial", "failed", "skipped"]
StepName = Literal["collect", "assess", "alert", "deliver", "report", "heartbeat"]
#: The whole daily cycle, in order (the heartbeat is a job of its own, never part of a day).
CYCLE: tuple[StepName, ...] = ("collect", "assess", "alert", "deliver", "report")


@dataclass(frozen=True)
class Heartbeat:
    """What the heartbeat step did: the notification queued, or None (disabled, or already this minute)."""

    notification_id: int | None

    def summary(self) -> str:
        return "queued" if self.notification_id is not None else "not queued (disabled or already queued)"


StepResult: TypeAlias = CollectSummary | Assessment | AlertRun | DeliveryReport | ReportRun | Heartbeat


# --- the steps ------------------------------------------------------------------------------------
def step_collect(ctx: Context, series: list[str] | None = None, sources: list[str] | None = None) -> CollectSummary:
    """Collect into the store (enabled series only, or the given series / sources)."""
    return collect_context(ctx, series_ids=series, sources=sources)


def step_assess(ctx: Context, as_of: date, save: bool = True, *,
                forecaster: Forecaster | None = forecast_layer) -> Assessment:
    """Assess what the store knew at as_of: load the frame, quality flags and model states, run the
    (pure) assessment with the forecaster's output, save the model states and, when asked, the results."""
    config = ctx.config
    a = config.settings.assessment
    frame = assessments.load_window(ctx.store, [s.id for s in config.universe.series], as_of, a.history_days)
    quality = [QualityFlag(**row) for row in assessments.load_quality(ctx.store, as_of)]

    def models() -> ForecastRun:
        ids = [s.id for s in forecast_series(config, frame)]
        run = forecaster(frame, config, as_of, states_from_rows(model_states.load_states(ctx.store, ids)))
        model_states.save_states(ctx.store, run.states)
        return run

    forecasts, regime = _forecasts(models) if forecaster is not None else ([], {})
    run_ = evaluate(frame, config, as_of, forecasts=forecasts, regime_prob=regime, quality=quality)
    return _saved(ctx, run_, save, a.save_days)


def _forecasts(models: Callable[[], ForecastRun]) -> tuple[list[Forecast], dict[str, float]]:
    """The forecasts and regime probabilities of a forecaster run; none (logged) when it fails."""
    try:
        run = models()
    except Exception as e:  # noqa: BLE001 - the assessment goes on without forecasts
        log.error("forecaster_failed", error=f"{type(e).__name__}: {e}")
        return [], {}
    return run.forecasts, run.regime_prob


def _saved(ctx: Context, run_: AssessmentRun, save: bool, days: int, **extra: Any) -> Assessment:
    """Save the assessment's results (the indicator and stress rows of the last `days`) when asked, and say so."""
    res = run_.assessment
    if save:
        assessments.save_assessment(ctx.store, res.as_of, result_rows(run_, days),
                                    body=res.model_dump(mode="json"), saved_at=utcnow())
    log.info("assessed", as_of=res.as_of.isoformat(), series=len(run_.indicators.series), rules=len(res.rules),
             warn=sum(r.severity == "warn" for r in res.rules),
             critical=sum(r.severity == "critical" for r in res.rules), saved=save, **extra)
    return res


#: Days of forecasts one replay task covers: a worker extends its model over them without a state
#: round trip; the next days' tasks start as soon as these are in, while this process works through them.
FORECAST_DAYS = 20


class WindowedAssessment:
    """`step_assess` for consecutive days (the replay): the store is read once per calendar year
    and the causal parts of the assessment are computed once per year (`pipeline.Window`); only
    what carries state goes day by day: the forecast models, extended (or re-estimated on their
    calendar) from the previous day's models, kept in memory. The default forecaster's series run
    `FORECAST_DAYS` days per task on the executor (`start_series_days`), the next block started
    while this process assesses the current one; the next year's first block, from that year's frame
    read early, while this process finishes the year, and a year's first block before its pass. Each
    day's assessment and results are those `step_assess` gives on that day (tests/test_assess_window.py,
    tests/replay)."""

    def __init__(self, ctx: Context, days: Sequence[date], *, forecaster: Forecaster | None = forecast_layer) -> None:
        self.days = sorted(days)
        self.forecaster = forecaster
        self._ids = [s.id for s in ctx.config.universe.series]
        self._window: Window | None = None
        self._frame: pd.DataFrame | None = None
        self._end: date | None = None  # the loaded frame's last replay day
        self._ahead: tuple[date, pd.DataFrame, date] | None = None  # a later year's first day, frame and end
        self._states: dict[tuple[str, str], Any] | None = None
        self._previous: date | None = None
        self._executor: Executor | None = None  # one pool for every day, not one per day
        self._runs: dict[date, ForecastRun] = {}  # the current block's per-series runs, by day
        self._next: tuple[list[date], Callable[[], list[ForecastRun]]] | None = None  # the next block, started

    def __call__(self, ctx: Context, as_of: date, save: bool = True) -> Assessment:
        config = ctx.config
        a = config.settings.assessment
        if self._window is None or self._frame is None or self._end is None or as_of > self._end \
                or as_of.year != self._end.year:
            self._switch(ctx, as_of)
        assert self._window is not None and self._frame is not None
        year_frame = self._frame
        # the day's point-in-time copy of the year's frame, made only when something reads it: the
        # series blocks cut each series themselves, so only the panels and a custom forecaster do
        frame = functools.cache(lambda: point_in_time(year_frame, config, as_of))
        quality = [QualityFlag(**row) for row in assessments.load_quality(ctx.store, as_of)]

        def models() -> ForecastRun:
            states = self._model_states(ctx, year_frame)
            if self.forecaster is forecast_layer:
                run = self._series_run(ctx, as_of)
                if a.nowcasts:
                    run = with_nowcasts(run, frame(), config, as_of, states)
            else:
                run = self.forecaster(frame(), config, as_of, states)
            states.update(run.states)
            return run

        forecasts, regime = _forecasts(models) if self.forecaster is not None else ([], {})
        run_ = self._window.day(as_of, forecasts=forecasts, regime_prob=regime, quality=quality)
        # earlier days' rows are already saved (and causal): only the days since the previous one
        days = a.save_days if self._previous is None else max(1, min(a.save_days, (as_of - self._previous).days))
        self._previous = as_of
        return _saved(ctx, run_, save, days, windowed=True)

    def _switch(self, ctx: Context, first: date) -> None:
        """Move to the year of `first`: its frame (read early with its first block, or now), the first
        block started before the year's pass so the workers fit while this process computes it."""
        self._save_states(ctx)
        if self._ahead is not None and self._ahead[0] == first:
            _, self._frame, self._end = self._ahead
        else:
            self._frame, self._end = self._read_year(ctx, first)
            self._next = None
        self._ahead, self._runs = None, {}
        if self._next is None and self.forecaster is forecast_layer:
            try:
                self._next = self._start(ctx.config, self._block(first), self._model_states(ctx, self._frame))
            except Exception:  # noqa: BLE001 - started again (and its failure logged) when the day asks for it
                self._next = None
        self._window = Window.of(self._frame, ctx.config, self._end)

    def _read_year(self, ctx: Context, first: date) -> tuple[pd.DataFrame, date]:
        """The frame a pass over `first`'s year reads (knowable at the year's last replay day) and that day."""
        end = max([d for d in self.days if d.year == first.year and d >= first], default=first)
        a = ctx.config.settings.assessment
        return assessments.load_window(ctx.store, self._ids, first, a.history_days, end=end), end

    def _model_states(self, ctx: Context, frame: pd.DataFrame) -> dict[tuple[str, str], Any]:
        """The models in memory; the stored ones on the first day."""
        if self._states is None:
            ids = [s.id for s in forecast_series(ctx.config, frame)]
            self._states = states_from_rows(model_states.load_states(ctx.store, ids))
        return self._states

    def _series_run(self, ctx: Context, as_of: date) -> ForecastRun:
        """The day's per-series run, from its block (started earlier, or now); collecting a block
        starts the next one from the block's last states, in a later year from that year's frame."""
        config = ctx.config
        if as_of not in self._runs:
            block, pending = (self._next if self._next is not None and self._next[0][0] == as_of
                              else self._start(config, self._block(as_of), self._states or {}))
            self._next = None
            runs = pending()
            self._runs = dict(zip(block, runs, strict=True))
            states = {**(self._states or {}), **runs[-1].states}
            following = self._block_after(block[-1])
            if following:
                self._next = self._start(config, following, states)
            elif (later := self._day_after(block[-1])) is not None:
                self._start_year_ahead(ctx, later, states)
        return self._runs.pop(as_of)

    def _start_year_ahead(self, ctx: Context, first: date, states: Mapping[tuple[str, str], Any]) -> None:
        """Read `first`'s year and start its first block now; what fails here is read and started
        again at the switch (where a failure is that day's to report, not today's)."""
        try:
            frame, end = self._read_year(ctx, first)
            self._next = self._start(ctx.config, self._block(first, end), states, frame=frame, end=end)
            self._ahead = (first, frame, end)
        except Exception:  # noqa: BLE001 - see the docstring
            self._next, self._ahead = None, None

    def _start(self, config: AppConfig, block: list[date], states: Mapping[tuple[str, str], Any], *,
               frame: pd.DataFrame | None = None,
               end: date | None = None) -> tuple[list[date], Callable[[], list[ForecastRun]]]:
        if self._executor is None:
            self._executor = make_executor(config.settings.executor)
        frame = self._frame if frame is None else frame
        end = self._end if end is None else end
        assert frame is not None and end is not None
        # the models no day reads move only in the block after which the states are saved: the one
        # ending on the loaded frame's last day (the year's last replay day)
        return block, start_series_days(frame, config, block, states, self._executor, unread=block[-1] == end)

    def _block(self, first: date, end: date | None = None) -> list[date]:
        """`first` and the replay days after it in its year's frame (up to `end`), up to FORECAST_DAYS."""
        end = self._end if end is None else end
        assert end is not None
        i = bisect.bisect_left(self.days, first)
        rest = self.days[i:] if i < len(self.days) and self.days[i] == first else []
        same = [d for d in rest[:FORECAST_DAYS] if d.year == first.year and d <= end]
        return same or [first]

    def _day_after(self, last: date) -> date | None:
        i = bisect.bisect_right(self.days, last)
        return self.days[i] if i < len(self.days) else None

    def _block_after(self, last: date) -> list[date]:
        nxt = self._day_after(last)
        if nxt is None or self._end is None:
            return []
        return self._block(nxt) if nxt.year == last.year and nxt <= self._end else []

    def _save_states(self, ctx: Context) -> None:
        if self._states:
            model_states.save_states(ctx.store, self._states)

    def close(self, ctx: Context) -> None:
        """Write the models' states (the next run or replay continues from them); stop the pool."""
        self._save_states(ctx)
        if self._executor is not None:
            self._executor.close()
            self._executor = None


@dataclass(frozen=True)
class DayAssessment:
    """The assessment a report is built from, and the sentence saying where it came from."""

    assessment: Assessment
    source: Callable[[], str]  # called in each language of the report


def saved_or_assess(ctx: Context, as_of: date) -> DayAssessment:
    """The day's one assessment: the saved one; when the day has none yet, assess now, save it and say so."""
    saved = assessments.load_saved_assessment(ctx.store, as_of)
    if saved is not None:
        return DayAssessment(Assessment.model_validate(saved.body),
                             lambda: _("Built from the assessment saved at %(at)s.", at=moment(saved.saved_at)))
    log.warning("no_saved_assessment", as_of=as_of.isoformat())
    res, at = step_assess(ctx, as_of, True), utcnow()
    return DayAssessment(res, lambda: _("No assessment was saved for %(day)s yet: it was computed and saved for "
                                        "this report at %(at)s.", day=as_of.isoformat(), at=moment(at)))


def step_alert(ctx: Context, assessment: Assessment, now: datetime) -> AlertRun:
    """Advance the alert state machine and write due notifications to the outbox."""
    return process(ctx.store.engine, ctx.config.settings, assessment, now)


def step_deliver(ctx: Context, now: datetime | None = None,
                 clock: Callable[[], datetime] | None = None) -> DeliveryReport:
    """Deliver due notifications from the outbox on `clock` (read at each claim, attempt and record);
    `now` freezes it (the replay's simulated day)."""
    return deliver(ctx, now, clock)


def step_report(ctx: Context, assessment: Assessment, now: datetime,
                track_record: Mapping[str, Any] | None = None, **options: Any) -> ReportRun:
    """Write the daily report for assessment.as_of and queue its digest (options: formats, out_dir,
    digest, languages, source: where the assessment came from)."""
    return write_report(ctx, assessment, now, track_record=dict(track_record) if track_record else None,
                        mistakes=_mistakes(ctx, assessment.as_of), **options)


def _mistakes(ctx: Context, as_of: date) -> dict[str, Any] | None:
    """The report's "Mistakes and their reasons"; None (the section says it is unavailable) when it fails."""
    if ctx.mistakes is None:
        return None
    try:
        return ctx.mistakes(ctx, as_of)
    except Exception as e:  # noqa: BLE001 - the report goes on without the section
        log.error("mistakes_failed", as_of=as_of.isoformat(), error=f"{type(e).__name__}: {e}")
        return None


def step_heartbeat(ctx: Context, now: datetime) -> Heartbeat:
    """Queue the watchdog notification that proves the daemon is alive."""
    return Heartbeat(enqueue_heartbeat(ctx, now))


# --- one day ---------------------------------------------------------------------------------------
@dataclass
class StepOutcome:
    """One step of a day: its status, a readable detail line, its result (or the error that stopped it)."""

    step: str
    status: Status
    detail: str = ""
    result: StepResult | None = None
    error: BaseException | None = field(default=None, repr=False)

    def line(self) -> str:
        return f"{self.step}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class CycleResult:
    """What `run_day` did, step by step."""

    as_of: date
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[StepOutcome]:
        return [s for s in self.steps if s.status == "failed"]

    @property
    def problems(self) -> list[StepOutcome]:
        """Steps that lost work: failed, or partial (a step's result says so)."""
        return [s for s in self.steps if s.status in ("failed", "partial")]

    @property
    def status(self) -> Status:
        """failed when every step that ran failed, partial when some did, else ok."""
        ran = [s for s in self.steps if s.status != "skipped"]
        bad = [s for s in ran if s.status in ("failed", "partial")]
        if not bad:
            return "ok"
        return "failed" if all(s.status == "failed" for s in ran) else "partial"

    def outcome(self, step: str) -> StepOutcome | None:
        return next((s for s in self.steps if s.step == step), None)

    def result(self, step: str) -> StepResult | None:
        out = self.outcome(step)
        return out.result if out is not None else None

    def summary(self) -> str:
        """The line a daemon job's run records as its detail: each step's line."""
        return "; ".join(s.line() for s in self.steps)

    def problem(self) -> str | None:
        """What the partial or failed steps lost (each result's own account), for job_runs.error."""
        parts = []
        for s in self.problems:
            explain = getattr(s.result, "problem", None)
            parts.append(f"{s.step}: {explain() if callable(explain) else s.detail}")
        return "; ".join(parts) or None

    def lines(self) -> list[str]:
        return [f"cycle as of {self.as_of}"] + [s.line() for s in self.steps]

    def raise_for_failure(self) -> None:
        """RunFailed naming the failed steps (a daemon job's run is then recorded as failed)."""
        if self.failed:
            raise RunFailed("; ".join(s.line() for s in self.failed))

    def __str__(self) -> str:
        return "; ".join(self.lines())


def _describe(result: StepResult) -> str:
    summary = getattr(result, "summary", None)
    return summary() if callable(summary) else ""


def result_status(result: object) -> Status:
    """A step's own verdict on its result: a collection that lost series is partial or failed, never ok."""
    status = getattr(result, "status", None)
    return status if status in ("partial", "failed") else "ok"


def _step(out: CycleResult, name: str, fn: Callable[..., StepResult], *args: Any, **kwargs: Any) -> Any:
    """Run one step: a failure is logged and recorded, never raised, so independent steps still run."""
    try:
        result = fn(*args, **kwargs)
    except (RunFailed, UsageError) as e:  # an expected failure with its own clear line: no traceback
        log.error("step_failed", step=name, error=str(e))
        out.steps.append(StepOutcome(name, "failed", str(e), error=e))
        return None
    except Exception as e:  # noqa: BLE001 - one failing step never stops the independent ones
        log.exception("step_failed", step=name)
        out.steps.append(StepOutcome(name, "failed", f"{type(e).__name__}: {e}", error=e))
        return None
    status = result_status(result)
    out.steps.append(StepOutcome(name, status, _describe(result), result))
    (log.info if status == "ok" else log.warning)("step_done", step=name, status=status)
    return result


def _needs_assessment(out: CycleResult, name: str) -> None:
    out.steps.append(StepOutcome(name, "skipped", "needs the assessment"))


def local_today(ctx: Context, now: datetime) -> date:
    """The date of `now` in the configured timezone: the as_of of a run without one."""
    return now.astimezone(ZoneInfo(ctx.config.settings.timezone)).date()


def run_day(
    ctx: Context,
    as_of: date | None = None,
    now: datetime | None = None,
    *,
    steps: Collection[StepName] = CYCLE,
    series: list[str] | None = None,
    sources: list[str] | None = None,
    save: bool = True,
    record_history: bool = False,
    track_record: Callable[[], Mapping[str, Any] | None] | None = None,
    clock: Callable[[], datetime] | None = None,
    assess: Callable[[Context, date, bool], Assessment] | None = None,
) -> CycleResult:
    """Run the asked steps of one day, in cycle order, at `now` (default: the clock) for `as_of`
    (default: now's date in the configured timezone).

    Alerting and the report need the assessment and are skipped without it; delivery runs
    regardless (the outbox may hold older notifications). `save` keeps the assessment's results;
    `record_history` copies the alerts pending or firing after alerting into the alert history
    (the replay's record); `track_record` gives the report's track-record section, computed right
    before the report. Delivery reads `clock` (default: the real one; a given `now` freezes it) at
    each claim, attempt and record, never the day's start. `assess` replaces `step_assess` (the
    replay's `WindowedAssessment`)."""
    clock = clock or ((lambda: now) if now is not None else utcnow)
    now = clock()
    as_of = as_of or local_today(ctx, now)
    unknown = set(steps) - {*CYCLE, "heartbeat"}
    if unknown:
        raise UsageError(f"unknown step {', '.join(sorted(unknown))}; expected: {', '.join(CYCLE)}, heartbeat")
    out = CycleResult(as_of)
    if "collect" in steps:
        _step(out, "collect", step_collect, ctx, series=series, sources=sources)
    assessment: Assessment | None = None
    if "assess" in steps:
        assessment = _step(out, "assess", assess or step_assess, ctx, as_of, save)
    if "alert" in steps:
        if assessment is None:
            _needs_assessment(out, "alert")
        elif _step(out, "alert", step_alert, ctx, assessment, now) is not None and record_history:
            results.record_alert_history(ctx.store, as_of)
    if "deliver" in steps:
        _step(out, "deliver", step_deliver, ctx, None, clock)
    if "report" in steps:
        if "assess" not in steps:  # the report of a day reads that day's one saved assessment
            day = _step(out, "load assessment", saved_or_assess, ctx, as_of)
            assessment, source = (day.assessment, day.source) if day is not None else (None, str)
        else:
            at = utcnow()
            source = ((lambda: _("Built from the assessment saved at %(at)s.", at=moment(at))) if save else
                      (lambda: _("Built from an assessment computed at %(at)s and not saved.", at=moment(at))))
        if assessment is None:
            _needs_assessment(out, "report")
        else:
            _step(out, "report", lambda: step_report(ctx, assessment, now, track_record() if track_record else None,
                                                     source=source))
    if "heartbeat" in steps:
        _step(out, "heartbeat", step_heartbeat, ctx, now)
    return out


def run_cycle(ctx: Context, as_of: date | None = None, collect: bool = True, now: datetime | None = None) -> CycleResult:
    """The CLI `cycle`: the whole day, once; `collect=False` leaves the store as it is."""
    out = run_day(ctx, as_of, now, steps=CYCLE if collect else CYCLE[1:], record_history=True)
    if not collect:
        out.steps.insert(0, StepOutcome("collect", "skipped", "--no-collect"))
    return out


def report_command(
    ctx: Context,
    as_of: str | None,
    formats: str | None,
    out_dir: Path | None,
    assessment_path: Path | None,
    digest: bool,
    languages: str | None = None,
) -> ReportRun:
    """`sco-monitor report`: the report of the day's saved assessment (assessed and saved when the day has
    none yet), or of an assessment file."""
    names = parse_formats(formats, list(ctx.config.settings.report.formats))
    langs = parse_languages(languages, list(ctx.config.settings.report.languages))
    now = utcnow()
    if assessment_path is not None:
        assessment = load_assessment(assessment_path)
        if as_of and assessment.as_of.isoformat() != as_of:
            raise UsageError(f"--as-of {as_of} differs from the assessment's as_of {assessment.as_of}")
    else:
        try:
            day = date.fromisoformat(as_of) if as_of else local_today(ctx, now)
        except ValueError:
            raise UsageError(f"--as-of: expected a date YYYY-MM-DD, got {as_of!r}") from None
        found = saved_or_assess(ctx, day)
        return step_report(ctx, found.assessment, now, formats=names, out_dir=out_dir, digest=digest,
                           languages=langs, source=found.source)
    def source() -> str:
        return _("Built from the assessment file %(path)s.", path=str(assessment_path))

    return step_report(ctx, assessment, now, formats=names, out_dir=out_dir, digest=digest, languages=langs,
                       source=source)
