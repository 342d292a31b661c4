"""The embedded SQLite metadata database: every Airflow process opens it so that a writer waits for the lock
instead of failing with "database is locked" beside a busy scheduler (airflow_local_settings.py, airflow.cfg)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
    monkeypatch.setattr(airflow_local_settings, "create_engine", lambda url, **kwargs: made.append((url, kwargs)))
    for url in ("postgresql+psycopg2://airflow@db/airflow", "sqlite:////tmp/airflow.db?timeout=60"):
        airflow_local_settings.create_metadata_engine(url, engine_args={"pool_size": 5}, connect_args={"a": 1})
    assert made == [
        ("postgresql+psycopg2://airflow@db/airflow", {"connect_args": {"a": 1}, "pool_size": 5, "future": True}),
        ("sqlite:////tmp/airflow.db?timeout=60",
         {"connect_args": {"a": 1, "isolation_level": "IMMEDIATE"}, "pool_size": 5, "future": True}),
    ]  # fmt: skip
