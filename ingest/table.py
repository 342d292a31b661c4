"""The clean layer: one Delta Lake table at s3://$NEWS_BUCKET/clean/, partitioned by `source` and `dt`.

Each publish of (source, dt) is one Delta commit that replaces exactly that partition (`mode="overwrite"` with a
predicate on source and dt): a reader of any engine sees the whole old day or the whole new day. Commits are
made safe by S3 conditional writes, without a lock service: delta-rs writes the log entry
`_delta_log/<version>.json` with `If-None-Match: *`, so of two writers of one version exactly one succeeds.
The other re-reads the log and checks what was committed meanwhile: a commit to another partition does not
conflict (it is retried at the next version), one to the same partition does, and that publish fails with
`ConcurrentPublishError` instead of duplicating or mixing rows. A write that fails after S3 applied it (the answer
was lost) is recognised by the commit's unique `news_ingest.publish_id` and counts as done.

Every commit carries `news_ingest.*` metadata (run id, cleaner and schema versions, source, dt, counts), listed
by `history()`; the schema version is also a table property. Credentials come from boto3's whole chain
(`storage_options`), so delta-rs, DuckDB and boto3 use the same identity.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Callable
from datetime import date
from urllib.parse import urlparse

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from ingest.parquet import SCHEMA_VERSION

PREFIX = "clean"
PARTITION_BY = ["source", "dt"]
SCHEMA_PROPERTY = "news_ingest.schema_version"
META = "news_ingest."  # prefix of our keys in each commit's metadata
COMMIT_RETRIES = 15  # commits of other partitions that a publish may be overtaken by before it gives up
# a checkpoint every 10 commits: a reader or writer replays at most 10 JSON commits after the latest checkpoint
# (delta-rs's default of 100 made a publish read up to 100 small objects before writing)
CHECKPOINT_INTERVAL = "10"
METADATA_RETRIES = 3


class ConcurrentPublishError(RuntimeError):
    """Another run committed the same partition while this one was writing; nothing of this attempt is visible."""


def uri(bucket: str) -> str:
    return f"s3://{bucket}/{PREFIX}"


def storage_options() -> dict[str, str]:
    """delta-rs options from boto3's credential chain (keys, session token, profile, role) and endpoint.

    The session is made once per AWS environment (making one costs 0.3-1 s); its credentials are frozen on every
    call, so refreshable ones (a role's) stay fresh.
    """
    session, endpoint = _session(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found (environment, profile, or role): boto3 found none")
    frozen = credentials.get_frozen_credentials()
    options = {
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_REGION": session.region_name or "us-east-1",
    }
    if frozen.token:
        options["AWS_SESSION_TOKEN"] = frozen.token
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if urlparse(endpoint).scheme == "http":
            options["AWS_ALLOW_HTTP"] = "true"
    return options


@functools.lru_cache(maxsize=8)
def _session(aws_environment: tuple) -> tuple:
    """A boto3 session for this AWS environment, and the S3 endpoint it is configured with (None for AWS)."""
    import boto3

    session = boto3.Session()
    endpoint = session.client("s3").meta.endpoint_url  # AWS_ENDPOINT_URL[_S3], a profile's endpoint_url
    host = urlparse(endpoint).hostname or ""
    return session, None if host.endswith(".amazonaws.com") or host == "amazonaws.com" else endpoint


def open_table(bucket: str, version: int | None = None) -> DeltaTable:
    """The clean table, at its latest version or at `version` (time travel)."""
    return DeltaTable(uri(bucket), version=version, storage_options=storage_options())


def exists(bucket: str) -> bool:
    try:
        open_table(bucket)
    except TableNotFoundError:
        return False
    return True


def partition_predicate(source: str, day: date) -> str:
    if not source.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"bad source name {source!r}")
    return f"source = '{source}' AND dt = '{day.isoformat()}'"


def commit_metadata(info: dict) -> dict[str, str]:
    """Commit metadata values are strings: numbers as text, structures as JSON."""
    return {META + k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in info.items()}


def publish(
    bucket: str, source: str, day: date, data: pa.Table | Callable[[], pa.RecordBatchReader], info: dict
) -> int:
    """Replace the partition (source, day) by `data` in one commit; returns the table version written.

    `data`: a table, or a function returning a fresh reader of the rows (called again if the write is retried).
    It must hold only rows of that partition (delta-rs checks it against the predicate). New columns are a
    schema-evolution commit (`schema_mode="merge"`). A commit refused because the table's metadata or protocol
    changed meanwhile (another publish created the table or set its properties) is retried; one refused because
    another run committed the same partition raises ConcurrentPublishError.
    """
    # publish_id makes this commit's metadata unique: a commit S3 applied but whose answer was lost is found by it
    ids = {"source": source, "dt": day.isoformat(), "schema_version": SCHEMA_VERSION, "publish_id": uuid.uuid4().hex}
    metadata = commit_metadata({**info, **ids})
    for attempt in range(METADATA_RETRIES + 1):
        try:
            table = open_table(bucket)
        except TableNotFoundError:
            table = None  # the first publish creates the table
        read_version = table.version() if table else -1
        try:
            write_deltalake(
                table or uri(bucket),
                data() if callable(data) else data,
                mode="overwrite",
                predicate=partition_predicate(source, day),
                partition_by=PARTITION_BY,
                schema_mode="merge",
                storage_options=storage_options(),
                writer_properties=WriterProperties(compression="ZSTD"),
                commit_properties=CommitProperties(custom_metadata=metadata, max_commit_retries=COMMIT_RETRIES),
            )
            break
        except (CommitFailedError, OSError) as err:
            if _committed(bucket, metadata, read_version):
                break  # the error came after S3 applied our commit (a lost answer)
            if not isinstance(err, CommitFailedError):
                raise
            message = str(err).lower()
            if ("metadata changed" in message or "protocol changed" in message) and attempt < METADATA_RETRIES:
                continue
            raise ConcurrentPublishError(
                f"clean/source={source}/dt={day} was committed by another run while this one wrote it; this "
                f"attempt's files are not part of the table (the other run's day is). Retry to publish this "
                f"attempt's rows. ({err})"
            ) from err
    table = open_table(bucket)
    mark_schema_version(table)
    return _own_version(bucket, metadata, read_version, table.version())


def _committed(bucket: str, metadata: dict[str, str], read_version: int) -> bool:
    """Whether the commit carrying `metadata` is in the table after all (looked up after a failed write)."""
    try:
        _own_version(bucket, metadata, read_version, open_table(bucket).version())
    except (TableNotFoundError, RuntimeError, OSError, BotoCoreError, ClientError):
        return False  # not found, or S3 cannot tell now: the write's own error stands
    return True


def _own_version(bucket: str, metadata: dict[str, str], read_version: int, latest: int) -> int:
    """The version of the commit carrying `metadata`, among those after the version this publish read.

    write_deltalake does not return it, and `DeltaTable.history()` cannot tell it while other partitions commit:
    in deltalake 1.6.6 it lists the newest commits in storage but numbers them from the loaded snapshot's
    version. So the commit entries themselves are read (the Delta log's documented JSON, one object each).
    """
    from ingest import s3 as s3io

    s3 = s3io.client()
    for version in range(latest, read_version, -1):
        body = s3io.get_bytes(s3, bucket, f"{PREFIX}/_delta_log/{version:020d}.json")
        for line in body.splitlines():
            info = json.loads(line).get("commitInfo") if line.strip() else None
            if info is not None and all(info.get(k) == v for k, v in metadata.items()):
                return version
    raise RuntimeError(f"the commit of {metadata} is not among versions {read_version + 1}..{latest}")


def mark_schema_version(table: DeltaTable) -> None:
    """Record the schema version (and the checkpoint interval) as table properties, once per change (a
    metadata-only commit). Two first publishes may both find them missing: the loser finds them set next time.
    """
    wanted = {SCHEMA_PROPERTY: SCHEMA_VERSION, "delta.checkpointInterval": CHECKPOINT_INTERVAL}
    for _ in range(3):
        configuration = table.metadata().configuration
        if all(configuration.get(k) == v for k, v in wanted.items()):
            return
        try:
            table.alter.set_table_properties(wanted, raise_if_not_exists=False)
            return
        except CommitFailedError:
            table.update_incremental()
    raise ConcurrentPublishError(f"could not record {SCHEMA_PROPERTY}={SCHEMA_VERSION}: the table kept changing")


def history(bucket: str, limit: int | None = None) -> list[dict]:
    """The table's commits, newest first: version, timestamp, operation, and our `news_ingest.*` metadata."""
    rows = []
    for commit in open_table(bucket).history(limit):
        ours = {k[len(META) :]: v for k, v in commit.items() if k.startswith(META)}
        rows.append(
            {
                "version": commit["version"],
                "timestamp": commit.get("timestamp"),
                "operation": commit.get("operation"),
                **ours,
            }
        )
    return rows


def compact(bucket: str) -> dict:
    """Rewrite each partition's small files into larger ones (bin-packing); replaced files stay for time travel."""
    return open_table(bucket).optimize.compact(
        commit_properties=CommitProperties(custom_metadata=commit_metadata({"maintenance": "compact"})),
    )


def vacuum(bucket: str, retention_days: int, dry_run: bool = False) -> list[str]:
    """Delete files no longer in the table that were replaced more than `retention_days` ago."""
    return open_table(bucket).vacuum(
        retention_hours=retention_days * 24,
        enforce_retention_duration=False,  # the retention is ours to choose (documented: 7 days by default)
        dry_run=dry_run,
        commit_properties=CommitProperties(custom_metadata=commit_metadata({"maintenance": "vacuum"})),
    )

