"""Serves the demo site over HTTP: one ThreadingHTTPServer per publisher, each on its own loopback IP."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import yaml

from .model import Article
from .site import Site, build_site

NOT_FOUND = (
    b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    b"<body><h1>Not Found</h1><p>The page you requested does not exist.</p></body></html>\n"
)

Response = tuple[int, dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    """Serves a fixed {path: (content type, body)} map; a per-publisher subclass sets the class attributes."""

    server_version = "DemoSite/1.0"
    publisher: str = ""
    files: dict[str, tuple[str, bytes]] = {}
    demo: DemoSite

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_POST(self) -> None:  # newsletter forms post here; the site is read-only
        self._send(405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, b"", True)

    def respond(self, path: str) -> Response:
        """Status, headers and body for a GET of `path`; the single place a fault hook would wrap."""
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
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test and demo output quiet


class DemoSite:
    """Runs every publisher of `build_site(anchor)` on its own loopback IP; use as a context manager."""

    def __init__(self, anchor: date | None = None, host_prefix: str = "127.0.0", first_host: int = 2) -> None:
        self.anchor = anchor or datetime.now(UTC).date()
        self.site: Site = build_site(self.anchor)
        self.host_prefix = host_prefix
        self.first_host = first_host
        self.base_urls: dict[str, str] = {}
        self.hosts: dict[str, str] = {}
        self.request_log: list[tuple[str, str, str, int]] = []
        self._log_lock = threading.Lock()
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def _record(self, publisher: str, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((publisher, method, path, status))

    def start(self) -> DemoSite:
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
        for server, thread in self._servers:
            if thread.is_alive():
                server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

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
