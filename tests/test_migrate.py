"""`python -m ingest.migrate` on a bucket written the way the clean layer was written before the Delta table."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import downstream, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA, V3_COLUMNS

DAY = date(2026, 11, 20)
# schema version 1, as the old code wrote it: the SCHEMA of today without `dt` (the day was only in the path) and
# without the columns of version 3
LATER = {"dt"} | {name for name, _ in V3_COLUMNS}
V1 = pa.schema([f for f in SCHEMA if f.name not in LATER], metadata={"news_ingest.schema_version": "1"})


def legacy_partition(s3, bucket, source, day, parts: list[int], success=True) -> None:
    """Write clean/source=S/dt=D/ as the old publish did: part-0000N.parquet, _manifest.json, _SUCCESS."""
    prefix = f"clean/source={source}/dt={day.isoformat()}/"
    listed = []
    for index, count in enumerate(parts):
        stamp = datetime(day.year, day.month, day.day, tzinfo=UTC)
        rows = [
            {"url": f"https://{source}.example/{day}/{index}/{i}", "canonical_url": None, "source": source,
             "title": f"t{i}", "authors": [], "published_at": stamp, "language": "en", "text": "old text",
             "removed": [], "fingerprint": "f", "fetched_at": stamp, "cleaner_version": "0.1.0",
             "warc_file": "raw/x", "warc_offset": i}
            for i in range(count)
        ]  # fmt: skip
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=V1), buffer, compression="zstd")
        body = buffer.getvalue()
        key = f"{prefix}part-{index:05d}.parquet"
        s3io.put_bytes(s3, bucket, key, body)
        listed.append({"key": key, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    manifest = {"schema_version": "1", "cleaner_version": "0.1.0", "rows": sum(parts), "run_id": f"old-{day}",
                "layer": "clean", "source": source, "dt": day.isoformat(), "parts": listed}  # fmt: skip
    s3io.put_bytes(s3, bucket, prefix + "_manifest.json", json.dumps(manifest).encode())
    if success:
        s3io.put_bytes(s3, bucket, prefix + "_SUCCESS", b"")


def test_migrate_turns_hive_partitions_into_the_table(bucket):
    s3 = s3io.client()
    legacy_partition(s3, bucket, "alpha", DAY, [3])
    legacy_partition(s3, bucket, "alpha", date(2026, 11, 19), [2, 4])  # a day written in two parts
    legacy_partition(s3, bucket, "beta", DAY, [1])
    legacy_partition(s3, bucket, "beta", date(2026, 11, 21), [5], success=False)  # a crashed run's leftovers
    dry = subprocess.run(
        [sys.executable, "-m", "ingest.migrate", "--bucket", bucket, "--dry-run"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert dry.stdout.count("would migrate") == 3 and not table.exists(bucket)
    done = subprocess.run(
        [sys.executable, "-m", "ingest.migrate", "--bucket", bucket, "--delete-legacy"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout.splitlines()[-1]) == {"migrated": 3, "skipped": 0, "unfinished": 1, "deleted": 10}
    con = downstream.connect()
    assert downstream.rows_per_day(con, bucket) == [
        ("alpha", date(2026, 11, 19), 6),
        ("alpha", DAY, 3),
        ("beta", DAY, 1),
    ]
    commits = {(c["source"], c["dt"]): c for c in table.history(bucket) if c.get("migrated_from")}
    assert commits[("alpha", DAY.isoformat())]["run_id"] == f"old-{DAY}"
    assert commits[("alpha", DAY.isoformat())]["cleaner_version"] == "0.1.0"
    migrated = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", "beta")]).to_pylist()
    assert [{name: row[name] for name, _ in V3_COLUMNS} for row in migrated] == [dict.fromkeys(LATER - {"dt"})]
    keys = s3io.list_objects(s3, bucket, "clean/")
    assert not [k for k in keys if k.endswith(("_SUCCESS", "part-00000.parquet")) and "dt=2026-11-21" not in k]
    assert "clean/source=beta/dt=2026-11-21/_manifest.json" in keys, "the unfinished partition is left alone"
    again = subprocess.run(
        [sys.executable, "-m", "ingest.migrate", "--bucket", bucket],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(again.stdout.splitlines()[-1])["migrated"] == 0
