"""news_daily: crawl, clean, validate and publish every source for one UTC day.

The day: a run with a logical date D processes the UTC day D (partition `dt=D`); a run without one processes
yesterday, the last complete UTC day before it was triggered (`ingest.runs`). `list_sources` refuses a run
that cannot work (a day not over yet, an unknown source, a configuration error) before any crawl starts.

Thin by design: the logic is in `ingest.pipeline`; this file only wires tasks. Nothing heavy runs at
parse time (imports of the pipeline happen inside tasks).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException

from ingest.alerts import RunFailureNotifier
from newsconfig import env

log = logging.getLogger(__name__)
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


def _day() -> date:
    """The UTC day this run processes (`ingest.runs.run_day`); a day not over yet fails the task, unretried."""
    from ingest.runs import RunRefused, run_day

    ctx = get_current_context()
    try:
        return run_day(ctx.get("logical_date"), ctx["dag_run"].run_after, datetime.now(UTC))
    except RunRefused as err:
        _refuse(err)


def _refuse(err: Exception) -> NoReturn:
    """Fail this task at once, unretried, and leave the reason where the report task finds it."""
    message = f"run refused: {err}"
    get_current_context()["ti"].xcom_push(key="refused", value=message)
    raise AirflowFailException(message) from err


def _attempt() -> str:
    """A token unique to this try of this mapped task, for its staging prefix."""
    ti = get_current_context()["ti"]
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{ti.run_id}-{ti.map_index}-{ti.try_number}")


@contextmanager
def _stage_errors():
    """Leave the failure message where the report task finds it; quality and configuration failures are not
    retried (retrying cannot help)."""
    from ingest.pipeline import QualityGateError, RawPartitionMissing
    from newsconfig.sources import SourceConfigError

    try:
        yield
    except Exception as exc:
        get_current_context()["ti"].xcom_push(key="error", value=f"{type(exc).__name__}: {exc}"[:2000])
        if isinstance(exc, QualityGateError | RawPartitionMissing | SourceConfigError):
            raise AirflowFailException(str(exc)) from exc
        raise


@task
def list_sources() -> list[str]:
    """The run's sources, after the checks that would make every later task fail (`ingest.runs.check_run`)."""
    from ingest.runs import RunRefused, check_run

    ctx = get_current_context()
    day, params = _day(), ctx["params"]
    try:
        names = check_run(day, params["sources"] or None, bool(params["recrawl"]), params["discover"])
    except RunRefused as err:
        _refuse(err)
    log.info(
        "run %s processes dt=%s (articles published in [%s, %s) UTC): %s, %s",
        ctx["dag_run"].run_id, day, day, day + timedelta(days=1), ", ".join(names),
        f"crawling (discover: {params['discover']})" if params["recrawl"] else "re-cleaning the raw partitions in S3",
    )  # fmt: skip
    return names


# Mapped tasks are labelled by their source in the UI and the logs (rendered before the task runs).
BY_SOURCE = "{{ task.op_kwargs['source'] }}"  # each task of the group takes `source` by keyword


@task(execution_timeout=CRAWL_TASK_TIMEOUT, pool=CRAWL_POOL, map_index_template=BY_SOURCE)
def crawl(source: str) -> dict:
    from ingest import pipeline

    start, params = _day(), get_current_context()["params"]
    with _stage_errors():
        return pipeline.crawl(
            source, start, start + timedelta(days=1), bool(params["recrawl"]), _attempt(), params["discover"]
        )


def _unfinished_runs(days: list[date]) -> int:
    """How many runs of this DAG for the given days (their logical dates) are queued or running."""
    ti = get_current_context()["ti"]
    logical = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days]
    return ti.get_dr_count(dag_id=ti.dag_id, logical_dates=logical, states=["queued", "running"])


# 4 h: includes waiting for earlier days' runs (NEWS_STATE_WAIT_SECONDS)
@task(execution_timeout=timedelta(hours=4), map_index_template=BY_SOURCE)
def clean(crawled: dict, source: str) -> dict:
    from ingest import pipeline

    with _stage_errors():
        return pipeline.clean(source, _day(), _attempt(), _unfinished_runs)


@task(execution_timeout=timedelta(minutes=30), map_index_template=BY_SOURCE)
def validate(cleaned: dict, source: str) -> dict:
    from ingest import pipeline

    with _stage_errors():
        return pipeline.validate(cleaned)


