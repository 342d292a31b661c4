"""A local S3-compatible endpoint (moto's server mode) on a free loopback port, for the demo and tests.

The server runs in a child process (`python -m localrun.local_s3`), not in a thread of the caller: delta-rs
calls that keep Python's GIL while they wait on S3 (`DeltaTable.history()`, `alter.*`) would otherwise wait
on a server that cannot run, and concurrency tests get a server that runs beside them as S3 does.

moto honours `If-None-Match: *` and `If-Match` on PUT, but checks the condition and stores the object in two
steps, so two conditional writes of one key racing on its threads could both succeed. S3 makes them atomic,
and delta-rs commits and the raw layer's publish rely on that: `serialise_writes` makes every mutating
request (PUT, POST, DELETE) run alone, so a conditional write is atomic here too. Reads stay concurrent.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MUTATING = frozenset({"PUT", "POST", "DELETE"})


def serialise_writes(app):
    """WSGI middleware: one mutating request at a time, its response drained inside the lock."""
    lock = threading.Lock()

    def wrapped(environ, start_response):
        if environ.get("REQUEST_METHOD") not in MUTATING:
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return wrapped


class LocalS3:
    """Start with `start()`; `env` holds the variables that point boto3 (and DuckDB, delta-rs) at it.

    `pause()` closes the port and `resume()` listens on it again with the same objects: an S3 outage.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.endpoint = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> LocalS3:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "localrun.local_s3", "--host", self.host, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        line = self._proc.stdout.readline().strip()  # "listening <port>" once the socket is bound
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the local S3 server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://{self.host}:{self.port}"
        return self

    def _signal(self, signum: int) -> None:
        assert self._proc is not None, "start() first"
        self._proc.send_signal(signum)
        answer = self._proc.stdout.readline().strip()
        if answer not in ("paused", "resumed"):
            raise RuntimeError(f"the local S3 server did not pause or resume: {answer!r}")

    def pause(self) -> None:
        self._signal(signal.SIGUSR1)

    def resume(self) -> None:
        self._signal(signal.SIGUSR2)

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    @property
    def env(self) -> dict[str, str]:
        return {**LOCAL_ENV, "AWS_ENDPOINT_URL": self.endpoint}


@contextmanager
def local_s3_env(bucket: str) -> Iterator[LocalS3]:
    """Run a local endpoint with the environment pointing at it and the bucket created; restore on exit."""
    from ingest import s3 as s3io

    server = LocalS3().start()
    saved = {k: os.environ.get(k) for k in [*server.env, "NEWS_BUCKET"]}
    os.environ.update({**server.env, "NEWS_BUCKET": bucket})
    try:
        s3io.ensure_bucket(s3io.client(), bucket)
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def fixed_port_candidates(count: int = 200) -> list[int]:
    """Random ports below the kernel's ephemeral range.

    A port picked by the kernel (port 0) lies in the ephemeral range, and while the server is paused any
    outgoing connection may be given it as its local port, or a client retrying against it may connect to
    itself (TCP simultaneous open); either holds the port and the server cannot listen on it again. Ports
    below the range are never handed out that way.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    start = max(1024, low - 12000)
    return random.sample(range(start, low), min(count, low - start))


def still_accepting(host: str, port: int, wait: float = 5.0) -> str:
    """'' once a connect to host:port is refused; otherwise who still listens there, for the caller's error.

    A pause answered while the port still accepts would let a test go on against a live endpoint.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            seen = "still accepts connections"
        except ConnectionRefusedError:
            return ""
        except OSError as exc:  # a full backlog drops the SYN: a timeout is not a closed port
            seen = f"neither accepts nor refuses connections ({exc})"
        if time.monotonic() > deadline:
            return f"{host}:{port} {seen}; listeners: {listeners(port)}"
        time.sleep(0.1)


def listeners(port: int) -> str:
    """`ss`'s view of the listeners on a port (with their processes where visible), for an error message."""
    try:
        out = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"(ss failed: {exc})"
    return " | ".join(line.split(None, 3)[-1] for line in out.splitlines()) or "none"


def serve(host: str, port: int) -> None:
    """The child process: moto's S3 app behind `serialise_writes`; SIGUSR1/SIGUSR2 close/reopen the port."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = serialise_writes(DomainDispatcherApplication(create_backend_app))
    state: dict = {}
    requests: list[int] = []
    wake = threading.Event()

    def listen(bind_port: int) -> int:
        # Bound here, not by make_server: werkzeug answers a failed bind with sys.exit(1), which would end
        # this process instead of letting a resume retry; the server works on a duplicate of the socket.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, bind_port))
            sock.listen(128)
            server = make_server(
                host, bind_port, app, threaded=True, request_handler=MotoRequestHandler, fd=sock.fileno()
            )
        state["server"] = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]

    def listen_fixed_port() -> int:
        for candidate in fixed_port_candidates():
            try:
                return listen(candidate)
            except OSError:
                continue
        raise OSError("no free loopback port outside the ephemeral range")

    def on_signal(signum, _frame):
        requests.append(signum)
        wake.set()

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_signal)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = listen(port) if port else listen_fixed_port()
    print(f"listening {port}", flush=True)
    while True:
        wake.wait(1.0)
        wake.clear()
        while requests:
            signum = requests.pop(0)
            if signum == signal.SIGUSR1:
                if state.get("server"):
                    server = state.pop("server")
                    server.shutdown()
                    server.server_close()
                still = still_accepting(host, port)
                print(f"pause failed: {still}" if still else "paused", flush=True)
            elif signum == signal.SIGUSR2:
                error = ""
                if not state.get("server"):
                    for _ in range(50):  # the port may linger a moment after close
                        try:
                            listen(port)
                            error = ""
                            break
                        except OSError as exc:
                            error = str(exc)
                            time.sleep(0.1)
                print(f"resume failed: {error}" if error else "resumed", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
