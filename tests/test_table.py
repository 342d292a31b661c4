"""The clean layer as a Delta table, against the moto S3 server over HTTP: real delta-rs, real DuckDB."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from ingest import downstream, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA, SCHEMA_VERSION

DAY = date(2026, 11, 20)

# The contract of README "Clean table schema", frozen here as a literal: a change of the schema must change this
# test, the README and SCHEMA_VERSION together.
EXPECTED_SCHEMA = [
    ("url", "string"),
    ("canonical_url", "string"),
    ("source", "string"),
    ("title", "string"),
    ("authors", "list<element: string>"),
    ("published_at", "timestamp[us, tz=UTC]"),
    ("language", "string"),
    ("text", "string"),
    ("removed", "list<element: struct<text: string, rule: string, layer: string>>"),
    ("fingerprint", "string"),
    ("fetched_at", "timestamp[us, tz=UTC]"),
    ("cleaner_version", "string"),
    ("warc_file", "string"),
    ("warc_offset", "int64"),
    ("dt", "date32[day]"),
    # schema version 3 (issue #15)
    ("site_name", "string"),
    ("image_url", "string"),
    ("section", "string"),
    ("keywords", "list<element: string>"),
    ("modified_at", "timestamp[us, tz=UTC]"),
    ("language_detected", "string"),
    ("free_access", "bool"),
    ("truncated", "bool"),
    ("access_signals", "list<element: string>"),
    (
        "rights",
        "struct<x_robots_tag: string, meta_robots: string, noai: bool, noimageai: bool, noindex: bool, "
        "noarchive: bool, tdm_reservation: bool, tdm_policy: string, tdm_from: string, ai_agents_disallowed: "
        "list<element: string>, reserved: bool, reserved_by: list<element: string>>",
    ),
    ("minhash", "binary"),
    ("near_duplicate_of", "string"),
    ("provenance", "string"),
    ("capture", "struct<archive: string, archive_url: string, captured_at: timestamp[us, tz=UTC]>"),
]


def rows(source: str, day: date, n: int, tag: str) -> pa.Table:
    stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return pa.Table.from_pylist(
        [
            {
                "url": f"https://{source}.example/{tag}/{i}",
                "canonical_url": f"https://{source}.example/{tag}/{i}",
                "source": source,
                "title": tag,
                "authors": ["A. Writer"],
                "published_at": stamp,
                "language": "en",
                "text": f"{tag} text {i}",
                "removed": [{"text": "Support us", "rule": "appeal", "layer": "text"}],
                "fingerprint": f"{tag}{i}",
                "fetched_at": stamp,
                "cleaner_version": "test",
                "warc_file": "raw/x.warc.gz",
                "warc_offset": i,
                "dt": day,
            }
            for i in range(n)
        ],
        schema=SCHEMA,
    )


def publish(bucket, source, day, n, tag, **info) -> int:
    return table.publish(bucket, source, day, rows(source, day, n, tag), {"run_id": tag, "rows": n, **info})


def partition_rows(bucket, source, day, version=None) -> list[dict]:
    data = table.open_table(bucket, version).to_pyarrow_table(
        filters=[("source", "=", source), ("dt", "=", day)]
    )
    return sorted(data.to_pylist(), key=lambda r: r["url"])


def test_publish_replaces_exactly_its_partition_and_records_the_commit(bucket):
    publish(bucket, "alpha", DAY, 3, "first")
    publish(bucket, "beta", DAY, 2, "beta")
    publish(bucket, "alpha", DAY - timedelta(days=1), 4, "before")
    version = publish(bucket, "alpha", DAY, 1, "second", cleaner_version="9.9")
    assert [r["title"] for r in partition_rows(bucket, "alpha", DAY)] == ["second"]
    assert [r["title"] for r in partition_rows(bucket, "beta", DAY)] == ["beta"] * 2
    assert len(partition_rows(bucket, "alpha", DAY - timedelta(days=1))) == 4
    latest = table.history(bucket)[0]
    assert latest["version"] == version
    assert latest["operation"] == "WRITE"
    assert {k: latest[k] for k in ("run_id", "source", "dt", "rows", "cleaner_version", "schema_version")} == {
        "run_id": "second",
        "source": "alpha",
        "dt": DAY.isoformat(),
        "rows": "1",
        "cleaner_version": "9.9",
        "schema_version": SCHEMA_VERSION,
    }
    assert table.open_table(bucket).metadata().configuration[table.SCHEMA_PROPERTY] == SCHEMA_VERSION


def test_the_table_schema_is_the_frozen_contract(bucket):
    publish(bucket, "alpha", DAY, 2, "x")
    schema = table.open_table(bucket).to_pyarrow_table().schema
    assert [(f.name, str(f.type)) for f in schema] == EXPECTED_SCHEMA
    assert [f.name for f in SCHEMA] == [name for name, _ in EXPECTED_SCHEMA]


def test_adding_a_column_is_a_schema_evolution_commit(bucket):
    publish(bucket, "alpha", DAY, 2, "old")
    wider = rows("alpha", DAY + timedelta(days=1), 3, "new")
    wider = wider.append_column("word_count", pa.array([10, 20, 30], pa.int64()))
    table.publish(bucket, "alpha", DAY + timedelta(days=1), wider, {"run_id": "wider"})
    delta = table.open_table(bucket)
    assert delta.schema().to_arrow().field("word_count") is not None
    old = partition_rows(bucket, "alpha", DAY)
    assert [r["word_count"] for r in old] == [None, None], "earlier rows read the new column as null"
    assert [r["word_count"] for r in partition_rows(bucket, "alpha", DAY + timedelta(days=1))] == [10, 20, 30]
    before = table.open_table(bucket, delta.version() - 1)
    assert "word_count" not in before.schema().to_arrow().names, "the version before has the old schema"


def test_time_travel_shows_the_day_before_a_reclean(bucket):
    first = publish(bucket, "alpha", DAY, 2, "old-cleaner")
    second = publish(bucket, "alpha", DAY, 2, "new-cleaner")
    assert {r["title"] for r in partition_rows(bucket, "alpha", DAY, first)} == {"old-cleaner"}
    assert {r["title"] for r in partition_rows(bucket, "alpha", DAY, second)} == {"new-cleaner"}
    con = downstream.connect()
    uri = downstream.clean_uri(bucket)
    old = con.execute(f"SELECT DISTINCT title FROM delta_scan('{uri}', version => {first})").fetchall()
    new = con.execute(f"SELECT DISTINCT title FROM delta_scan('{uri}')").fetchall()
    assert (old, new) == ([("old-cleaner",)], [("new-cleaner",)])


def test_a_duckdb_reader_sees_whole_versions_during_20_republishes(bucket):
    publish(bucket, "alpha", DAY, 3, "v0")
    publish(bucket, "beta", DAY, 2, "other")
    con = downstream.connect()
    uri = downstream.clean_uri(bucket)
    seen, errors, done = [], [], threading.Event()

    def poll():
        while not done.is_set():
            try:
                seen.append(
                    con.cursor()
                    .execute(
                        f"SELECT list(DISTINCT title), count(*) FROM delta_scan('{uri}') "
                        "WHERE source = 'alpha' AND dt = DATE '2026-11-20'"
                    )
                    .fetchone()
                )
            except Exception as exc:  # a reader error is a failure too
                errors.append(exc)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for i in range(1, 21):
            publish(bucket, "alpha", DAY, 3 + 2 * (i % 2), f"v{i}")  # alternately 5 and 3 rows
    finally:
        done.set()
        reader.join(60)
    assert not errors, errors[:3]
    assert len(seen) >= 5, f"only {len(seen)} reads during the publishes"
    for titles, count in seen:
        assert len(titles) == 1, f"a read mixed versions: {titles}"
        version = int(titles[0][1:])
        assert count == (3 + 2 * (version % 2) if version else 3), f"{titles[0]} read with {count} rows"
    assert len({t[0] for t, _ in seen}) >= 2, "the reads did not span several versions"
    assert downstream.rows_per_day(con, bucket) == [("alpha", DAY, 3), ("beta", DAY, 2)]


def test_the_first_publishes_of_a_new_table_all_commit(bucket):
    """Sources of one run publish at once into a bucket without the table: one creates it and sets its properties
    (a metadata commit that refuses the others' commits), the others retry and land."""
    parts = [(f"s{i}", DAY) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda p: publish(bucket, p[0], p[1], 2, p[0]), parts))
    assert len(set(versions)) == 4
    assert downstream.rows_per_day(downstream.connect(), bucket) == [(s, DAY, 2) for s, _ in parts]


