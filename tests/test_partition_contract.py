"""The raw partition's commit protocol as a contract, on an in-process fake of S3 (tests/fake_s3.py): fast, and it
sees every write. Frozen here as literal values: the keys of a partition, the order of a publish's writes (the
attempt's files, then the manifest, then `_SUCCESS` last), the manifest's fields, the conditions of the
conditional writes, what `read_manifest` accepts (only `_manifest.json`, and only once `_SUCCESS` exists: the
marker's own content never stands in for the manifest), and what the sweeps may delete.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from ingest import partition
from tests.fake_s3 import FakeS3, client_error

BUCKET = "news-contract"
DAY = date(2026, 11, 20)
PREFIX = "raw/source=src/dt=2026-11-20/"


def make_files(tmp_path, attempt, names=("part-00000.warc.gz", "index.jsonl.gz")):
    out = []
    for name in names:
        path = tmp_path / attempt / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{attempt}:{name}".encode())
        out.append(path)
    return out


def publish(s3, tmp_path, attempt, hook=None, info=None, names=("part-00000.warc.gz", "index.jsonl.gz")):
    files = make_files(tmp_path, attempt, names)
    return partition.publish(s3, BUCKET, "raw", "src", DAY, files, info or {"run": attempt}, attempt, hook)


def stored(s3, key):
    return json.loads(s3.body(key))


# -- keys ------------------------------------------------------------------------------------------------------


def test_the_keys_of_a_partition_are_these():
    assert partition.partition_prefix("raw", "src", DAY) == "raw/source=src/dt=2026-11-20/"
    assert partition.staging_prefix("clean", "src", DAY) == "staging/clean/source=src/dt=2026-11-20/"
    assert partition.attempt_prefix("raw", "src", DAY, "Run-1.a_B") == "raw/source=src/dt=2026-11-20/attempt=Run-1.a_B/"
    assert (partition.MANIFEST, partition.SUCCESS) == ("_manifest.json", "_SUCCESS")


@pytest.mark.parametrize("token", ["", "a/b", "a b", "x=y", "../up", "a\n"])
def test_an_attempt_token_that_is_not_a_plain_name_is_refused(token):
    with pytest.raises(ValueError, match="bad attempt token"):
        partition.attempt_prefix("raw", "src", DAY, token)


# -- publish: order of writes, manifest, conditions --------------------------------------------------------------


def test_a_first_publish_writes_the_files_then_the_manifest_then_success_last(tmp_path):
    s3 = FakeS3(BUCKET)
    steps = []
    manifest = publish(s3, tmp_path, "a1", hook=steps.append)
    assert s3.writes == [
        ("upload_file", PREFIX + "attempt=a1/part-00000.warc.gz"),
        ("upload_file", PREFIX + "attempt=a1/index.jsonl.gz"),
        ("put_object", PREFIX + "_manifest.json"),
        ("put_object", PREFIX + "_SUCCESS"),
    ]
    assert steps == ["uploaded", "read", "committed"]
    assert s3.body(PREFIX + "_SUCCESS") == b""
    assert s3.objects[PREFIX + "_manifest.json"]["content_type"] == "application/json"
    assert stored(s3, PREFIX + "_manifest.json") == manifest
    assert s3.body(PREFIX + "attempt=a1/part-00000.warc.gz") == b"a1:part-00000.warc.gz"


def test_the_manifest_lists_every_part_with_size_and_sha256_and_who_committed(tmp_path):
    s3 = FakeS3(BUCKET)
    before = datetime.now(UTC)
    manifest = publish(s3, tmp_path, "a1", info={"run": "r1", "counts": {"pages": 2}})
    after = datetime.now(UTC)
    committed = datetime.fromisoformat(manifest.pop("committed_at"))
    assert committed.utcoffset() == timedelta(0) and before <= committed <= after
    publish_id = manifest.pop("publish_id")
    assert len(publish_id) == 32 and int(publish_id, 16) >= 0
    parts = [
        {"key": PREFIX + f"attempt=a1/{name}", "size": len(f"a1:{name}"),
         "sha256": hashlib.sha256(f"a1:{name}".encode()).hexdigest()}
        for name in ("part-00000.warc.gz", "index.jsonl.gz")
    ]  # fmt: skip
    assert manifest == {
        "run": "r1",
        "counts": {"pages": 2},
        "layer": "raw",
        "source": "src",
        "dt": "2026-11-20",
        "attempt": "a1",
        "supersedes": None,
        "parts": parts,
    }


def test_a_second_publish_supersedes_the_first_with_if_match_and_leaves_success_alone(tmp_path):
    s3 = FakeS3(BUCKET)
    first = publish(s3, tmp_path, "a1")
    success = s3.objects[PREFIX + "_SUCCESS"]["etag"]
    s3.writes.clear()
    second = publish(s3, tmp_path, "a2", names=("part-00000.warc.gz",))
    assert second["supersedes"] == "a1" and second["publish_id"] != first["publish_id"]
    assert [p["key"] for p in second["parts"]] == [PREFIX + "attempt=a2/part-00000.warc.gz"]
    assert s3.writes == [
        ("upload_file", PREFIX + "attempt=a2/part-00000.warc.gz"),
        ("put_object", PREFIX + "_manifest.json"),
    ]
    # _SUCCESS is only ever created (If-None-Match: *), never rewritten
    assert s3.refused == [("put_object", PREFIX + "_SUCCESS")]
    assert s3.objects[PREFIX + "_SUCCESS"]["etag"] == success
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) == second
    assert s3.body(PREFIX + "attempt=a1/part-00000.warc.gz") == b"a1:part-00000.warc.gz", "old parts stay"


def test_a_commit_between_read_and_write_is_refused_then_committed_on_top(tmp_path):
    s3 = FakeS3(BUCKET)
    publish(s3, tmp_path, "a0")
    reads = []

    def hook(step):
        if step == "read":
            reads.append(step)
            if len(reads) == 1:  # another run commits after this one read the manifest
                publish(s3, tmp_path, "other")

    final = publish(s3, tmp_path, "mine", hook=hook)
    assert len(reads) == 2 and s3.refused.count(("put_object", PREFIX + "_manifest.json")) == 1
    assert final["attempt"] == "mine" and final["supersedes"] == "other"
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) == final


def test_a_manifest_that_keeps_changing_is_a_commit_conflict_after_five_tries(tmp_path):
    s3 = FakeS3(BUCKET)
    publish(s3, tmp_path, "a0")
    reads = []

    def hook(step):
        if step == "read":
            reads.append(step)
            publish(s3, tmp_path, f"other{len(reads)}")

    with pytest.raises(partition.CommitConflict) as caught:
        publish(s3, tmp_path, "loser", hook=hook)
    assert len(reads) == 5
    assert str(caught.value) == (
        f"s3://{BUCKET}/{PREFIX}_manifest.json changed 5 times while attempt loser tried to commit"
    )
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY)["attempt"] == "other5"


class LostAnswer(FakeS3):
    """Applies the first manifest write, then answers as the client's retry would be answered: 412."""

    lost = False

    def put_object(self, **kwargs):
        result = super().put_object(**kwargs)
        if kwargs["Key"].endswith("_manifest.json") and not self.lost:
            self.lost = True
            raise client_error("PreconditionFailed", "PutObject")
        return result


