"""A 3-day backfill of news_daily through a real scheduler, API server and DAG processor (LocalExecutor, SQLite).

`airflow backfill create` writes the backfill and its queued runs to the database; the scheduler starts them, at
most --max-active-runs at a time. A run with logical date D covers the data interval [D, D+1) and writes dt=D.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from airflow_cluster import ROOT, AirflowCluster

from ingest import downstream, table

DAG_ID = "news_daily"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _cluster() -> AirflowCluster:
    """The deployment; its processes inherit the S3 endpoint, bucket and demo sources the fixtures exported."""
    state = ROOT / ".airflow-test" / "clusters" / f"backfill-{secrets.token_hex(3)}"
    # no scheduled run of the latest interval when the DAG is unpaused: only the backfill's runs exist
    return AirflowCluster(state, {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}, dag_ids=[DAG_ID])


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _max_overlap(runs: list[dict]) -> int:
    """The largest number of runs that were running at the same time."""
    events = sorted([(r["start_date"], 1) for r in runs] + [(r["end_date"], -1) for r in runs])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def _expected(demo, day: date) -> dict[str, dict[str, object]]:
    """Per publisher, the demo articles published on `day` (UTC), by URL."""
    out: dict[str, dict[str, object]] = {p.name: {} for p in demo.site.publishers}
    for article in demo.site.articles:
        if article.published.astimezone(UTC).date() == day:
            out[article.publisher][demo.base_urls[article.publisher] + article.path] = article
    return out


def _rows(bucket: str, source: str, day: date) -> list[dict]:
    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", source), ("dt", "=", day)])
    commits = [c for c in table.history(bucket) if (c.get("source"), c.get("dt")) == (source, day.isoformat())]
    assert commits, f"clean/source={source}/dt={day} not published"
    assert int(commits[0]["rows"]) == data.num_rows, f"{source} {day}: commit metadata and rows disagree"
    return data.to_pylist()


def _check_partition(bucket: str, source: str, day: date, articles: dict[str, object]) -> None:
    rows = _rows(bucket, source, day)
    assert sorted(r["url"] for r in rows) == sorted(articles), f"{source} dt={day}: wrong articles"
    for row in rows:
        assert row["published_at"].astimezone(UTC).date() == day, f"{row['url']} filed under dt={day}"
        for appeal in articles[row["url"]].appeals:
            assert appeal not in row["text"], f"appeal left in {row['url']}: {appeal[:60]}"


def test_three_day_backfill_writes_one_correct_partition_per_day(bucket, demo_sources, demo_day):
    days = [demo_day - timedelta(days=n) for n in (2, 1, 0)]
    # the cluster is used inside the test, not in a fixture: a failure must reach its __exit__ (log dump, state kept)
    with _cluster() as cluster:
        cluster.run_cli("dags", "unpause", DAG_ID)
        cluster.run_cli(
            "backfill", "create", "--dag-id", DAG_ID,
            "--from-date", days[0].isoformat(), "--to-date", days[-1].isoformat(),
            "--max-active-runs", "2",  # the DAG's max_active_runs does not bound backfills: the backfill's does
        )  # fmt: skip
        runs = cluster.wait_for_runs(DAG_ID, 3, timeout=480, run_id_prefix="backfill__")
        assert [r["state"] for r in runs] == ["success"] * 3, cluster.describe_runs(DAG_ID, runs)
        clean_ends = {
            r["run_id"]: min(
                _when(t["end_date"]) for t in cluster.task_instances(DAG_ID, r["run_id"])
                if t["task_id"] == "per_source.clean"
            )
            for r in runs
        }  # fmt: skip
    # runs overlap (crawls side by side), but the clean of a day waits (inside the task) until the run of the day
    # before has finished: it builds on that day's published boilerplate state (README "Deterministic re-cleaning")
    for before, after in zip(runs, runs[1:], strict=False):
        assert clean_ends[after["run_id"]] >= _when(before["end_date"]), (before, after, clean_ends)
    assert [r["logical_date"][:10] for r in runs] == [d.isoformat() for d in days]
    assert _max_overlap(runs) <= 2, "more than two days crawled at once"

    counts = []
    for day in days:
        expected = _expected(demo_sources, day)
        assert any(expected.values()), f"the demo site has no article on {day}"
        for source, articles in expected.items():
            _check_partition(bucket, source, day, articles)
            if articles:
                counts.append((source, day, len(articles)))
    assert downstream.rows_per_day(downstream.connect(), bucket) == sorted(counts)
