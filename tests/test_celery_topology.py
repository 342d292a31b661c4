"""news_daily in the production topology: CeleryExecutor, PostgreSQL metadata DB, Redis broker, two workers.

One deployment (`AirflowCluster`: API server, scheduler, DAG processor and two Celery workers as separate
processes) serves the three tests of this module, each on its own UTC day of the demo site, so that the
start-up cost (a Postgres database migrated from scratch) is paid once. Each test triggers one manual run with
logical date D through the REST API (as the UI does): it processes the UTC day D and writes partition dt=D
(README, "Which day a run processes").

1. A plain run: every partition holds the demo articles of the day without appeals, and the mapped
   per-source tasks ran on both workers (the Celery task id of every task instance, matched in the worker logs).
2. A worker SIGKILLed while it runs a crawl: the scheduler notices the missing heartbeats
   (`[scheduler] task_instance_heartbeat_timeout`, shortened here), the try fails, the retry runs on the
   surviving worker, and the partitions are exact (no duplicate rows, no orphan objects, no staging leftovers).
3. The S3 endpoint stopped during the run and started again on the same port (moto keeps its state in the
   process): a task fails, is retried after the endpoint is back, and the partitions are exact.

The crawl is slowed down on purpose (politeness `download_delay` in the sources file) so that a crawl task is
running long enough to be caught. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; skips without.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import time
import uuid
from datetime import UTC, date, timedelta
from pathlib import Path

import psutil
import pytest
import yaml
from airflow_cluster import ROOT, AirflowCluster, listening, tail, wait_until

from ingest import partition, table
from ingest import s3 as s3io

DAG_ID = "news_daily"
POSTGRES_URL = os.environ.get("NEWS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_DAY = date(2026, 11, 20)
DOWNLOAD_DELAY = 1.0  # seconds between requests to one site: a crawl lasts several seconds
HEARTBEAT_TIMEOUT = 30  # seconds without a task heartbeat before the scheduler fails the try
RUN_TIMEOUT = 240

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(420)]


# -- environment ------------------------------------------------------------------------------------


def _skip_without_services() -> None:
    from sqlalchemy.engine import make_url

    pg = make_url(POSTGRES_URL)
    redis_host, redis_port = re.match(r"redis://([^:/]+):(\d+)", REDIS_URL).groups()
    missing = [
        f"{what} at {where}"
        for what, where, host, port in (
            ("PostgreSQL", POSTGRES_URL, pg.host or "127.0.0.1", pg.port or 5432),
            ("Redis", REDIS_URL, redis_host, int(redis_port)),
        )
        if not listening(host, port)
    ]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)}: not reachable (set NEWS_TEST_POSTGRES_URL / NEWS_TEST_REDIS_URL)")
    try:
        importlib.import_module("airflow.providers.celery.executors.celery_executor_utils")
    except ImportError as err:  # e.g. a celery release the provider does not support
        pytest.skip(f"the Celery provider does not import: {err}")


def _slow_sources(demo, path: Path) -> Path:
    """The demo site's sources with a download delay: a crawl then lasts long enough to be interrupted."""
    demo.write_sources(path)
    doc = yaml.safe_load(path.read_text())
    for source in doc["sources"]:
        source["politeness"] = {"download_delay": DOWNLOAD_DELAY, "autothrottle": False}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class Topology:
    """The running deployment, the demo site and the bucket shared by the tests of this module."""

    def __init__(self, cluster: AirflowCluster, demo, bucket: str, s3_server) -> None:
        self.cluster, self.demo, self.bucket, self.s3_server = cluster, demo, bucket, s3_server

    # -- metadata DB (the task instances' Celery task ids are not in the CLI output) -----------------

    def sql(self, query: str, params: tuple = ()) -> list[dict]:
        return self.cluster.sql(query, params)

    def tries(self, run_id: str) -> list[dict]:
        """Every try of every task instance of the run: earlier tries from the history table, then the current."""
        cols = "task_id, map_index, try_number, state, hostname, pid, external_executor_id"
        where = "WHERE dag_id = %s AND run_id = %s"
        rows = self.sql(f"SELECT {cols} FROM task_instance_history {where}", (DAG_ID, run_id))
        rows += self.sql(f"SELECT {cols} FROM task_instance {where}", (DAG_ID, run_id))
        return sorted(rows, key=lambda r: (r["task_id"], r["map_index"], r["try_number"]))

    def worker_of(self, celery_task_id: str | None) -> str | None:
        """The worker whose log says it executed the Celery task `celery_task_id`."""
        if not celery_task_id:
            return None
        marker = f"[{celery_task_id}] Executing workload"
        found = [
            name
            for name, service in self.cluster.services.items()
            if name.startswith("worker-") and marker in service.log.read_text(errors="replace")
        ]
        return found[0] if len(found) == 1 else None

    def worker_by_pid(self, pid: int | None) -> str | None:
        """The worker that is an ancestor of the live process `pid` (a running task)."""
        if not pid:
            return None
        try:
            ancestors = {p.pid for p in psutil.Process(pid).parents()}
        except psutil.Error:
            return None
        for name, service in self.cluster.services.items():
            if name.startswith("worker-") and service.proc is not None and service.proc.pid in ancestors:
                return name
        return None

    # -- runs -----------------------------------------------------------------------------------------

    def trigger(self, day: date, run_id: str) -> dict:
        """A manual run for `day` through the REST API, as `admin` (what the UI does): logical date `day`."""
        body = {"dag_run_id": run_id, "logical_date": f"{day}T00:00:00Z"}
        run = self.cluster.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", body, timeout=30)
        assert run["logical_date"].startswith(day.isoformat()), run
        return run

    def wait_success(self, run_id: str) -> dict:
        runs = self.cluster.wait_for_runs(DAG_ID, 1, timeout=RUN_TIMEOUT, run_id_prefix=run_id, interval=3)
        run = next(r for r in runs if r["run_id"] == run_id)
        assert run["state"] == "success", self.cluster.describe_runs(DAG_ID, [run])
        return run

    # -- S3 -------------------------------------------------------------------------------------------

    def expected(self, day: date) -> dict[str, dict[str, object]]:
        """Per publisher, the demo articles published on `day` (UTC), by URL."""
        out: dict[str, dict[str, object]] = {p.name: {} for p in self.demo.site.publishers}
        for article in self.demo.site.articles:
            if article.published.astimezone(UTC).date() == day:
                out[article.publisher][self.demo.base_urls[article.publisher] + article.path] = article
        return out

    def check_partitions(self, day: date) -> dict[str, int]:
        """Every source's clean partition of `day` (in the Delta table): exactly the day's articles, once each,
        without appeals; the raw prefix holds its manifest, _SUCCESS and attempt folders, the manifest's parts
        among them; nothing of the day is left in staging/."""
        s3 = s3io.client()
        expected = self.expected(day)
        assert any(expected.values()), f"the demo site has no article on {day}"
        counts = {}
        for source, articles in expected.items():
            rows = table.open_table(self.bucket).to_pyarrow_table(
                filters=[("source", "=", source), ("dt", "=", day)]
            ).to_pylist()
            assert rows or not articles, f"clean/source={source}/dt={day} not published"
            urls = [r["url"] for r in rows]
            assert len(urls) == len(set(urls)), f"{source} dt={day}: duplicate rows {sorted(urls)}"
            assert sorted(urls) == sorted(articles), f"{source} dt={day}: wrong articles"
            for row in rows:
                assert row["published_at"].astimezone(UTC).date() == day, f"{row['url']} filed under dt={day}"
                for appeal in articles[row["url"]].appeals:
                    assert appeal not in row["text"], f"appeal left in {row['url']}: {appeal[:60]}"
            prefix = partition.partition_prefix("raw", source, day)
            raw = partition.read_manifest(s3, self.bucket, "raw", source, day)
            assert raw is not None, f"{prefix} not published"
            keys = set(s3io.list_objects(s3, self.bucket, prefix))
            assert {p["key"] for p in raw["parts"]} <= keys, f"gaps in {prefix}"
            loose = {k for k in keys if "/attempt=" not in k}
            assert loose == {prefix + partition.MANIFEST, prefix + partition.SUCCESS}, f"orphans in {prefix}"
            counts[source] = len(rows)
        day_staging = [k for k in s3io.list_objects(s3, self.bucket, "staging/") if f"/dt={day.isoformat()}/" in k]
        assert day_staging == [], f"staging leftovers: {day_staging}"
        return counts


