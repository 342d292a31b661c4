"""news_clean_downstream: an example downstream DAG that processes just the partitions that landed.

Scheduled on the clean table's asset: each publish of news_daily emits an event whose extra names the partition
(`source`, `dt`, the table `version`, `rows`). This DAG reads exactly those partitions at exactly those versions
(time travel), so a later re-publish cannot change what one run saw; here it counts words per source and day.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Asset, dag, get_current_context, task

from newsconfig import env

CLEAN_ASSET = Asset(env.clean_asset_uri())  # the asset news_daily's publish emits events on


@task
def landed() -> list[dict]:
    """The partitions named by the asset events that triggered this run."""
    events = get_current_context()["triggering_asset_events"][CLEAN_ASSET]
    return [{k: e.extra[k] for k in ("source", "dt", "version")} for e in events if "source" in e.extra]


@task
def word_counts(partitions: list[dict]) -> list[dict]:
    from ingest import downstream

    con = downstream.connect()
    out = []
    for p in partitions:
        words = con.execute(
            f"SELECT count(*), coalesce(sum(len(string_split(text, ' '))), 0) "
            f"FROM delta_scan('{downstream.clean_uri(env.bucket())}', version => {int(p['version'])}) "
            "WHERE source = ? AND dt = CAST(? AS DATE)",
            [p["source"], p["dt"]],
        ).fetchone()
        out.append({**p, "articles": words[0], "words": int(words[1])})
    return out


@dag(
    dag_id="news_clean_downstream",
    schedule=[CLEAN_ASSET],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["news", "example"],
    doc_md=__doc__,
)
def news_clean_downstream():
    word_counts(landed())


news_clean_downstream_dag = news_clean_downstream()
