"""The weekly maintenance DAG on a real bucket: compaction, checkpoint, vacuum with retention, raw sweep."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path

from deltalake import write_deltalake
from test_table import rows

from ingest import partition, table
from ingest import s3 as s3io

DAY = date(2026, 11, 20)
DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "news_maintenance.py"


def _dag():
    spec = importlib.util.spec_from_file_location("news_maintenance_under_test", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.news_maintenance_dag


def test_maintenance_dag_compacts_and_keeps_replaced_files_for_the_retention(airflow_db, bucket, tmp_path):
    s3 = s3io.client()
    for i in range(3):  # three small files in one partition, one in another
        write_deltalake(table.uri(bucket), rows("alpha", DAY, 2, f"p{i}"), mode="append",
                        partition_by=table.PARTITION_BY, storage_options=table.storage_options())  # fmt: skip
    table.publish(bucket, "beta", DAY, rows("beta", DAY, 2, "b"), {"run_id": "b"})
    raw = tmp_path / "part-00000.warc.gz"
    raw.write_bytes(b"warc")
    for attempt in ("first", "second"):
        partition.publish(s3, bucket, "raw", "alpha", DAY, [raw], {}, attempt)
    s3io.put_bytes(s3, bucket, "staging/clean/source=alpha/dt=2026-11-20/crashed/part-00000.parquet", b"x")
    files_before = len(table.open_table(bucket).file_uris())
    version_before = table.open_table(bucket).version()

    run = _dag().test(logical_date=datetime(2026, 11, 22, 3, tzinfo=UTC))
    assert run.state == "success"
    after = table.open_table(bucket)
    assert (files_before, len(after.file_uris())) == (4, 2), "alpha's three files became one"
    assert len(after.to_pyarrow_table()) == 8
    assert any(k.endswith(".checkpoint.parquet") for k in s3io.list_objects(s3, bucket, "clean/_delta_log/"))
    # everything replaced is younger than the 7-day retention: kept, time travel to before the compaction works
    assert len(table.open_table(bucket, version_before).to_pyarrow_table()) == 8
    assert "raw/source=alpha/dt=2026-11-20/attempt=first/part-00000.warc.gz" in s3io.list_objects(s3, bucket, "raw/")
    assert s3io.list_objects(s3, bucket, "staging/")

    from ingest import maintenance

    summary = maintenance.run(retention_days=0)  # a zero retention: everything unreferenced goes now
    assert summary["vacuumed"] == 3 and summary["raw_swept"] == 1 and summary["staging_swept"] == 1
    parquet = [k for k in s3io.list_objects(s3, bucket, "clean/source=") if k.endswith(".parquet")]
    assert len(parquet) == 2
    assert partition.read_manifest(s3, bucket, "raw", "alpha", DAY)["attempt"] == "second"
