"""`run_day`: the DAG run's data window -> the partition day it writes, as literal expected values for every way
of starting a run (scheduled, manual, REST-triggered, backfill), its boundaries (the day that has just ended,
today, the first day the DAG processes) and the exact refusals. In-process and fast (mutation testing)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ingest.runs import EARLIEST, RunRefused, run_day

NOW = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE = timezone(timedelta(hours=-5))


@pytest.fixture(autouse=True, params=["UTC", "America/New_York", "Pacific/Kiritimati"])
def local_zone(request, monkeypatch):
    """The machine's own zone never matters: every day is a UTC day (a worker may run in any zone)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("logical", "run_after", "now", "day"),
    [
        # scheduled: data interval [2026-12-03, 2026-12-04), made at 2026-12-04 00:00 -> the day that just ended
        (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC),
         datetime(2026, 12, 4, 0, 0, 5, tzinfo=UTC), date(2026, 12, 3)),
        # the same scheduled run picked up late in the day
        (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC), NOW, date(2026, 12, 3)),
        # manual / UI / REST with a logical date: that day, whenever it was triggered
        (datetime(2023, 4, 28, tzinfo=UTC), NOW, NOW, date(2023, 4, 28)),
        (datetime(2023, 4, 28, 23, 59, 59, tzinfo=UTC), NOW, NOW, date(2023, 4, 28)),
        # a REST logical date written in another zone: its UTC day
        (datetime(2023, 4, 29, 1, 30, tzinfo=PLUS_TWO), NOW, NOW, date(2023, 4, 28)),
        (datetime(2023, 4, 28, 20, 0, tzinfo=MINUS_FIVE), NOW, NOW, date(2023, 4, 29)),
        # backfill: each run's logical date is its day; run_after is the end of its data interval
        (datetime(2023, 4, 28, tzinfo=UTC), datetime(2023, 4, 29, tzinfo=UTC), NOW, date(2023, 4, 28)),
        (datetime(2023, 4, 30, tzinfo=UTC), datetime(2023, 5, 1, tzinfo=UTC), NOW, date(2023, 4, 30)),
        # manual / REST without a logical date: the UTC day before it was triggered
        (None, NOW, NOW, date(2026, 12, 3)),
        (None, datetime(2026, 12, 4, 0, 0, tzinfo=UTC), datetime(2026, 12, 4, 0, 1, tzinfo=UTC), date(2026, 12, 3)),
        # triggered at 00:30 in UTC+2 is 22:30 UTC the evening before: the day before *that*
        (None, datetime(2026, 12, 4, 0, 30, tzinfo=PLUS_TWO), NOW, date(2026, 12, 2)),
        (None, datetime(2026, 12, 3, 21, 0, tzinfo=MINUS_FIVE), NOW, date(2026, 12, 3)),
        # the first day the DAG processes
        (datetime(1990, 1, 1, tzinfo=UTC), NOW, NOW, date(1990, 1, 1)),
        (None, datetime(1990, 1, 2, 8, tzinfo=UTC), NOW, date(1990, 1, 1)),
    ],
)  # fmt: skip
def test_the_data_window_names_the_partition_day(logical, run_after, now, day):
    assert run_day(logical, run_after, now) == day


def test_the_day_that_has_just_ended_is_accepted_and_today_is_not():
    midnight = datetime(2026, 12, 4, tzinfo=UTC)
    assert run_day(datetime(2026, 12, 3, 23, 59, tzinfo=UTC), midnight, midnight) == date(2026, 12, 3)
    with pytest.raises(RunRefused):
        run_day(midnight, midnight, midnight)
    with pytest.raises(RunRefused):
        run_day(datetime(2026, 12, 3, tzinfo=UTC), midnight, midnight - timedelta(seconds=1))
    # `now` in another zone is read in UTC: 2026-12-04 01:00 +02:00 is 2026-12-03 23:00 UTC
    with pytest.raises(RunRefused):
        run_day(datetime(2026, 12, 3, tzinfo=UTC), midnight, datetime(2026, 12, 4, 1, 0, tzinfo=PLUS_TWO))
    assert run_day(datetime(2026, 12, 3, tzinfo=UTC), midnight, datetime(2026, 12, 3, 19, 0, tzinfo=MINUS_FIVE)) == (
        date(2026, 12, 3)
    )  # 2026-12-04 00:00 UTC


def test_no_logical_date_triggered_just_after_midnight_is_yesterday():
    after = datetime(2026, 12, 4, 0, 0, 1, tzinfo=UTC)
    assert run_day(None, after, after) == date(2026, 12, 3)


def test_refusals_say_exactly_which_day_and_what_to_do():
    with pytest.raises(RunRefused) as refused:
        run_day(datetime(2026, 12, 4, 6, tzinfo=PLUS_TWO), NOW, NOW)
    assert str(refused.value) == (
        "this run is for dt=2026-12-04 (its logical date 2026-12-04T04:00:00+00:00), which has not ended yet (it ends "
        "at 2026-12-05T00:00:00Z): a run processes one complete UTC day. Trigger it with a past logical date, or with "
        "none for yesterday (dt=2026-12-03)"
    )
    with pytest.raises(RunRefused) as refused:
        run_day(None, datetime(2026, 12, 6, 3, tzinfo=UTC), NOW)
    assert str(refused.value) == (
        "this run is for dt=2026-12-05 (no logical date: the day before it was triggered "
        "(2026-12-06T03:00:00+00:00)), which has not ended yet (it ends at 2026-12-06T00:00:00Z): a run processes "
        "one complete UTC day. Trigger it with a past logical date, or with none for yesterday (dt=2026-12-03)"
    )
    with pytest.raises(RunRefused) as refused:
        run_day(datetime(1989, 12, 31, 23, tzinfo=UTC), NOW, NOW)
    assert str(refused.value) == (
        "this run is for dt=1989-12-31 (its logical date 1989-12-31T23:00:00+00:00): news_daily processes days "
        "from 1990-01-01 on"
    )
    with pytest.raises(RunRefused) as refused:
        run_day(None, datetime(1990, 1, 1, 12, tzinfo=PLUS_TWO), NOW)
    assert str(refused.value) == (
        "this run is for dt=1989-12-31 (no logical date: the day before it was triggered "
        "(1990-01-01T10:00:00+00:00)): news_daily processes days from 1990-01-01 on"
    )
    assert EARLIEST == date(1990, 1, 1)
