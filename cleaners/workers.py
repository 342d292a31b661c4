"""A pool of extraction worker processes started with `subprocess`, one document at a time each.

Why not multiprocessing (or a pool built on it): a Celery prefork worker's task runs in a daemonic process,
and multiprocessing refuses daemonic processes children, so there the per-document time budget could not be
enforced. A plain child process is allowed everywhere. Each worker reads length-prefixed pickled jobs on
its stdin and writes results on a private copy of its stdout (what libraries print goes to stderr). The
budget is CPU time, enforced in the worker by the kernel (see `cleaners.worker`), so a busy machine does not
make documents too slow; a wall-clock backstop (`wall`, by default ten times the budget plus a minute) ends a
call that stalls without using CPU. A document over either has its worker replaced; a worker that dies costs
only its document.
Results come back in input order; at most `ahead` documents are held beyond the ones being worked on.
"""

from __future__ import annotations

import logging
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

LOG = logging.getLogger(__name__)
HEADER = struct.Struct("!Q")
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # where `cleaners` is importable from


class WorkerDied(Exception):
    """The worker process ended (a crash in C code, the OOM killer) before answering."""


class WorkerTimeout(Exception):
    """The document used more CPU time than the budget, or stalled past the wall-clock backstop."""


def write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next object on `stream`; EOFError when the other end is gone."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - our own pipe to a child we started, not outside input


@dataclass
class _Worker:
    proc: subprocess.Popen
    job: tuple[int, Any] | None = None  # (sequence number, label) of the document it works on
    deadline: float = float("inf")

    @classmethod
    def start(cls, target: str, cpu_seconds: float | None) -> _Worker:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        budget = [repr(float(cpu_seconds))] if cpu_seconds else []
        proc = subprocess.Popen(
            [sys.executable, "-m", "cleaners.worker", target, *budget],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        return cls(proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


@dataclass
class WorkerPool:
    """`target` ("module:function") runs in `size` worker processes, each call under `budget` seconds of CPU
    time and `wall` seconds of wall time (default: ten times the budget plus a minute)."""

    target: str
    size: int = 1
    budget: float | None = None
    ahead: int = 2
    wall: float | None = None
    _workers: list[_Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.wall is None and self.budget:
            self.wall = self.budget * 10 + 60

    def __enter__(self) -> WorkerPool:
        self._workers = [_Worker.start(self.target, self.budget) for _ in range(max(1, self.size))]
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def map(self, jobs: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any]]:
        """For each (label, args), in input order: (label, the function's result or the exception: WorkerTimeout,
        WorkerDied, or the one it raised)."""
        jobs = iter(jobs)
        waiting: deque[tuple[int, Any, tuple]] = deque()
        done: dict[int, Any] = {}
        taken = emitted = 0
        exhausted = False
        with selectors.DefaultSelector() as sel:
            while True:
                busy = [w for w in self._workers if w.job is not None]
                limit = len(self._workers) + self.ahead
                while not exhausted and len(waiting) + len(busy) + len(done) < limit:
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                    else:
                        waiting.append((taken, *job))
                        taken += 1
                for worker in self._workers:
                    if worker.job is None and waiting:
                        self._send(worker, waiting.popleft(), sel)
                if emitted in done:
                    yield done.pop(emitted)
                    emitted += 1
                    continue
                if exhausted and emitted == taken:
                    return
                self._wait(sel, done)

    def _send(self, worker: _Worker, job: tuple[int, Any, tuple], sel: selectors.BaseSelector) -> None:
        seq, label, args = job
        worker.job = (seq, label)
        worker.deadline = time.monotonic() + self.wall if self.wall else float("inf")
        try:
            write_frame(worker.proc.stdin, args)
        except (BrokenPipeError, OSError):
            pass  # it died: its stdout reaches EOF, reported as WorkerDied
        sel.register(worker.proc.stdout, selectors.EVENT_READ, worker)

    def _wait(self, sel: selectors.BaseSelector, done: dict[int, Any]) -> None:
        deadline = min(w.deadline for w in self._workers if w.job is not None)
        timeout = None if deadline == float("inf") else max(0.0, deadline - time.monotonic())
        for key, _ in sel.select(timeout):
            worker: _Worker = key.data
            sel.unregister(worker.proc.stdout)
            seq, label = worker.job
            try:
                done[seq] = (label, read_frame(worker.proc.stdout))
                worker.job, worker.deadline = None, float("inf")
            except (EOFError, pickle.UnpicklingError) as err:
                code = worker.proc.wait() if isinstance(err, EOFError) else None
                if code == -signal.SIGXCPU:
                    done[seq] = (label, WorkerTimeout(f"over {self.budget:g} s of CPU time"))
                    LOG.warning("%s used over %g s of CPU: its worker was replaced", label, self.budget)
                else:
                    done[seq] = (label, WorkerDied(f"exit code {code}" if code is not None else str(err)))
                self._replace(worker)
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.job is not None and worker.deadline <= now:
                sel.unregister(worker.proc.stdout)
                done[worker.job[0]] = (worker.job[1], WorkerTimeout(f"stalled over {self.wall:g} s"))
                LOG.warning("%s stalled over %g s: its worker was replaced", worker.job[1], self.wall)
                self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self._workers[self._workers.index(worker)] = _Worker.start(self.target, self.budget)


def resolve(target: str) -> Callable[..., Any]:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
