"""The raw layer's partitions in S3: immutable attempt folders and a manifest swapped by a conditional write.

A partition is `raw/source=<name>/dt=<YYYY-MM-DD>/` holding `_manifest.json`, `_SUCCESS` and one folder per
attempt that published (or tried to):

    raw/source=S/dt=D/attempt=<attempt>/part-00000.warc.gz, index.jsonl.gz     (written once, never changed)
    raw/source=S/dt=D/_manifest.json    every part of the current version with its key, size and sha256
    raw/source=S/dt=D/_SUCCESS          written once, after the first manifest

`publish` of an attempt:

1. upload its files into its own attempt folder: no other run writes or deletes there;
2. read the current manifest and its ETag (or learn there is none);
3. write the new manifest with `If-Match: <ETag>` (`If-None-Match: *` when there was none). This is the commit:
   S3 applies it only if nobody committed in between. If somebody did (412), go back to 2 and commit on top
   of theirs, a bounded number of times: the last committer wins, whole. Each publish's manifest carries a
   unique `publish_id`: when S3 applied the write but the answer was lost, the client's retry is refused by
   the write's own condition, and the re-read manifest with our `publish_id` says the commit is done;
4. write `_SUCCESS` if it is not there yet (`If-None-Match: *`).

A reader reads `_manifest.json` in one GET and gets one complete version whose parts all exist: parts are
never overwritten, and superseded attempt folders are deleted only by maintenance, after the retention
(`sweep_superseded`). A crash anywhere leaves the old version (or none) in place; rerunning repairs it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from botocore.exceptions import ClientError

from ingest import s3 as s3io

MANIFEST = "_manifest.json"
SUCCESS = "_SUCCESS"
COMMIT_TRIES = 5
CONFLICT_CODES = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


class CommitConflict(RuntimeError):
    """The manifest kept changing under this attempt: other runs committed COMMIT_TRIES times in a row."""


@dataclass(frozen=True)
class StagedPart:
    name: str  # file name inside the attempt folder
    key: str  # where it is
    size: int
    sha256: str


def partition_prefix(layer: str, source: str, day: date) -> str:
    return f"{layer}/source={source}/dt={day.isoformat()}/"


def staging_prefix(layer: str, source: str, day: date) -> str:
    """Work in progress of the clean stage (Parquet and state), one folder per attempt; never read by readers."""
    return f"staging/{partition_prefix(layer, source, day)}"


def attempt_prefix(layer: str, source: str, day: date, attempt: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", attempt):
        raise ValueError(f"bad attempt token {attempt!r}")
    return f"{partition_prefix(layer, source, day)}attempt={attempt}/"


def stage_files(
    s3, bucket: str, files: list[Path], layer: str, source: str, day: date, attempt: str
) -> list[StagedPart]:
    """Upload local files to the staging folder of this attempt (the clean stage's hand-off to publish)."""
    prefix = f"{staging_prefix(layer, source, day)}{attempt}/"
    return [_upload(s3, bucket, path, prefix + path.name) for path in files]


def _upload(s3, bucket: str, path: Path, key: str) -> StagedPart:
    s3io.upload_file(s3, path, bucket, key)
    return StagedPart(path.name, key, path.stat().st_size, s3io.sha256_file(path))


def read_current(s3, bucket: str, prefix: str) -> tuple[dict | None, str | None]:
    """The manifest under `prefix` and its ETag, read in one GET (None, None when there is none)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None, None
        raise
    return json.loads(response["Body"].read()), response["ETag"]


def put_if(s3, bucket: str, key: str, body: bytes, etag: str | None) -> bool:
    """Write `key` only if it still has `etag` (absent when None); False when S3 refused the condition."""
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **condition)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in CONFLICT_CODES:
            return False
        raise
    return True


def publish(
    s3,
    bucket: str,
    layer: str,
    source: str,
    day: date,
    files: list[Path],
    info: dict,
    attempt: str,
    hook: Callable[[str], None] | None = None,
) -> dict:
    """Publish local `files` as the partition's new version (see the module docstring); returns the manifest.

    `hook(step)` is called between the steps ("uploaded", "read", "committed"): tests use it to interleave runs.
    """
    step = hook or (lambda _name: None)
    prefix = partition_prefix(layer, source, day)
    folder = attempt_prefix(layer, source, day, attempt)
    parts = [_upload(s3, bucket, path, folder + path.name) for path in files]
    step("uploaded")
    publish_id = uuid.uuid4().hex
    for _ in range(COMMIT_TRIES):
        current, etag = read_current(s3, bucket, prefix)
        step("read")
        if current is not None and current.get("publish_id") == publish_id:
            # our write was applied but its answer lost: the client's retry was refused by our own condition
            put_if(s3, bucket, prefix + SUCCESS, b"", None)
            return current
        manifest = {
            **info,
            "layer": layer,
            "source": source,
            "dt": day.isoformat(),
            "attempt": attempt,
            "publish_id": publish_id,
            "committed_at": datetime.now(UTC).isoformat(),
            "supersedes": (current or {}).get("attempt"),
            "parts": [{"key": p.key, "size": p.size, "sha256": p.sha256} for p in parts],
        }
        body = json.dumps(manifest, indent=2, sort_keys=True).encode()
        if put_if(s3, bucket, prefix + MANIFEST, body, etag):
            step("committed")
            put_if(s3, bucket, prefix + SUCCESS, b"", None)  # only the first version creates it
            return manifest
    raise CommitConflict(
        f"s3://{bucket}/{prefix}{MANIFEST} changed {COMMIT_TRIES} times while attempt {attempt} tried to commit"
    )


def read_manifest(s3, bucket: str, layer: str, source: str, day: date) -> dict | None:
    """The manifest of a complete partition, or None when the partition is absent or unfinished."""
    prefix = partition_prefix(layer, source, day)
    if not s3io.exists(s3, bucket, prefix + SUCCESS):
        return None
    return read_current(s3, bucket, prefix)[0]


def sweep_superseded(s3, bucket: str, layer: str, retention: timedelta, now: datetime | None = None) -> list[str]:
    """Delete the attempt folders that no current manifest lists, once all their files are older than `retention`.

    A folder of a run still in progress is younger than that (a run commits minutes after uploading), and the
    retention is also how long a reader that read an older manifest can still fetch its parts.
    """
    cutoff = (now or datetime.now(UTC)) - retention
    folders: dict[str, list[tuple[str, datetime]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{layer}/"):
        for obj in page.get("Contents", []):
            match = re.match(r"(.+/dt=[^/]+/)(attempt=[^/]+/)", obj["Key"])
            if match:
                folders.setdefault(match[1] + match[2], []).append((obj["Key"], obj["LastModified"]))
    current: dict[str, set[str]] = {}
    doomed = []
    for folder, objects in sorted(folders.items()):
        partition = folder.rsplit("attempt=", 1)[0]
        if partition not in current:
            manifest, _ = read_current(s3, bucket, partition)
            current[partition] = {p["key"] for p in (manifest or {}).get("parts", [])}
        in_use = any(key in current[partition] for key, _ in objects)
        if not in_use and all(modified < cutoff for _, modified in objects):
            doomed += [key for key, _ in objects]
    s3io.delete_keys(s3, bucket, doomed)
    return doomed


def sweep_staging(s3, bucket: str, retention: timedelta, now: datetime | None = None) -> list[str]:
    """Delete staging objects older than `retention` (left by attempts that crashed before their publish)."""
    cutoff = (now or datetime.now(UTC)) - retention
    doomed = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="staging/"):
        doomed += [obj["Key"] for obj in page.get("Contents", []) if obj["LastModified"] < cutoff]
    s3io.delete_keys(s3, bucket, doomed)
    return doomed


def staged_to_dict(parts: list[StagedPart]) -> list[dict]:
    return [asdict(p) for p in parts]


def staged_from_dict(items: list[dict]) -> list[StagedPart]:
    return [StagedPart(**item) for item in items]
