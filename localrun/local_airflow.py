"""`make airflow`: a local Airflow for news-ingest in one command, until Ctrl-C.

Starts the API server (UI and REST API), the scheduler, the DAG processor and the triggerer, each as
`<this python> -m airflow …` (so the virtual environment's Airflow, whether or not `.venv/bin` is on PATH),
with the checkout's `airflow.cfg` and DAGs and its state (SQLite database, logs, secrets) in one ignored
folder, `.airflow/` by default. On first start it generates, into that folder (files readable by the owner
only, never committed):

- `jwt_secret` and `api_secret_key`: one secret shared by every component, so the task tokens the scheduler
  signs are the ones the API server accepts;
- `admin-password`: the password of the user `admin` (SimpleAuthManager with real users: the REST API and
  the UI need a login), printed at every start.

Everything listens on 127.0.0.1 only: the API server on `--port` (default `AIRFLOW__API__PORT` or 8080); the
log servers are not started (every component reads the task logs from the shared log folder). Ctrl-C (SIGINT)
or SIGTERM stops every component and whatever it started. A component that dies stops the others, with the
end of its log.

Runs, reports and settings of the environment (S3, `NEWS_*`) are the caller's: `make demo` keeps its own state
folder and its own S3 endpoint, so both can run at the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import psutil

from newsconfig.env import PROJECT_ROOT

DEFAULT_STATE = PROJECT_ROOT / ".airflow"
DEFAULT_PORT = 8080
USER = "admin"
MARKER = "NEWS_LOCAL_AIRFLOW"  # every process started here carries it: how stop() finds the ones that moved away
COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],  # host and port from the environment below
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
STOP_SECONDS = 30.0
TAIL_LINES = 30


class LaunchError(RuntimeError):
    """Something the user must fix before the local Airflow can start; the message says what."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """`preferred` if nothing listens on it, else a free port."""
    if port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """The secret stored in `path`, generated and written (owner-only) the first time."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make() + "\n")
    return path.read_text().strip()


