"""`python -m ingest.migrate`: turn the clean layer's Hive partitions into the Delta table.

Before the Delta table, the clean layer was written as `clean/source=S/dt=D/part-*.parquet` with `_manifest.json`
and `_SUCCESS`. This command reads every complete partition (one with `_SUCCESS`; the parts its manifest lists,
checked against their sha256) and publishes it as one commit of the table, with the manifest's run id and versions
in the commit metadata; a column that schema version 1 did not have (`dt`) is filled from the path, those of later
versions are null. Then, with
`--delete-legacy`, it deletes the partition's old objects. Partitions already in the table are skipped, so the
command can be rerun after an interruption. Unfinished partitions (no `_SUCCESS`) are listed, never migrated.

    python -m ingest.migrate --bucket my-news-bucket [--dry-run] [--delete-legacy]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import partition, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA

LEGACY = re.compile(r"^clean/source=([a-z0-9_-]+)/dt=(\d{4}-\d{2}-\d{2})/")


def legacy_partitions(s3, bucket: str) -> dict[tuple[str, date], list[str]]:
    """Every Hive partition under clean/ (outside the table's own files), with its keys."""
    found: dict[tuple[str, date], list[str]] = {}
    for key in s3io.list_objects(s3, bucket, "clean/source="):
        match = LEGACY.match(key)
        # the old writer's names; the table's own files are part-NNNNN-<uuid>-c000.zstd.parquet
        old_name = key.endswith((partition.MANIFEST, partition.SUCCESS)) or re.search(r"/part-\d{5}\.parquet$", key)
        if match and old_name:
            found.setdefault((match[1], date.fromisoformat(match[2])), []).append(key)
    return found


def _in_table(bucket: str) -> set[tuple[str, str]]:
    if not table.exists(bucket):
        return set()
    return {(c.get("source"), c.get("dt")) for c in table.history(bucket) if c.get("migrated_from")}


def migrate(bucket: str, dry_run: bool = False, delete_legacy: bool = False, out=sys.stdout) -> dict:
    s3 = s3io.client()
    done = _in_table(bucket)
    summary = {"migrated": [], "skipped": [], "unfinished": [], "deleted": 0}
    for (source, day), keys in sorted(legacy_partitions(s3, bucket).items()):
        prefix = partition.partition_prefix("clean", source, day)
        name = f"{source}/{day}"
        if prefix + partition.SUCCESS not in keys:
            summary["unfinished"].append(name)
            print(f"unfinished (no _SUCCESS), left alone: {prefix}", file=out)
            continue
        if (source, day.isoformat()) in done:
            summary["skipped"].append(name)
        elif dry_run:
            print(f"would migrate {prefix}", file=out)
        else:
            manifest = json.loads(s3io.get_bytes(s3, bucket, prefix + partition.MANIFEST))
            rows = _read_parts(s3, bucket, manifest, day)
            info = {
                "run_id": manifest.get("run_id", ""),
                "cleaner_version": manifest.get("cleaner_version", ""),
                "rows": rows.num_rows,
                "migrated_from": prefix,
                "legacy_schema_version": manifest.get("schema_version", ""),
            }
            version = table.publish(bucket, source, day, rows, info)
            summary["migrated"].append(name)
            print(f"migrated {prefix}: {rows.num_rows} rows, table version {version}", file=out)
        if delete_legacy and not dry_run:
            s3io.delete_keys(s3, bucket, keys)
            summary["deleted"] += len(keys)
    return summary


def _read_parts(s3, bucket: str, manifest: dict, day: date) -> pa.Table:
    tables = []
    with tempfile.TemporaryDirectory(prefix="migrate-") as tmp:
        for part in manifest["parts"]:
            path = Path(tmp) / Path(part["key"]).name
            s3io.download_file(s3, bucket, part["key"], path)
            if s3io.sha256_file(path) != part["sha256"]:
                raise OSError(f"checksum mismatch for s3://{bucket}/{part['key']}: not migrating it")
            tables.append(pq.read_table(path))
    data = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    if "dt" not in data.column_names:
        data = data.append_column("dt", pa.array([day] * data.num_rows, pa.date32()))
    for name in SCHEMA.names:  # columns of later schema versions: null, as a schema-evolution commit reads them
        if name not in data.column_names:
            data = data.append_column(name, pa.nulls(data.num_rows, SCHEMA.field(name).type))
    return data.select(SCHEMA.names).cast(SCHEMA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Migrate the clean layer's Hive partitions into the Delta table.")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--dry-run", action="store_true", help="only list what would be migrated")
    parser.add_argument("--delete-legacy", action="store_true", help="delete each partition's old objects after it")
    args = parser.parse_args(argv)
    summary = migrate(args.bucket, args.dry_run, args.delete_legacy)
    print(json.dumps({k: len(v) if isinstance(v, list) else v for k, v in summary.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
