"""The test harness itself: a real LocalExecutor deployment on SQLite runs a tiny DAG and leaves no process."""

from __future__ import annotations

import importlib
import os
import secrets
import textwrap

import pytest
from airflow_cluster import ROOT, AirflowCluster, listening, parse_json_output

TINY_DAG = textwrap.dedent(
    """
    from datetime import datetime

    from airflow.sdk import dag, task


    @dag(dag_id="harness_tiny", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
    def harness_tiny():
        @task
        def produce() -> int:
            return 41

        @task
        def consume(value: int) -> int:
            assert value == 41
            return value + 1

        consume(produce())


    harness_tiny()
    """
)


POSTGRES_URL = os.environ.get("NEWS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _tiny_dags(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "harness_tiny.py").write_text(TINY_DAG)
    return dags


def _state(name: str):
    return ROOT / ".airflow-test" / "clusters" / f"{name}-{secrets.token_hex(3)}"


def _trigger_and_succeed(cluster: AirflowCluster, run_id: str, count: int) -> None:
    cluster.run_cli("dags", "trigger", "harness_tiny", "--run-id", run_id)
    runs = cluster.wait_for_runs("harness_tiny", count, timeout=180, interval=3)
    assert {r["state"] for r in runs} == {"success"}, cluster.describe_runs("harness_tiny", runs)
    states = {t["task_id"]: t["state"] for t in cluster.task_instances("harness_tiny", run_id)}
    assert states == {"produce": "success", "consume": "success"}


def test_parse_json_output_skips_leading_warnings():
    assert parse_json_output('a warning\n[{"a": 1}]\n') == [{"a": 1}]
    assert parse_json_output("[not json\n{}") == {}
    with pytest.raises(ValueError):
        parse_json_output("nothing here")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_local_executor_runs_a_triggered_dag_and_stops_cleanly(tmp_path):
    state = _state("tiny")
    cluster = AirflowCluster(state, dags_folder=_tiny_dags(tmp_path), dag_ids=["harness_tiny"], start_timeout=180)
    with cluster:
        assert {d["dag_id"] for d in cluster.cli_json("dags", "list")} == {"harness_tiny"}
        _trigger_and_succeed(cluster, "manual__harness", 1)
        assert cluster.processes(), "the cluster's processes carry its marker"
    assert cluster.processes() == [], "processes left after stop"
    assert not state.exists(), "state is removed after a clean exit"


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.timeout(400)
def test_celery_workers_on_postgres_survive_a_killed_worker(tmp_path):
    if not (listening("127.0.0.1", 5432) and listening("127.0.0.1", 6379)):
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379")
    try:
        importlib.import_module("airflow.providers.celery.executors.celery_executor_utils")
    except ImportError as err:  # e.g. a celery release the provider does not support
        pytest.skip(f"the Celery provider does not import: {err}")
    cluster = AirflowCluster(
        _state("celery"),
        dags_folder=_tiny_dags(tmp_path),
        dag_ids=["harness_tiny"],
        executor="CeleryExecutor",
        db_url=POSTGRES_URL,
        broker_url=REDIS_URL,
        celery_workers=2,
        worker_concurrency=2,
    )
    with cluster:
        _trigger_and_succeed(cluster, "manual__both_workers", 1)
        cluster.kill("worker-1")
        _trigger_and_succeed(cluster, "manual__one_worker", 2)
    assert cluster.processes() == [], "processes left after stop"