@dataclass
class LocalAirflow:
    """The four components on one state folder; `run()` starts them and blocks until a signal stops them."""

    state: Path = DEFAULT_STATE
    port: int = DEFAULT_PORT
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment, e.g. the S3 endpoint and NEWS_*
    schedule: bool = True  # False: no scheduled runs, only the ones triggered by hand
    out: object = sys.stdout
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    password: str = ""
    stopping: list[int] = field(default_factory=list)  # the signals received

    # -- set-up --------------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        self.state.mkdir(parents=True, exist_ok=True)
        jwt = _secret_file(self.state / "jwt_secret", lambda: secrets.token_urlsafe(48))
        key = _secret_file(self.state / "api_secret_key", lambda: secrets.token_urlsafe(48))
        self.password = _secret_file(self.state / "admin-password", lambda: secrets.token_urlsafe(12))
        passwords = self.state / "simple_auth_manager_passwords.json.generated"
        fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({USER: self.password}, fh)
        url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **self.env}
        env.setdefault("AIRFLOW_CONFIG", str(PROJECT_ROOT / "airflow.cfg"))
        env.setdefault("AIRFLOW__API__WORKERS", "1")  # one API worker is plenty for one person
        if not self.schedule:
            env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
        return env | {
            MARKER: str(self.state),
            "AIRFLOW_HOME": str(self.state),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": jwt,
            "AIRFLOW__API__SECRET_KEY": key,
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if not port_free(self.port):
            raise LaunchError(
                f"port {self.port} on 127.0.0.1 is in use (another Airflow, or `make demo SERVE=1`?): stop it, "
                f"or choose another port, e.g. AIRFLOW__API__PORT={self.port + 10} make airflow"
            )
        env = self.environment()
        self._say(f"Airflow {version('apache-airflow')} for news-ingest; state in {self._shown(self.state)}/")
        migrate = self.state / "db-migrate.log"
        with open(migrate, "wb") as log:
            done = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, timeout=600, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise LaunchError(f"`airflow db migrate` failed (exit {done.returncode}):\n{_tail(migrate)}")
        # the API server first: a task the scheduler starts reports to it, and fails if nothing answers
        self._launch("api-server", env)
        self._wait(self._api_up, 180.0, "the API server")
        for name in COMPONENTS:
            if name != "api-server":
                self._launch(name, env)
        self._say(f"  started {', '.join(COMPONENTS)} (their logs: {self._shown(self.state)}/<name>.log)")

    def _launch(self, name: str, env: dict[str, str]) -> None:
        with open(self.state / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *COMPONENTS[name]], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, start_new_session=True,
            )  # fmt: skip

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def _wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            self.check_alive()
            if self.stopping:
                raise LaunchError("interrupted")
            if time.monotonic() > deadline:
                raise LaunchError(f"{what} did not start within {timeout:.0f} s; see the logs in {self.state}")
            time.sleep(0.5)

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Until the API answers, `admin` can log in and news_daily is parsed; LaunchError if a component dies."""
        deadline = time.monotonic() + timeout
        token = None
        while time.monotonic() < deadline:
            self.check_alive()
            if self.stopping:
                raise LaunchError("interrupted")
            try:
                token = token or self.login()
                self.api_get("/api/v2/dags/news_daily", token)
                return
            except urllib.error.HTTPError as err:
                if err.code != 404:
                    raise LaunchError(f"the API server answered {err.code} to {err.url}") from err
                errors = self.api_get("/api/v2/importErrors", token).get("import_errors", [])
                if errors:
                    shown = "\n".join(f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors)
                    raise LaunchError(f"a DAG file does not import:\n{shown}") from err
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(1.0)
        raise LaunchError(f"not ready after {timeout:.0f} s; see the logs in {self.state}")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = _tail(self.state / f"{name}.log")
                raise LaunchError(f"{name} exited ({proc.returncode}); end of its log:\n{log}")

    def stop(self) -> None:
        """SIGTERM every component's process group, SIGKILL what is left after STOP_SECONDS, and any stray."""
        family = self._family()
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(10)
        strays = [p for p in {*family, *self._marked()} if p.is_running()]
        for proc in strays:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(strays, timeout=10)

    def _family(self) -> set[psutil.Process]:
        """Every live process started by the components (task processes may have left their groups)."""
        found = set()
        for proc in self.procs.values():
            try:
                found |= {psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)}
            except psutil.Error:
                continue
        return found

    def _marked(self) -> set[psutil.Process]:
        found = set()
        for proc in psutil.process_iter():
            try:
                if proc.pid != os.getpid() and proc.environ().get(MARKER) == str(self.state):
                    found.add(proc)
            except (psutil.Error, OSError):
                continue
        return found

    def run(self) -> int:
        """Start, say how to use it, and supervise until SIGINT or SIGTERM; stop everything on the way out."""

        def on_signal(signum: int, frame: object) -> None:
            self.stopping.append(signum)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            self.wait_ready()
            self._say(
                f"ready: http://127.0.0.1:{self.port}  user {USER}  password {self.password}\n"
                f"  the password is in {self._shown(self.state)}/admin-password; the task logs in "
                f"{self._shown(self.state)}/logs/\n"
                f"  the airflow CLI in another shell: export AIRFLOW_HOME={self.state} "
                f"AIRFLOW_CONFIG={PROJECT_ROOT / 'airflow.cfg'}\n"
                "Ctrl-C stops everything."
            )
            while not self.stopping:
                self.check_alive()
                time.sleep(0.5)
            self._say("stopping …")
            return 0
        except LaunchError as err:
            if self.stopping:
                return 0
            print(f"local Airflow: {err}", file=sys.stderr, flush=True)
            return 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._say("stopped.")

    # -- REST ----------------------------------------------------------------------------------------

    def login(self) -> str:
        """A JWT for `admin` from the API server (POST /auth/token)."""
        body = json.dumps({"username": USER, "password": self.password}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/auth/token", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())["access_token"]

    def api_get(self, path: str, token: str) -> dict:
        url, headers = f"http://127.0.0.1:{self.port}{path}", {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())

    # -- output --------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @staticmethod
    def _shown(path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localrun.local_airflow", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("AIRFLOW__API__PORT") or DEFAULT_PORT),
        help="the API server's port on 127.0.0.1 (default: AIRFLOW__API__PORT or 8080)",
    )  # fmt: skip
    parser.add_argument(
        "--state", type=Path, default=Path(os.environ.get("AIRFLOW_HOME") or DEFAULT_STATE),
        help="the state folder, AIRFLOW_HOME (default: .airflow/ in the checkout)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    return LocalAirflow(state=args.state.resolve(), port=args.port).run()


if __name__ == "__main__":
    sys.exit(main())
