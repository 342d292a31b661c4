"""Serves the demo site over HTTP: one ThreadingHTTPServer per publisher, each on its own loopback IP.

Fault injection for tests: `DemoSite(anchor, faults={"eastmere": Fault(error_share=0.5, slow_share=0.25,
delay=5)})` makes a deterministic share of a publisher's paths answer an error status or answer late (see
`Fault`); what was injected is in `fault_log`, and `fault_for()` tells which rule a path falls under.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import yaml

from .model import Article
from .site import Fault, Site, build_site

NOT_FOUND = (
    b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    b"<body><h1>Not Found</h1><p>The page you requested does not exist.</p></body></html>\n"
)

UNAVAILABLE = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1><p>The server is busy. Please try again later.</p></body></html>\n"
)
DOCUMENT_TYPES = ("application/xml", "application/rss+xml", "application/atom+xml")  # feeds and sitemaps
MAX_SLOW_RESPONSES = 32  # handlers held back by a slow fault at one time, across all publishers

Response = tuple[int, dict[str, str], bytes]


def _unavailable(status: int, retry_after: int | None) -> Response:
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return status, headers, UNAVAILABLE


class _Handler(BaseHTTPRequestHandler):
    """Serves a fixed {path: (content type, body)} map; a per-publisher subclass sets the class attributes."""

    server_version = "DemoSite/1.0"
    publisher: str = ""
    files: dict[str, tuple[str, bytes]] = {}
    demo: DemoSite

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            self.demo._release(threading.current_thread())

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_POST(self) -> None:  # newsletter forms post here; the site is read-only
        self._send(405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, b"", True)

    def respond(self, path: str) -> Response:
        """Status, headers and body for a GET of `path`, after the publisher's fault rule, if any."""
        fault = self.demo.fault_for(self.publisher, path)
        if fault is not None:
            outcome, rule = fault
            if outcome == "error":
                self.demo._record_fault(self.publisher, self.command, path, "error")
                return _unavailable(rule.status, rule.retry_after)
            # "slow": held back here, then answered as usual below
            if not self.demo._hold(self.publisher, self.command, path, rule.delay):
                return _unavailable(503, rule.retry_after)  # too many held already: refuse rather than pile up
        if path in self.files:
            content_type, body = self.files[path]
            return 200, {"Content-Type": content_type}, body
        # like most CMSs, redirect /section to /section/
        if not path.endswith("/") and path + "/" in self.files:
            host, port = self.server.server_address[:2]
            return 301, {"Location": f"http://{host}:{port}{path}/"}, b""
        return 404, {"Content-Type": "text/html; charset=utf-8"}, NOT_FOUND

    def _serve(self, send_body: bool) -> None:
        status, headers, body = self.respond(urlsplit(self.path).path)
        self._send(status, headers, body, send_body)

    def _send(self, status: int, headers: dict[str, str], body: bytes, send_body: bool) -> None:
        # log before replying, so a client that has its response always finds the entry
        self.demo._record(self.publisher, self.command, self.path, status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            if send_body:
                self.wfile.write(body)
        except ConnectionError:
            pass  # the client gave up, e.g. on a slow fault: nothing left to do for this request

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test and demo output quiet


def stop_servers(servers: list[tuple[ThreadingHTTPServer, threading.Thread]]) -> None:
    """Shut down and close each server, join its thread, and empty the list."""
    for server, thread in servers:
        if thread.is_alive():
            server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    servers.clear()


class DemoSite:
    """Runs every publisher of `build_site(anchor)` on its own loopback IP; use as a context manager.

    `faults` maps a publisher to a `Fault` rule or a list of them (the first rule with an outcome for a path
    decides). `request_log` has (publisher, method, path, status) for every answer, written before it is
    sent; `fault_log` has (publisher, method, path, outcome) for every request a rule hit, written when the
    request arrives: "error", "slow", or "shed" for a slow one refused because `max_slow` handlers were
    already held back. Held-back handlers wake up and answer as soon as the site stops.
    """

    def __init__(
        self,
        anchor: date | None = None,
        host_prefix: str = "127.0.0",
        first_host: int = 2,
        faults: Mapping[str, Fault | Sequence[Fault]] | None = None,
        max_slow: int = MAX_SLOW_RESPONSES,
    ) -> None:
        self.anchor = anchor or datetime.now(UTC).date()
        self.site: Site = build_site(self.anchor)
        self.host_prefix = host_prefix
        self.first_host = first_host
        names = {p.name for p in self.site.publishers}
        unknown = sorted(set(faults or {}) - names)
        if unknown:
            raise ValueError(f"faults for unknown publishers {unknown}; publishers: {sorted(names)}")
        self.faults: dict[str, tuple[Fault, ...]] = {
            name: (rules,) if isinstance(rules, Fault) else tuple(rules) for name, rules in (faults or {}).items()
        }
        self.base_urls: dict[str, str] = {}
        self.hosts: dict[str, str] = {}
        self.request_log: list[tuple[str, str, str, int]] = []
        self.fault_log: list[tuple[str, str, str, str]] = []
        self._log_lock = threading.Lock()
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self._kinds: dict[str, dict[str, str]] = {}  # publisher -> path -> "article" | "document"
        self._kinds_lock = threading.Lock()
        self._stopping = threading.Event()
        self._slow_slots = threading.BoundedSemaphore(max_slow)
        self._held: set[threading.Thread] = set()

    def _record(self, publisher: str, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((publisher, method, path, status))

    def _record_fault(self, publisher: str, method: str, path: str, outcome: str) -> None:
        with self._log_lock:
            self.fault_log.append((publisher, method, path, outcome))

    def path_kind(self, publisher: str, path: str) -> str | None:
        """The kind of a path the publisher serves: "article", "document" (feed or sitemap) or None."""
        with self._kinds_lock:
            if publisher not in self._kinds:
                kinds = {a.path: "article" for a in self.site.articles_of(publisher)}
                # the feed and sitemap paths do not depend on the host, so any base URL lists them
                for p, (content_type, _) in self.site.files(publisher, "http://demo.invalid").items():
                    if content_type.startswith(DOCUMENT_TYPES):
                        kinds[p] = "document"
                self._kinds[publisher] = kinds
            return self._kinds[publisher].get(path)

    def fault_for(self, publisher: str, path: str) -> tuple[str, Fault] | None:
        """("error" or "slow", the rule) if a fault rule of the publisher hits `path`, else None."""
        rules = self.faults.get(publisher)
        if not rules:
            return None
        kind = self.path_kind(publisher, path)
        for rule in rules:
            if outcome := rule.outcome(path, kind):
                return outcome, rule
        return None

    def _hold(self, publisher: str, method: str, path: str, delay: float) -> bool:
        """Hold the calling handler for `delay` seconds, or until the site stops; False if too many are held."""
        if not self._slow_slots.acquire(blocking=False):
            self._record_fault(publisher, method, path, "shed")
            return False
        self._record_fault(publisher, method, path, "slow")
        with self._log_lock:
            self._held.add(threading.current_thread())  # until its handler ends: see _release
        self._stopping.wait(delay)
        return True

    def _release(self, thread: threading.Thread) -> None:
        with self._log_lock:
            if thread not in self._held:
                return
            self._held.discard(thread)
        self._slow_slots.release()

    def start(self) -> DemoSite:
        self._stopping.clear()
        try:
            for i, pub in enumerate(self.site.publishers):
                host = f"{self.host_prefix}.{self.first_host + i}"
                handler = type(f"Handler_{pub.name}", (_Handler,), {"publisher": pub.name, "demo": self})
                server = ThreadingHTTPServer((host, 0), handler)
                server.daemon_threads = True
                base_url = f"http://{host}:{server.server_address[1]}"
                # files need the real port for absolute URLs, so they are built after binding
                handler.files = self.site.files(pub.name, base_url)
                thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"demo-site-{pub.name}"
                )
                thread.daemon = True
                self._servers.append((server, thread))
                self.hosts[pub.name] = host
                self.base_urls[pub.name] = base_url
                thread.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes every handler a slow fault holds back
        stop_servers(self._servers)
        with self._log_lock:
            held = list(self._held)
        for thread in held:  # they answer (to a client that has likely gone) and end: none outlives the site
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, article: Article) -> str:
        return self.base_urls[article.publisher] + article.path

    def sources(self) -> list[dict[str, object]]:
        return [
            {
                "name": pub.name,
                "feeds": pub.feed_urls(self.base_urls[pub.name]),
                "sitemaps": pub.sitemap_urls(self.base_urls[pub.name]),
                "allowed_domains": [self.hosts[pub.name]],
                "language": pub.language,
            }
            for pub in self.site.publishers
        ]

    def write_sources(self, path: str | Path) -> Path:
        """Write a sources.yaml pointing the crawler at the running publishers."""
        path = Path(path)
        path.write_text(yaml.safe_dump({"sources": self.sources()}, sort_keys=False), encoding="utf-8")
        return path
