"""The replay driver: calendar, simulated clock, replay settings and the forward-only alert clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sco_monitor.config import load_config
from sco_monitor.context import Context
from sco_monitor.errors import UsageError
from sco_monitor.replay.driver import (
    REPLAY_RECEIVER,
    business_days,
    copy_history,
    done_days,
    mark_done,
    plan,
    replay_context,
    replay_settings,
    report_days,
    simulated_now,
)
from sco_monitor.store import schema as t
from sco_monitor.store.upsert import upsert


def test_business_days_and_report_schedule() -> None:
    days = business_days(date(2008, 9, 12), date(2008, 9, 22))
    assert days == [date(2008, 9, d) for d in (12, 15, 16, 17, 18, 19, 22)]
    assert report_days(days, 1) == set(days)
    assert report_days(days, 5) == {date(2008, 9, 12), date(2008, 9, 19), date(2008, 9, 22)}  # and the last day
    with pytest.raises(UsageError, match="after --to"):
        business_days(date(2008, 9, 22), date(2008, 9, 12))
    with pytest.raises(UsageError, match="no business days"):
        business_days(date(2008, 9, 13), date(2008, 9, 14))
    with pytest.raises(UsageError, match="positive"):
        report_days(days, 0)


def test_simulated_clock_is_the_report_time_in_the_configured_zone(config_dir: Path) -> None:
    settings = load_config(config_dir / "sco-monitor.yaml").settings  # Asia/Almaty, report cron 0 8 * * tue-sat
    assert simulated_now(settings, date(2008, 9, 15)) == datetime(2008, 9, 15, 2, 0, tzinfo=UTC)  # 08:00 UTC+6
    summer = settings.model_copy(update={"timezone": "Europe/Berlin", "schedules": {
        **settings.schedules, "report": settings.schedules["report"].model_copy(update={"cron": "30 7 * * *"})}})
    assert simulated_now(summer, date(2008, 7, 1)) == datetime(2008, 7, 1, 5, 30, tzinfo=UTC)  # CEST
    assert simulated_now(summer, date(2008, 12, 1)) == datetime(2008, 12, 1, 6, 30, tzinfo=UTC)  # CET
    plain = settings.model_copy(update={"schedules": {}})
    assert simulated_now(plain, date(2008, 9, 15)).astimezone(UTC).hour == 2  # 08:00 local by default


def test_replay_settings_send_every_alert_to_one_file_receiver(config_dir: Path, tmp_path: Path) -> None:
    settings = load_config(config_dir / "sco-monitor.yaml").settings  # receivers: log (file) and hook (webhook)
    out = tmp_path / "out"
    r = replay_settings(settings, out)
    assert [x.name for x in r.receivers] == [REPLAY_RECEIVER]
    assert r.receivers[0].file.path == str(out / "alerts.jsonl")
    assert r.route.receivers() == [REPLAY_RECEIVER, REPLAY_RECEIVER]  # the critical webhook route redirected too
    assert r.route.routes[0].match == {"severity": "critical"} and r.route.group_by == ["category", "country"]
    assert r.alerting.heartbeat.receiver is None and r.report.digest_receivers == []
    assert r.report.out_dir == str(out / "reports")
    assert settings.receivers[1].webhook is not None  # the original is untouched
    real = replay_settings(settings, out, "real")
    assert [x.name for x in real.receivers] == ["log", "hook"] and real.report.out_dir == str(out / "reports")
    with pytest.raises(UsageError, match="file or real"):
        replay_settings(settings, out, "smtp")  # type: ignore[arg-type]


def test_replay_context_passes_the_config_cross_checks(ctx: Context, tmp_path: Path) -> None:
    from sco_monitor.config.crossref import check

    rctx = replay_context(ctx, tmp_path)
    c = rctx.config
    check(c.path, c.settings, c.universe_path, c.universe, c.path, c.rules, c.path, c.playbooks)
    assert rctx.store is ctx.store and c.settings.receivers[0].name == REPLAY_RECEIVER
    assert dataclasses.replace(c, settings=ctx.config.settings) == ctx.config


def _alert(day: date) -> dict:
    return {"fingerprint": "f1", "rule": "spx_drawdown", "labels": {"country": "USA"}, "state": "firing",
            "severity": "warn", "value": -0.12, "threshold": -0.1, "summary": "", "pending_count": 0,
            "starts_at": datetime(2008, 1, 2, tzinfo=UTC), "ends_at": None,
            "updated_at": datetime(2008, 1, 2, tzinfo=UTC), "last_eval_date": day}


@pytest.mark.parametrize("alerted", [2, 3], ids=["after-a-clean-stop", "after-a-failure-mid-day"])
def test_resume_runs_the_days_not_done(ctx: Context, alerted: int) -> None:
    """Days 0-2 are done; the alert state is at day 2, or at day 3 when day 3 was assessed and
    alerted before its report failed. Either way day 3 is the next to run."""
    days = business_days(date(2008, 1, 1), date(2008, 1, 10))
    for d in days[:3]:
        mark_done(ctx.store, d, "r1", reported=False)
    with ctx.store.engine.begin() as conn:
        upsert(conn, t.alerts, [_alert(days[alerted])])
    assert plan(ctx.store, days, force=False, alerts_file=None) == days[3:]
    assert done_days(ctx.store) == set(days[:3])
    assert plan(ctx.store, days, force=True, alerts_file=None) == days  # the store is the replay's own


def test_the_alert_state_never_goes_back_in_time(ctx: Context, tmp_path: Path) -> None:
    days = business_days(date(2008, 1, 1), date(2008, 1, 10))
    for d in days[3:6]:
        mark_done(ctx.store, d, "r1", reported=False)
    with ctx.store.engine.begin() as conn:
        upsert(conn, t.alerts, [_alert(days[5])])
    with pytest.raises(UsageError, match="cannot go back in time. Use --force"):
        plan(ctx.store, days, force=False, alerts_file=None)
    alerts_file = tmp_path / "alerts.jsonl"
    alerts_file.write_text('{"old": true}\n')
    assert plan(ctx.store, days, force=True, alerts_file=alerts_file) == days
    assert done_days(ctx.store) == set()  # a clean start
    with ctx.store.engine.connect() as conn:
        assert conn.execute(t.alerts.select()).all() == []
    assert not alerts_file.exists() and len(list(tmp_path.glob("alerts.*.jsonl"))) == 1  # moved aside, not lost


def test_live_alert_state_is_never_rewritten(ctx: Context) -> None:
    """A store the daemon works on: alerts evaluated up to 2024, no replay. Replaying 2008 is refused."""
    with ctx.store.engine.begin() as conn:
        upsert(conn, t.alerts, [_alert(date(2024, 5, 31))])
    days = business_days(date(2008, 1, 1), date(2008, 1, 10))
    for force in (False, True):
        with pytest.raises(UsageError, match="live alert state up to 2024-05-31.*--into"):
            plan(ctx.store, days, force=force, alerts_file=None)
    with ctx.store.engine.connect() as conn:
        assert len(conn.execute(t.alerts.select()).all()) == 1


def test_into_copies_the_history_to_another_store(ctx: Context, tmp_path: Path) -> None:
    target = copy_history(ctx, f"sqlite:///{tmp_path / 'copy.db'}")
    a = ctx.store.load_long(["eq.us.spx", "fx.usd_rub"])
    b = target.load_long(["eq.us.spx", "fx.usd_rub"])
    assert len(b) == len(a) > 1000 and b["value"].sum() == pytest.approx(a["value"].sum())
    target.dispose()


@pytest.fixture
def logging_restored():
    """The tests below configure logging for real; the rest of the session gets the defaults back."""
    import structlog

    yield
    structlog.reset_defaults()


def test_progress_bar_on_a_terminal_keeps_log_lines_above_it(logging_restored) -> None:
    import io

    import structlog
    from rich.console import Console

    from sco_monitor.logs import configure, get_logger
    from sco_monitor.replay.progress import progress

    configure("console", "info")
    before = structlog.get_config()["logger_factory"]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    days = business_days(date(2008, 9, 1), date(2008, 9, 5))
    with progress(len(days), console=console) as advance:
        for d in days:
            get_logger("test").info("assessed", day=str(d))
            advance(d)
    text = out.getvalue()
    assert "assessed" in text and "2008-09-05" in text and "5/5" in text  # the log lines went through rich
    assert structlog.get_config()["logger_factory"] is before  # and logging is back as it was


def test_progress_without_a_terminal_logs_every_5_percent(logging_restored, capsys) -> None:
    import io
    import json

    from rich.console import Console

    from sco_monitor.logs import configure
    from sco_monitor.replay.progress import progress

    configure("json", "info")  # writes to the captured stderr
    days = business_days(date(2008, 1, 1), date(2008, 12, 31))
    with progress(len(days), console=Console(file=io.StringIO())) as advance:
        for d in days:
            advance(d)
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if '"replay_progress"' in x]
    done = [x["done"] for x in lines]
    assert len(done) <= 20 and done[-1] == len(days) == 262 and lines[-1]["day"] == "2008-12-31"
    assert max(b - a for a, b in zip([0, *done], done)) <= 14  # every 5% of the 262 days


@pytest.mark.parametrize(("cron", "local"), [("@daily", (0, 0, 0)), ("15 30 7 * * *", (7, 30, 15))],
                         ids=["macro", "six-fields"])
def test_a_replay_runs_on_any_report_cron_the_daemon_accepts(
        config_dir: Path, store, real_prices, tmp_path: Path, cron: str, local: tuple[int, int, int]) -> None:
    """The replay's clock reads the report schedule with the daemon's cron parser: @daily and
    6-field crons (seconds first) are valid config, so they replay too, at their own time of day."""
    from zoneinfo import ZoneInfo

    import pandas as pd
    import yaml
    from sqlalchemy import select

    from sco_monitor.replay.driver import run_replay

    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data.setdefault("schedules", {})["report"] = {"cron": cron}
    main.write_text(yaml.safe_dump(data, sort_keys=False))
    config = load_config(main)
    store.sync_series(config.universe.series)
    store.upsert_observations(pd.concat(
        [pd.DataFrame({"series_id": sid, "date": s.index, "value": s.to_numpy()}) for sid, s in real_prices.items()]))
    ctx = Context.from_parts(config, store=store, run_id="test")
    summary = run_replay(ctx, date(2008, 9, 15), date(2008, 9, 16), tmp_path / "out", progress=False)
    assert summary.ran == [date(2008, 9, 15), date(2008, 9, 16)] and summary.reports == 2
    with store.engine.connect() as conn:
        stamps = sorted(set(conn.execute(select(t.reports.c.as_of, t.reports.c.generated_at)).all()))
    tz = ZoneInfo(config.settings.timezone)
    assert [(d, g.astimezone(UTC)) for d, g in stamps] == [
        (d, datetime(d.year, d.month, d.day, *local, tzinfo=tz).astimezone(UTC)) for d in summary.ran]


def test_windows_and_runs_of_consecutive_business_days() -> None:
    from sco_monitor.replay.driver import runs_of, window_days

    days = [date(2008, 9, 11), date(2008, 9, 12), date(2008, 9, 15), date(2009, 3, 2)]
    assert runs_of(days) == [(date(2008, 9, 11), date(2008, 9, 15)), (date(2009, 3, 2), date(2009, 3, 2))]
    # only business days between start and end, once each, sorted
    assert window_days(date(2008, 9, 12), date(2009, 12, 31), [date(2009, 3, 2), date(2008, 9, 13), *days]) == days[1:]
    with pytest.raises(UsageError, match="no business days to replay between 2010-01-01 and 2010-01-31"):
        window_days(date(2010, 1, 1), date(2010, 1, 31), days)


def test_a_replay_over_two_windows_runs_their_days_only(config_dir: Path, store, real_prices, tmp_path: Path) -> None:
    """Several windows in one run (the demo's episodes): the days between them are never assessed,
    alerted or reported, and the summary names the windows."""
    import pandas as pd
    from sqlalchemy import func, select

    from sco_monitor.replay.driver import run_replay

    config = load_config(config_dir / "sco-monitor.yaml")
    store.sync_series(config.universe.series)
    store.upsert_observations(pd.concat(
        [pd.DataFrame({"series_id": sid, "date": s.index, "value": s.to_numpy()}) for sid, s in real_prices.items()]))
    ctx = Context.from_parts(config, store=store, run_id="test")
    days = [date(2008, 9, 15), date(2008, 9, 16), date(2008, 10, 9), date(2008, 10, 10)]
    summary = run_replay(ctx, days[0], days[-1], tmp_path / "out", progress=False, days=days, report_every=2)
    assert summary.ran == days and summary.days == 4 and summary.reports == 3
    assert summary.lines()[0].startswith("replayed 4 of 4 business days in 2 windows "
                                         "(2008-09-15 .. 2008-09-16, 2008-10-09 .. 2008-10-10)")
    assert done_days(store) == set(days)
    with store.engine.connect() as conn:
        evaluated = {r[0] for r in conn.execute(select(t.rule_evaluations.c.as_of).distinct()).all()}
        reported = {r[0] for r in conn.execute(select(t.reports.c.as_of).distinct()).all()}
        history = conn.execute(select(func.count()).select_from(t.alert_history)
                               .where(t.alert_history.c.date.between(date(2008, 9, 17), date(2008, 10, 8)))).scalar()
    assert evaluated == set(days) and reported == {days[0], days[2], days[3]} and history == 0
