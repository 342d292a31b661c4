"""Which day each way of starting news_daily processes (the README's table, frozen), and the runs refused before
any task does work: a day not over yet, an unknown source, a bad setting, re-cleaning what was never crawled."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ingest.runs import EARLIEST, RunRefused, run_day
from tests.readme import README

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "news_daily.py"
NOW = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # the wall clock of these examples
D = datetime(2023, 4, 28, tzinfo=UTC)


def _scheduled() -> tuple[datetime, datetime]:
    """(logical date, run after) of the scheduled run for the day that ended at NOW's midnight, as Airflow's
    timetable makes it."""
    from airflow.timetables.base import DataInterval, TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable

    timetable = CronDataIntervalTimetable("0 0 * * *", timezone="UTC")
    before = DataInterval(datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))  # the run before
    info = timetable.next_dagrun_info(
        last_automated_data_interval=before, restriction=TimeRestriction(earliest=None, latest=None, catchup=True)
    )
    return info.logical_date, info.run_after


# The first column of the README's table -> (logical date, run_after) as Airflow 3.3 gives the run it makes.
HOW = {
    "the schedule, at 00:00 UTC each day": _scheduled,
    "`airflow backfill create --dag-id news_daily --from-date D1 --to-date D2`": lambda: (D, D + timedelta(days=1)),
    "the UI's Trigger form or the REST API (`POST /api/v2/dags/news_daily/dagRuns`) with a logical date D": lambda: (
        D, NOW),
    "the same without a logical date (`\"logical_date\": null`)": lambda: (None, NOW),
    "`airflow dags trigger news_daily --logical-date D`": lambda: (D, NOW),
    "`airflow dags trigger news_daily`": lambda: (None, NOW),
    "`airflow dags test news_daily D` (what `make demo` runs)": lambda: (D, NOW),
}  # fmt: skip
# The third column, for D = 2023-04-28 and a wall clock on 2026-12-04.
EXPECTED = {
    "`dt=D`": date(2023, 4, 28),
    "`dt=D1` … `dt=D2`": date(2023, 4, 28),  # here D1 = D2 = D
    "yesterday: the UTC day before the run was triggered": date(2026, 12, 3),
}


def _readme_table() -> dict[str, str]:
    """The rows of the table under "## Which day a run processes": first column -> last column."""
    lines = README.read_text(encoding="utf-8").split("## Which day a run processes", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    cells = [[c.strip() for c in row.split("|")[1:-1]] for row in lines[start + 2 : end]]
    return {c[0]: c[-1] for c in cells}


def test_the_readme_table_lists_every_way_of_starting_a_run():
    table = _readme_table()
    assert set(HOW) | {"any of these for today or a later day"} == set(table), table


@pytest.mark.parametrize("how", list(HOW))
def test_each_way_of_starting_a_run_processes_the_day_the_readme_says(how):
    logical, run_after = HOW[how]()
    expected = _readme_table()[how]
    if how == "the schedule, at 00:00 UTC each day":
        # the run made at 2026-12-04 00:00 is for the day that just ended
        assert (logical, run_after) == (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC))
        assert expected == "`dt=D`" and run_day(logical, run_after, NOW) == date(2026, 12, 3)
        return
    assert run_day(logical, run_after, NOW) == EXPECTED[expected]


def test_the_logical_date_names_the_day_whatever_its_time_of_day():
    assert run_day(datetime(2023, 4, 28, 23, 59, tzinfo=UTC), NOW, NOW) == date(2023, 4, 28)
    plus_two = datetime(2023, 4, 29, 1, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert run_day(plus_two, NOW, NOW) == date(2023, 4, 29)  # UTC, not the zone it was written in
    # two runs for different days have different logical dates, so Airflow never sees them collide
    days = [run_day(D + timedelta(days=n), NOW, NOW) for n in range(-2, 3)]
    assert len(set(days)) == 5


@pytest.mark.parametrize(
    "logical, run_after, message",
    [
        (NOW, NOW, "dt=2026-12-04 (its logical date 2026-12-04T17:30:00+00:00), which has not ended yet"),
        (NOW + timedelta(days=3), NOW, "dt=2026-12-07"),
        (datetime(1985, 6, 1, tzinfo=UTC), NOW, f"news_daily processes days from {EARLIEST} on"),
    ],
)
def test_a_day_that_is_not_over_or_before_the_start_is_refused_with_what_to_do(logical, run_after, message):
    with pytest.raises(RunRefused) as refused:
        run_day(logical, run_after, NOW)
    assert message in str(refused.value)
    if "not ended" in message:
        assert "with a past logical date, or with none for yesterday (dt=2026-12-03)" in str(refused.value)


# -- refused by the DAG itself, before any crawl -------------------------------------------------------------


def _dag():
    spec = importlib.util.spec_from_file_location("news_daily_run_days", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.news_daily_dag


def _states(run_id: str) -> dict[str, tuple[str | None, int]]:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.run_id == run_id).all()
        return {f"{t.task_id}[{t.map_index}]": (t.state, t.try_number) for t in tis}


def _refusal(run_id: str) -> str:
    """The reason list_sources gave for refusing the run (its XCom `refused`)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(XComModel.value).filter_by(run_id=run_id, task_id="list_sources", key="refused").one()
    value = row[0]
    return json.loads(value) if isinstance(value, str) and value.startswith('"') else value


@pytest.fixture
def retrying(monkeypatch):
    """Tasks with retries, as in production, so a refusal that was retried would show."""
    monkeypatch.setenv("NEWS_TASK_RETRIES", "2")
    monkeypatch.setenv("NEWS_RETRY_DELAY_SECONDS", "1")


@pytest.mark.timeout(300)
def test_refused_runs_stop_at_list_sources_unretried_and_say_why(airflow_db, bucket, demo_sources, retrying):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    cases = [
        (today, {}, "has not ended yet"),
        (D, {"sources": ["millbrook", "nope"]}, "unknown sources ['nope']"),
        (D, {"recrawl": False}, "recrawl is false, but ['millbrook', 'eastmere', 'portcalder'] have no complete raw"),
    ]
    for logical, conf, message in cases:
        run = _dag().test(logical_date=logical, run_conf=conf)  # a fresh DAG: dag.test() keeps the last conf
        assert run.state == "failed", (conf, run.state)
        states = _states(run.run_id)
        assert states["list_sources[-1]"] == ("failed", 1), states  # failed at once, not up for retry
        assert states["report[-1]"] == ("failed", 1), states  # the run's last task: the run fails too
        assert not [
            k for k, (s, _) in states.items() if k.startswith("per_source") and s not in (None, "upstream_failed")
        ]
        refused = _refusal(run.run_id)  # what list_sources said, also the report task's error
        assert refused.startswith("run refused: ") and message in refused, (conf, refused)


@pytest.mark.timeout(300)
def test_a_bad_setting_is_refused_naming_it(airflow_db, bucket, demo_sources, retrying, monkeypatch):
    monkeypatch.setenv("NEWS_DEDUP_DAYS", "a week")
    run = _dag().test(logical_date=D)
    assert run.state == "failed" and _states(run.run_id)["list_sources[-1]"] == ("failed", 1)
    expected = "configuration: NEWS_DEDUP_DAYS must be a whole number (days; 0: no cross-day dedup), not 'a week'"
    assert expected in _refusal(run.run_id)
