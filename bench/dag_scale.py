"""The whole news_daily DAG at scale under the CeleryExecutor, with one Celery worker and then with two.

    .venv/bin/python bench/dag_scale.py                              # 8 sources x 250 articles, 1 then 2 workers
    .venv/bin/python bench/dag_scale.py --sources 2 --articles 30    # a quick check (~3.5 min)
    .venv/bin/python bench/dag_scale.py --repeat 2                   # 1, 2, 2, 1 workers: less noise from others

On a machine shared with other jobs the wall times, and so the ratio, move with their load: the CPU lines of
the summary say how much of the machine this benchmark had; the CPU-seconds of the workers are the stable
figure.

Per run, a fresh deployment (`tests/airflow_cluster.AirflowCluster`: API server, scheduler, DAG processor and N
`airflow celery worker` processes) on its own PostgreSQL database (127.0.0.1:5432, created and dropped by the
harness) with Redis (127.0.0.1:6379) as broker, a fresh bucket on one moto S3 server on loopback, and the
synthetic site of `bench/scale_site.py` (one loopback address per publisher, politeness off in the sources
file). One manual run is triggered through the REST API for the benchmark day; the wall time is trigger ->
the run's end date (success). Meanwhile /proc is sampled: per worker, the RSS (and PSS) summed over every
process that descends from that worker (the Celery worker, its pool process, log server and sidecar, the task
supervisors and task processes, the Scrapy crawl subprocesses), and the CPU time of every
party (workers, Airflow control plane, this process with the site and S3 server, PostgreSQL/Redis, everything
else on the machine) so that the figures can be read against the machine's load.

Afterwards the clean partitions are read back from S3 and compared, URL by URL, with the site's articles of
the day; anything missing is explained from the raw index and the run report.

Every process, database, broker queue, S3 server and temp folder is removed at the end, also on failure, Ctrl-C
or SIGTERM; each deployment start, each run and the whole script are bounded in time (--start-timeout,
--run-timeout, --deadline). Needs PostgreSQL (trust auth) and Redis on loopback; nothing leaves the machine.
Exit status 0 only if every run succeeded and published every article of the day.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from airflow_cluster import MARKER, AirflowCluster, ClusterError, listening  # noqa: E402
from scale_site import ScaleSite  # noqa: E402

DAG_ID = "news_daily"
DAY = date(2026, 2, 10)  # any complete UTC day after the DAG's start_date
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
PORT_VAR = "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"  # the harness gives every worker its own: our worker tag
SERVICES = {b"postgres", b"redis-server"}
POLITENESS = {
    "off": "politeness off (download_delay 0, autothrottle off, concurrency 16 per source)",
    "default": "the project's default politeness (spiders/settings.py: AutoThrottle, download_delay 0.5 s, "
    "2 requests at once per site)",
}
PSS_EVERY = 2.0  # seconds between PSS readings of a worker's tree (RSS is read at every sample)


def log(message: str) -> None:
    print(message, flush=True)


# -- /proc sampling ---------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[bytes, int, float, int] | None:
    """(comm, parent pid, CPU seconds of the process and its reaped children, RSS bytes); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    comm = data[data.index(b"(") + 1 : data.rindex(b")")]
    fields = data[data.rindex(b")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime/stime/cutime/cstime fields 14-17, rss field 24
    cpu = sum(int(x) for x in fields[11:15]) / CLK
    return comm, int(fields[1]), cpu, int(fields[21]) * PAGE


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(exited while sampled)"


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    with open("/proc/stat") as fh:
        values = [int(x) for x in fh.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy / CLK, (busy + idle + iowait) / CLK


def describe(cmd: str, root: bool) -> str:
    """A short name for a process of a worker's tree (Airflow and Celery set their process titles)."""
    if root:
        return "celery worker"
    kinds = (
        ("scrapy crawl", "scrapy crawl"),
        ("airflow supervisor", "task supervisor"),  # the pool process runs the supervisor of its current task
        ("airflow worker --", "task process"),
        ("ForkPoolWorker", "celery pool process"),
        ("serve-logs", "log server"),
        ("celery worker", "bundle-cleanup sidecar"),  # a forked child of the worker that keeps its title
    )
    return next((name for marker, name in kinds if marker in cmd), cmd[:60])


@dataclass
class Peak:
    rss: int = 0
    pss: int = 0
    procs: int = 0
    parts: list[tuple[int, int, str]] = field(default_factory=list)  # (pid, rss, command) at the RSS peak


class Sampler(threading.Thread):
    """Samples /proc every `interval` s: per-worker RSS/PSS sums; CPU snapshots on demand.

    A process is attributed once, when it is first seen: a component the harness started is its own root; else
    the cluster marker in its environment (and the worker's own log-server port, which everything a worker
    starts inherits) decides; else its parent's group. The environment alone is not enough: Airflow's and
    Celery's `setproctitle` overwrite it in /proc for the pool, supervisor and task processes. Process ids cannot
    be reused between two scans (that would take a full wrap of pid_max within `interval`).
    """

    def __init__(self, cluster: AirflowCluster, interval: float) -> None:
        super().__init__(daemon=True, name="proc-sampler")
        self.cluster, self.interval = cluster, interval
        workers = {name: s for name, s in cluster.services.items() if name.startswith("worker-")}
        self.ports = {s.env[PORT_VAR]: name for name, s in workers.items()}
        self.roots = {
            s.proc.pid: name if name in workers else f"control:{name}"
            for name, s in cluster.services.items()
            if s.proc
        }
        self.roots[os.getpid()] = "bench"
        self.marker = f"{MARKER}={cluster.id}".encode()
        self.group: dict[int, str] = {}  # pid -> worker-N | control:<service> | bench | services
        self.ignored: set[int] = set()  # pids seen and found to be someone else's
        self.peaks: dict[str, Peak] = {name: Peak() for name in workers}
        self.samples = 0
        self.scan_cpu = 0.0  # CPU seconds the sampling itself cost
        self.pss_at: dict[str, float] = {}
        self._halt = threading.Event()
        self.lock = threading.Lock()

    def _resolve(self, pid: int, alive: set[int], depth: int = 0) -> str:
        if pid in self.group:
            return self.group[pid]
        if pid in self.ignored or pid not in alive or depth > 64:
            return "other"
        group = self.roots.get(pid) or self._by_environment(pid)
        stat = None
        if group is None:
            stat = _stat(pid)
            if stat is None:
                return "other"  # gone already; not remembered, the next scan will not list it
            if stat[0] in SERVICES:
                group = "services"
            else:
                group = self._resolve(stat[1], alive, depth + 1) if stat[1] > 1 else "other"
        if group == "other":
            self.ignored.add(pid)
        else:
            self.group[pid] = group
        return group

    def _by_environment(self, pid: int) -> str | None:
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            return None
        if self.marker not in env:
            return None
        port = next((item.split(b"=", 1)[1].decode() for item in env if item.startswith(PORT_VAR.encode() + b"=")), "")
        return self.ports.get(port, "control:other")

    def scan(self) -> None:
        started = time.thread_time()
        pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
        with self.lock:
            for gone in set(self.group) - pids:
                del self.group[gone]
            self.ignored &= pids
            for pid in sorted(pids - self.group.keys() - self.ignored):
                self._resolve(pid, pids)
            members: dict[str, list[int]] = defaultdict(list)
            for pid, group in self.group.items():
                if group.startswith("worker-"):
                    members[group].append(pid)
        now = time.monotonic()
        for worker, pids_of in members.items():
            rows = [(pid, s[3]) for pid in pids_of if (s := _stat(pid))]
            rss = sum(r for _, r in rows)
            peak = self.peaks[worker]
            peak.procs = max(peak.procs, len(rows))
            # PSS costs the kernel a page-table walk (~6 ms per 300 MB): on a new RSS peak, else every PSS_EVERY s
            if rss > peak.rss or now - self.pss_at.get(worker, 0.0) >= PSS_EVERY:
                self.pss_at[worker] = now
                peak.pss = max(peak.pss, sum(_pss(pid) for pid, _ in rows))
            if rss > peak.rss:
                peak.rss = rss
                peak.parts = [(pid, r, describe(_cmdline(pid), pid in self.roots)) for pid, r in rows]
        self.samples += 1
        self.scan_cpu += time.thread_time() - started

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far per group (each process with its reaped children), and the machine's busy/total."""
        self.scan()
        out: dict[str, float] = defaultdict(float)
        with self.lock:
            groups = dict(self.group)
        for pid, group in groups.items():
            stat = _stat(pid)
            if stat:
                out[group] += stat[2]
        out["machine_busy"], out["machine_total"] = machine_cpu()
        return dict(out)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                self.scan()
            except Exception as exc:  # a sampler bug must not hang the benchmark; say it and go on
                log(f"  (sampler: {type(exc).__name__}: {exc})")

    def stop(self) -> None:
        self._halt.set()
        if self.ident is not None:
            self.join(10)


# -- one run -------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    workers: int
    concurrency: int
    round: int = 1
    state: str = "not started"
    wall: float | None = None
    articles: int = 0
    expected: int = 0
    peaks: dict[str, Peak] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    per_worker_tasks: dict[str, int] = field(default_factory=dict)
    per_worker_busy: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    repeated: bool = False

    @property
    def name(self) -> str:
        return f"{self.workers}-worker run" + (f" of round {self.round}" if self.repeated else "")


def api(cluster: AirflowCluster, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
    """A REST call as the cluster's `admin` user."""
    return cluster.api(method, path, body, timeout=timeout)


def sql(cluster: AirflowCluster, query: str, params: tuple = ()) -> list[dict]:
    return cluster.sql(query, params)


def tries(cluster: AirflowCluster, run_id: str) -> list[dict]:
    cols = "task_id, map_index, try_number, state, start_date, end_date, duration, queued_dttm, external_executor_id"
    where = "WHERE dag_id = %s AND run_id = %s"
    rows = sql(cluster, f"SELECT {cols} FROM task_instance_history {where}", (DAG_ID, run_id))
    rows += sql(cluster, f"SELECT {cols} FROM task_instance {where}", (DAG_ID, run_id))
    return sorted(rows, key=lambda r: (r["task_id"], r["map_index"], r["try_number"]))


def worker_logs(cluster: AirflowCluster) -> dict[str, str]:
    return {
        name: s.log.read_text(errors="replace") for name, s in cluster.services.items() if name.startswith("worker-")
    }


def wait_for_run(cluster: AirflowCluster, run_id: str, timeout: float) -> dict:
    """Poll the run through the REST API (cheap: no CLI process) until it has finished or `timeout` passes."""
    deadline = time.monotonic() + timeout
    run: dict = {}
    while time.monotonic() < deadline:
        cluster._check_alive()  # a component that died fails the run now, not at the timeout
        try:
            run = api(cluster, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=10)
        except (OSError, urllib.error.URLError) as exc:
            log(f"  (API poll failed: {exc}; retrying)")
        if run.get("state") in ("success", "failed"):
            return run
        time.sleep(1.0)
    raise ClusterError(f"run {run_id} not finished after {timeout:.0f} s (state {run.get('state')!r})")


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def run_once(
    args: argparse.Namespace, workers: int, round_: int, site: ScaleSite, sources: Path, tmp: Path, budget: float
) -> RunResult:
    """Start a deployment with `workers` Celery workers, run the DAG once, read the result back, tear it down."""
    from ingest import s3 as s3io

    result = RunResult(workers, args.concurrency, round_, repeated=args.repeat > 1)
    bucket = f"dag-scale-{workers}w-{secrets.token_hex(4)}"
    s3io.ensure_bucket(s3io.client(), bucket)
    env = {
        "NEWS_BUCKET": bucket,
        "NEWS_SOURCES": str(sources),
        "NEWS_TASK_RETRIES": str(args.retries),
        "NEWS_RETRY_DELAY_SECONDS": "5",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the triggered run, no scheduled one
    }
    cluster = AirflowCluster(
        tmp / f"cluster-{workers}w",
        env,
        dag_ids=[DAG_ID],
        executor="CeleryExecutor",
        db_url=args.postgres_url,
        broker_url=args.redis_url,
        celery_workers=workers,
        worker_concurrency=args.concurrency,
        start_timeout=min(args.start_timeout, max(30.0, budget)),
    )
    started = time.monotonic()
    sampler = None
    failed = True
    try:
        log(
            f"\n== {workers} worker(s) x concurrency {args.concurrency}: starting the deployment (db {cluster.db_name})"
        )
        cluster.start()
        cluster.run_cli("dags", "unpause", DAG_ID)
        log(f"  ready after {time.monotonic() - started:.0f} s; settling {args.settle:.0f} s")
        time.sleep(args.settle)
        sampler = Sampler(cluster, args.sample_interval)
        sampler.scan()
        result.load_before = os.getloadavg()
        cpu_before = sampler.cpu()
        sampler.start()
        run_id = f"manual__scale_{workers}w_{round_}"
        t0 = datetime.now(UTC)
        triggered = api(
            cluster,
            "POST",
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            {"dag_run_id": run_id, "logical_date": f"{args.day}T00:00:00Z"},  # the run for dt=day
        )
        if not str(triggered.get("logical_date", "")).startswith(args.day.isoformat()):
            raise ClusterError(f"unexpected logical date: {triggered}")
        log(f"  triggered {run_id} at {t0:%H:%M:%S} UTC (dt={args.day})")
        timeout = min(args.run_timeout, max(30.0, budget - (time.monotonic() - started) - 60))
        run = wait_for_run(cluster, run_id, timeout)
        observed = datetime.now(UTC)
        sampler.stop()
        cpu_after = sampler.cpu()
        result.load_after = os.getloadavg()
        result.state = run["state"]
        end = parse_ts(run.get("end_date")) or observed
        result.wall = (end - t0).total_seconds()
        result.peaks = sampler.peaks
        result.cpu = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after.keys() | cpu_before.keys()}
        log(
            f"  run {result.state} after {result.wall:.1f} s ({sampler.samples} /proc samples, "
            f"{sampler.scan_cpu:.1f} CPU-s spent sampling)"
        )
        report_tasks(cluster, run_id, result, t0, end, args.timeline)
        check_s3(bucket, site, args.day, result)
        failed = result.state != "success"
    except (ClusterError, OSError, urllib.error.URLError) as exc:
        result.state = f"error: {type(exc).__name__}"
        result.problems.append(str(exc)[:3000])
        log(f"  ERROR {type(exc).__name__}: {str(exc)[:3000]}")
    finally:
        try:
            if sampler is not None:
                sampler.stop()
            if failed:
                log("  --- deployment logs (tails) ---\n" + cluster.logs_tail(25))
        finally:
            teardown(cluster, args, keep=failed and args.keep_state)
    return result


def teardown(cluster: AirflowCluster, args: argparse.Namespace, keep: bool) -> None:
    """Stop the deployment (a signal during the stop is ignored: see `main`), then make sure nothing is left:
    processes, the database (the harness drops it), the broker queue and its unacknowledged messages."""
    try:
        cluster.stop(remove_state=not keep)
    except KeyboardInterrupt:
        cluster.stop(remove_state=not keep)  # interrupted while stopping: once more, and then give up
        raise
    finally:
        strays = leftovers(cluster)
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        purge_broker(args.redis_url, cluster.env.get("AIRFLOW__OPERATORS__DEFAULT_QUEUE", ""))
        kept = f" (state kept in {cluster.state_dir})" if keep else ""
        log(
            f"  deployment stopped{kept}; database {cluster.db_name} dropped; broker queue purged; "
            f"{len(strays)} stray processes{' killed' if strays else ''}"
        )


def leftovers(cluster: AirflowCluster) -> list[int]:
    """Processes of the deployment still alive: the cluster marker in their environment, or, for those whose
    environment `setproctitle` overwrote, a file descriptor into the deployment's state folder (their log)."""
    found = {p.pid for p in cluster.processes()}
    state = str(cluster.state_dir)
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            links = [os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")]
        except OSError:
            continue
        if any(link.startswith(state) for link in links):
            found.add(int(entry))
    return sorted(found)


def purge_broker(redis_url: str, queue: str) -> None:
    """Delete the deployment's Celery queue (its name holds the cluster id) and its unacknowledged messages."""
    if not queue:
        return
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    try:
        for tag, value in client.hgetall("unacked").items():
            try:
                routing_key = json.loads(value)[2]
            except (ValueError, IndexError, TypeError):
                continue
            if routing_key == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        keys = [*client.scan_iter(match=f"{queue}*"), f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        client.delete(*keys)
    except redis.RedisError as exc:
        log(f"  (could not purge the broker queue {queue}: {exc})")
    finally:
        client.close()


def report_tasks(
    cluster: AirflowCluster, run_id: str, result: RunResult, t0: datetime, end: datetime, timeline: bool = False
) -> None:
    """Per stage: how many tries, how long; how many tasks ran at once; per worker: tries and time in tasks."""
    rows = tries(cluster, run_id)
    logs = worker_logs(cluster)
    by_stage: dict[str, list[float]] = defaultdict(list)
    waits = []
    for row in rows:
        by_stage[row["task_id"].removeprefix("per_source.")].append(row["duration"] or 0.0)
        if row["start_date"] and row["queued_dttm"]:
            waits.append((row["start_date"] - row["queued_dttm"]).total_seconds())
        worker = next(
            (w for w, text in logs.items() if row["external_executor_id"] and row["external_executor_id"] in text),
            "?",
        )
        result.per_worker_tasks[worker] = result.per_worker_tasks.get(worker, 0) + 1
        result.per_worker_busy[worker] = result.per_worker_busy.get(worker, 0.0) + (row["duration"] or 0.0)
    stages = ", ".join(
        f"{stage} {len(d)}x {statistics.mean(d):.1f} s (max {max(d):.1f})" for stage, d in sorted(by_stage.items())
    )
    log(f"  task tries: {len(rows)}; {stages}")
    if waits:
        log(f"  queued -> started: median {statistics.median(waits):.1f} s, max {max(waits):.1f} s")
    spans = [(r["start_date"], r["end_date"]) for r in rows if r["start_date"] and r["end_date"]]
    if spans:
        # share of the wall time during which 0, 1, 2 ... task tries were running at once
        events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans] + [(end, 0)])
        at, running, shares = t0, 0, Counter()
        for when, delta in events:
            shares[running] += max(0.0, (min(when, end) - max(at, t0)).total_seconds())
            at, running = max(at, when), running + delta
        total = (end - t0).total_seconds()
        shares_text = ", ".join(f"{n} for {shares[n] / total:.0%}" for n in sorted(shares))
        first = (min(a for a, _ in spans) - t0).total_seconds()
        log(
            f"  tasks running at once over the wall time: {shares_text}; first task started {first:.1f} s after trigger"
        )
    log_gaps(rows, logs)
    if timeline:
        log_timeline(rows, logs, t0)
    for row in rows:
        if row["try_number"] > 1 or row["state"] != "success":
            result.problems.append(
                f"{row['task_id']}[{row['map_index']}] try {row['try_number']}: {row['state']}"
            )  # fmt: skip


UPSTREAM = {"crawl": "list_sources", "clean": "crawl", "validate": "clean", "publish": "validate"}


def log_gaps(rows: list[dict], logs: dict[str, str]) -> None:
    """Where wall time goes between tasks: the scheduler's delay from an upstream's end to queueing its
    downstream, and each worker's idle time between the end of one try and the start of its next."""
    ends = {(r["task_id"].removeprefix("per_source."), r["map_index"]): r["end_date"] for r in rows}
    delays = []
    for r in rows:
        up = UPSTREAM.get(r["task_id"].removeprefix("per_source."))
        upstream_end = ends.get((up, r["map_index"])) or ends.get((up, -1)) if up else None
        if upstream_end and r["queued_dttm"]:
            delays.append((r["queued_dttm"] - upstream_end).total_seconds())
    by_worker: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for r in rows:
        worker = next((w for w, t in logs.items() if r["external_executor_id"] and r["external_executor_id"] in t), "?")
        if r["start_date"] and r["end_date"]:
            by_worker[worker].append((r["start_date"], r["end_date"]))
    idle = []
    for worker, spans in sorted(by_worker.items()):
        spans.sort()
        gaps = [(b[0] - a[1]).total_seconds() for a, b in zip(spans, spans[1:], strict=False)]
        if gaps:
            idle.append(f"{worker} {sum(gaps):.1f} s in {len(gaps)} gaps (median {statistics.median(gaps):.2f} s)")
    if delays:
        log(f"  upstream end -> downstream queued: median {statistics.median(delays):.2f} s, max {max(delays):.1f} s")
    if idle:
        log(f"  worker idle between its tries: {'; '.join(idle)}")


def log_timeline(rows: list[dict], logs: dict[str, str], t0: datetime) -> None:
    """Every try, in start order: worker, task, map index, and queued/start/end in seconds after the trigger."""

    def at(when: datetime | None) -> str:
        return f"{(when - t0).total_seconds():6.1f}" if when else "     -"

    log("  timeline (s after trigger): worker task[map] queued start end")
    for r in sorted(rows, key=lambda r: r["start_date"] or t0):
        worker = next((w for w, t in logs.items() if r["external_executor_id"] and r["external_executor_id"] in t), "?")
        task = f"{r['task_id'].removeprefix('per_source.')}[{r['map_index']}]"
        log(f"    {worker:9} {task:14} {at(r['queued_dttm'])} {at(r['start_date'])} {at(r['end_date'])}")


def check_s3(bucket: str, site: ScaleSite, day: date, result: RunResult) -> None:
    """Read every clean partition back and compare it with the site's articles of the day, URL by URL."""

    from ingest import s3 as s3io
    from ingest import table as clean_table

    s3 = s3io.client()
    report = {}
    body = s3io.get_bytes_or_none(s3, bucket, f"reports/dt={day}/report.json")
    if body:
        report = json.loads(body)
    expected = site.expected()
    result.expected = sum(len(v) for v in expected.values())
    log(f"  read back from s3://{bucket}/clean/source=*/dt={day}/:")
    for source, articles in expected.items():
        appeal_lines = next(p for p in site.publishers if p.name == source).appeals.lines()
        data = clean_table.open_table(bucket).to_pyarrow_table(
            columns=["url", "text"], filters=[("source", "=", source), ("dt", "=", day)]
        ) if clean_table.exists(bucket) else None
        if data is None or data.num_rows == 0:
            entry = report.get("sources", {}).get(source, {})
            why = f"failed at {entry.get('failed_stage')}: {entry.get('error')}" if entry else "no report entry"
            result.problems.append(f"{source}: clean partition not published ({why})")
            log(f"    {source:8} NOT PUBLISHED ({why})")
            continue
        urls, leaks, incomplete = [], 0, 0
        for url, text in zip(data.column("url").to_pylist(), data.column("text").to_pylist(), strict=True):
            urls.append(url)
            leaks += sum(1 for line in appeal_lines if line in (text or ""))
            if url in articles and any(p not in (text or "") for p in articles[url].paragraphs):
                incomplete += 1
        dupes = len(urls) - len(set(urls))
        missing = sorted(set(articles) - set(urls))
        extra = sorted(set(urls) - set(articles))
        result.articles += len(set(urls) & set(articles))
        note = []
        if missing:
            note.append(f"missing {len(missing)}: {explain_missing(s3, bucket, source, day, missing)}")
        if extra:
            note.append(f"{len(extra)} not of the day, e.g. {extra[0]}")
        if dupes:
            note.append(f"{dupes} duplicate rows")
        if leaks:
            note.append(f"{leaks} appeal lines left in the text")
        if incomplete:
            note.append(f"{incomplete} articles lack some of their paragraphs")
        if note:
            result.problems.append(f"{source}: " + "; ".join(note))
        log(
            f"    {source:8} {len(set(urls)):4d} of {len(articles)} articles"
            + (" — " + "; ".join(note) if note else "")
        )
    if report.get("failed"):
        result.problems.append(f"report: failed sources {report['failed']}")


def explain_missing(s3, bucket: str, source: str, day: date, missing: list[str]) -> str:
    """Why the crawl or the cleaner lost these URLs, from the raw partition's index."""
    from ingest import partition
    from ingest import s3 as s3io

    raw = partition.read_manifest(s3, bucket, "raw", source, day)
    if raw is None:
        return "no raw partition either"
    index_key = next((p["key"] for p in raw["parts"] if p["key"].endswith("index.jsonl.gz")), None)
    entries = {}
    if index_key:
        for line in gzip.decompress(s3io.get_bytes(s3, bucket, index_key)).decode().splitlines():
            if line.strip():
                entry = json.loads(line)
                entries[entry.get("url")] = entry
    reasons = Counter()
    for url in missing:
        entry = entries.get(url)
        if entry is None:
            reasons["never discovered"] += 1
        elif entry.get("reason"):
            reasons[f"crawl rejected: {entry['reason']}"] += 1
        else:
            reasons["captured, but the cleaner gave no text"] += 1
    return ", ".join(f"{n} {why}" for why, n in reasons.most_common()) + f" (e.g. {missing[0]})"


# -- output --------------------------------------------------------------------------------------------------


def print_summary(results: list[RunResult], args: argparse.Namespace) -> None:
    log("\n== summary")
    log(
        f"  {args.sources} sources x {args.articles} articles on {args.day} (UTC), {POLITENESS[args.politeness]}; "
        "Celery worker = one "
        f"`airflow celery worker --concurrency {args.concurrency}` process; retries {args.retries}"
    )
    log(
        f"  {'round':>5} {'workers':>7} {'state':>8} {'wall s':>7} {'articles':>10} {'art/h/worker':>12}  "
        "per worker: peak of the RSS sum over its process tree (peak PSS sum), most processes at once"
    )
    for r in results:
        per_hour = r.articles / (r.wall / 3600) / r.workers if r.wall else 0
        peaks = ", ".join(
            f"{w} {p.rss / MIB:.0f} MiB ({p.pss / MIB:.0f} MiB), {p.procs} procs" for w, p in sorted(r.peaks.items())
        )
        wall = f"{r.wall:.1f}" if r.wall else "-"
        log(
            f"  {r.round:>5} {r.workers:>7} {r.state[:8]:>8} {wall:>7} {r.articles:>4}/{r.expected:<5} "
            f"{per_hour:>12.0f}  {peaks}"
        )
    done = [r for r in results if r.wall and r.state == "success"]
    for round_ in sorted({r.round for r in done}):
        one = next((r for r in done if r.workers == 1 and r.round == round_), None)
        two = next((r for r in done if r.workers == 2 and r.round == round_), None)
        if one and two:
            ratio = one.wall / two.wall
            verdict = "met" if ratio >= 1.6 else "NOT met"
            log(
                f"  speed-up with two workers (round {round_}): {one.wall:.1f} s / {two.wall:.1f} s = {ratio:.2f}x "
                f"(target >= 1.6x: {verdict})"
            )
    log(f"  CPU during each run (core-seconds; the machine has {os.cpu_count()} cores):")
    for r in results:
        if not r.cpu:
            continue
        c = r.cpu
        workers_cpu = sum(v for k, v in c.items() if k.startswith("worker-"))
        control = {k.removeprefix("control:"): v for k, v in c.items() if k.startswith("control:")}
        ours = workers_cpu + sum(control.values()) + c.get("bench", 0)
        other = c["machine_busy"] - ours - c.get("services", 0)
        per_worker = ", ".join(f"{k} {v:.0f}" for k, v in sorted(c.items()) if k.startswith("worker-"))
        log(
            f"    {r.name}: machine busy {c['machine_busy']:.0f} of {c['machine_total']:.0f} "
            f"({c['machine_busy'] / max(c['machine_total'], 1e-9):.0%}); workers {workers_cpu:.0f} ({per_worker}); "
            f"Airflow control plane {sum(control.values()):.0f} "
            f"({', '.join(f'{k} {v:.1f}' for k, v in sorted(control.items(), key=lambda kv: -kv[1]))}); "
            f"this process (site, S3, sampler) {c.get('bench', 0):.0f}; "
            f"PostgreSQL+Redis {c.get('services', 0):.0f}; other processes {other:.0f} "
            f"(= {other / (c['machine_total'] / (os.cpu_count() or 1)):.2f} cores on average)"
        )
        busy = ", ".join(
            f"{w} ran {n} task tries, inside tasks {r.per_worker_busy.get(w, 0) / r.wall:.0%} of the wall time"
            for w, n in sorted(r.per_worker_tasks.items())
        )
        log(f"      load average before {fmt_load(r.load_before)}, after {fmt_load(r.load_after)}; {busy}")
    log(
        "  RSS sums count the pages that forked processes share (the Celery worker forks its pool process, the log "
        "server and the sidecar; the pool process forks each task) once per process; PSS shares them out."
    )
    for r in results:
        for w, p in sorted(r.peaks.items()):
            parts = ", ".join(f"{d} {rss / MIB:.0f}" for _, rss, d in sorted(p.parts, key=lambda x: -x[1]))
            log(f"  at the RSS peak of {w} ({r.name}), MiB: {parts}")
    for r in results:
        for problem in r.problems:
            log(f"  PROBLEM ({r.name}): {problem}")
    if all(r.articles == r.expected and r.state == "success" and not r.problems for r in results):
        log(
            f"  correctness: every run published all {results[0].expected} articles of the day, once each, with all "
            "their paragraphs and without appeal text"
        )


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in load)


_interrupted = False


def on_signal(signum: int, frame: object) -> None:
    """The first SIGINT/SIGTERM unwinds the main thread (the `finally` blocks clean up); later ones are ignored
    so that the clean-up itself is not interrupted."""
    global _interrupted
    if _interrupted:
        log(f"(signal {signum} ignored: cleaning up)")
        return
    _interrupted = True
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=8, help="publishers (default 8)")
    parser.add_argument("--articles", type=int, default=250, help="articles per publisher on the day (default 250)")
    parser.add_argument("--older", type=int, default=10, help="older articles per publisher in the sitemaps")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, in order (default 1,2)")
    parser.add_argument("--concurrency", type=int, default=1, help="task slots per Celery worker (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the worker counts, ABBA order (default 1)")
    parser.add_argument("--retries", type=int, default=1, help="task retries (NEWS_TASK_RETRIES, default 1)")
    parser.add_argument("--day", type=date.fromisoformat, default=DAY)
    parser.add_argument("--run-timeout", type=float, default=480.0, help="seconds per DAG run (default 480)")
    parser.add_argument("--start-timeout", type=float, default=240.0, help="seconds to start a deployment")
    parser.add_argument("--deadline", type=float, default=1140.0, help="seconds for the whole benchmark")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between start-up and trigger")
    parser.add_argument("--sample-interval", type=float, default=0.25, help="seconds between /proc samples")
    parser.add_argument(
        "--politeness",
        choices=sorted(POLITENESS),
        default="off",
        help="off: no delays, the crawl is CPU-bound (default); default: the project's own politeness, as a "
        "daily crawl runs (give --run-timeout 1800 --deadline 3600)",
    )
    parser.add_argument("--timeline", action="store_true", help="print every task try's queue, start and end times")
    parser.add_argument("--keep-state", action="store_true", help="keep a failed deployment's AIRFLOW_HOME")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NEWS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("NEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]

    for what, host, port in (("PostgreSQL", "127.0.0.1", 5432), ("Redis", "127.0.0.1", 6379)):
        if not listening(host, port):
            log(f"{what} is not reachable at {host}:{port}")
            return 2

    begun = time.monotonic()
    # last resort: interrupt the main thread (its `finally` blocks clean up) if everything overruns
    watchdog = threading.Timer(args.deadline + 120, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored

    from localrun.local_s3 import LocalS3

    tmp = Path(tempfile.mkdtemp(prefix="dag-scale-"))
    results: list[RunResult] = []
    s3server = site = None
    try:
        log(f"load average at start {fmt_load(os.getloadavg())} ({os.cpu_count()} cores)")
        s3server = LocalS3().start()
        os.environ.update(s3server.env)  # the deployments copy os.environ: their tasks write to this endpoint
        site = ScaleSite(args.day, args.sources, args.articles, args.older).start()
        polite = args.politeness == "default"
        sources = site.write_sources(tmp / "sources.yaml", {} if polite else None)
        sizes = sorted(site.page_sizes())
        log(
            f"site: {args.sources} publishers on {site.publishers[0].host}..{site.publishers[-1].host}, "
            f"{args.articles} articles each on {args.day} (+{args.older} older in the sitemaps), rendered in "
            f"{site.render_seconds:.1f} s; pages {sizes[0] / 1024:.0f}..{sizes[-1] / 1024:.0f} KiB "
            f"(median {statistics.median(sizes) / 1024:.0f}); {POLITENESS[args.politeness]}; S3 {s3server.endpoint}"
        )
        for round_ in range(1, args.repeat + 1):
            # ABBA order (1,2 then 2,1 ...): a load that drifts during the benchmark biases neither count
            for workers in worker_counts if round_ % 2 else worker_counts[::-1]:
                remaining = args.deadline - (time.monotonic() - begun)
                if remaining < 120:
                    log(f"\n== {workers} worker(s), round {round_}: skipped, {remaining:.0f} s left of the --deadline")
                    continue
                results.append(run_once(args, workers, round_, site, sources, tmp, remaining))
        served, not_found = site.requests()
        log(f"\nsite served {served} requests ({not_found} not found)")
        print_summary(results, args)
        log(f"load average at end {fmt_load(os.getloadavg())}; total {time.monotonic() - begun:.0f} s")
    except KeyboardInterrupt:
        log("\ninterrupted: cleaning up")
        return 130
    finally:
        global _interrupted
        _interrupted = True  # from here on a signal would only cut the clean-up short
        watchdog.cancel()
        if site is not None:
            site.stop()
        if s3server is not None:
            s3server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    ok = results and all(r.state == "success" and r.articles == r.expected for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