@pytest.mark.parametrize("earlier", [False, True], ids=["first-version", "second-version"])
def test_a_manifest_write_whose_answer_was_lost_is_one_commit(tmp_path, earlier):
    s3 = LostAnswer(BUCKET)
    if earlier:
        s3.lost = True
        publish(s3, tmp_path, "a0")
        s3.lost = False
    s3.writes.clear()
    manifest = publish(s3, tmp_path, "a1")
    assert manifest["attempt"] == "a1" and manifest == stored(s3, PREFIX + "_manifest.json")
    assert s3.writes.count(("put_object", PREFIX + "_manifest.json")) == 1
    # _SUCCESS is there after it, empty, whether it was created now or by the earlier version
    assert s3.writes[-1] == ("put_object", PREFIX + "_SUCCESS") or earlier
    assert s3.body(PREFIX + "_SUCCESS") == b""
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) == manifest


def test_a_lost_answer_after_someone_else_created_success_does_not_rewrite_it(tmp_path):
    s3 = LostAnswer(BUCKET)
    s3.lost = True
    publish(s3, tmp_path, "a0")
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "_SUCCESS", Body=b"", IfMatch=s3.objects[PREFIX + "_SUCCESS"]["etag"])
    etag = s3.objects[PREFIX + "_SUCCESS"]["etag"]
    s3.lost = False
    publish(s3, tmp_path, "a1")
    assert s3.objects[PREFIX + "_SUCCESS"]["etag"] == etag


