"""Which UTC day a news_daily run processes, and the checks that refuse a run before any of its work starts.

One rule for every way of starting a run (scheduled, backfill, UI, REST API, `airflow dags trigger`,
`airflow dags test`): **a run with a logical date D processes the UTC day D** (articles published in
[D 00:00, D+1 00:00) UTC, partition `dt=D`); **a run without a logical date processes the last complete UTC
day before it was triggered** (its `run_after` minus one day). Airflow's own "data interval" of a manual run
is not used: it depends on how the run was made ([D-1, D) from the REST API and `dags test`, the wall clock
from `dags trigger --logical-date`), so the same date would name different days.

Since the logical date names the day, two runs for different days never share a logical date, and two runs
for the same day do (Airflow refuses the second; clear the first to redo a day). A day that has not ended is
refused: its partition would be incomplete.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

EARLIEST = date(1990, 1, 1)  # the DAG's start_date: Airflow creates no task for a logical date before it


class RunRefused(ValueError):
    """A run that cannot do what was asked; the message says what to do instead."""


def run_day(logical_date: datetime | None, run_after: datetime, now: datetime) -> date:
    """The UTC day a run processes (see the module docstring); RunRefused if that day has not ended."""
    if logical_date is not None:
        day = logical_date.astimezone(UTC).date()
        origin = f"its logical date {logical_date.astimezone(UTC).isoformat()}"
    else:
        day = run_after.astimezone(UTC).date() - timedelta(days=1)
        origin = f"no logical date: the day before it was triggered ({run_after.astimezone(UTC).isoformat()})"
    today = now.astimezone(UTC).date()
    if day >= today:
        raise RunRefused(
            f"this run is for dt={day} ({origin}), which has not ended yet (it ends at "
            f"{day + timedelta(days=1)}T00:00:00Z): a run processes one complete UTC day. Trigger it with a past "
            f"logical date, or with none for yesterday (dt={today - timedelta(days=1)})"
        )
    if day < EARLIEST:
        raise RunRefused(f"this run is for dt={day} ({origin}): news_daily processes days from {EARLIEST} on")
    return day


def check_run(day: date, selected: list[str] | None, recrawl: bool, discover: str = "live") -> list[str]:
    """The sources a run for `day` processes, after checking what would make every task fail.

    RunRefused for configuration errors (a bad NEWS_* value, an unknown source in the `sources` param, a
    broken sources file, a missing or forbidden bucket) and for re-cleaning sources that have no raw partition
    for the day. An S3 endpoint that does not answer is not a refusal: the task fails and is retried.
    """
    from botocore.exceptions import ClientError

    from ingest import partition
    from ingest import s3 as s3io
    from ingest.pipeline import list_sources
    from newsconfig import env as config
    from newsconfig.sources import SourceConfigError

    try:
        for read in (
            config.dedup_days,
            config.crawl_timeout,
            config.scrapy_settings,
            config.crawl_pool,
            config.alert_thresholds,
            config.alert_emails,
            config.smtp_server,
            config.alert_webhook,
        ):
            read()
        bucket = config.bucket()
    except (ValueError, RuntimeError) as err:
        raise RunRefused(f"configuration: {err}") from err
    try:
        names = list_sources(selected or None)
    except SourceConfigError as err:
        raise RunRefused(f"the sources file: {err}") from err
    except ValueError as err:
        raise RunRefused(f"the run's `sources` param: {err}") from err
    if discover != "live":
        from ingest.archives import check_discover
        from newsconfig.sources import load_sources

        try:
            check_discover(discover, [s for s in load_sources(config.sources_path()) if s.name in names])
        except ValueError as err:
            raise RunRefused(f"the run's `discover` param: {err}") from err
    s3 = s3io.client()
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise RunRefused(f"bucket {bucket!r} (NEWS_BUCKET) does not exist: create it or fix NEWS_BUCKET") from err
        if code in ("403", "AccessDenied", "Forbidden"):
            raise RunRefused(f"access to bucket {bucket!r} (NEWS_BUCKET) is denied: check the credentials") from err
        raise
    if not recrawl:
        missing = [n for n in names if partition.read_manifest(s3, bucket, "raw", n, day) is None]
        if missing:
            raise RunRefused(
                f"recrawl is false, but {missing} have no complete raw partition for dt={day} to re-clean: "
                "run them with recrawl true first (or leave them out with the `sources` param)"
            )
    return names
