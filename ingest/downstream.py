"""How a downstream analyst reads the clean layer: DuckDB over s3:// with hive partitioning.

DuckDB's httpfs extension is normally downloaded at run time; the pinned `duckdb-extension-httpfs`
package ships it, so this works offline.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with httpfs loaded and an S3 secret taken from the standard AWS environment."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{httpfs_path()}'")
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    parts = urlparse(endpoint) if endpoint else None
    options = {
        "KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", ""),
        "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
        "REGION": os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1")),
    }
    if parts:
        options |= {"ENDPOINT": parts.netloc, "URL_STYLE": "path", "USE_SSL": str(parts.scheme == "https").lower()}
    body = ", ".join(f"{k} '{v}'" for k, v in options.items())
    con.execute(f"CREATE OR REPLACE SECRET news_s3 (TYPE s3, {body})")
    return con


def httpfs_path() -> str:
    """The httpfs build shipped by the pinned pip package, for this DuckDB version."""
    import duckdb_extension_httpfs

    root = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = sorted(root.glob("httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no httpfs extension for DuckDB {duckdb.__version__} under {root}")
    return str(found[0])


def clean_glob(bucket: str) -> str:
    return f"s3://{bucket}/clean/source=*/dt=*/*.parquet"


def rows_per_day(con: duckdb.DuckDBPyConnection, bucket: str) -> list[tuple]:
    return con.execute(
        f"SELECT source, dt, count(*) FROM read_parquet('{clean_glob(bucket)}', hive_partitioning=true) "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
