"""The schema of the clean layer's rows (a contract: bump SCHEMA_VERSION on any change).

The clean layer is one Delta table (`ingest.table`) partitioned by `source` and `dt`; the clean stage writes a
day's rows to one staged Parquet file of this schema, which the publish stage commits to the table.
Version 2 added `dt`, the partition's day (version 1 had it only in the hive path). Version 3 added, after `dt`,
the columns of `V3_COLUMNS` (issue #15) and `provenance` and `capture` (issue #16: where the page was read, the
live site or a web archive, and which capture): a schema-evolution commit, earlier rows read them as null.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = "3"
ROW_GROUP_ROWS = 1000

REMOVAL = pa.struct([("text", pa.string()), ("rule", pa.string()), ("layer", pa.string())])
UTC_TIME = pa.timestamp("us", tz="UTC")

# ---- schema version 3 (issue #15): every column it added, in this one place --------------------------------
RIGHTS = pa.struct(
    [
        ("x_robots_tag", pa.string()),
        ("meta_robots", pa.string()),
        ("noai", pa.bool_()),
        ("noimageai", pa.bool_()),
        ("noindex", pa.bool_()),
        ("noarchive", pa.bool_()),
        ("tdm_reservation", pa.bool_()),
        ("tdm_policy", pa.string()),
        ("tdm_from", pa.string()),
        ("ai_agents_disallowed", pa.list_(pa.string())),
        ("reserved", pa.bool_()),
        ("reserved_by", pa.list_(pa.string())),
    ]
)
V3_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("site_name", pa.string()),
    ("image_url", pa.string()),
    ("section", pa.string()),
    ("keywords", pa.list_(pa.string())),
    ("modified_at", UTC_TIME),
    ("language_detected", pa.string()),
    ("free_access", pa.bool_()),
    ("truncated", pa.bool_()),
    ("access_signals", pa.list_(pa.string())),
    ("rights", RIGHTS),
    ("minhash", pa.binary()),
    ("near_duplicate_of", pa.string()),
]
# ---- end of schema version 3 -----------------------------------------------------------------------------------
# --- provenance (issue #16, schema version 3): where a row's page was read ------------------------------------
# `provenance`: "live", or the web archive it came from ("wayback", "commoncrawl", "cc-news"); `capture`: that
# archive's capture (null for a live page): the archive, the capture's URL there, and when the archive made it.
LIVE = "live"
CAPTURE = pa.struct([("archive", pa.string()), ("archive_url", pa.string()), ("captured_at", UTC_TIME)])
PROVENANCE_FIELDS = [("provenance", pa.string()), ("capture", CAPTURE)]
# --- end of provenance -----------------------------------------------------------------------------------------

SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published_at", UTC_TIME),
        ("language", pa.string()),
        ("text", pa.string()),
        ("removed", pa.list_(REMOVAL)),
        ("fingerprint", pa.string()),
        ("fetched_at", UTC_TIME),
        ("cleaner_version", pa.string()),
        ("warc_file", pa.string()),
        ("warc_offset", pa.int64()),
        ("dt", pa.date32()),
        *V3_COLUMNS,
        *PROVENANCE_FIELDS,
    ],
    metadata={"news_ingest.schema_version": SCHEMA_VERSION},
)


def write_rows(rows: Iterable[dict], path: Path) -> int:
    """Write rows in bounded row groups (memory stays flat); returns the number written."""
    count = 0
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            count += len(batch)
    return count
