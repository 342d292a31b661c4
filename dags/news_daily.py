"""news_daily: crawl, clean, validate and publish every source for one UTC day.

Thin by design: the logic is in `ingest.pipeline`; this file only wires tasks. Nothing heavy runs at
parse time (imports of the pipeline happen inside tasks).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException

from newsconfig import env

CLEAN_ASSET = Asset(env.clean_asset_uri())
RETRIES = env.task_retries()
RETRY_DELAY = env.retry_delay()
# The crawl subprocess is killed after NEWS_CRAWL_TIMEOUT_SECONDS (read again by spiders.crawl at run time, same
# default) and stops fetching on its own a margin before that, keeping what it has; the task's bound lies
# above both, with room for fetching earlier days' indexes and staging and publishing the raw partition.
CRAWL_TIMEOUT = timedelta(seconds=env.crawl_timeout())
CRAWL_TASK_TIMEOUT = CRAWL_TIMEOUT + timedelta(hours=1)
# Bounds the crawls running at once over all sources and runs; each site's own politeness lives in its crawl.
CRAWL_POOL = env.crawl_pool()


def _window() -> tuple[date, date]:
    """The run's data interval as UTC days [start, end): the partition is dt=start, never the wall clock."""
    ctx = get_current_context()
    start, end = ctx.get("data_interval_start"), ctx.get("data_interval_end")
    if start is None or end is None:
        raise AirflowFailException("this run has no data interval: news_daily needs a data-interval timetable")
    logical = ctx.get("logical_date")
    if logical is not None and not start <= logical <= end:
        # `airflow dags trigger --logical-date` derives the interval from the wall clock, not from the date
        raise AirflowFailException(
            f"logical date {logical} lies outside the data interval [{start}, {end}): trigger a past day with "
            "`airflow backfill create` or the REST API / UI, not `airflow dags trigger --logical-date`"
        )
    return start.astimezone(UTC).date(), end.astimezone(UTC).date()


def _attempt() -> str:
    """A token unique to this try of this mapped task, for its staging prefix."""
    ti = get_current_context()["ti"]
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{ti.run_id}-{ti.map_index}-{ti.try_number}")


@contextmanager
def _stage_errors():
    """Leave the failure message where the report task finds it; quality failures are not retried."""
    from ingest.pipeline import QualityGateError, RawPartitionMissing

    try:
        yield
    except Exception as exc:
        get_current_context()["ti"].xcom_push(key="error", value=f"{type(exc).__name__}: {exc}"[:2000])
        if isinstance(exc, QualityGateError | RawPartitionMissing):
            raise AirflowFailException(str(exc)) from exc
        raise


@task
def list_sources() -> list[str]:
    from ingest.pipeline import list_sources as configured

    return configured(get_current_context()["params"]["sources"] or None)


@task(execution_timeout=CRAWL_TASK_TIMEOUT, pool=CRAWL_POOL)
def crawl(source: str) -> dict:
    from ingest import pipeline

    start, end = _window()
    with _stage_errors():
        return pipeline.crawl(source, start, end, bool(get_current_context()["params"]["recrawl"]), _attempt())


def _unfinished_runs(days: list[date]) -> int:
    """How many runs of this DAG for the given days (their logical dates) are queued or running."""
    ti = get_current_context()["ti"]
    logical = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days]
    return ti.get_dr_count(dag_id=ti.dag_id, logical_dates=logical, states=["queued", "running"])


@task(execution_timeout=timedelta(hours=4))  # includes waiting for earlier days (NEWS_STATE_WAIT_SECONDS)
def clean(crawled: dict) -> dict:
    from ingest import pipeline

    with _stage_errors():
        return pipeline.clean(crawled["source"], _window()[0], _attempt(), _unfinished_runs)


@task(execution_timeout=timedelta(minutes=30))
def validate(cleaned: dict) -> dict:
    from ingest import pipeline

    with _stage_errors():
        return pipeline.validate(cleaned)


@task(execution_timeout=timedelta(minutes=30), outlets=[CLEAN_ASSET])
def publish(validated: dict) -> dict:
    from ingest import pipeline

    context = get_current_context()
    with _stage_errors():
        published = pipeline.publish(validated, context["ti"].run_id)
    # what landed, so a downstream DAG can process just that partition (dags/clean_downstream.py)
    context["outlet_events"][CLEAN_ASSET].extra = {
        k: published[k] for k in ("source", "dt", "version", "rows", "schema_version")
    }
    return published


@task_group
def per_source(source: str) -> None:
    publish(validate(clean(crawl(source))))


@task(trigger_rule="all_done")
def report(sources: list[str]) -> dict:
    """Summarise every source, write the report to S3, and fail the run if any source failed.

    A source published with fetch failures (pages that answered 503 or timed out, a crawl stopped on its time
    budget) does not fail the run: the report counts them, and lists the source under published_with_failures.
    """
    from ingest import report as reporting

    ti = get_current_context()["ti"]
    per = {}
    for index, name in enumerate(sources):
        stages = {s: ti.xcom_pull(task_ids=f"per_source.{s}", map_indexes=index) for s in reporting.STAGES}
        failed = next((s for s in reporting.STAGES if stages[s] is None), None)
        error = ti.xcom_pull(task_ids=f"per_source.{failed}", map_indexes=index, key="error") if failed else None
        per[name] = {**stages, "error": error}
    summary = reporting.summarise(_window()[0], ti.run_id, per)
    summary["report_keys"] = reporting.write(summary)
    if summary["failed"]:
        raise AirflowFailException(f"sources failed: {summary['failed']} (see {summary['report_keys'][0]})")
    return summary


@dag(
    dag_id="news_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    # bounds scheduled and manual runs; a backfill has its own bound: `backfill create --max-active-runs 2`
    max_active_runs=2,
    default_args={
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=1),
    },
    params={
        "sources": Param([], type="array", description="Only these sources (default: all in NEWS_SOURCES)"),
        "recrawl": Param(
            True, type="boolean", description="False: re-clean the raw partitions already in S3, without the network"
        ),
    },
    tags=["news"],
    doc_md=__doc__,
)
def news_daily():
    names = list_sources()
    per_source.expand(source=names) >> report(names)


news_daily_dag = news_daily()
