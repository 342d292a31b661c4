"""Transactional partitions in S3.

A partition is `<layer>/source=<name>/dt=<YYYY-MM-DD>/` holding data parts, `_manifest.json` and `_SUCCESS`.
Writers stage parts under `staging/…/<attempt>/` first, then `publish` swaps them in:

1. delete `_SUCCESS`            - from here readers that honour it skip the partition;
2. copy the staged parts in     - deterministic names, so a retry overwrites instead of duplicating;
3. delete stale objects         - parts of an earlier, larger run leave no orphans;
4. write `_manifest.json`       - every part with its size and sha256;
5. write `_SUCCESS`             - the partition is visible again, complete;
6. drop the staging prefix      - including leftovers of crashed attempts.

Any crash before step 5 leaves a partition without `_SUCCESS`; rerunning the task repairs it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from ingest import s3 as s3io

MANIFEST = "_manifest.json"
SUCCESS = "_SUCCESS"


@dataclass(frozen=True)
class StagedPart:
    name: str  # file name inside the partition
    key: str  # where it is staged
    size: int
    sha256: str


def partition_prefix(layer: str, source: str, day: date) -> str:
    return f"{layer}/source={source}/dt={day.isoformat()}/"


def staging_prefix(layer: str, source: str, day: date) -> str:
    return f"staging/{partition_prefix(layer, source, day)}"


def stage_files(
    s3, bucket: str, files: list[Path], layer: str, source: str, day: date, attempt: str
) -> list[StagedPart]:
    """Upload local files to a staging prefix unique to this attempt."""
    staged = []
    for path in files:
        key = f"{staging_prefix(layer, source, day)}{attempt}/{path.name}"
        s3io.upload_file(s3, path, bucket, key)
        staged.append(StagedPart(path.name, key, path.stat().st_size, s3io.sha256_file(path)))
    return staged


def publish(s3, bucket: str, layer: str, source: str, day: date, parts: list[StagedPart], info: dict) -> dict:
    """Replace the partition by `parts` (see the module docstring); returns the manifest written."""
    prefix = partition_prefix(layer, source, day)
    before = s3io.list_objects(s3, bucket, prefix)
    if prefix + SUCCESS in before:
        s3io.delete_keys(s3, bucket, [prefix + SUCCESS])
    for part in parts:
        s3io.copy_object(s3, bucket, part.key, prefix + part.name)
    keep = {prefix + p.name for p in parts} | {prefix + MANIFEST}
    s3io.delete_keys(s3, bucket, [k for k in before if k not in keep and k != prefix + SUCCESS])
    manifest = {
        **info,
        "layer": layer,
        "source": source,
        "dt": day.isoformat(),
        "parts": [{"key": prefix + p.name, "size": p.size, "sha256": p.sha256} for p in parts],
    }
    s3io.put_bytes(
        s3, bucket, prefix + MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode(), "application/json"
    )
    s3io.put_bytes(s3, bucket, prefix + SUCCESS, b"", "text/plain")
    s3io.delete_keys(s3, bucket, s3io.list_objects(s3, bucket, staging_prefix(layer, source, day)))
    return manifest


def read_manifest(s3, bucket: str, layer: str, source: str, day: date) -> dict | None:
    """The manifest of a complete partition, or None when the partition is absent or unfinished."""
    prefix = partition_prefix(layer, source, day)
    if not s3io.exists(s3, bucket, prefix + SUCCESS):
        return None
    body = s3io.get_bytes_or_none(s3, bucket, prefix + MANIFEST)
    return json.loads(body) if body else None


def staged_to_dict(parts: list[StagedPart]) -> list[dict]:
    return [asdict(p) for p in parts]


def staged_from_dict(items: list[dict]) -> list[StagedPart]:
    return [StagedPart(**item) for item in items]
