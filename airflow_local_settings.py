"""Airflow's local settings for news-ingest: Airflow imports this module in every process it starts.

SQLite (the embedded default of `make airflow` and `make demo`) lets a transaction take its write lock only at
its first write. When another process commits in between (the scheduler does, all the time), a transaction
that had already read fails at once with "database is locked", whatever the busy timeout: SQLite cannot hand
it the lock on a stale snapshot. `airflow backfill create` failed so beside a running scheduler. Starting
every write transaction with BEGIN IMMEDIATE makes it wait for the lock (up to the `timeout` of the URL in
airflow.cfg) and read after it. Other databases are left as Airflow configures them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

__all__ = ["create_metadata_engine"]


def create_metadata_engine(
    sql_alchemy_conn: str, *, engine_args: dict[str, Any], connect_args: dict[str, Any]
) -> Engine:
    """Airflow's documented hook for the metadata engine (airflow.settings.create_metadata_engine)."""
    if sql_alchemy_conn.startswith("sqlite"):
        connect_args = {**connect_args, "isolation_level": "IMMEDIATE"}  # Python's sqlite3: BEGIN IMMEDIATE
    return create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args, future=True)
