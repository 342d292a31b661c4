"""The embedded SQLite metadata database: every Airflow process opens it so that a writer waits for the lock
instead of failing with "database is locked" beside a busy scheduler (airflow_local_settings.py, airflow.cfg)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]


def test_every_airflow_process_begins_sqlite_writes_immediately_and_waits_a_minute(tmp_path):
    """Airflow itself (a fresh process, as the CLI is) loads the hook and opens SQLite that way."""
    code = (
        "from airflow import settings\n"
        "with settings.engine.connect() as c:\n"
        "    print(settings.engine.url.query.get('timeout'), c.connection.dbapi_connection.isolation_level)\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "HOME": str(tmp_path),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["60", "IMMEDIATE"], done.stdout


def test_other_databases_are_left_alone(monkeypatch):
    import airflow_local_settings

    made = []

    def fake_create_engine(url: str, **kwargs):
        made.append((url, kwargs))
        return sa.create_engine("sqlite://")

    monkeypatch.setattr(airflow_local_settings, "create_engine", fake_create_engine)
    for url in ("postgresql+psycopg2://airflow@db/airflow", "sqlite:////tmp/airflow.db?timeout=60"):
        airflow_local_settings.create_metadata_engine(url, engine_args={"pool_size": 5}, connect_args={"a": 1})
    assert made == [
        ("postgresql+psycopg2://airflow@db/airflow", {"connect_args": {"a": 1}, "pool_size": 5, "future": True}),
        ("sqlite:////tmp/airflow.db?timeout=60",
         {"connect_args": {"a": 1, "isolation_level": "IMMEDIATE"}, "pool_size": 5, "future": True}),
    ]  # fmt: skip


def _backfill_pattern(engine: sa.Engine, path: Path) -> None:
    """What `airflow backfill create` does per run, while another process (the scheduler) holds the write lock
    and commits: a SAVEPOINT, a read, then an insert."""
    other = sqlite3.connect(path, timeout=60, check_same_thread=False)
    other.execute("INSERT INTO t VALUES (0)")  # holds the write lock ...
    releases = threading.Timer(1.0, other.commit)  # ... and commits a second later
    releases.start()
    with Session(engine) as session:
        with session.begin_nested():
            session.execute(sa.text("SELECT count(*) FROM t")).scalar()
            session.execute(sa.text("INSERT INTO t VALUES (1)"))
        session.commit()
    releases.join()
    other.close()


@pytest.mark.parametrize("hooked", [False, True], ids=["airflow's engine", "with airflow_local_settings"])
def test_a_savepoint_transaction_waits_for_the_lock_instead_of_failing(tmp_path, hooked):
    import airflow_local_settings

    path = tmp_path / "airflow.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")  # as Airflow sets it
        setup.execute("CREATE TABLE t (x)")
    url = f"sqlite:///{path}?timeout=60"
    make = airflow_local_settings.create_metadata_engine if hooked else (
        lambda u, engine_args, connect_args: sa.create_engine(u, connect_args=connect_args))  # fmt: skip
    engine = make(url, engine_args={}, connect_args={"check_same_thread": False})
    if hooked:
        _backfill_pattern(engine, path)
        with sqlite3.connect(path) as check:
            assert check.execute("SELECT count(*) FROM t").fetchone() == (2,)
    else:
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            _backfill_pattern(engine, path)
    engine.dispose()
