"""The process behind one `WorkerPool` worker: `python -m cleaners.worker module:function`.

Reads pickled argument tuples from stdin, writes the function's result (or the exception it raised) to the
pipe that was its stdout; fd 1 is pointed at stderr so that anything a library prints cannot corrupt a frame.
It exits when its stdin closes, or when the process that started it is gone.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time

from .workers import read_frame, resolve, write_frame


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the pool's owner died: nobody will read this document's result


def main(target: str) -> None:
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
        try:
            result = function(*args)
        except Exception as err:  # noqa: BLE001 - one document's error goes back to the pool, not the worker's end
            result = err
        try:
            write_frame(results, result)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            write_frame(results, RuntimeError(f"the result does not pickle: {err}"))


if __name__ == "__main__":
    main(sys.argv[1])
