"""Cron as users write it, local fire times across DST changes, and the missed-run arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from sco_monitor.app import (
    load_app_config as load_config,  # every name checked, as the CLI loads it
)
from sco_monitor.config import ConfigError
from sco_monitor.config.cron import (
    cron_trigger,
    first_fire_after,
    latest_fire,
    next_fire,
    parse_cron,
)

BERLIN = ZoneInfo("Europe/Berlin")
ALMATY = ZoneInfo("Asia/Almaty")


def fires(expr: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    trigger = cron_trigger(expr, tz)
    out, t = [], next_fire(trigger, start)
    while t is not None and t < end:
        out.append(t)
        t = first_fire_after(trigger, t)
    return out


def test_daily_job_fires_at_the_same_local_time_across_both_berlin_dst_changes() -> None:
    spring = fires("30 6 * * *", BERLIN, datetime(2025, 3, 28, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [t.strftime("%m-%d %H:%M %z") for t in spring] == [
        "03-28 06:30 +0100", "03-29 06:30 +0100", "03-30 06:30 +0200", "03-31 06:30 +0200"]
    assert [t.astimezone(UTC).hour for t in spring] == [5, 5, 4, 4]
    autumn = fires("30 6 * * *", BERLIN, datetime(2025, 10, 24, tzinfo=UTC), datetime(2025, 10, 28, tzinfo=UTC))
    assert [t.strftime("%m-%d %H:%M %z") for t in autumn] == [
        "10-24 06:30 +0200", "10-25 06:30 +0200", "10-26 06:30 +0100", "10-27 06:30 +0100"]


def test_a_daily_job_in_the_repeated_or_skipped_hour_fires_exactly_once_that_day() -> None:
    # 02:30 happens twice on 2025-10-26 in Berlin: the job runs at the first one only
    autumn = fires("30 2 * * *", BERLIN, datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 28, tzinfo=UTC))
    assert [t.isoformat() for t in autumn] == [
        "2025-10-25T02:30:00+02:00", "2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"]
    # 02:30 does not exist on 2025-03-30: the job runs once, an hour of wall clock later
    spring = fires("30 2 * * *", BERLIN, datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [t.isoformat() for t in spring] == [
        "2025-03-29T02:30:00+01:00", "2025-03-30T03:30:00+02:00", "2025-03-31T02:30:00+02:00"]


def test_an_hourly_job_follows_real_hours_through_both_changes() -> None:
    day = [datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 22, tzinfo=UTC)]
    assert len(fires("0 * * * *", BERLIN, *day)) == 23  # local 2025-03-30 has 23 hours
    day = [datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC)]
    hourly = fires("0 * * * *", BERLIN, *day)
    assert len(hourly) == 25 and len({t.astimezone(UTC) for t in hourly}) == 25  # and 2025-10-26 has 25


def test_almaty_has_no_dst_so_utc_fire_times_never_shift() -> None:
    year = fires("15 7 * * tue-sat", ALMATY, datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert {t.utcoffset() for t in year} == {timedelta(hours=5)}
    assert {(t.astimezone(UTC).hour, t.astimezone(UTC).minute) for t in year} == {(2, 15)}
    assert {t.strftime("%a") for t in year} == {"Tue", "Wed", "Thu", "Fri", "Sat"}


def test_weekday_numbers_follow_crontab_where_0_and_7_are_sunday() -> None:
    start, end = datetime(2025, 6, 2, tzinfo=UTC), datetime(2025, 6, 9, tzinfo=UTC)  # Monday to Monday
    assert [t.strftime("%a") for t in fires("0 8 * * 1-5", ALMATY, start, end)] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert [t.strftime("%a") for t in fires("0 8 * * 0", ALMATY, start, end)] == ["Sun"]
    assert [t.strftime("%a") for t in fires("0 8 * * 7", ALMATY, start, end)] == ["Sun"]
    assert [t.strftime("%a") for t in fires("0 8 * * sat-sun", ALMATY, start, end)] == ["Sat", "Sun"]
    assert [t.strftime("%a") for t in fires("0 8 * * */2", ALMATY, start, end)] == ["Tue", "Thu", "Sat", "Sun"]
    assert [t.strftime("%a") for t in fires("@weekly", ALMATY, start, end)] == ["Sun"]


def test_six_fields_put_seconds_first() -> None:
    start = datetime(2025, 6, 2, 10, 0, 0, tzinfo=UTC)
    got = fires("*/15 * * * * *", ALMATY, start, start + timedelta(minutes=1))
    assert [t.astimezone(UTC).second for t in got] == [0, 15, 30, 45]
    assert parse_cron("5 4 3 * * *")["second"] == "5"


@pytest.mark.parametrize("expr, message", [
    ("* * *", "expected 5 cron fields (minute hour day month weekday) or 6 with seconds first, got 3"),
    ("0 8 1 * mon", "restricts both the day of month and the weekday"),
    ("61 * * * *", "invalid cron '61 * * * *'"),
    ("0 8 * * 9", "unknown weekday '9'"),
    ("0 8 * * fri-mon", "weekday range 'fri-mon' runs backwards"),
])
def test_bad_cron_is_a_config_error_naming_the_schedule(config_dir: Path, expr: str, message: str) -> None:
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["schedules"] = {"deliver": {"cron": expr}}
    main.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(main)
    assert str(info.value).startswith("sco-monitor.yaml: schedules.deliver.cron: Value error, ")
    assert message in str(info.value)


def test_unknown_job_is_a_config_error(config_dir: Path) -> None:
    main = config_dir / "sco-monitor.yaml"
    data = yaml.safe_load(main.read_text())
    data["schedules"] = {"nightly": {"cron": "0 2 * * *"}, "deliver": {"cron": "* * * * *"}}
    main.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(main)
    assert str(info.value).startswith("sco-monitor.yaml: schedules.nightly: unknown job 'nightly'; expected one of: ")
    assert "collect_market" in str(info.value) and "or package.module:function" in str(info.value)


def test_latest_fire_is_the_last_missed_one_and_respects_the_window() -> None:
    every_minute = cron_trigger("* * * * *", ALMATY)
    now = datetime(2025, 6, 1, 12, 0, 30, tzinfo=UTC)
    assert latest_fire(every_minute, now, now - timedelta(days=7)) == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert latest_fire(every_minute, now, datetime(2025, 6, 1, 12, 0, tzinfo=UTC)) is None  # already answered
    market = cron_trigger("30 6 * * tue-sat", ALMATY)
    monday = datetime(2025, 6, 2, 9, tzinfo=UTC)  # Monday afternoon in Almaty; last fire Saturday 06:30
    assert latest_fire(market, monday, monday - timedelta(days=30)) == datetime(2025, 5, 31, 1, 30, tzinfo=UTC)
    assert latest_fire(market, monday, monday - timedelta(days=1)) is None  # outside catch_up