@pytest.fixture(scope="module")
def topology(request, s3_server, tmp_path_factory):
    """Bucket, demo site and the Celery deployment, shared by this module's tests (see the module docstring).

    The state folder is kept, and the log tails printed, when a test of the module failed.
    """
    _skip_without_services()
    from demo_site import DemoSite

    bucket = f"news-{uuid.uuid4().hex[:12]}"
    s3io.ensure_bucket(s3io.client(), bucket)
    failed_before = request.session.testsfailed
    with DemoSite(DEMO_DAY) as demo:
        sources = _slow_sources(demo, tmp_path_factory.mktemp("celery-topology") / "sources.yaml")
        env = {
            "NEWS_BUCKET": bucket,
            "NEWS_SOURCES": str(sources),
            "NEWS_TASK_RETRIES": "2",
            "NEWS_RETRY_DELAY_SECONDS": "2",
            # only the triggered runs: no scheduled run of the latest interval when the DAG is unpaused
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # a try whose worker died is failed after this long without heartbeats (default 300 s)
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
        }
        state = ROOT / ".airflow-test" / "clusters" / f"celery-topology-{secrets.token_hex(3)}"
        cluster = AirflowCluster(
            state,
            env,
            dag_ids=[DAG_ID],
            executor="CeleryExecutor",
            db_url=POSTGRES_URL,
            broker_url=REDIS_URL,
            celery_workers=2,
            # two slots per worker and a prefetch of one message per slot (Airflow's Celery defaults): the three
            # mapped crawls, queued together, cannot all go to one worker
            worker_concurrency=2,
        )
        cluster.__enter__()  # not `with`: the module's test outcomes decide whether the state is kept
        failed = True
        try:
            cluster.run_cli("dags", "unpause", DAG_ID)
            yield Topology(cluster, demo, bucket, s3_server)
            failed = request.session.testsfailed > failed_before
        finally:
            if failed:
                print(cluster.logs_tail())
            cluster.stop(remove_state=not failed)


