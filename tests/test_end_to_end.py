"""The vertical slice: the real DAG, run by Airflow, crawling the demo site over HTTP into a moto S3 server."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from ingest import downstream, partition, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA, SCHEMA_VERSION

pytestmark = pytest.mark.slow
DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "news_daily.py"


def _dag():
    spec = importlib.util.spec_from_file_location("news_daily_under_test", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.news_daily_dag


def _run(day, conf=None):
    """`dag.test()` of the run for `day` (its logical date: README, "Which day a run processes")."""
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return _dag().test(logical_date=logical, run_conf=conf or {})


def _expected(demo, day) -> dict[str, dict[str, object]]:
    """Per publisher, the demo articles published on `day`, by URL."""
    out: dict[str, dict[str, object]] = {p.name: {} for p in demo.site.publishers}
    for article in demo.site.articles:
        if article.published.astimezone(UTC).date() == day:
            out[article.publisher][demo.base_urls[article.publisher] + article.path] = article
    return out


def _rows(s3, bucket, source, day) -> list[dict]:
    """The partition's rows read through the Delta table, checked against the commit that published them."""
    delta = table.open_table(bucket)
    data = delta.to_pyarrow_table(filters=[("source", "=", source), ("dt", "=", day)])
    assert set(data.schema.names) == set(SCHEMA.names)
    assert delta.metadata().configuration[table.SCHEMA_PROPERTY] == SCHEMA_VERSION
    commits = [c for c in table.history(bucket) if (c.get("source"), c.get("dt")) == (source, day.isoformat())]
    commit = commits[0] if commits else None
    assert commit is not None, f"{source} not published"
    assert int(commit["rows"]) == data.num_rows and commit["schema_version"] == SCHEMA_VERSION
    return sorted(data.to_pylist(), key=lambda r: r["url"])


def _content(rows: list[dict]) -> list[dict]:
    """Rows without where and when they were fetched (a recrawl writes new WARC parts in its own attempt folder)."""
    return [{k: v for k, v in r.items() if k not in ("fetched_at", "warc_file", "warc_offset")} for r in rows]


def test_daily_run_writes_clean_partitions_without_appeals(airflow_db, bucket, demo_sources, demo_day):
    run = _run(demo_day)
    assert run.state == "success"
    s3 = s3io.client()
    expected = _expected(demo_sources, demo_day)
    assert sum(len(v) for v in expected.values()) >= 3
    for source, articles in expected.items():
        rows = _rows(s3, bucket, source, demo_day)
        assert {r["url"] for r in rows} == set(articles), source
        for row in rows:
            article = articles[row["url"]]
            assert row["source"] == source and row["published_at"].date() == demo_day
            for paragraph in article.paragraphs:
                assert paragraph in row["text"], f"article text lost in {row['url']}: {paragraph[:60]}"
            for appeal in article.appeals:
                assert appeal not in row["text"], f"appeal left in {row['url']}: {appeal[:60]}"
            assert row["removed"], "the removals are recorded"
            assert all(r["rule"] and r["layer"] for r in row["removed"])
        raw = partition.read_manifest(s3, bucket, "raw", source, demo_day)
        assert raw is not None and any(p["key"].endswith(".warc.gz") for p in raw["parts"])
    keys = s3io.list_objects(s3, bucket, "")
    assert f"reports/dt={demo_day}/report.json" in keys and f"reports/dt={demo_day}/report.html" in keys
    assert not [k for k in keys if k.startswith("staging/")], "staging is emptied after publishing"
    counts = downstream.rows_per_day(downstream.connect(), bucket)
    assert counts == sorted((s, demo_day, len(a)) for s, a in expected.items() if a)
    events = _asset_events(run.run_id)
    assert set(events) == {("per_source.publish", i) for i in range(len(expected))}
    # each event names the partition that landed, for a downstream DAG to process just that one
    assert {(e["source"], e["dt"]) for e in events.values()} == {(s, demo_day.isoformat()) for s in expected}
    versions = {e["version"] for e in events.values()}
    assert len(versions) == len(expected) and all(e["schema_version"] == SCHEMA_VERSION for e in events.values())
    # the example downstream DAG processes exactly the partitions the events name, at their versions
    landed = [{k: e[k] for k in ("source", "dt", "version")} for e in events.values()]
    counted = _downstream_dag_module().word_counts.function(landed)
    assert {(c["source"], c["articles"]) for c in counted} == {(s, len(a)) for s, a in expected.items()}
    assert all(c["words"] > 50 * c["articles"] for c in counted if c["articles"])