def test_a_failed_write_other_than_a_refused_condition_is_raised(tmp_path):
    class Broken(FakeS3):
        def put_object(self, **kwargs):
            raise client_error("InternalError", "PutObject")

    s3 = Broken(BUCKET)
    with pytest.raises(ClientError, match="InternalError"):
        publish(s3, tmp_path, "a1")
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) is None


@pytest.mark.parametrize("code", ["PreconditionFailed", "412", "ConditionalRequestConflict", "409"])
def test_put_if_reports_a_refused_condition_as_false(code):
    class Refusing(FakeS3):
        def put_object(self, **kwargs):
            raise client_error(code, "PutObject")

    assert partition.put_if(Refusing(BUCKET), BUCKET, "k", b"x", '"e"') is False


def test_put_if_sends_if_match_or_if_none_match_and_raises_other_errors():
    seen = []

    class Recording(FakeS3):
        def put_object(self, **kwargs):
            seen.append({k: v for k, v in kwargs.items() if k != "Body"})
            return super().put_object(**kwargs)

    s3 = Recording(BUCKET)
    assert partition.put_if(s3, BUCKET, "k", b"one", None) is True
    etag = s3.objects["k"]["etag"]
    assert partition.put_if(s3, BUCKET, "k", b"two", etag) is True
    assert partition.put_if(s3, BUCKET, "k", b"three", etag) is False, "a stale ETag"
    assert partition.put_if(s3, BUCKET, "k", b"four", None) is False, "the key exists"
    assert s3.body("k") == b"two"
    assert seen[:2] == [
        {"Bucket": BUCKET, "Key": "k", "ContentType": "application/json", "IfNoneMatch": "*"},
        {"Bucket": BUCKET, "Key": "k", "ContentType": "application/json", "IfMatch": etag},
    ]

    class NoCode(FakeS3):
        def put_object(self, **kwargs):
            raise ClientError({}, "PutObject")

    with pytest.raises(ClientError):
        partition.put_if(NoCode(BUCKET), BUCKET, "k", b"x", None)


# -- read_current and read_manifest ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["404", "NoSuchKey", "NotFound"])
def test_read_current_of_a_missing_manifest_is_none(code):
    class Missing(FakeS3):
        def get_object(self, **kwargs):
            raise client_error(code, "GetObject")

    assert partition.read_current(Missing(BUCKET), BUCKET, PREFIX) == (None, None)


def test_read_current_raises_other_errors_and_reads_the_manifest_with_its_etag():
    class Denied(FakeS3):
        def get_object(self, **kwargs):
            raise client_error("AccessDenied", "GetObject")

    with pytest.raises(ClientError, match="AccessDenied"):
        partition.read_current(Denied(BUCKET), BUCKET, PREFIX)

    class NoCode(FakeS3):
        def get_object(self, **kwargs):
            raise ClientError({}, "GetObject")

    with pytest.raises(ClientError):
        partition.read_current(NoCode(BUCKET), BUCKET, PREFIX)
    s3 = FakeS3(BUCKET)
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "_manifest.json", Body=b'{"attempt": "a1"}')
    assert partition.read_current(s3, BUCKET, PREFIX) == (
        {"attempt": "a1"},
        s3.objects[PREFIX + "_manifest.json"]["etag"],
    )