def _trace(topo: Topology, run_id: str) -> str:
    """One line per try of the run: task, map index, try, state, and the worker whose log has its Celery task."""
    return "\n".join(
        f"{t['task_id']}[{t['map_index']}] try {t['try_number']} {t['state']} "
        f"on {topo.worker_of(t['external_executor_id'])}"
        for t in topo.tries(run_id)
    )


# -- the tests --------------------------------------------------------------------------------------


def test_daily_run_on_two_celery_workers_writes_the_partitions(topology):
    day = DEMO_DAY
    run_id = "manual__celery_plain"
    started = time.monotonic()
    topology.trigger(day, run_id)
    run = topology.wait_success(run_id)
    assert run["logical_date"].startswith(day.isoformat())
    elapsed = time.monotonic() - started

    counts = topology.check_partitions(day)
    assert sum(counts.values()) == sum(len(a) for a in topology.expected(day).values())

    tries = topology.tries(run_id)
    per_source = [t for t in tries if t["task_id"].startswith("per_source.")]
    assert len(per_source) == 4 * len(counts), _trace(topology, run_id)
    assert all(t["state"] == "success" for t in tries), _trace(topology, run_id)
    workers = {t["task_id"] + f"[{t['map_index']}]": topology.worker_of(t["external_executor_id"]) for t in per_source}
    assert None not in workers.values(), f"a task not found in exactly one worker log: {workers}"
    assert set(workers.values()) == {"worker-1", "worker-2"}, f"mapped tasks did not use both workers: {workers}"
    crawl_workers = {w for k, w in workers.items() if k.startswith("per_source.crawl[")}
    print(f"run {run_id}: {elapsed:.0f} s; rows {counts}; crawls on {sorted(crawl_workers)}; tasks on {workers}")