def test_concurrent_publishes_of_six_partitions_all_commit(bucket):
    publish(bucket, "seed", DAY, 1, "seed")
    parts = [(f"s{i}", DAY - timedelta(days=i % 2)) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        versions = list(pool.map(lambda p: publish(bucket, p[0], p[1], 2, p[0]), parts))
    assert len(set(versions)) == 6
    counts = downstream.rows_per_day(downstream.connect(), bucket)
    assert counts == sorted([(s, d, 2) for s, d in parts] + [("seed", DAY, 1)])


def stale_write(stale, source: str, n: int, tag: str) -> None:
    """The publish's write, made on a table read before another commit (the read this writer started from)."""
    write_deltalake(
        stale,
        rows(source, DAY, n, tag),
        mode="overwrite",
        predicate=table.partition_predicate(source, DAY),
        partition_by=table.PARTITION_BY,
    )


def test_a_stale_writer_of_the_same_partition_fails_clearly_and_changes_nothing(bucket):
    """Deterministic interleaving: B reads the table, A commits the partition, B commits on its stale read."""
    publish(bucket, "alpha", DAY, 2, "initial")
    stale = table.open_table(bucket)  # B's read
    publish(bucket, "alpha", DAY, 3, "writer-a")  # A commits in between
    with pytest.raises(Exception, match="concurrent") as caught:
        stale_write(stale, "alpha", 4, "writer-b")
    assert "CommitFailed" in type(caught.value).__name__
    assert [r["title"] for r in partition_rows(bucket, "alpha", DAY)] == ["writer-a"] * 3


def test_a_stale_writer_of_another_partition_commits_after_a_retry(bucket):
    """Deterministic interleaving: B reads, A commits another partition, B's commit is retried and lands."""
    publish(bucket, "alpha", DAY, 2, "initial")
    stale = table.open_table(bucket)
    publish(bucket, "beta", DAY, 3, "writer-a")
    stale_write(stale, "alpha", 4, "writer-b")
    counts = downstream.rows_per_day(downstream.connect(), bucket)
    assert counts == [("alpha", DAY, 4), ("beta", DAY, 3)]


def test_two_publishers_of_one_partition_free_running_20_trials(bucket):
    """Two runs of the same day at once, 20 times: each trial ends with one run's rows, whole; no day lost."""
    publish(bucket, "keep", DAY, 2, "keep")
    outcomes = []
    started = time.monotonic()
    for trial in range(20):
        day = DAY - timedelta(days=trial + 1)
        barrier = threading.Barrier(2)

        def run(tag, n, day=day, barrier=barrier):
            barrier.wait()
            try:
                publish(bucket, "alpha", day, n, tag)
                return tag
            except table.ConcurrentPublishError:
                return None

        with ThreadPoolExecutor(2) as pool:
            won = [w for w in pool.map(lambda a: run(*a), [("run-a", 3), ("run-b", 5)]) if w]
        got = partition_rows(bucket, "alpha", day)
        titles = {r["title"] for r in got}
        assert len(titles) == 1 and len(got) == {"run-a": 3, "run-b": 5}[titles.pop()], f"trial {trial}: {got}"
        assert won, f"trial {trial}: neither run committed"
        assert {r["title"] for r in got} <= set(won)
        outcomes.append(len(won))
    assert time.monotonic() - started < 300
    counts = dict(((s, d), n) for s, d, n in downstream.rows_per_day(downstream.connect(), bucket))
    assert counts[("keep", DAY)] == 2 and len(counts) == 21, "a partition was lost"
    print(f"both committed (one after the other) in {outcomes.count(2)} of 20 trials, one refused in the rest")


def test_compaction_merges_a_partitions_small_files_and_vacuum_keeps_the_retention(bucket):
    uri = table.uri(bucket)
    options = table.storage_options()
    for i in range(4):  # four small files in one partition, as a day migrated from four parts leaves it
        write_deltalake(uri, rows("alpha", DAY, 2, f"part{i}"), mode="append", partition_by=table.PARTITION_BY,
                        storage_options=options)  # fmt: skip
    before = table.open_table(bucket)
    assert len(before.file_uris()) == 4
    metrics = table.compact(bucket)
    after = table.open_table(bucket)
    assert metrics["numFilesRemoved"] == 4 and len(after.file_uris()) == 1
    assert sorted(after.to_pyarrow_table().column("url").to_pylist()) == sorted(
        before.to_pyarrow_table().column("url").to_pylist()
    )
    s3 = s3io.client()
    parquet_keys = [k for k in s3io.list_objects(s3, bucket, "clean/source=") if k.endswith(".parquet")]
    assert len(parquet_keys) == 5
    assert table.vacuum(bucket, retention_days=7) == [], "files replaced a moment ago are within the retention"
    assert len(table.open_table(bucket, before.version()).to_pyarrow_table()) == 8, "time travel still works"
    removed = table.vacuum(bucket, retention_days=0)
    assert len(removed) == 4
    assert len([k for k in s3io.list_objects(s3, bucket, "clean/source=") if k.endswith(".parquet")]) == 1
    assert len(table.open_table(bucket).to_pyarrow_table()) == 8


def test_credentials_come_from_boto3s_chain_with_a_session_token(bucket, monkeypatch):
    """DuckDB signs its S3 requests with the session token of the environment (seen by a recording endpoint)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    publish(bucket, "alpha", DAY, 2, "x")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-from-the-environment")
    assert table.storage_options()["AWS_SESSION_TOKEN"] == "token-from-the-environment"
    assert downstream.rows_per_day(downstream.connect(), bucket) == [("alpha", DAY, 2)]
    tokens = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            tokens.append(self.headers.get("x-amz-security-token"))
            self.send_response(403)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    recorder = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{recorder.server_address[1]}")
        with pytest.raises(Exception):  # noqa: B017 (the recorder refuses everything)
            downstream.rows_per_day(downstream.connect(), bucket)
    finally:
        recorder.shutdown()
    assert tokens and set(tokens) == {"token-from-the-environment"}


def test_credentials_come_from_a_profile_in_an_aws_config_file(bucket, monkeypatch, tmp_path):
    publish(bucket, "alpha", DAY, 2, "x")
    credentials = tmp_path / "credentials"
    credentials.write_text("[reader]\naws_access_key_id = profile-key\naws_secret_access_key = profile-secret\n")
    config = tmp_path / "config"
    config.write_text("[profile reader]\nregion = eu-west-1\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "reader")
    options = table.storage_options()
    assert (options["AWS_ACCESS_KEY_ID"], options["AWS_REGION"]) == ("profile-key", "eu-west-1")
    assert "AWS_SESSION_TOKEN" not in options
    con = downstream.connect()
    secret = con.execute("SELECT secret_string FROM duckdb_secrets() WHERE name = 'news_s3'").fetchone()
    assert "key_id=profile-key" in secret[0]
    assert downstream.rows_per_day(con, bucket) == [("alpha", DAY, 2)]
