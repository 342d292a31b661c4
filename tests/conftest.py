"""Shared fixtures: Airflow state in the checkout, a local S3 endpoint, the demo site.

Airflow reads its configuration at import time, so the environment is set here, before any test
module imports it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = ROOT / ".airflow-test"  # a sibling of dags/: airflow.cfg finds dags_folder from it
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW_CONFIG"] = str(ROOT / "airflow.cfg")
os.environ.setdefault("NEWS_TASK_RETRIES", "0")
os.environ.setdefault("NEWS_RETRY_DELAY_SECONDS", "1")
# package caches in the checkout, as the Makefile sets them, also when pytest is run directly: the install
# tests run uv and pip, whose default caches are in the home directory
os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
os.environ.setdefault("PIP_CACHE_DIR", str(ROOT / ".cache" / "pip"))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A fresh SQLite metadata database for this test session."""
    # only the session's own database and logs: clusters keep their state in subfolders
    (AIRFLOW_HOME / "airflow.db").unlink(missing_ok=True)
    shutil.rmtree(AIRFLOW_HOME / "logs", ignore_errors=True)
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        timeout=300,
        env=os.environ.copy(),
    )
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on a free loopback port, its environment exported for boto3, DuckDB and subprocesses."""
    from localrun.local_s3 import local_s3_env

    with local_s3_env("news-test-session") as server:
        yield server


@pytest.fixture
def bucket(s3_server, monkeypatch) -> str:
    """A fresh, empty bucket per test, exported as NEWS_BUCKET."""
    from ingest import s3 as s3io

    name = f"news-{uuid.uuid4().hex[:12]}"
    s3io.ensure_bucket(s3io.client(), name)
    monkeypatch.setenv("NEWS_BUCKET", name)
    return name


@pytest.fixture
def demo_day() -> date:
    return date(2026, 11, 20)


@pytest.fixture
def demo_sources(demo_day, tmp_path, monkeypatch):
    """The demo site on loopback and a sources file for it, exported as NEWS_SOURCES."""
    from demo_site import DemoSite
    from localrun.demo import write_demo_sources

    with DemoSite(demo_day) as demo:
        path = tmp_path / "sources.yaml"
        write_demo_sources(demo, path)
        monkeypatch.setenv("NEWS_SOURCES", str(path))
        yield demo


@pytest.fixture(scope="session")
def wheel() -> Path:
    """The wheel `make dist` builds, as a user builds it."""
    subprocess.run(["make", "-s", "dist"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    found = sorted((ROOT / "dist").glob("news_ingest-*.whl"))
    assert len(found) == 1, found
    return found[0]
