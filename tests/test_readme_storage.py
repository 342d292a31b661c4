"""The README's reader, history, time-travel and migration blocks, run as written against the moto S3 server.

The blocks name the bucket `my-news-bucket`: the test fills a bucket of that name with a re-cleaned day, then
runs each Python block in a fresh interpreter with the environment a user would have (AWS_* variables), each SQL
block in the connection `ingest.downstream.connect()` returns, and the shell block with bash.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pyarrow as pa
import pytest
import readme
from test_table import rows

from ingest import downstream, table
from ingest import s3 as s3io

BUCKET = "my-news-bucket"
DAY = date(2026, 11, 20)
ROOT = readme.README.parent


@pytest.fixture(scope="module")
def news_bucket(s3_server):
    s3 = s3io.client()
    s3io.ensure_bucket(s3, BUCKET)
    s3io.delete_keys(s3, BUCKET, s3io.list_objects(s3, BUCKET, ""))
    urls = pa.array([f"https://moscowtimes.example/{i}" for i in range(3)])
    old = rows("moscowtimes", DAY, 3, "old-cleaner").set_column(0, "url", urls)
    table.publish(BUCKET, "moscowtimes", DAY, old, {"run_id": "first", "cleaner_version": "0.1", "rows": 3})
    new = rows("moscowtimes", DAY, 3, "new-cleaner").set_column(0, "url", urls)
    table.publish(BUCKET, "moscowtimes", DAY, new, {"run_id": "reclean", "cleaner_version": "0.2", "rows": 3})
    table.publish(BUCKET, "other", DAY, rows("other", DAY, 2, "x"), {"run_id": "other"})
    return BUCKET


def run_python(name: str) -> str:
    env = {**os.environ, "AWS_ALLOW_HTTP": "true"}
    done = subprocess.run(
        [sys.executable, "-c", readme.block(name).text], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{name}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("read-duckdb-python", "moscowtimes"),
        ("read-pandas", "2026-11-20"),
        ("read-pyarrow", "moscowtimes"),
        ("read-polars", "2026-11-20"),
        ("table-history", "moscowtimes 2026-11-20 3 0.2 reclean"),
        ("time-travel-python", "new-cleaner"),
    ],
)
def test_python_blocks_run_as_written(news_bucket, name, expected):
    out = run_python(name)
    assert expected in out, out


def test_sql_blocks_run_in_the_downstream_connection(news_bucket):
    con = downstream.connect()
    assert con.execute(readme.block("read-duckdb-sql").text).fetchall() == [("moscowtimes", DAY, 3), ("other", DAY, 2)]
    changed = con.execute(readme.block("time-travel-sql").text).fetchall()
    assert [r[0] for r in changed] == [f"https://moscowtimes.example/{i}" for i in range(3)], changed


def test_migrate_block_runs_as_written(news_bucket):
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme.block("migrate").text],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"migrated": 0' in done.stdout