def test_a_worker_killed_during_a_crawl_is_retried_on_the_other_worker(topology):
    cluster = topology.cluster
    day = DEMO_DAY - timedelta(days=1)
    run_id = "manual__celery_worker_killed"
    topology.trigger(day, run_id)

    def running_crawl() -> tuple[dict, str] | None:
        for t in topology.tries(run_id):
            if t["task_id"] == "per_source.crawl" and t["state"] == "running" and t["try_number"] == 1:
                worker = topology.worker_by_pid(t["pid"])
                if worker:
                    return t, worker
        return None

    victim, worker = wait_until(running_crawl, 120, "a running crawl with a known worker", 0.5)
    survivor = "worker-2" if worker == "worker-1" else "worker-1"
    killed_at = time.monotonic()
    cluster.kill(worker)  # SIGKILL to the worker's group and every descendant: its task processes die with it
    try:
        run = topology.wait_success(run_id)
        recovery = time.monotonic() - killed_at
    finally:
        cluster.restart(worker)  # the deployment is shared with the next test
    assert run["state"] == "success"

    tries = [
        t for t in topology.tries(run_id) if t["task_id"] == victim["task_id"] and t["map_index"] == victim["map_index"]
    ]
    trace = _trace(topology, run_id)
    assert [t["try_number"] for t in tries][:1] == [1] and len(tries) >= 2, trace
    assert tries[0]["state"] == "failed", f"the killed try should be failed:\n{trace}"
    assert tries[-1]["state"] == "success", trace
    assert topology.worker_of(tries[-1]["external_executor_id"]) == survivor, trace
    # the scheduler declared the killed try dead for want of heartbeats (its audit-log entry)
    timeouts = topology.sql(
        "SELECT task_id, map_index, try_number FROM log WHERE dag_id = %s AND run_id = %s AND event = %s",
        (DAG_ID, run_id, "heartbeat timeout"),
    )
    assert (victim["task_id"], victim["map_index"], 1) in {
        (t["task_id"], t["map_index"], t["try_number"]) for t in timeouts
    }, f"no heartbeat timeout recorded for the killed try: {timeouts}\n{tail(cluster.services['scheduler'].log)}"

    counts = topology.check_partitions(day)
    print(
        f"killed {worker} during {victim['task_id']}[{victim['map_index']}]; success {recovery:.0f} s later; "
        f"rows {counts}\n{trace}"
    )


def test_s3_endpoint_down_during_the_run_fails_a_task_that_is_retried(topology):
    day = DEMO_DAY - timedelta(days=2)
    run_id = "manual__celery_s3_outage"
    server = topology.s3_server
    host, port = server.host, server.port
    topology.trigger(day, run_id)

    def crawl_running() -> bool:
        return any(t["task_id"] == "per_source.crawl" and t["state"] == "running" for t in topology.tries(run_id))

    def a_try_failed() -> bool:
        return any(t["state"] in ("up_for_retry", "failed") for t in topology.tries(run_id))

    wait_until(crawl_running, 120, "a running crawl", 0.5)
    stopped_at = time.monotonic()
    try:
        # inside the try: a failed check must still resume the session's endpoint that later tests use
        server.pause()
        assert not listening(host, port), "the S3 endpoint still accepts connections"
        wait_until(a_try_failed, 150, "a task try failing while S3 is down", 0.5)
    finally:
        # same address (the task processes keep AWS_ENDPOINT_URL), same objects: the server process kept them
        server.resume()
    outage = time.monotonic() - stopped_at
    failed = {
        (t["task_id"], t["map_index"], t["try_number"]): t
        for t in topology.tries(run_id)
        if t["state"] in ("up_for_retry", "failed")
    }
    run = topology.wait_success(run_id)
    assert run["state"] == "success"
    final = {(t["task_id"], t["map_index"]): t for t in topology.tries(run_id)}
    trace = _trace(topology, run_id)
    logs = topology.cluster.state_dir / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
    for task_id, map_index, try_number in failed:
        later = final[(task_id, map_index)]
        assert later["try_number"] > try_number and later["state"] == "success", trace
        folder = logs / f"task_id={task_id}" / (f"map_index={map_index}" if map_index >= 0 else "")
        attempt_log = folder / f"attempt={try_number}.log"
        text = attempt_log.read_text(errors="replace") if attempt_log.exists() else "(no log)"
        assert "Could not connect to the endpoint URL" in text, f"{attempt_log} does not show the S3 outage:\n{trace}"
    counts = topology.check_partitions(day)
    print(f"S3 down for {outage:.0f} s; failed tries {sorted(failed)}; rows {counts}\n{trace}")