@task(execution_timeout=timedelta(minutes=30), outlets=[CLEAN_ASSET], map_index_template=BY_SOURCE)
def publish(validated: dict, source: str) -> dict:
    from ingest import pipeline

    context = get_current_context()
    with _stage_errors():
        published = pipeline.publish(validated, context["ti"].run_id)
    # what landed, so a downstream DAG can process just that partition (dags/news_clean_downstream.py)
    context["outlet_events"][CLEAN_ASSET].extra = {
        k: published[k] for k in ("source", "dt", "version", "rows", "schema_version")
    }
    return published


@task_group
def per_source(source: str) -> None:
    crawled = crawl(source=source)
    publish(validate(clean(crawled, source=source), source=source), source=source)


@task(trigger_rule="all_done", execution_timeout=timedelta(minutes=30))
def link_near_duplicates() -> dict:
    """Once every source of the day is published (or failed): near-duplicates across the day's sources."""
    from ingest import neardup

    if get_current_context()["ti"].xcom_pull(task_ids="list_sources") is None:
        return {"linked": {}, "changed": 0}  # a refused run: the report task says why
    return neardup.link_day(env.bucket(), _day(), env.near_dup_days(), env.near_dup_threshold())


@task(trigger_rule="all_done")
def report() -> dict:
    """Summarise every source, write the report to S3, and fail the run if any source failed.

    A source published with fetch failures (pages that answered 503 or timed out, a crawl stopped on its time
    budget) does not fail the run: the report counts them, and lists the source under published_with_failures.
    A run refused by `list_sources` has nothing to report: this task fails with the reason, and so does the run
    (it is the run's last task: were it skipped, Airflow would mark the refused run successful).
    """
    from ingest import alerts
    from ingest import report as reporting

    context = get_current_context()
    ti = context["ti"]
    sources = ti.xcom_pull(task_ids="list_sources")
    if sources is None:
        refused = ti.xcom_pull(task_ids="list_sources", key="refused")
        raise AirflowFailException(f"no report: {refused or 'list_sources failed (see its log)'}")
    per = {}
    for index, name in enumerate(sources):
        stages = {s: ti.xcom_pull(task_ids=f"per_source.{s}", map_indexes=index) for s in reporting.STAGES}
        failed = next((s for s in reporting.STAGES if stages[s] is None), None)
        error = ti.xcom_pull(task_ids=f"per_source.{failed}", map_indexes=index, key="error") if failed else None
        per[name] = {**stages, "error": error}
    summary = reporting.summarise(_day(), ti.run_id, per)
    summary["near_duplicate_links"] = ti.xcom_pull(task_ids="link_near_duplicates")  # across the day's sources
    summary["alerts"] = alerts.for_report(summary)  # anomalies against the earlier days' reports
    summary["report_keys"] = reporting.write(summary)
    log.info("%s", reporting.to_text(summary))
    for line in reporting.locations(summary):
        log.info("%s", line)
    alerts.send_anomalies(summary, context)  # undelivered: the task fails (and retries), the report is written
    if summary["failed"]:
        raise AirflowFailException(f"sources failed: {summary['failed']} (see {summary['report_keys'][1]})")
    return summary


@dag(
    dag_id="news_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    # Airflow creates no task for a logical date before start_date: the earliest day a backfill may ask for
    start_date=datetime(1990, 1, 1, tzinfo=UTC),
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
        "sources": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^[a-z0-9_-]+$"},
            description="Only these sources (default: all in NEWS_SOURCES)",
        ),
        "recrawl": Param(
            True, type="boolean", description="False: re-clean the raw partitions already in S3, without the network"
        ),
        "discover": Param(
            "live",
            type="string",
            enum=["live", "archives", "both"],
            description="Where articles are found: the live site's feeds and sitemaps, the web archives the source "
            "opts in to (`archives:` in sources.yaml; for past days the feeds no longer list), or both",
        ),
    },
    tags=["news"],
    # a failed run is a notice by e-mail and/or webhook (NEWS_ALERT_EMAIL, NEWS_ALERT_WEBHOOK: ingest/alerts.py)
    on_failure_callback=RunFailureNotifier(),
    doc_md=__doc__,
)
def news_daily():
    names = list_sources()
    per_source.expand(source=names) >> link_near_duplicates() >> report()


news_daily_dag = news_daily()
