"""news_maintenance: weekly compaction, checkpoint and vacuum of the clean table, and the raw layer's sweep.

Thin by design: the work is `ingest.maintenance.run`. Retention: NEWS_RETENTION_DAYS (default 7 days), the span
of time travel. It runs on Sunday 03:00 UTC, after the daily run; a publish that meets a compaction of its
partition fails with a clear error and is retried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task


@task(execution_timeout=timedelta(hours=2))
def maintain() -> dict:
    from ingest import maintenance

    return maintenance.run()


@dag(
    dag_id="news_maintenance",
    schedule="0 3 * * 0",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["news"],
    doc_md=__doc__,
)
def news_maintenance():
    maintain()


news_maintenance_dag = news_maintenance()
