"""A real Airflow deployment for tests: API server, scheduler, DAG processor and Celery workers as subprocesses.

`AirflowCluster` is a context manager. On enter it creates a fresh metadata database (a SQLite file in
`state_dir`, or a dedicated database on a PostgreSQL server), starts every component on free loopback ports
with one shared JWT secret, and waits until the API answers and the DAGs are parsed. On exit it stops every
process it started, including task processes that moved to their own process groups. Every wait is bounded.

All processes share `state_dir` as AIRFLOW_HOME (database, logs, pid files); `airflow.cfg` of the checkout
is the base configuration and the environment overrides it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = [sys.executable, "-m", "airflow"]
MARKER = "NEWS_INGEST_TEST_CLUSTER"  # every process of a cluster inherits it: how stop() finds strays
FINISHED = frozenset({"success", "failed"})
TAIL_LINES = 40


class ClusterError(RuntimeError):
    """A component did not start, died, or a bounded wait ran out; the message carries the log tails."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Call `check` until it returns something truthy; ClusterError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def parse_json_output(stdout: str) -> Any:
    """The JSON document of an `airflow ... -o json` command; warnings may precede it."""
    lines = stdout.strip().splitlines()
    for start, line in enumerate(lines):
        if line.lstrip().startswith(("[", "{")):
            try:
                return json.loads("\n".join(lines[start:]))
            except json.JSONDecodeError:
                continue
    raise ValueError(f"no JSON in output: {stdout[-2000:]!r}")


def tail(path: Path, lines: int = TAIL_LINES, keep: Callable[[str], bool] = lambda line: True) -> str:
    """The last `lines` lines of a log that `keep` accepts (read from the last 256 KiB only)."""
    if not path.exists():
        return "(no log file)"
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 256 * 1024))
        text = fh.read().decode(errors="replace")
    return "\n".join([line for line in text.splitlines() if keep(line)][-lines:])


def not_routine(line: str) -> bool:
    """Drop the API server's access-log lines of successful requests: they bury the interesting ones."""
    return "[http.access]" not in line or "status_code=5" in line


def task_log_summary(path: Path) -> str:
    """The warnings and errors of a task attempt log (JSON lines), with the exception but not its frames."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("level") not in ("warning", "error", "critical"):
            continue
        errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in entry.get("error_detail") or []]
        out.append(f"{entry.get('timestamp')} {entry['level']} {entry.get('event')} {'; '.join(errors)}".rstrip())
    return "\n".join(out[-TAIL_LINES:])


@dataclass
class Service:
    """One long-running Airflow component, in its own process group."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    descendants: list[psutil.Process] = field(default_factory=list)
    expect_exit: bool = False  # set when a test kills it on purpose

    def start(self) -> None:
        self.expect_exit = False
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*AIRFLOW, *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: signals reach its children, not the test process
                cwd=ROOT,
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: int) -> None:
        """Signal the whole process group; remember the descendants that left it (task processes do)."""
        if not self.alive:
            return
        try:
            self.descendants += psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            pass
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass


