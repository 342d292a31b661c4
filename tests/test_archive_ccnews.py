"""CC-NEWS: a month-long backfill of two sources from CC-NEWS-style WARC files on the moto S3 server, streamed,
resumed after a stopped and after a failed run, then cleaned into the Delta table with `cc-news` provenance."""

from __future__ import annotations

import urllib.error
from datetime import UTC, date
from pathlib import Path

import pytest

from ingest import ccnews, partition, pipeline, table
from ingest import s3 as s3io
from ingest.rawio import read_index
from tests.archive_site import CC_BUCKET, month_of_captures, upload_cc_news, write_archive_sources

MONTH = "2023-03"
ANCHORS = [date(2023, 3, d) for d in (4, 11, 18, 25, 31)] + [date(2023, 4, 2)]  # news of March, and a bit after
SOURCES = ["millbrook", "portcalder"]  # their URLs carry the date: each anchor's articles are other pages
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def month(s3_server, bucket, tmp_path, monkeypatch):
    captures, articles = month_of_captures(ANCHORS)
    paths = upload_cc_news(captures, MONTH, files=3)
    monkeypatch.setenv("NEWS_SOURCES", str(write_archive_sources(tmp_path / "s.yaml", ("cc-news",), SOURCES)))
    monkeypatch.setenv("NEWS_COMMONCRAWL_DATA_URL", f"{s3_server.endpoint}/{CC_BUCKET}")
    monkeypatch.setenv("NEWS_STATE_DAYS", "0")  # the demo reuses its stories each week: no cross-day state here
    yield paths, articles
    s3 = s3io.client()
    s3io.delete_keys(s3, CC_BUCKET, list(s3io.list_objects(s3, CC_BUCKET, "crawl-data/CC-NEWS/")))


def _expected(articles) -> dict[tuple[str, date], set[str]]:
    out: dict[tuple[str, date], set[str]] = {}
    for source in SOURCES:
        for url, a in articles[source].items():
            day = a.published.astimezone(UTC).date()
            if day.strftime("%Y-%m") == MONTH:
                out.setdefault((source, day), set()).add(url)
    return out


def test_month_backfill_streams_resumes_and_publishes_one_partition_per_source_and_day(month, bucket, tmp_path):
    paths, articles = month
    s3 = s3io.client()
    first = ccnews.backfill_month(MONTH, max_files=1)  # a run stopped on its budget after one file
    assert first["files_read"] == 1 and first["stopped"] == "max_files" and "partitions" not in first
    # a run that fails on the second file (gone from the bucket for a while): the first stays done
    gone = s3io.get_bytes(s3, CC_BUCKET, paths[1])
    s3io.delete_keys(s3, CC_BUCKET, [paths[1]])
    with pytest.raises(urllib.error.HTTPError):
        ccnews.backfill_month(MONTH)
    s3.put_object(Bucket=CC_BUCKET, Key=paths[1], Body=gone, ACL="public-read")
    done = ccnews.backfill_month(MONTH)
    assert done["files_resumed"] == 1 and done["files_read"] == 2, done
    counts = done["records"]
    assert counts["offsite"] > 0, "the month's other publisher is not a source here"
    assert counts["out_of_window_page"] > 0, "April's articles are not March's"
    expected = _expected(articles)
    published = {(p["source"], date.fromisoformat(p["dt"])) for p in done["partitions"]}
    assert len(expected) >= 20 and published == set(expected)
    for (source, day), urls in expected.items():
        manifest = partition.read_manifest(s3, bucket, "raw", source, day)
        key = next(p["key"] for p in manifest["parts"] if p["key"].endswith("index.jsonl.gz"))
        path = tmp_path / f"{source}-{day}.jsonl.gz"
        path.write_bytes(s3io.get_bytes(s3, bucket, key))
        lines = read_index(path)
        assert {line["url"] for line in lines} == urls, (source, day)
        assert all(line["archive"] == "cc-news" and "#offset=" in line["archive_url"] for line in lines)
    # a day of it through the clean, validate and publish stages: rows say they came from CC-NEWS
    source, day = next(iter(sorted(expected)))
    cleaned = pipeline.clean(source, day, "test-attempt")
    pipeline.publish(pipeline.validate(cleaned, quiet=False), "test-run")
    rows = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", source), ("dt", "=", day)]).to_pylist()
    assert {r["url"] for r in rows} == expected[(source, day)]
    assert all(r["provenance"] == "cc-news" and r["capture"]["captured_at"] for r in rows)


def test_a_file_cut_short_keeps_what_came_before_and_is_counted(month, bucket):
    paths, articles = month
    s3 = s3io.client()
    whole = s3io.get_bytes(s3, CC_BUCKET, paths[2])
    s3.put_object(Bucket=CC_BUCKET, Key=paths[2], Body=whole[: len(whole) // 2], ACL="public-read")
    done = ccnews.backfill_month(MONTH)
    counts = done["records"]
    assert done["files_read"] == 3 and counts.get("corrupt_file", 0) + counts.get("corrupt_record", 0) == 1, counts
    kept = sum(p["stored"] for p in done["partitions"])
    assert 0 < kept < sum(len(u) for u in _expected(articles).values())


def test_a_killed_run_resumes_from_the_first_file_it_had_not_finished(month, bucket, s3_server, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import time

    from archive_site import StallingProxy

    paths, articles = month
    proxy = StallingProxy(f"{s3_server.endpoint}/{CC_BUCKET}", {paths[1]})
    try:
        monkeypatch.setenv("NEWS_COMMONCRAWL_DATA_URL", proxy.url)
        run = subprocess.Popen([sys.executable, "-m", "ingest.ccnews", MONTH], env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        assert proxy.stalled.wait(120), "the run never reached the second file"
        run.send_signal(signal.SIGKILL)  # killed while it reads the second file
        run.wait(30)
        done_keys = [k for k in s3io.list_objects(s3io.client(), bucket, "archives/cc-news/") if k.endswith("_DONE")]
        assert len(done_keys) == 1 and Path(paths[0]).name in done_keys[0]
        proxy.release.set()
        began = time.monotonic()
        done = ccnews.backfill_month(MONTH)
        assert time.monotonic() - began < 120
    finally:
        proxy.stop()
    assert done["files_resumed"] == 1 and done["files_read"] == 2
    published = {(p["source"], date.fromisoformat(p["dt"])) for p in done["partitions"]}
    assert published == set(_expected(articles))
