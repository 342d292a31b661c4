"""The process behind one `WorkerPool` worker: `python -m cleaners.worker module:function [CPU_SECONDS]`.

Reads pickled argument tuples from stdin, writes the function's result (or the exception it raised) to the
pipe that was its stdout; fd 1 is pointed at stderr so that anything a library prints cannot corrupt a frame.
It exits when its stdin closes, or when the process that started it is gone.

With CPU_SECONDS, each call may use that much CPU time: the kernel's CPU limit (RLIMIT_CPU, whole seconds,
rounded up) is moved to the time used so far plus the budget before each call, and a call over it is ended
by SIGXCPU, even inside C code (an XPath evaluation). CPU time, not wall time: how busy the machine is does not
decide which document is too slow.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import sys
import threading
import time

from .workers import read_frame, resolve, write_frame


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the pool's owner died: nobody will read this document's result


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _limit_cpu(cpu_seconds: float) -> None:
    """End this process by SIGXCPU once it has used `cpu_seconds` more CPU time than now."""
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = math.ceil(_cpu_used() + cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def main(target: str, cpu_seconds: float | None = None) -> None:
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))  # no core file
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    function = resolve(target)
    jobs = sys.stdin.buffer
    while True:
        try:
            args = read_frame(jobs)
        except EOFError:
            return
        if cpu_seconds:
            _limit_cpu(cpu_seconds)
        try:
            result = function(*args)
        except Exception as err:  # noqa: BLE001 - one document's error goes back to the pool, not the worker's end
            result = err
        try:
            write_frame(results, result)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            write_frame(results, RuntimeError(f"the result does not pickle: {err}"))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None)
