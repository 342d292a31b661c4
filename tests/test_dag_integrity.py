"""Every DAG file imports cleanly, offline, fast, and news_daily has the shape the pipeline relies on."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

DAGS = sorted((Path(__file__).resolve().parents[1] / "dags").glob("*.py"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", DAGS, ids=lambda p: p.name)
def test_dag_file_imports_without_network(path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{path.name} opened a network connection at import time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    module = _load(path)
    from airflow.sdk import DAG

    assert any(isinstance(v, DAG) for v in vars(module).values())


def test_parse_time_under_one_second_per_file(airflow_db):
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "report", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
        check=True,
    ).stdout
    rows = json.loads(out.strip().splitlines()[-1])  # warnings come first, the JSON last
    durations = {Path(r["file"]).name: r["duration"] for r in rows}
    assert set(durations) == {p.name for p in DAGS}, out
    for name, value in durations.items():
        h, m, s = value.split(":")
        assert int(h) * 3600 + int(m) * 60 + float(s) < 1.0, f"{name} parses in {value}"


def test_news_daily_has_data_intervals_and_mapped_groups():
    dag = _load(next(p for p in DAGS if p.name == "news_daily.py")).news_daily_dag
    from airflow.sdk import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.catchup is False and dag.max_active_runs >= 1
    assert {
        "list_sources",
        "per_source.crawl",
        "per_source.clean",
        "per_source.validate",
        "per_source.publish",
        "link_near_duplicates",
        "report",
    } == set(dag.task_ids)
    # near-duplicates across the day's sources once all are published or failed, then the report
    assert dag.get_task("link_near_duplicates").trigger_rule == "all_done"
    assert dag.get_task("report").upstream_task_ids == {"link_near_duplicates"}
    assert dag.on_failure_callback, "a failed run is alerted (ingest.alerts)"
    assert dag.get_task("per_source.publish").outlets[0].name.endswith("/clean/")
    assert dag.get_task("report").trigger_rule == "all_done"
    assert dag.params["recrawl"] is True
    assert dag.start_date == datetime(1990, 1, 1, tzinfo=UTC), "backfills of any past day need an early start_date"
    schema = dag.params.get_param("sources").schema
    assert schema["type"] == "array" and schema["items"] == {"type": "string", "pattern": "^[a-z0-9_-]+$"}
    for stage in ("crawl", "clean", "validate", "publish"):  # mapped tasks are labelled by their source
        assert dag.get_task(f"per_source.{stage}").map_index_template == "{{ task.op_kwargs['source'] }}"
    crawl = dag.get_task("per_source.crawl")
    assert crawl.retries >= 0 and crawl.execution_timeout is not None
    # which day each kind of run processes: tests/test_run_days.py


def test_crawl_pool_and_timeout_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEWS_CRAWL_POOL", "news_crawl")
    monkeypatch.setenv("NEWS_CRAWL_TIMEOUT_SECONDS", "600")
    dag = _load(next(p for p in DAGS if p.name == "news_daily.py")).news_daily_dag
    crawl = dag.get_task("per_source.crawl")
    assert crawl.pool == "news_crawl" and dag.get_task("per_source.clean").pool == "default_pool"
    assert crawl.execution_timeout.total_seconds() > 600  # above the crawl's own bound, so it ends first
