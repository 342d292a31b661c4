"""The Delta commit of the clean table (`ingest.table.publish`) as a contract. Pure parts without S3: the
partition predicate, the commit metadata, finding a publish's own commit in the log (on the in-process fake of
S3), recording the table properties (on a fake table). With the local S3 endpoint (moto, tests/conftest.py):
the version a publish returns, what each commit records, zstd data files, and which failures of delta-rs's
write are retried, recognised as our own commit, or raised (faults injected at `write_deltalake`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from ingest import s3 as s3io
from ingest import table
from ingest.parquet import SCHEMA
from tests.fake_s3 import FakeS3, client_error

DAY = date(2025, 6, 2)
FAKE_BUCKET = "news-fake"

# -- pure ------------------------------------------------------------------------------------------------------


def test_the_partition_predicate_names_exactly_one_source_and_day():
    assert table.partition_predicate("src", DAY) == "source = 'src' AND dt = '2025-06-02'"
    assert table.partition_predicate("a_b-c9", DAY) == "source = 'a_b-c9' AND dt = '2025-06-02'"
    assert table.partition_predicate("a-b", DAY) == "source = 'a-b' AND dt = '2025-06-02'"


@pytest.mark.parametrize("source", ["", "a'b", "a b", "x' OR '1'='1", "a/b", "a.b"])
def test_a_source_name_that_could_widen_the_predicate_is_refused(source):
    with pytest.raises(ValueError, match="bad source name"):
        table.partition_predicate(source, DAY)


def test_commit_metadata_is_strings_under_our_prefix():
    assert table.commit_metadata({"run_id": "r1", "rows": 3, "counts": {"b": 2, "a": 1}, "ok": True}) == {
        "news_ingest.run_id": "r1",
        "news_ingest.rows": "3",
        "news_ingest.counts": '{"a": 1, "b": 2}',
        "news_ingest.ok": "true",
    }


# -- finding a publish's own commit in the log (fake S3) --------------------------------------------------------


def log_key(version: int) -> str:
    return f"clean/_delta_log/{version:020d}.json"


@pytest.fixture
def fake_log(monkeypatch):
    s3 = FakeS3(FAKE_BUCKET)
    monkeypatch.setattr(s3io, "client", lambda: s3)

    def commit(version: int, metadata: dict, extra: str = "") -> None:
        lines = [json.dumps({"protocol": {"minReaderVersion": 1}}), "", json.dumps({"commitInfo": metadata}), extra]
        s3.put_object(Bucket=FAKE_BUCKET, Key=log_key(version), Body="\n".join(lines).encode())

    return commit


MINE = {"news_ingest.publish_id": "p1", "news_ingest.source": "src"}


def test_own_version_is_the_commit_carrying_all_of_this_publishs_metadata(fake_log):
    fake_log(3, {"news_ingest.publish_id": "p0", "news_ingest.source": "src"})
    fake_log(4, {**MINE, "operation": "WRITE", "news_ingest.rows": "2"})
    fake_log(5, {"news_ingest.publish_id": "p1", "news_ingest.source": "other"})  # one key differs: not ours
    fake_log(6, {"operation": "SET TBLPROPERTIES"})
    assert table._own_version(FAKE_BUCKET, MINE, 3, 6) == 4
    assert table._own_version(FAKE_BUCKET, MINE, 2, 4) == 4
    with pytest.raises(RuntimeError, match=r"is not among versions 5\.\.6"):
        table._own_version(FAKE_BUCKET, MINE, 4, 6)


def test_own_version_looks_at_every_version_after_the_one_read(fake_log):
    for version in range(1, 6):
        fake_log(version, {"news_ingest.publish_id": f"p{version}"})
    for version in range(1, 6):
        assert table._own_version(FAKE_BUCKET, {"news_ingest.publish_id": f"p{version}"}, 0, 5) == version
    # the first publish of a table read no version (-1): version 0 is searched too
    fake_log(0, MINE)
    assert table._own_version(FAKE_BUCKET, MINE, -1, 5) == 0
    with pytest.raises(RuntimeError):
        table._own_version(FAKE_BUCKET, MINE, 0, 5)


class Latest:
    def __init__(self, version):
        self._version = version

    def version(self):
        return self._version


def test_committed_is_true_only_when_the_commit_is_found(fake_log, monkeypatch):
    fake_log(1, MINE)
    monkeypatch.setattr(table, "open_table", lambda bucket, version=None: Latest(2))
    fake_log(2, {"news_ingest.publish_id": "p2"})
    assert table._committed(FAKE_BUCKET, MINE, 0) is True
    assert table._committed(FAKE_BUCKET, MINE, 1) is False, "after the version read: not found"


@pytest.mark.parametrize(
    "error",
    [TableNotFoundError("gone"), OSError("reset"), client_error("SlowDown", "GetObject")],
    ids=["no-table", "os-error", "client-error"],
)
def test_committed_is_false_when_s3_cannot_tell(fake_log, monkeypatch, error):
    fake_log(1, MINE)

    def failing(bucket, version=None):
        raise error

    if isinstance(error, ClientError):  # the table is there, its log cannot be read now

        class Throttled(FakeS3):
            def get_object(self, **kwargs):
                raise error

        monkeypatch.setattr(table, "open_table", lambda bucket, version=None: Latest(1))
        monkeypatch.setattr(s3io, "client", lambda: Throttled(FAKE_BUCKET))
    else:
        monkeypatch.setattr(table, "open_table", failing)
    assert table._committed(FAKE_BUCKET, MINE, 0) is False


# -- the table properties (fake table) -------------------------------------------------------------------------

WANTED = {"news_ingest.schema_version": "3", "delta.checkpointInterval": "10"}


class FakeTable:
    """A table whose property commits fail `conflicts` times (another writer committed meanwhile)."""

    def __init__(self, configuration: dict, conflicts: int = 0, set_by_other: dict | None = None) -> None:
        self.configuration = dict(configuration)
        self.conflicts, self.set_by_other = conflicts, set_by_other
        self.calls: list[str] = []
        self.alter = self

    def metadata(self):
        return type("Metadata", (), {"configuration": dict(self.configuration)})()

    def set_table_properties(self, properties, raise_if_not_exists=True):
        self.calls.append("set")
        if raise_if_not_exists and any(k not in self.configuration for k in properties):
            raise ValueError("property does not exist")  # delta-rs: only existing properties may be changed
        if self.conflicts:
            self.conflicts -= 1
            raise CommitFailedError("Metadata changed since last commit")
        self.configuration.update(properties)

    def update_incremental(self):
        self.calls.append("update")
        if self.set_by_other:
            self.configuration.update(self.set_by_other)


def test_the_schema_version_and_checkpoint_interval_are_recorded_once():
    fresh = FakeTable({"other": "x"})
    table.mark_schema_version(fresh)
    assert fresh.configuration == {"other": "x", **WANTED} and fresh.calls == ["set"]
    table.mark_schema_version(fresh)
    assert fresh.calls == ["set"], "already recorded: no commit"
    for stale in ({**WANTED, "news_ingest.schema_version": "2"}, {**WANTED, "delta.checkpointInterval": "100"}):
        old = FakeTable(stale)
        table.mark_schema_version(old)
        assert old.configuration == WANTED and old.calls == ["set"]


def test_a_property_commit_that_conflicts_is_retried_on_the_refreshed_table():
    busy = FakeTable({}, conflicts=2)
    table.mark_schema_version(busy)
    assert busy.configuration == WANTED and busy.calls == ["set", "update", "set", "update", "set"]
    # the other writer recorded them meanwhile: nothing more to do
    raced = FakeTable({}, conflicts=1, set_by_other=WANTED)
    table.mark_schema_version(raced)
    assert raced.calls == ["set", "update"]
    hopeless = FakeTable({}, conflicts=99)
    with pytest.raises(table.ConcurrentPublishError, match="could not record news_ingest.schema_version=3"):
        table.mark_schema_version(hopeless)
    assert hopeless.calls.count("set") == 3


# -- publish, against the local S3 endpoint --------------------------------------------------------------------


def rows(source: str, day: date, n: int, title: str) -> pa.Table:
    at = datetime(2025, 6, 2, 9, tzinfo=UTC)
    return pa.Table.from_pylist(
        [
            {"url": f"https://{source}.example/{title}/{i}", "source": source, "dt": day, "title": title,
             "fetched_at": at, "warc_offset": 5_000_000_000 + i}
            for i in range(n)
        ],
        schema=SCHEMA,
    )  # fmt: skip


def titles(bucket: str, source: str = "src", day: date = DAY) -> list[str]:
    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", source), ("dt", "=", day)])
    return sorted(data.column("title").to_pylist())


def test_publish_returns_its_own_version_and_records_its_metadata(bucket):
    assert table.publish(bucket, "src", DAY, rows("src", DAY, 2, "a"), {"run_id": "r1", "rows": 2}) == 0
    assert table.open_table(bucket).version() == 1, "then one commit of the table properties"
    configuration = table.open_table(bucket).metadata().configuration
    assert {k: configuration.get(k) for k in WANTED} == WANTED
    assert table.publish(bucket, "other", DAY, lambda: rows("other", DAY, 1, "o").to_reader(), {"run_id": "r2"}) == 2
    assert table.publish(bucket, "src", DAY, rows("src", DAY, 3, "b"), {"run_id": "r3"}) == 3
    assert table.open_table(bucket).version() == 3, "the properties are recorded once"
    assert titles(bucket) == ["b"] * 3 and titles(bucket, "other") == ["o"]
    commits = {c["version"]: c for c in table.history(bucket)}
    assert {k: commits[0].get(k) for k in ("run_id", "rows", "source", "dt", "schema_version")} == {
        "run_id": "r1",
        "rows": "2",
        "source": "src",
        "dt": "2025-06-02",
        "schema_version": "3",
    }
    ids = [commits[v]["publish_id"] for v in (0, 2, 3)]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    assert commits[2]["source"] == "other" and commits[3]["run_id"] == "r3"
    # the data files are zstd-compressed Parquet
    s3 = s3io.client()
    for uri in table.open_table(bucket).file_uris():
        path = uri.removeprefix(f"s3://{bucket}/")
        meta = pq.ParquetFile(pa.BufferReader(s3io.get_bytes(s3, bucket, path))).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD", uri


def test_rows_of_another_partition_are_refused(bucket):
    with pytest.raises(Exception):  # noqa: B017 - delta-rs's own error for rows outside the predicate
        table.publish(bucket, "src", DAY, rows("elsewhere", DAY, 1, "x"), {})


class FlakyWrite:
    """Wraps write_deltalake: the first `errors` calls fail (after writing, when `applied`); records every call."""

    def __init__(self, real, errors: list[Exception], applied: bool = False) -> None:
        self.real, self.errors, self.applied = real, list(errors), applied
        self.calls: list[dict] = []

    def __call__(self, target, data, **kwargs):
        self.calls.append({"data": data, **kwargs})
        if self.errors:
            error = self.errors.pop(0)
            if self.applied:
                self.real(target, data, **kwargs)
            raise error
        return self.real(target, data, **kwargs)


@pytest.fixture
def flaky(monkeypatch):
    def install(errors, applied=False):
        wrapper = FlakyWrite(table.write_deltalake, errors, applied)
        monkeypatch.setattr(table, "write_deltalake", wrapper)
        return wrapper

    return install


def test_the_write_replaces_only_its_partition_in_one_commit(bucket, flaky):
    table.publish(bucket, "src", DAY, rows("src", DAY, 1, "a"), {})
    write = flaky([])
    table.publish(bucket, "src", DAY, rows("src", DAY, 1, "b"), {"run_id": "r"})
    (call,) = write.calls
    assert call["mode"] == "overwrite" and call["predicate"] == "source = 'src' AND dt = '2025-06-02'"
    assert call["partition_by"] == ["source", "dt"] and call["schema_mode"] == "merge"
    assert call["commit_properties"].max_commit_retries == 15
    assert call["commit_properties"].custom_metadata["news_ingest.run_id"] == "r"
    assert call["storage_options"] == table.storage_options()


@pytest.mark.parametrize("message", ["Metadata changed since last commit", "Protocol changed since last commit"])
def test_a_commit_refused_for_changed_metadata_is_retried(bucket, flaky, message):
    write = flaky([CommitFailedError(message)] * 3)
    calls = []

    def data():
        calls.append(1)
        return rows("src", DAY, 2, "a").to_reader()

    assert table.publish(bucket, "src", DAY, data, {}) == 0
    assert len(write.calls) == 4 and len(calls) == 4, "a fresh reader for every try"
    assert titles(bucket) == ["a", "a"]


def test_changed_metadata_four_times_in_a_row_fails_the_publish(bucket, flaky):
    write = flaky([CommitFailedError("Metadata changed since last commit")] * 4)
    with pytest.raises(table.ConcurrentPublishError):
        table.publish(bucket, "src", DAY, rows("src", DAY, 1, "a"), {})
    assert len(write.calls) == 4
    assert not table.exists(bucket)


def test_a_conflict_on_the_same_partition_fails_at_once_and_says_so(bucket, flaky):
    table.publish(bucket, "src", DAY, rows("src", DAY, 1, "old"), {})
    write = flaky([CommitFailedError("Commit failed: a concurrent transaction deleted the same data")])
    with pytest.raises(table.ConcurrentPublishError) as caught:
        table.publish(bucket, "src", DAY, rows("src", DAY, 1, "new"), {})
    assert len(write.calls) == 1
    assert "clean/source=src/dt=2025-06-02 was committed by another run" in str(caught.value)
    assert "concurrent transaction" in str(caught.value)
    assert isinstance(caught.value.__cause__, CommitFailedError)
    assert titles(bucket) == ["old"]


def test_an_io_error_is_raised_unless_the_commit_was_applied(bucket, flaky):
    table.publish(bucket, "src", DAY, rows("src", DAY, 1, "old"), {})
    flaky([OSError("connection reset")])
    with pytest.raises(OSError, match="connection reset"):
        table.publish(bucket, "src", DAY, rows("src", DAY, 1, "lost"), {})
    assert titles(bucket) == ["old"]
    # the answer to an applied commit lost: the publish's own version, once
    write = flaky([OSError("connection reset")], applied=True)
    assert table.publish(bucket, "src", DAY, rows("src", DAY, 1, "new"), {}) == 2
    assert len(write.calls) == 1 and titles(bucket) == ["new"]
    assert table.open_table(bucket).version() == 2


def test_a_commit_failure_after_the_commit_was_applied_is_the_publish_s_own_version(bucket, flaky):
    table.publish(bucket, "src", DAY, rows("src", DAY, 1, "old"), {})
    write = flaky([CommitFailedError("Metadata changed since last commit")], applied=True)
    assert table.publish(bucket, "src", DAY, rows("src", DAY, 1, "new"), {}) == 2
    assert len(write.calls) == 1, "not written twice"
    assert titles(bucket) == ["new"] and table.open_table(bucket).version() == 2
