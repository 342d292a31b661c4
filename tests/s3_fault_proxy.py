"""A loopback HTTP proxy in front of the local S3 endpoint that records every request and can lose an answer.

    python tests/s3_fault_proxy.py --upstream http://127.0.0.1:PORT --log requests.jsonl
        [--lose-answer REGEX:N] [--refuse-from N]

It prints `listening <port>` once bound. Each request is forwarded to the upstream as it came (method, path,
headers, body) and appended to the log as one JSON line: method, path, the conditional headers and the status
the upstream answered. With `--lose-answer REGEX:N` the N-th mutating request (PUT, POST, DELETE) whose path
matches REGEX is applied by the upstream, and then the client's connection is reset instead of answered: the
write happened, the writer does not know it (a lost answer, as a network fault after S3 committed makes it).
With `--refuse-from N` the N-th mutating request and every later one is not forwarded, its connection reset:
what S3 holds is what it would hold had the writer crashed just before its N-th write.

It runs as its own process: delta-rs keeps Python's GIL while it waits on S3, so a proxy thread inside the
writer's process would never get to answer it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

MUTATING = frozenset({"PUT", "POST", "DELETE"})
HOP_BY_HOP = frozenset({"host", "connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"})
RECORDED = ("if-match", "if-none-match")


class Faults:
    """Which mutating request loses its answer; counts matches across connections."""

    def __init__(self, spec: str | None, refuse_from: int | None = None) -> None:
        self.pattern, self.nth = None, 0
        if spec:
            regex, _, nth = spec.rpartition(":")
            self.pattern, self.nth = re.compile(regex), int(nth)
        self.seen = 0
        self.refuse_from, self.writes = refuse_from, 0
        self.lock = threading.Lock()

    def refuse(self, method: str) -> bool:
        if self.refuse_from is None or method not in MUTATING:
            return False
        with self.lock:
            self.writes += 1
            return self.writes >= self.refuse_from

    def lose(self, method: str, path: str) -> bool:
        if self.pattern is None or method not in MUTATING or not self.pattern.search(path):
            return False
        with self.lock:
            self.seen += 1
            return self.seen == self.nth


def make_handler(upstream: str, log_path: str, faults: Faults) -> type[BaseHTTPRequestHandler]:
    target = urlparse(upstream)
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # no line per request on stderr
            pass

        def read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline().strip():  # trailers
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def reset(self) -> None:
            # RST instead of an answer: SO_LINGER with a zero timeout makes close() abort the connection
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def record(self, entry: dict) -> None:
            entry.update({h: self.headers[h] for h in RECORDED if self.headers.get(h)})
            with log_lock, open(log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")

        def forward(self) -> None:
            body = self.read_body()
            if faults.refuse(self.command):
                self.record({"method": self.command, "path": self.path, "status": None, "lost": False})
                self.reset()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = target.netloc
            if body or self.command in MUTATING:
                headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            finally:
                connection.close()
            lost = faults.lose(self.command, self.path)
            self.record({"method": self.command, "path": self.path, "status": response.status, "lost": lost})
            if lost:
                self.reset()
                return
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:  # the connection was reset on purpose
                pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--lose-answer", default=None, metavar="REGEX:N")
    parser.add_argument("--refuse-from", type=int, default=None, metavar="N")
    args = parser.parse_args()
    faults = Faults(args.lose_answer, args.refuse_from)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.upstream, args.log, faults))
    server.daemon_threads = True
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
