"""The clean layer: one Delta Lake table at s3://$NEWS_BUCKET/clean/, partitioned by `source` and `dt`.

Each publish of (source, dt) is one Delta commit that replaces exactly that partition (`mode="overwrite"` with a
predicate on source and dt): a reader of any engine sees the whole old day or the whole new day. Commits are
made safe by S3 conditional writes, without a lock service: delta-rs writes the log entry
`_delta_log/<version>.json` with `If-None-Match: *`, so of two writers of one version exactly one succeeds.
The other re-reads the log and checks what was committed meanwhile: a commit to another partition does not
conflict (it is retried at the next version), one to the same partition does, and that publish fails with
`ConcurrentPublishError` instead of duplicating or mixing rows.

Every commit carries `news_ingest.*` metadata (run id, cleaner and schema versions, source, dt, counts), listed
by `history()`; the schema version is also a table property. Credentials come from boto3's whole chain
(`storage_options`), so delta-rs, DuckDB and boto3 use the same identity.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlparse

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from ingest.parquet import SCHEMA_VERSION

PREFIX = "clean"
PARTITION_BY = ["source", "dt"]
SCHEMA_PROPERTY = "news_ingest.schema_version"
META = "news_ingest."  # prefix of our keys in each commit's metadata
COMMIT_RETRIES = 15  # commits of other partitions that a publish may be overtaken by before it gives up


class ConcurrentPublishError(RuntimeError):
    """Another run committed the same partition while this one was writing; nothing of this attempt is visible."""


def uri(bucket: str) -> str:
    return f"s3://{bucket}/{PREFIX}"


def storage_options() -> dict[str, str]:
    """delta-rs options from boto3's credential chain (keys, session token, profile, role) and endpoint."""
    import boto3

    session = boto3.Session()
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
    endpoint = custom_endpoint(session)
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if urlparse(endpoint).scheme == "http":
            options["AWS_ALLOW_HTTP"] = "true"
    return options


def custom_endpoint(session=None) -> str | None:
    """The S3 endpoint boto3 is configured with (`AWS_ENDPOINT_URL[_S3]`, a profile's `endpoint_url`), None for AWS."""
    import boto3

    endpoint = (session or boto3.Session()).client("s3").meta.endpoint_url
    host = urlparse(endpoint).hostname or ""
    return None if host.endswith(".amazonaws.com") or host == "amazonaws.com" else endpoint


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


def publish(bucket: str, source: str, day: date, batches: pa.RecordBatchReader | pa.Table, info: dict) -> int:
    """Replace the partition (source, day) by `batches` in one commit; returns the table version written.

    `batches` must hold only rows of that partition (delta-rs checks it against the predicate). New columns
    are a schema-evolution commit (`schema_mode="merge"`).
    """
    metadata = commit_metadata({**info, "source": source, "dt": day.isoformat(), "schema_version": SCHEMA_VERSION})
    try:
        write_deltalake(
            uri(bucket),
            batches,
            mode="overwrite",
            predicate=partition_predicate(source, day),
            partition_by=PARTITION_BY,
            schema_mode="merge",
            storage_options=storage_options(),
            writer_properties=WriterProperties(compression="ZSTD"),
            commit_properties=CommitProperties(custom_metadata=metadata, max_commit_retries=COMMIT_RETRIES),
        )
    except CommitFailedError as err:
        raise ConcurrentPublishError(
            f"clean/source={source}/dt={day} was committed by another run while this one wrote it; this attempt's "
            f"files are not part of the table (the other run's day is). Retry to publish this attempt's rows. ({err})"
        ) from err
    table = open_table(bucket)
    mark_schema_version(table)
    return _own_version(table, metadata)


def _own_version(table: DeltaTable, metadata: dict[str, str]) -> int:
    """The version of the commit carrying `metadata` (another partition may have committed right after it)."""
    for commit in table.history():
        if all(commit.get(k) == v for k, v in metadata.items()):
            return int(commit["version"])
    raise RuntimeError(f"the commit of {metadata} is not in the table's history")


def mark_schema_version(table: DeltaTable) -> None:
    """Record the schema version as a table property, once per version change (a metadata-only commit)."""
    if table.metadata().configuration.get(SCHEMA_PROPERTY) != SCHEMA_VERSION:
        table.alter.set_table_properties({SCHEMA_PROPERTY: SCHEMA_VERSION}, raise_if_not_exists=False)


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

