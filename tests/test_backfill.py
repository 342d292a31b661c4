"""A 3-day backfill of news_daily through a real scheduler, API server and DAG processor (LocalExecutor, SQLite).

`airflow backfill create` writes the backfill and its queued runs to the database; the scheduler starts them, at
most --max-active-runs at a time. A run with logical date D covers the data interval [D, D+1) and writes dt=D.
"""

from __future__ import annotations

import io
import secrets
from datetime import UTC, date, timedelta

import pyarrow.parquet as pq
import pytest
from airflow_cluster import ROOT, AirflowCluster

from ingest import downstream, partition
from ingest import s3 as s3io

DAG_ID = "news_daily"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _cluster() -> AirflowCluster:
    """The deployment; its processes inherit the S3 endpoint, bucket and demo sources the fixtures exported."""
    state = ROOT / ".airflow-test" / "clusters" / f"backfill-{secrets.token_hex(3)}"
    # no scheduled run of the latest interval when the DAG is unpaused: only the backfill's runs exist
    return AirflowCluster(state, {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}, dag_ids=[DAG_ID])


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


def _rows(s3, bucket: str, source: str, day: date) -> list[dict]:
    manifest = partition.read_manifest(s3, bucket, "clean", source, day)
    assert manifest is not None, f"clean/source={source}/dt={day} not published"
    rows = []
    for part in manifest["parts"]:
        rows += pq.read_table(io.BytesIO(s3io.get_bytes(s3, bucket, part["key"]))).to_pylist()
    assert manifest["rows"] == len(rows), f"{source} {day}: manifest and parts disagree"
    return rows


def _check_partition(s3, bucket: str, source: str, day: date, articles: dict[str, object]) -> None:
    rows = _rows(s3, bucket, source, day)
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
    assert [r["logical_date"][:10] for r in runs] == [d.isoformat() for d in days]
    assert _max_overlap(runs) <= 2, "more than two days crawled at once"

    s3 = s3io.client()
    counts = []
    for day in days:
        expected = _expected(demo_sources, day)
        assert any(expected.values()), f"the demo site has no article on {day}"
        for source, articles in expected.items():
            _check_partition(s3, bucket, source, day, articles)
            if articles:
                counts.append((source, day, len(articles)))
    assert downstream.rows_per_day(downstream.connect(), bucket) == sorted(counts)
