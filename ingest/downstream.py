"""How a downstream analyst reads the clean layer: DuckDB's `delta_scan` over s3://$NEWS_BUCKET/clean/.

DuckDB's httpfs and delta extensions are normally downloaded at run time; the pinned `duckdb-extension-httpfs`
and `duckdb-extension-delta` packages ship them, loaded here by file path with auto-install and auto-load off,
so nothing is downloaded and nothing is written to ~/.duckdb. Credentials come from boto3's whole chain
(environment keys, session token, profile, role), resolved once and handed to DuckDB as a secret.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with httpfs and delta loaded and an S3 secret from boto3's credential chain."""
    from ingest import table

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{httpfs_path()}'")
    con.execute(f"LOAD '{delta_path()}'")
    options = table.storage_options()
    secret = {
        "KEY_ID": options["AWS_ACCESS_KEY_ID"],
        "SECRET": options["AWS_SECRET_ACCESS_KEY"],
        "SESSION_TOKEN": options.get("AWS_SESSION_TOKEN", ""),
        "REGION": options["AWS_REGION"],
    }
    endpoint = options.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlparse(endpoint)
        secret |= {"ENDPOINT": parts.netloc, "URL_STYLE": "path", "USE_SSL": str(parts.scheme == "https").lower()}
    body = ", ".join(f"{k} '{_quote(v)}'" for k, v in secret.items())
    con.execute(f"CREATE OR REPLACE SECRET news_s3 (TYPE s3, {body})")
    return con


def _quote(value: str) -> str:
    return value.replace("'", "''")


def _extension(package, name: str) -> str:
    root = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = sorted(root.glob(f"{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no {name} extension for DuckDB {duckdb.__version__} under {root}")
    return str(found[0])


def httpfs_path() -> str:
    """The httpfs build shipped by the pinned pip package, for this DuckDB version."""
    import duckdb_extension_httpfs

    return _extension(duckdb_extension_httpfs, "httpfs")


def delta_path() -> str:
    """The delta build shipped by the pinned pip package, for this DuckDB version."""
    import duckdb_extension_delta

    return _extension(duckdb_extension_delta, "delta")


def clean_uri(bucket: str) -> str:
    return f"s3://{bucket}/clean"


def rows_per_day(con: duckdb.DuckDBPyConnection, bucket: str, version: int | None = None) -> list[tuple]:
    """(source, dt, rows) of every partition of the clean table, at its latest version or at `version`."""
    at = f", version => {int(version)}" if version is not None else ""
    return con.execute(
        f"SELECT source, dt, count(*) FROM delta_scan('{clean_uri(bucket)}'{at}) GROUP BY ALL ORDER BY ALL"
    ).fetchall()


def day_rows(con: duckdb.DuckDBPyConnection, bucket: str, source: str, day: date) -> list[dict]:
    """Every row of one partition, as dicts ordered by URL."""
    cursor = con.execute(
        f"SELECT * FROM delta_scan('{clean_uri(bucket)}') WHERE source = ? AND dt = ? ORDER BY url", [source, day]
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