def _downstream_dag_module():
    path = DAG_FILE.parent / "news_clean_downstream.py"
    spec = importlib.util.spec_from_file_location("news_clean_downstream_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _asset_events(run_id: str) -> dict[tuple[str, int], dict]:
    """The extras of the asset events the run emitted on s3://<bucket>/clean/, by (task, map index)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent.source_task_id, AssetEvent.source_map_index, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .filter(AssetEvent.source_run_id == run_id, AssetModel.uri.like("s3://%/clean"))
            .all()
        )
    return {(task, index): extra for task, index, extra in events}


def test_same_date_twice_is_idempotent_and_recleaning_needs_no_network(airflow_db, bucket, demo_sources, demo_day):
    s3 = s3io.client()
    assert _run(demo_day).state == "success"
    first_files = sorted(table.open_table(bucket).file_uris())
    names = [p.name for p in demo_sources.site.publishers]
    first = {n: _content(_rows(s3, bucket, n, demo_day)) for n in names}
    assert _run(demo_day).state == "success"  # a recrawl: only the fetch times differ
    # one live file per partition, as before; the replaced ones stay for time travel until the vacuum
    assert len(table.open_table(bucket).file_uris()) == len(first_files)
    assert {n: _content(_rows(s3, bucket, n, demo_day)) for n in names} == first

    requests_before = len(demo_sources.request_log)
    assert _run(demo_day, {"recrawl": False}).state == "success"
    assert len(demo_sources.request_log) == requests_before, "re-cleaning fetched from the sites"
    assert {n: _content(_rows(s3, bucket, n, demo_day)) for n in names} == first


def test_consecutive_days_dedup_against_the_day_before(airflow_db, bucket, demo_sources, demo_day):
    """Day D's crawl is handed day D-1's published raw index; re-crawling D-1 afterwards ignores D."""
    s3, before = s3io.client(), demo_day - timedelta(days=1)
    assert _run(before).state == "success"
    first = {n: _content(_rows(s3, bucket, n, before)) for n in _expected(demo_sources, before)}
    assert _run(demo_day).state == "success"
    for source, articles in _expected(demo_sources, demo_day).items():
        raw = partition.read_manifest(s3, bucket, "raw", source, demo_day)
        earlier = partition.read_manifest(s3, bucket, "raw", source, before)
        assert raw["dedup_days"] == [before.isoformat()], source
        assert raw["crawl"]["earlier_captures"] >= earlier["crawl"]["stored"] > 0, source
        assert {r["url"] for r in _rows(s3, bucket, source, demo_day)} == set(articles), source
    assert _run(before).state == "success"
    for source, rows in first.items():
        assert partition.read_manifest(s3, bucket, "raw", source, before)["dedup_days"] == [], source
        assert _content(_rows(s3, bucket, source, before)) == rows, source


def test_a_failing_source_does_not_stop_the_others_and_the_report_names_it(
    airflow_db, bucket, demo_sources, demo_day, tmp_path, monkeypatch
):
    with socket.socket() as sock:  # a port nothing listens on: the source's feed cannot be fetched
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = tmp_path / "with-broken.yaml"
    doc = yaml.safe_load(Path(os.environ["NEWS_SOURCES"]).read_text())
    doc["sources"].append({"name": "broken", "feeds": [f"{dead}/rss.xml"], "allowed_domains": ["127.0.0.1"]})
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("NEWS_SOURCES", str(path))

    assert _run(demo_day).state == "failed"
    s3 = s3io.client()
    for source in (p.name for p in demo_sources.site.publishers):
        assert _rows(s3, bucket, source, demo_day), source
    assert "broken" not in {source for source, _, _ in downstream.rows_per_day(downstream.connect(), bucket)}
    report = json.loads(s3io.get_bytes(s3, bucket, f"reports/dt={demo_day}/report.json"))
    assert report["failed"] == ["broken"]
    broken = report["sources"]["broken"]
    assert broken["status"] == "failed" and broken["failed_stage"] == "validate"
    assert "no article" in broken["error"]
