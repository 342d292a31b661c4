"""The transactional partition protocol against a real S3 endpoint (moto server over HTTP)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ingest import partition
from ingest import s3 as s3io

DAY = date(2026, 11, 20)


def _stage(s3, bucket, tmp_path, names, attempt, payload=b"x"):
    files = []
    for name in names:
        path = tmp_path / attempt / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload + name.encode())
        files.append(path)
    return partition.stage_files(s3, bucket, files, "clean", "src", DAY, attempt)


def _listing(s3, bucket):
    return sorted(s3io.list_objects(s3, bucket, ""))


def test_publish_writes_parts_manifest_success_and_drops_staging(bucket, tmp_path):
    s3 = s3io.client()
    staged = _stage(s3, bucket, tmp_path, ["part-00000.parquet", "part-00001.parquet"], "a1")
    manifest = partition.publish(s3, bucket, "clean", "src", DAY, staged, {"rows": 3})
    prefix = "clean/source=src/dt=2026-11-20/"
    assert _listing(s3, bucket) == [
        prefix + n for n in ("_SUCCESS", "_manifest.json", "part-00000.parquet", "part-00001.parquet")
    ]
    stored = json.loads(s3io.get_bytes(s3, bucket, prefix + "_manifest.json"))
    assert stored == manifest and stored["rows"] == 3
    for part in stored["parts"]:
        body = s3io.get_bytes(s3, bucket, part["key"])
        assert len(body) == part["size"]
        assert part["sha256"] == __import__("hashlib").sha256(body).hexdigest()
    assert partition.read_manifest(s3, bucket, "clean", "src", DAY) == manifest


def test_rerun_with_fewer_parts_leaves_no_stale_part(bucket, tmp_path):
    s3 = s3io.client()
    partition.publish(
        s3,
        bucket,
        "clean",
        "src",
        DAY,
        _stage(s3, bucket, tmp_path, ["part-00000.parquet", "part-00001.parquet"], "a1"),
        {},
    )
    partition.publish(
        s3, bucket, "clean", "src", DAY, _stage(s3, bucket, tmp_path, ["part-00000.parquet"], "a2", b"y"), {}
    )
    prefix = "clean/source=src/dt=2026-11-20/"
    assert _listing(s3, bucket) == [prefix + n for n in ("_SUCCESS", "_manifest.json", "part-00000.parquet")]
    assert s3io.get_bytes(s3, bucket, prefix + "part-00000.parquet") == b"ypart-00000.parquet"


def test_crash_between_part_uploads_then_retry_gives_a_correct_partition(bucket, tmp_path, monkeypatch):
    s3 = s3io.client()
    partition.publish(s3, bucket, "clean", "src", DAY, _stage(s3, bucket, tmp_path, ["part-00000.parquet"], "a0"), {})
    staged = _stage(s3, bucket, tmp_path, ["part-00000.parquet", "part-00001.parquet"], "a1", b"new")
    real_copy, copies = s3io.copy_object, []

    def crash_on_second(client, bkt, src, dst):
        if copies:
            raise ConnectionError("injected: endpoint gone between two part uploads")
        copies.append(dst)
        real_copy(client, bkt, src, dst)

    monkeypatch.setattr(s3io, "copy_object", crash_on_second)
    with pytest.raises(ConnectionError):
        partition.publish(s3, bucket, "clean", "src", DAY, staged, {})
    # half-written: invisible to readers that honour _SUCCESS
    assert partition.read_manifest(s3, bucket, "clean", "src", DAY) is None
    monkeypatch.setattr(s3io, "copy_object", real_copy)
    retry = _stage(s3, bucket, tmp_path, ["part-00000.parquet", "part-00001.parquet"], "a2", b"new")
    manifest = partition.publish(s3, bucket, "clean", "src", DAY, retry, {})
    prefix = "clean/source=src/dt=2026-11-20/"
    assert _listing(s3, bucket) == [
        prefix + n for n in ("_SUCCESS", "_manifest.json", "part-00000.parquet", "part-00001.parquet")
    ]
    assert [p["key"] for p in manifest["parts"]] == [prefix + "part-00000.parquet", prefix + "part-00001.parquet"]
    assert s3io.get_bytes(s3, bucket, prefix + "part-00001.parquet") == b"newpart-00001.parquet"


def test_unfinished_partition_has_no_manifest_for_readers(bucket, tmp_path):
    s3 = s3io.client()
    staged = _stage(s3, bucket, tmp_path, ["part-00000.parquet"], "a1")
    s3io.copy_object(s3, bucket, staged[0].key, "clean/source=src/dt=2026-11-20/part-00000.parquet")
    assert partition.read_manifest(s3, bucket, "clean", "src", DAY) is None