def test_read_manifest_needs_success_and_returns_the_manifest_not_what_success_says(tmp_path):
    s3 = FakeS3(BUCKET)
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) is None, "no partition"
    # a manifest without _SUCCESS (a first publish stopped between its commit and the marker): unfinished
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "_manifest.json", Body=json.dumps({"attempt": "half"}).encode())
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) is None
    # a _SUCCESS without a manifest, whatever it says, is no partition
    s3 = FakeS3(BUCKET)
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "_SUCCESS", Body=json.dumps({"attempt": "fake", "parts": []}).encode())
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) is None
    # both: the manifest is what is read, not the marker's content
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "_manifest.json", Body=json.dumps({"attempt": "real"}).encode())
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY) == {"attempt": "real"}
    assert partition.read_manifest(s3, BUCKET, "raw", "src", DAY + timedelta(days=1)) is None
    assert partition.read_manifest(s3, BUCKET, "raw", "other", DAY) is None


# -- staging -----------------------------------------------------------------------------------------------------


def test_stage_files_uploads_into_the_attempts_staging_folder_and_round_trips(tmp_path):
    s3 = FakeS3(BUCKET)
    files = make_files(tmp_path, "a1")
    staged = partition.stage_files(s3, BUCKET, files, "clean", "src", DAY, "a1")
    assert staged == [
        partition.StagedPart(
            name, f"staging/clean/source=src/dt=2026-11-20/a1/{name}", len(f"a1:{name}"),
            hashlib.sha256(f"a1:{name}".encode()).hexdigest(),
        )
        for name in ("part-00000.warc.gz", "index.jsonl.gz")
    ]  # fmt: skip
    assert s3.body(staged[0].key) == b"a1:part-00000.warc.gz"
    as_dicts = partition.staged_to_dict(staged)
    assert as_dicts[0] == {"name": "part-00000.warc.gz", "key": staged[0].key, "size": staged[0].size,
                           "sha256": staged[0].sha256}  # fmt: skip
    assert partition.staged_from_dict(json.loads(json.dumps(as_dicts))) == staged


def test_sweep_staging_deletes_only_what_is_older_than_the_retention():
    s3 = FakeS3(BUCKET)
    old = datetime(2026, 11, 1, tzinfo=UTC)
    for key, modified in [("staging/a/old1", old), ("staging/a/old2", old), ("staging/b/old3", old),
                          ("staging/b/edge", old + timedelta(days=7)), ("staging/c/new", old + timedelta(days=8)),
                          ("raw/source=s/dt=2026-11-01/old", old)]:  # fmt: skip
        s3.now = modified
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    swept = partition.sweep_staging(s3, BUCKET, timedelta(days=7), now=old + timedelta(days=14))
    assert sorted(swept) == ["staging/a/old1", "staging/a/old2", "staging/b/old3"], "edge: not older, kept"
    assert sorted(s3.objects) == ["raw/source=s/dt=2026-11-01/old", "staging/b/edge", "staging/c/new"]
    # without `now`, the present time
    assert sorted(partition.sweep_staging(s3, BUCKET, timedelta(days=1))) == ["staging/b/edge", "staging/c/new"]
    # nothing staged: S3 answers a page without Contents
    assert partition.sweep_staging(FakeS3(BUCKET), BUCKET, timedelta(days=1)) == []


# -- sweep_superseded --------------------------------------------------------------------------------------------


