"""The clean layer's schema as a literal contract (every column: name, Arrow type, nullability, in order; the
schema version; the table's partition columns), and what `write_rows` writes: that schema, zstd, row groups of
1,000 rows, every row in order, the count it returns. No S3: a local file.

A change of the schema must change this file (and SCHEMA_VERSION): nothing here is read back from ingest.parquet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import parquet

# (name, Arrow type as pyarrow prints it, nullable); a non-nullable child would print as "... not null"
COLUMNS = [
    ("url", "string", True),
    ("canonical_url", "string", True),
    ("source", "string", True),  # partition column
    ("title", "string", True),
    ("authors", "list<item: string>", True),
    ("published_at", "timestamp[us, tz=UTC]", True),
    ("language", "string", True),
    ("text", "string", True),
    ("removed", "list<item: struct<text: string, rule: string, layer: string>>", True),
    ("fingerprint", "string", True),
    ("fetched_at", "timestamp[us, tz=UTC]", True),
    ("cleaner_version", "string", True),
    ("warc_file", "string", True),
    ("warc_offset", "int64", True),  # byte offsets into WARC parts past 2 GiB: never int32
    ("dt", "date32[day]", True),  # partition column
    ("site_name", "string", True),
    ("image_url", "string", True),
    ("section", "string", True),
    ("keywords", "list<item: string>", True),
    ("modified_at", "timestamp[us, tz=UTC]", True),
    ("language_detected", "string", True),
    ("free_access", "bool", True),
    ("truncated", "bool", True),
    ("access_signals", "list<item: string>", True),
    (
        "rights",
        "struct<x_robots_tag: string, meta_robots: string, noai: bool, noimageai: bool, noindex: bool, "
        "noarchive: bool, tdm_reservation: bool, tdm_policy: string, tdm_from: string, "
        "ai_agents_disallowed: list<item: string>, reserved: bool, reserved_by: list<item: string>>",
        True,
    ),
    ("minhash", "binary", True),
    ("near_duplicate_of", "string", True),
    ("provenance", "string", True),
    ("capture", "struct<archive: string, archive_url: string, captured_at: timestamp[us, tz=UTC]>", True),
]
SCHEMA_METADATA = {b"news_ingest.schema_version": b"3"}
PARTITION_COLUMNS = ["source", "dt"]


def described(schema: pa.Schema) -> list[tuple[str, str, bool]]:
    # Parquet names a list's item "element" (the Parquet spec's name); Arrow's type is the same
    return [(f.name, str(f.type).replace("list<element: ", "list<item: "), f.nullable) for f in schema]


def row(i: int) -> dict:
    at = datetime(2025, 6, 2, 9, 30, 15, 123456, tzinfo=UTC)
    return {
        "url": f"https://example.com/{i}",
        "source": "src",
        "authors": ["A", f"B{i}"],
        "published_at": at,
        "text": f"Body {i}.",
        "removed": [{"text": "Donate", "rule": "appeal:x", "layer": "appeals"}],
        "warc_offset": 5_000_000_000 + i,  # past 2**31
        "dt": date(2025, 6, 2),
        "rights": {"noai": True, "reserved_by": ["tdmrep"]},
        "minhash": b"\x00\x01",
        "capture": {"archive": "wayback", "archive_url": "https://web.archive.org/x", "captured_at": at},
    }


def test_the_schema_is_the_frozen_one():
    assert described(parquet.SCHEMA) == COLUMNS
    assert parquet.SCHEMA.metadata == SCHEMA_METADATA
    assert parquet.SCHEMA_VERSION == "3"
    assert parquet.SCHEMA.field("warc_offset").type == pa.int64()


def test_the_table_is_partitioned_by_source_and_dt():
    from ingest import table

    assert table.PARTITION_BY == PARTITION_COLUMNS
    assert [parquet.SCHEMA.field(c).type for c in PARTITION_COLUMNS] == [pa.string(), pa.date32()]


def read(path):
    f = pq.ParquetFile(path)
    groups = [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)]
    return f, groups


@pytest.mark.parametrize(
    ("n", "groups"),
    [(0, [0]), (1, [1]), (999, [999]), (1000, [1000]), (1001, [1000, 1]), (2500, [1000, 1000, 500])],
)
def test_write_rows_writes_every_row_in_groups_of_1000_with_the_schema(tmp_path, n, groups):
    path = tmp_path / "rows.parquet"
    assert parquet.write_rows((row(i) for i in range(n)), path) == n
    f, got = read(path)
    assert got == groups
    written = f.read()
    assert described(written.schema) == COLUMNS
    assert written.schema.metadata == SCHEMA_METADATA
    assert written.num_rows == n
    assert written.column("url").to_pylist() == [f"https://example.com/{i}" for i in range(n)]
    assert written.column("warc_offset").to_pylist() == [5_000_000_000 + i for i in range(n)]
    assert {f.metadata.row_group(0).column(i).compression for i in range(f.metadata.num_columns)} == {"ZSTD"}


def test_a_row_round_trips_and_missing_columns_are_null(tmp_path):
    path = tmp_path / "rows.parquet"
    assert parquet.write_rows([row(7)], path) == 1
    (got,) = pq.read_table(path).to_pylist()
    expected = {name: None for name, _, _ in COLUMNS}
    expected.update(row(7))
    expected["rights"] = {f.name: None for f in parquet.RIGHTS} | {"noai": True, "reserved_by": ["tdmrep"]}
    assert got == expected


def test_a_row_of_the_wrong_type_is_refused_not_coerced(tmp_path):
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
        parquet.write_rows([{**row(0), "warc_offset": "five"}], tmp_path / "bad.parquet")