class AirflowCluster:
    """A running Airflow deployment for one test; see the module docstring.

    Every process gets `os.environ` as it is at construction (so the S3 endpoint and NEWS_* variables that
    fixtures exported) plus `env`, which may override the harness defaults but not the ports, secrets,
    database or home. `state_dir` becomes AIRFLOW_HOME; it is removed when the `with` block ends without
    an exception and kept otherwise.
    `db_url` is a PostgreSQL server URL (`postgresql+psycopg2://postgres@127.0.0.1:5432/postgres`): the
    cluster creates a database `news_ingest_test_<random>` on it and drops it on exit. Without it, SQLite.
    With `executor="CeleryExecutor"`, `broker_url` is required; tasks go to a queue unique to this cluster,
    so clusters sharing a broker do not take each other's tasks.
    """

    def __init__(
        self,
        state_dir: Path,
        env: Mapping[str, str] | None = None,
        *,
        executor: str = "LocalExecutor",
        db_url: str | None = None,
        celery_workers: int = 0,
        broker_url: str | None = None,
        result_backend: str | None = None,
        worker_concurrency: int = 4,
        dags_folder: Path | None = None,
        dag_ids: Iterable[str] = ("news_daily",),
        start_timeout: float = 240.0,
        stop_timeout: float = 30.0,
    ) -> None:
        if executor == "CeleryExecutor" and not broker_url:
            raise ValueError("CeleryExecutor needs a broker_url")
        if celery_workers and executor != "CeleryExecutor":
            raise ValueError("celery_workers needs executor='CeleryExecutor'")
        self.state_dir = Path(state_dir)
        self.id = secrets.token_hex(4)
        self.executor = executor
        self.server_url = db_url
        self.db_name = f"news_ingest_test_{self.id}" if db_url else None
        self.celery_workers = celery_workers
        self.broker_url = broker_url
        self.result_backend = result_backend
        self.worker_concurrency = worker_concurrency
        self.dags_folder = Path(dags_folder or ROOT / "dags")
        self.dag_ids = list(dag_ids)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.services: dict[str, Service] = {}
        self.password = secrets.token_urlsafe(12)  # of the user `admin` (SimpleAuthManager with real users)
        self._token: str | None = None
        self.env = self._environment(dict(env or {}))

    # -- configuration -------------------------------------------------------------------------------

    @property
    def sql_alchemy_conn(self) -> str:
        if not self.server_url:
            return f"sqlite:///{self.state_dir / 'airflow.db'}?timeout=60"  # as airflow.cfg: writers wait for the lock
        from sqlalchemy.engine import make_url

        return make_url(self.server_url).set(database=self.db_name).render_as_string(hide_password=False)

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        defaults = {
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__API__WORKERS": "1",  # 2 cores: one API worker is plenty for a test
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",  # new DAG files are seen within seconds
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
        secret = secrets.token_urlsafe(32)
        logs = self.state_dir / "logs"
        essentials = {
            MARKER: self.id,
            "AIRFLOW_HOME": str(self.state_dir),
            "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sql_alchemy_conn,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(logs),
            "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(logs / "dag_processor"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            # one secret for all: the scheduler signs task tokens, the API server validates them
            "AIRFLOW__API_AUTH__JWT_SECRET": secret,
            "AIRFLOW__API__SECRET_KEY": secret,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.state_dir / "passwords.json"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        if self.server_url and importlib.util.find_spec("asyncpg") is None:
            # Airflow derives a postgresql+asyncpg URL for its async engine; without asyncpg installed, run
            # without one (only the task/asset state-store and dag-run "wait" endpoints use it)
            essentials["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = ""
        if self.executor == "CeleryExecutor":
            essentials |= {
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": self.result_backend or f"db+{self.sql_alchemy_conn}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"news-test-{self.id}",
            }
        return {**os.environ, **defaults, **extra, **essentials}

    # -- lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> AirflowCluster:
        try:
            self.start()
        except BaseException:
            print(self.logs_tail(), file=sys.stderr)
            self.stop()  # the state stays, for a post-mortem
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            print(self.logs_tail(), file=sys.stderr)  # pytest shows it with the failure
        self.stop(remove_state=exc_type is None)

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "passwords.json").write_text(json.dumps({"admin": self.password}))
        if self.db_name:
            self._admin_sql(f'CREATE DATABASE "{self.db_name}"')
        self.run_cli("db", "migrate", timeout=300)
        self._add("api-server", ["api-server", "--port", str(self.api_port), "--host", "127.0.0.1"])
        self._add("dag-processor", ["dag-processor"])
        self._add("scheduler", ["scheduler"])
        for index in range(1, self.celery_workers + 1):
            self.add_celery_worker(index, wait=False)
        deadline = time.monotonic() + self.start_timeout
        wait_until(self._api_ready, deadline - time.monotonic(), "the API server", 1.0)
        for dag_id in self.dag_ids:
            self.wait_for_dag(dag_id, max(10.0, deadline - time.monotonic()))
        for index in range(1, self.celery_workers + 1):
            self.wait_for_worker(f"worker-{index}", max(10.0, deadline - time.monotonic()))

    def add_celery_worker(self, index: int, wait: bool = True) -> Service:
        """Start Celery worker `worker-<index>` with its own hostname and log-server port."""
        env = {**self.env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        args = [
            "celery", "worker",
            "--celery-hostname", f"w{index}-{self.id}@localhost",
            "--concurrency", str(self.worker_concurrency),
            "--pid", str(self.state_dir / f"worker-{index}.pid"),
            "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        service = self._add(f"worker-{index}", args, env)
        if wait:
            self.wait_for_worker(service.name)
        return service

    def wait_for_worker(self, name: str, timeout: float = 120.0) -> None:
        """Until Celery worker `name` has logged that it consumes its queue."""
        service = self.services[name]
        hostname = service.args[service.args.index("--celery-hostname") + 1]
        wait_until(
            lambda: self._check_alive() or f"{hostname} ready." in tail(service.log, 500), timeout, f"{name} ready"
        )

    def _add(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(name, args, env or self.env, self.state_dir / f"{name}.log")
        self.services[name] = service
        service.start()
        return service

    def stop(self, remove_state: bool = False) -> None:
        """SIGTERM every group, SIGKILL what is left after `stop_timeout`, then every stray of this cluster."""
        services = list(self.services.values())
        for service in services:
            service.expect_exit = True
            service.send(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for service in services:
            if service.proc is not None:
                try:
                    service.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for service in services:
            service.send(signal.SIGKILL)
            if service.proc is not None:
                try:
                    service.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass  # unkillable (D state): processes() still lists it, for the caller to report
        self._kill_strays(services)
        if self.db_name:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        if remove_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def _kill_strays(self, services: list[Service]) -> None:
        strays = {p.pid: p for s in services for p in s.descendants if p.is_running()}
        strays |= {p.pid: p for p in self.processes()}
        for proc in strays.values():
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(list(strays.values()), timeout=10)

    def processes(self) -> list[psutil.Process]:
        """Every live process started by this cluster (found by the marker in its environment)."""
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.pid != os.getpid() and proc.environ().get(MARKER) == self.id:
                    found.append(proc)
            except (psutil.Error, OSError):
                continue
        return found

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal one component and everything it started, as a crash of its machine would; waits for its exit."""
        service = self.services[name]
        service.expect_exit = True
        service.send(sig)
        if sig == signal.SIGKILL:
            for proc in service.descendants:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
        try:
            service.proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired as err:
            raise ClusterError(f"{name} still running {self.stop_timeout:.0f} s after signal {sig}") from err

    def restart(self, name: str) -> None:
        """Start a stopped or killed component again, same command and environment, appending to its log."""
        service = self.services[name]
        if service.alive:
            raise ClusterError(f"{name} is still running")
        service.start()

    def _admin_sql(self, statement: str) -> None:
        import psycopg2
        from sqlalchemy.engine import make_url

        url = make_url(self.server_url)
        conn = psycopg2.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname=url.database or "postgres",
            connect_timeout=10,
        )
        try:
            conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
            with conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()

    # -- readiness -----------------------------------------------------------------------------------

    def _check_alive(self) -> None:
        """Raise if a component has exited: waiting for it would only time out."""
        for service in self.services.values():
            if not service.expect_exit and service.proc is not None and service.proc.poll() is not None:
                raise ClusterError(
                    f"{service.name} exited with {service.proc.returncode}; end of {service.log}:\n{tail(service.log)}"
                )

    def _api_ready(self) -> bool:
        self._check_alive()
        try:
            self.api_get("/api/v2/monitor/health")
            return True
        except (OSError, urllib.error.URLError):
            return False

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> None:
        """Until the DAG processor has serialized `dag_id`; an import error fails fast."""

        def parsed() -> bool:
            self._check_alive()
            try:
                self.api_get(f"/api/v2/dags/{dag_id}")
                return True
            except urllib.error.HTTPError as err:
                if err.code != 404:
                    raise
            errors = self.api_get("/api/v2/importErrors")["import_errors"]
            if errors:
                raise ClusterError(f"import errors: {json.dumps(errors, indent=1)[:4000]}")
            return False

        try:
            wait_until(parsed, timeout, f"DAG {dag_id} to be parsed", 2.0)
        except ClusterError as err:
            raise ClusterError(f"{err}\n{self.logs_tail()}") from None

    def token(self) -> str:
        """A JWT of `admin`, from the API server's login endpoint (POST /auth/token)."""
        if self._token is None:
            body = json.dumps({"username": "admin", "password": self.password}).encode()
            request = urllib.request.Request(self.api_url + "/auth/token", body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as resp:
                self._token = json.loads(resp.read())["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """A call on the public REST API as `admin`; the JSON answer (HTTPError for an error status)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.api_url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")

    def api_get(self, path: str, timeout: float = 10.0) -> Any:
        """GET on the public REST API, as `admin`."""
        return self.api("GET", path, timeout=timeout)

    # -- CLI helpers ---------------------------------------------------------------------------------

    def run_cli(self, *args: str, timeout: float = 180.0, check: bool = True) -> subprocess.CompletedProcess:
        """`airflow <args>` in the cluster's environment; on failure with `check`, ClusterError with its output."""
        done = subprocess.run(
            [*AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
        if check and done.returncode != 0:
            raise ClusterError(
                f"`airflow {' '.join(args)}` exited {done.returncode}\n"
                f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
            )
        return done

    def cli_json(self, *args: str, timeout: float = 180.0) -> Any:
        return parse_json_output(self.run_cli(*args, "-o", "json", timeout=timeout).stdout)

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.cli_json("dags", "list-runs", dag_id)

    def wait_for_runs(
        self, dag_id: str, expected_count: int, timeout: float = 600.0, run_id_prefix: str = "", interval: float = 5.0
    ) -> list[dict]:
        """Until `expected_count` runs (whose run_id starts with the prefix) exist and all are finished."""
        runs: list[dict] = []

        def finished() -> bool:
            nonlocal runs
            self._check_alive()
            runs = [r for r in self.dag_runs(dag_id) if r["run_id"].startswith(run_id_prefix)]
            return len(runs) >= expected_count and all(r["state"] in FINISHED for r in runs)

        try:
            wait_until(finished, timeout, f"{expected_count} finished runs of {dag_id}", interval)
        except ClusterError as err:
            states = [(r["run_id"], r["state"]) for r in runs]
            raise ClusterError(f"{err}; runs now: {states}\n{self.logs_tail()}") from None
        return sorted(runs, key=lambda r: r["logical_date"] or r["run_after"])

    def sql(self, query: str, params: tuple = ()) -> list[dict]:
        """Rows of a query on this deployment's PostgreSQL metadata database, as dicts."""
        import psycopg2
        import psycopg2.extras
        from sqlalchemy.engine import make_url

        url = make_url(self.sql_alchemy_conn)
        conn = psycopg2.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            dbname=url.database, connect_timeout=10,
        )  # fmt: skip
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(query, params)
                return [dict(r) for r in cur.fetchall()]
        finally:
            conn.close()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.cli_json("tasks", "states-for-dag-run", dag_id, run_id)

    # -- diagnostics ---------------------------------------------------------------------------------

    def logs_tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of every component's log, and the errors of the failed task attempts."""
        parts = [f"===== {s.name} ({s.log}) =====\n{tail(s.log, lines, not_routine)}" for s in self.services.values()]
        return "\n".join(parts + self._failed_task_logs())

    def _failed_task_logs(self, limit: int = 8) -> list[str]:
        """Summaries of the task attempt logs that have errors (the log folder holds every attempt of every task)."""
        out = []
        for path in sorted((self.state_dir / "logs").glob("dag_id=*/run_id=*/task_id=*/**/attempt=*.log")):
            summary = task_log_summary(path)
            if " error " in summary:
                out.append(f"===== task {path.relative_to(self.state_dir / 'logs')} =====\n{summary}")
        return out[-limit:]

    def describe_runs(self, dag_id: str, runs: list[dict]) -> str:
        """Task states of the runs that did not succeed, and the log tails: an assertion message."""
        lines = []
        for run in runs:
            if run["state"] != "success":
                bad = [t for t in self.task_instances(dag_id, run["run_id"]) if t["state"] != "success"]
                lines.append(f"{run['run_id']}: {run['state']}; tasks not successful: {bad}")
        return "\n".join(lines) + "\n" + self.logs_tail()
