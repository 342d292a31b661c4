"""Airflow's local settings for news-ingest: Airflow imports this module in every process it starts.

SQLite (the embedded default of `make airflow` and `make demo`) lets a transaction take its write lock only at
its first write. When another process commits in between (the scheduler does, all the time), a transaction
that had already read fails at once with "database is locked", whatever the busy timeout: SQLite cannot hand
it the lock on a stale snapshot. `airflow backfill create` failed so beside a running scheduler: it creates
each run in a SAVEPOINT (`session.begin_nested()`), which starts such a transaction, reads, then inserts.

So every SQLite transaction that may write begins with BEGIN IMMEDIATE and waits for the lock (up to the
`timeout` of the URL in airflow.cfg) before it reads: Python's sqlite3 issues it before the first write
(`isolation_level="IMMEDIATE"`), and a SAVEPOINT outside a transaction is preceded by one. Plain reads still
take no lock. Other databases are left as Airflow configures them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

__all__ = ["create_metadata_engine"]


def create_metadata_engine(
    sql_alchemy_conn: str, *, engine_args: dict[str, Any], connect_args: dict[str, Any]
) -> Engine:
    """Airflow's documented hook for the metadata engine (airflow.settings.create_metadata_engine)."""
    if not sql_alchemy_conn.startswith("sqlite"):
        return create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args, future=True)
    connect_args = {**connect_args, "isolation_level": "IMMEDIATE"}  # Python's sqlite3: BEGIN IMMEDIATE
    engine = create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args, future=True)
    event.listen(engine, "savepoint", begin_immediately)
    return engine


def begin_immediately(conn: Connection, name: str) -> None:
    """Before a SAVEPOINT that would open a transaction, open it with the write lock (SQLAlchemy event)."""
    dbapi = conn.connection.dbapi_connection
    if not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")
