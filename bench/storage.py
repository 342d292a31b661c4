"""Storage benchmark: the clean layer as a Delta table vs the Hive file layout it replaced, side by side in one run.

30 days x 3 sources of generated rows (the clean schema, ~40 articles a day each) in a local S3 endpoint (moto over
HTTP on loopback). Measured:
- publish time per partition: the Delta commit (`ingest.table.publish`) vs the old protocol (upload the Parquet
  part, manifest and _SUCCESS, as the old `partition.publish` did: staged copy included);
- DuckDB query time (count per source and day, and a text scan) over the whole layer: `read_parquet` with hive
  partitioning over the old layout vs `delta_scan` over the table, before and after maintenance (compaction +
  checkpoint), after each day was re-published once (a re-clean: replaced files stay until the vacuum);
- file counts.
Medians of alternating rounds, wall and CPU time; the load average is printed.

    .venv/bin/python bench/storage.py [--days 30] [--sources 3] [--rows 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import downstream, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA
from localrun.local_s3 import local_s3_env

FIRST = date(2026, 10, 1)


def rows(source: str, day: date, n: int, tag: str) -> pa.Table:
    stamp = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    text = " ".join(f"word{i % 97}" for i in range(600))
    return pa.Table.from_pylist(
        [
            {"url": f"https://{source}.example/{day}/{i}", "canonical_url": None, "source": source,
             "title": f"{tag} {i}", "authors": ["A"], "published_at": stamp, "language": "en",
             "text": f"{tag} {text}", "removed": [{"text": "Support us", "rule": "appeal", "layer": "text"}],
             "fingerprint": f"{i}", "fetched_at": stamp, "cleaner_version": tag, "warc_file": "raw/x",
             "warc_offset": i, "dt": day}
            for i in range(n)
        ],
        schema=SCHEMA,
    )  # fmt: skip


def hive_publish(s3, bucket: str, source: str, day: date, data: pa.Table) -> None:
    """The old protocol's writes: stage, delete _SUCCESS, copy in, manifest, _SUCCESS, drop staging."""
    buffer = io.BytesIO()
    pq.write_table(data.drop_columns(["dt"]), buffer, compression="zstd")
    body = buffer.getvalue()
    prefix = f"hive/source={source}/dt={day}/"
    staged = f"staging/hive/source={source}/dt={day}/a/part-00000.parquet"
    s3io.put_bytes(s3, bucket, staged, body)
    s3io.delete_keys(s3, bucket, [prefix + "_SUCCESS"])
    s3.copy_object(Bucket=bucket, Key=prefix + "part-00000.parquet", CopySource={"Bucket": bucket, "Key": staged})
    manifest = {"parts": [{"key": prefix + "part-00000.parquet", "sha256": hashlib.sha256(body).hexdigest()}]}
    s3io.put_bytes(s3, bucket, prefix + "_manifest.json", json.dumps(manifest).encode())
    s3io.put_bytes(s3, bucket, prefix + "_SUCCESS", b"")
    s3io.delete_keys(s3, bucket, [staged])


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sources", type=int, default=3)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bucket = "bench-storage"
    print(f"load average at start {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with local_s3_env(bucket):
        s3 = s3io.client()
        sources = [f"src{i}" for i in range(args.sources)]
        days = [FIRST + timedelta(days=d) for d in range(args.days)]
        publish = {"hive": [], "delta": []}
        for version in ("v1", "v2"):  # the second pass is a re-clean of every day
            for day in days:
                for source in sources:
                    data = rows(source, day, args.rows, version)
                    # alternate which layout goes first, so a drifting load biases neither
                    order = ["hive", "delta"] if (day.day + len(version)) % 2 else ["delta", "hive"]
                    jobs = {
                        "hive": lambda s=source, d=day, t=data: hive_publish(s3, bucket, s, d, t),
                        "delta": lambda s=source, d=day, t=data, v=version: table.publish(bucket, s, d, t, {"v": v}),
                    }
                    for layout in order:
                        publish[layout].append(timed(jobs[layout]))
        con = downstream.connect()
        uri = downstream.clean_uri(bucket)
        queries = {
            "hive": (
                f"SELECT source, dt, count(*) FROM read_parquet('s3://{bucket}/hive/source=*/dt=*/*.parquet', "
                "hive_partitioning = true) GROUP BY ALL",
                f"SELECT count(*) FROM read_parquet('s3://{bucket}/hive/source=*/dt=*/*.parquet', "
                "hive_partitioning = true) WHERE text LIKE '%word42 word43%' AND dt >= DATE '2026-10-20'",
            ),
            "delta": (
                f"SELECT source, dt, count(*) FROM delta_scan('{uri}') GROUP BY ALL",
                f"SELECT count(*) FROM delta_scan('{uri}') WHERE text LIKE '%word42 word43%' "
                "AND dt >= DATE '2026-10-20'",
            ),
        }

        def query_round(layouts) -> dict:
            out = {}
            for layout in layouts:
                out[layout] = [timed(lambda q=q: con.execute(q).fetchall()) for q in queries[layout]]
            return out

        def measure(label: str) -> dict:
            samples: dict = {"hive": [], "delta": []}
            for r in range(args.rounds):
                for layout, times in query_round(["hive", "delta"] if r % 2 else ["delta", "hive"]).items():
                    samples[layout].append(times)
            return {
                layout: [statistics.median(s[q][0] for s in samples[layout]) for q in range(2)]
                for layout in samples
            }

        def files() -> dict:
            keys = s3io.list_objects(s3, bucket, "")
            return {
                "hive": len([k for k in keys if k.startswith("hive/")]),
                "delta_data_live": len(table.open_table(bucket).file_uris()),
                "delta_objects": len([k for k in keys if k.startswith("clean/")]),
            }

        before = measure("before")
        files_before = files()
        maintenance = timed(lambda: (table.compact(bucket), table.open_table(bucket).create_checkpoint()))
        after = measure("after")
        files_after = files()
        vacuum = timed(lambda: table.vacuum(bucket, 0))
        vacuumed = measure("vacuumed")
        files_vacuumed = files()

    def med(samples, i):
        return statistics.median(s[i] for s in samples)

    print(f"\n{args.days} days x {args.sources} sources x {args.rows} rows, each day published twice; "
          f"load average at end {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("\npublish per partition (median wall / CPU of this process, ms):")
    for layout in ("hive", "delta"):
        print(f"  {layout:<6} {1000 * med(publish[layout], 0):7.1f} / {1000 * med(publish[layout], 1):6.1f}")
    print(f"  ratio delta/hive (wall): {med(publish['delta'], 0) / med(publish['hive'], 0):.2f}x")
    print("\nDuckDB query (median wall s of the two queries: count per day | text scan of 12 days):")
    for label, result in (("2 versions, no maintenance", before), ("after compaction + checkpoint", after),
                          ("after vacuum", vacuumed)):  # fmt: skip
        h, d = result["hive"], result["delta"]
        print(f"  {label:<32} hive {h[0]:.3f} | {h[1]:.3f}   delta {d[0]:.3f} | {d[1]:.3f}   "
              f"ratio delta/hive {d[0] / h[0]:.2f}x | {d[1] / h[1]:.2f}x")  # fmt: skip
    print(f"\nmaintenance (compact + checkpoint) {maintenance[0]:.1f} s; vacuum {vacuum[0]:.1f} s")
    print(f"files before maintenance {files_before}\nfiles after compaction  {files_after}\n"
          f"files after vacuum      {files_vacuumed}")


if __name__ == "__main__":
    main()
