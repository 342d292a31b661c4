"""Weekly upkeep of the bucket: compact the clean table, checkpoint its log, vacuum, sweep the raw layer.

- compaction rewrites each partition's small files into one (bin-packing); the files it replaces stay for
  time travel until the vacuum;
- a checkpoint of the Delta log, so readers start from one Parquet file instead of replaying every commit;
- vacuum deletes the files the table no longer uses once they were replaced more than NEWS_RETENTION_DAYS
  ago (default 7: time travel spans a week);
- the raw layer's superseded attempt folders and staging left by crashed attempts go after the same retention.
"""

from __future__ import annotations

from datetime import timedelta

from ingest import partition, table
from ingest import s3 as s3io
from newsconfig import env as config


def run(retention_days: int | None = None) -> dict:
    bucket, s3 = config.bucket(), s3io.client()
    days = config.retention_days() if retention_days is None else retention_days
    retention = timedelta(days=days)
    summary: dict = {"retention_days": days}
    if table.exists(bucket):
        before = len(table.open_table(bucket).file_uris())
        metrics = table.compact(bucket)
        table.open_table(bucket).create_checkpoint()
        summary["compacted"] = {"files_before": before, "removed": metrics["numFilesRemoved"],
                                "added": metrics["numFilesAdded"]}  # fmt: skip
        summary["vacuumed"] = len(table.vacuum(bucket, days))
    summary["raw_swept"] = len(partition.sweep_superseded(s3, bucket, "raw", retention))
    summary["staging_swept"] = len(partition.sweep_staging(s3, bucket, retention))
    return summary