def test_sweep_superseded_deletes_unlisted_attempt_folders_after_the_retention_only(tmp_path):
    s3 = FakeS3(BUCKET)
    start = s3.now
    publish(s3, tmp_path, "a1")
    s3.now = start + timedelta(days=1)
    publish(s3, tmp_path, "a2")
    s3.now = start + timedelta(days=2)
    # a folder with no manifest yet (a run between upload and commit), and another partition's current version
    s3.upload_file(str(make_files(tmp_path, "pending")[0]), BUCKET, PREFIX + "attempt=pending/part-00000.warc.gz")
    s3.upload_file(str(make_files(tmp_path, "pending")[0]), BUCKET, PREFIX + "attempt=pending2/part-00000.warc.gz")
    other = partition.publish(s3, BUCKET, "raw", "other", DAY, make_files(tmp_path, "o1"), {}, "o1")
    a1 = [PREFIX + "attempt=a1/index.jsonl.gz", PREFIX + "attempt=a1/part-00000.warc.gz"]

    # within the retention of a1's files: nothing
    assert partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=1)) == []
    # exactly at the retention: not older, kept
    assert partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=1)) == []
    # past it: a1 only; the current version a2, the other partition and the pending folder stay
    swept = partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=1, seconds=1))
    assert sorted(swept) == a1
    assert not any(k.startswith(PREFIX + "attempt=a1/") for k in s3.objects)
    # much later, everything no manifest lists goes, and nothing any manifest lists
    swept = partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=30))
    assert sorted(swept) == [
        PREFIX + "attempt=pending/part-00000.warc.gz",
        PREFIX + "attempt=pending2/part-00000.warc.gz",
    ]
    for manifest in (partition.read_manifest(s3, BUCKET, "raw", "src", DAY), other):
        assert all(part["key"] in s3.objects for part in manifest["parts"]), manifest["attempt"]
    # without `now`: the present time (the fake's files are from 2026-11)
    publish(s3, tmp_path, "a3")
    swept = partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1))
    assert sorted(swept) == [PREFIX + "attempt=a2/index.jsonl.gz", PREFIX + "attempt=a2/part-00000.warc.gz"]


def test_sweep_superseded_keeps_a_folder_if_any_of_its_files_is_listed_or_recent(tmp_path):
    s3 = FakeS3(BUCKET)
    start = s3.now
    publish(s3, tmp_path, "a1")
    # a file added to the current folder later, not in the manifest: the folder is in use, nothing is deleted
    s3.upload_file(str(make_files(tmp_path, "x", ("extra",))[0]), BUCKET, PREFIX + "attempt=a1/extra")
    # an unlisted folder with one old and one recent file: kept until both are old
    s3.upload_file(str(make_files(tmp_path, "x", ("old",))[0]), BUCKET, PREFIX + "attempt=b/old")
    s3.now = start + timedelta(days=5)
    s3.upload_file(str(make_files(tmp_path, "x", ("new",))[0]), BUCKET, PREFIX + "attempt=b/new")
    assert partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=3)) == []
    swept = partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=7))
    assert sorted(swept) == [PREFIX + "attempt=b/new", PREFIX + "attempt=b/old"]
    assert PREFIX + "attempt=a1/extra" in s3.objects
    # a first publish that never committed: its partition has no manifest, its folder goes after the retention
    day2 = "raw/source=src/dt=2026-11-21/attempt=crashed/part-00000.warc.gz"
    s3.upload_file(str(make_files(tmp_path, "x", ("c",))[0]), BUCKET, day2)
    assert partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=6)) == []
    assert partition.sweep_superseded(s3, BUCKET, "raw", timedelta(days=1), now=start + timedelta(days=8)) == [day2]
    # objects of another layer are not looked at, even unlisted old ones
    s3.upload_file(str(make_files(tmp_path, "x", ("d",))[0]), BUCKET, PREFIX + "attempt=unlisted/d")
    assert partition.sweep_superseded(s3, BUCKET, "clean", timedelta(0), now=start + timedelta(days=30)) == []
