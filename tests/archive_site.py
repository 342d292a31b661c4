"""A web archive on loopback, in the Wayback Machine's formats, serving captures of the demo site.

- `/cdx/search/cdx`: the CDX API (`url=<domain>/*`, `from`, `to`, `filter=field:regex`, `collapse=urlkey`,
  `limit`, `showResumeKey`, `resumeKey`, `output=json`), sorted by URL key then time;
- `/web/<timestamp>id_/<url>`: the capture as it was captured (raw); without `id_`, the page with a banner
  injected, as the real archive does; a timestamp without a capture redirects to the nearest one.

The demo publishers' pages are captured as if served from `http://<publisher>.example` (a host that never
resolves, so a test that gets articles proves they came from here). Faults are switched on per instance:
`throttle` answers the first N CDX requests 429 with `Retry-After`, `truncate_pages` cuts those page numbers
(1-based) short once, `loop_from` makes the resume key repeat from that page on, `empty_after` answers an empty
page past that page; `errors` and `redirects` make captures of those URLs 404 or 302 to another URL.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from demo_site.site import build_site

BANNER = b'<div id="wm-ipp-base">Wayback Machine banner: this page was archived</div>'
TS = "%Y%m%d%H%M%S"


@dataclass
class Capture:
    original: str
    timestamp: str
    body: bytes
    mimetype: str = "text/html"
    status: int = 200
    location: str | None = None  # a captured redirect

    @property
    def urlkey(self) -> str:
        parts = urlsplit(self.original)
        host = ",".join(reversed((parts.hostname or "").split(".")))
        return f"{host}){parts.path or '/'}{'?' + parts.query if parts.query else ''}".lower()

    def row(self) -> list[str]:
        size = str(len(self.body))
        return [self.urlkey, self.timestamp, self.original, self.mimetype, str(self.status), "DIGEST", size]


def origin(publisher: str) -> str:
    return f"http://{publisher}.example"


def demo_captures(
    anchor: date, lag: timedelta = timedelta(hours=6), bases: dict[str, str] | None = None
) -> tuple[list[Capture], dict[str, dict]]:
    """Captures of every page of the demo site built for `anchor` (articles `lag` after publication, other pages
    at the start of the anchor day), and per publisher the article URLs by URL with their publication time.
    `bases`: the publishers' origins (default `http://<publisher>.example`), e.g. a running DemoSite's."""
    site = build_site(anchor)
    captures, articles = [], {}
    for pub in site.publishers:
        base = (bases or {}).get(pub.name) or origin(pub.name)
        by_path = {a.path: a for a in site.articles_of(pub.name)}
        articles[pub.name] = {base + a.path: a for a in by_path.values()}
        for path, (content_type, body) in site.files(pub.name, base).items():
            article = by_path.get(path)
            when = article.published + lag if article else datetime.combine(anchor, datetime.min.time(), UTC)
            captures.append(Capture(base + path, when.strftime(TS), body, content_type.split(";")[0].strip()))
    return captures, articles


@dataclass
class ArchiveSite:
    captures: list[Capture]
    throttle: int = 0  # the first N CDX requests answer 429 …
    retry_after: int = 1  # … with this Retry-After
    truncate_pages: set[int] = field(default_factory=set)
    loop_from: int | None = None
    empty_after: int | None = None
    errors: set[str] = field(default_factory=set)  # originals whose capture is a 404
    redirects: dict[str, str] = field(default_factory=dict)  # original -> another original (302)
    throttle_captures: int = 0  # the first N capture requests answer 429 with `retry_after`
    capture_delay: float = 0.0  # seconds each capture takes to answer (so overlapping requests would show)
    host: str = "127.0.0.1"
    cdx_log: list[dict] = field(default_factory=list)  # every CDX query's parameters
    raw_log: list[tuple[str, int]] = field(default_factory=list)  # every capture request: (path, status)
    counts: Counter = field(default_factory=Counter)
    max_in_flight: int = 0  # the most capture requests answered at once

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._truncated: set[int] = set()
        self._server: ThreadingHTTPServer | None = None
        self._in_flight = 0

    # -- URLs -----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def cdx_url(self) -> str:
        return self.base_url + "/cdx/search/cdx"

    @property
    def web_url(self) -> str:
        return self.base_url + "/web"

    def env(self) -> dict[str, str]:
        return {"NEWS_WAYBACK_CDX_URL": self.cdx_url, "NEWS_WAYBACK_URL": self.web_url,
                "NEWS_ARCHIVE_DELAY_SECONDS": "0"}  # fmt: skip

    # -- the CDX API ----------------------------------------------------------------------------------
    def cdx(self, query: list[tuple[str, str]]) -> tuple[int, dict[str, str], bytes]:
        params: dict[str, list[str]] = {}
        for k, v in query:
            params.setdefault(k, []).append(v)
        with self._lock:
            self.cdx_log.append({k: v if len(v) > 1 else v[0] for k, v in params.items()})
            number = len(self.cdx_log)
        if number <= self.throttle:
            return 429, {"Retry-After": str(self.retry_after)}, b"Too Many Requests"
        one = {k: v[0] for k, v in params.items()}
        pattern = one.get("url", "")
        if not pattern.endswith("/*"):
            return 400, {}, b"only url=<domain>/* is served here"
        domain = pattern[:-2].lower()
        start, stop = one.get("from", "0"), one.get("to", "99999999999999")
        rows = [c for c in self.captures if (urlsplit(c.original).hostname or "") in (domain, f"www.{domain}")
                and start <= c.timestamp[: len(start)] and c.timestamp[: len(stop)] <= stop]  # fmt: skip
        for f in params.get("filter", []):
            name, _, regex = f.partition(":")
            rows = [c for c in rows if re.fullmatch(regex, {"statuscode": str(c.status), "mimetype": c.mimetype}
                                                    .get(name, ""))]  # fmt: skip
        rows.sort(key=lambda c: (c.urlkey, c.timestamp))
        if one.get("collapse") == "urlkey":
            first: dict[str, Capture] = {}
            for c in rows:
                first.setdefault(c.urlkey, c)
            rows = list(first.values())
        if resume := one.get("resumeKey"):
            rows = [c for c in rows if f"{c.urlkey} {c.timestamp}" > resume]
        page = sum(1 for q in self.cdx_log if q.get("url") == pattern)  # pages asked for so far (1-based)
        limit = int(one.get("limit", "1000000"))
        chunk, rest = rows[:limit], rows[limit:]
        out: list[list[str]] = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]]
        if self.empty_after is not None and page > self.empty_after:
            return 200, {"Content-Type": "application/json"}, b"[]"
        out += [c.row() for c in chunk]
        if rest and one.get("showResumeKey") == "true":
            key = f"{chunk[-1].urlkey} {chunk[-1].timestamp}"
            if self.loop_from is not None and page >= self.loop_from and resume:
                key = resume  # the key it was asked with: a loop
            out += [[], [key]]
        body = json.dumps(out).encode()
        with self._lock:
            if page in self.truncate_pages and page not in self._truncated:
                self._truncated.add(page)
                body = body[: len(body) // 2]
        return 200, {"Content-Type": "application/json"}, body

    # -- captures -------------------------------------------------------------------------------------
    def capture(self, path: str) -> tuple[int, dict[str, str], bytes]:
        m = re.match(r"^/web/(\d{1,14})(id_)?/(.+)$", path)
        if not m:
            return 404, {}, b"not in the archive"
        stamp, raw, original = m.group(1), bool(m.group(2)), m.group(3)
        mine = [c for c in self.captures if c.original == original]
        if not mine:
            return 404, {"Content-Type": "text/html"}, b"<html><body>Wayback has not archived that URL.</body></html>"
        best = min(mine, key=lambda c: abs(int(c.timestamp) - int(stamp.ljust(14, "0"))))
        if best.timestamp != stamp:
            return 302, {"Location": f"{self.web_url}/{best.timestamp}{'id_' if raw else ''}/{original}"}, b""
        if original in self.errors:
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not Found (as captured)</body></html>"
        if original in self.redirects:
            target = self.redirects[original]
            return 302, {"Location": f"{self.web_url}/{stamp}{'id_' if raw else ''}/{target}"}, b""
        body = best.body if raw else best.body.replace(b"<body", BANNER + b"<body", 1)
        return 200, {"Content-Type": f"{best.mimetype}; charset=utf-8", "Memento-Datetime": stamp}, body

    def timed_capture(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            throttled = sum(1 for p, _ in self.raw_log if p != "/robots.txt") < self.throttle_captures
        answer: tuple[int, dict[str, str], bytes] = (500, {}, b"")
        try:
            if path == "/robots.txt":
                answer = (404, {}, b"")
            elif throttled:
                answer = (429, {"Retry-After": str(self.retry_after)}, b"slow down")
            else:
                time.sleep(self.capture_delay)
                answer = self.capture(path)
        finally:
            with self._lock:
                self._in_flight -= 1
                self.raw_log.append((path, answer[0]))
        return answer

    # -- server ---------------------------------------------------------------------------------------
    def start(self) -> ArchiveSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                if parts.path == "/cdx/search/cdx":
                    status, headers, body = site.cdx(parse_qsl(parts.query, keep_blank_values=True))
                else:
                    status, headers, body = site.timed_capture(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> ArchiveSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# Each demo publisher's article URLs (its other pages, front page, sections, authors, are not articles).
ARTICLE_PATTERNS = {
    "millbrook": r"^http://millbrook\.example/\d{4}/\d{2}/\d{2}/[^/]+/$",
    "eastmere": r"^http://eastmere\.example/news/[^/]+/[^/]+$",
    "portcalder": r"^http://portcalder\.example/stories/\d{8}/[^/]+\.html$",
}


def write_archive_sources(path, archives: tuple[str, ...] = ("wayback",), names=None):
    """A sources file of the demo publishers at their `.example` origins, opted in to `archives`."""
    import yaml

    sources = [
        {
            "name": name, "feeds": [origin(name) + "/feed/"], "allowed_domains": [f"{name}.example"],
            "article_url_patterns": [pattern], "language": "en", "archives": list(archives),
            "politeness": {"download_delay": 0, "autothrottle": False},
        }  # fmt: skip
        for name, pattern in ARTICLE_PATTERNS.items()
        if names is None or name in names
    ]
    path.write_text(yaml.safe_dump({"sources": sources}, sort_keys=False))
    return path


# ----------------------------------------------------------------------------- Common Crawl

CC_BUCKET = "commoncrawl"


@dataclass
class CommonCrawlSite:
    """Common Crawl on loopback: WARC files of the captures on the moto S3 server (public-read, read over HTTP by
    byte range, as data.commoncrawl.org serves them) and an index server: `/collinfo.json` and one pywb CDX API
    per crawl (`showNumPages=true`, then `page=N`, JSON lines, `page_size` rows a page).

    `crawl` names the one crawl, covering [crawl_from, crawl_to]. Faults: `corrupt` URLs whose record is cut short
    in the file's index entry (length halved), `error_status` URLs captured as 404 pages.
    """

    captures: list[Capture]
    s3_endpoint: str
    crawl: str = "CC-MAIN-2023-14"
    crawl_from: str = "2023-03-01T00:00:00"
    crawl_to: str = "2023-03-31T23:59:59"
    page_size: int = 3
    corrupt: set[str] = field(default_factory=set)
    error_status: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"
    index_log: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self.rows: list[dict] = []

    @property
    def index_url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def data_url(self) -> str:
        return f"{self.s3_endpoint}/{CC_BUCKET}"

    def env(self) -> dict[str, str]:
        return {"NEWS_COMMONCRAWL_INDEX_URL": self.index_url, "NEWS_COMMONCRAWL_DATA_URL": self.data_url,
                "NEWS_ARCHIVE_DELAY_SECONDS": "0"}  # fmt: skip

    def _upload(self) -> None:
        import io

        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter

        from ingest import s3 as s3io

        key = f"crawl-data/{self.crawl}/segments/1/warc/{self.crawl}-00000.warc.gz"
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True)
        for c in sorted(self.captures, key=lambda c: c.timestamp):
            status = "404 Not Found" if c.original in self.error_status else "200 OK"
            http = StatusAndHeaders(status, [("Content-Type", f"{c.mimetype}; charset=utf-8")], protocol="HTTP/1.1")
            when = datetime.strptime(c.timestamp, TS).strftime("%Y-%m-%dT%H:%M:%SZ")
            record = writer.create_warc_record(
                c.original, "response", payload=io.BytesIO(c.body), http_headers=http,
                warc_headers_dict={"WARC-Date": when},
            )  # fmt: skip
            start = buf.tell()
            writer.write_record(record)
            length = buf.tell() - start
            if c.original in self.corrupt:
                length //= 2
            self.rows.append({"urlkey": c.urlkey, "timestamp": c.timestamp, "url": c.original, "mime": c.mimetype,
                              "status": "200", "filename": key,  # the index says 200 even where the record does not
                              "offset": str(start), "length": str(length)})  # fmt: skip
        s3 = s3io.client()
        s3io.ensure_bucket(s3, CC_BUCKET)
        s3.put_object(Bucket=CC_BUCKET, Key=key, Body=buf.getvalue(), ACL="public-read")
        self.rows.sort(key=lambda r: (r["urlkey"], r["timestamp"]))

    def index(self, path: str, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        params: dict[str, list[str]] = {}
        for k, v in query:
            params.setdefault(k, []).append(v)
        self.index_log.append({"path": path, **{k: v if len(v) > 1 else v[0] for k, v in params.items()}})
        if path == "/collinfo.json":
            api = f"{self.index_url}/{self.crawl}-index"
            return 200, json.dumps([{"id": self.crawl, "name": self.crawl, "cdx-api": api,
                                     "from": self.crawl_from, "to": self.crawl_to}]).encode()  # fmt: skip
        if path != f"/{self.crawl}-index":
            return 404, b"no such crawl"
        one = {k: v[0] for k, v in params.items()}
        domain = one["url"][:-2] if one.get("url", "").endswith("/*") else ""
        start, stop = one.get("from", "0"), one.get("to", "99999999999999")
        rows = [r for r in self.rows if (urlsplit(r["url"]).hostname or "") == domain
                and start <= r["timestamp"][: len(start)] and r["timestamp"][: len(stop)] <= stop]  # fmt: skip
        for f in params.get("filter", []):
            name, _, regex = f.partition(":")
            rows = [r for r in rows if re.fullmatch(regex, r.get(name, ""))]
        pages = (len(rows) + self.page_size - 1) // self.page_size
        if one.get("showNumPages") == "true":
            return 200, json.dumps({"pages": pages, "pageSize": self.page_size, "blocks": pages}).encode()
        page = int(one.get("page", "0"))
        chunk = rows[page * self.page_size : (page + 1) * self.page_size]
        return 200, "".join(json.dumps(r) + "\n" for r in chunk).encode()

    def start(self) -> CommonCrawlSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                status, body = site.index(parts.path, parse_qsl(parts.query, keep_blank_values=True))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._upload()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> CommonCrawlSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------- CC-NEWS

def month_of_captures(
    anchors: list[date], bases: dict[str, str] | None = None
) -> tuple[list[Capture], dict[str, dict]]:
    """Article captures of demo sites built for each anchor (a month of news), and the articles by publisher."""
    captures, articles = [], {}
    for anchor in anchors:
        caps, arts = demo_captures(anchor, bases=bases)
        urls = {u for by_url in arts.values() for u in by_url}
        captures += [c for c in caps if c.original in urls]
        for pub, by_url in arts.items():
            articles.setdefault(pub, {}).update(by_url)
    return captures, articles


def upload_cc_news(captures: list[Capture], month: str, files: int = 3) -> list[str]:
    """CC-NEWS-style WARC files of `captures` (ordered by capture time, split in `files`) and the month's
    `warc.paths.gz`, public-read in the `commoncrawl` bucket of the S3 server the environment points at."""
    import gzip
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from ingest import s3 as s3io

    s3 = s3io.client()
    s3io.ensure_bucket(s3, CC_BUCKET)
    year, mm = month.split("-")
    ordered = sorted(captures, key=lambda c: c.timestamp)
    per_file = -(-len(ordered) // files)
    paths = []
    for n in range(files):
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True)
        for c in ordered[n * per_file : (n + 1) * per_file]:
            http = StatusAndHeaders("200 OK", [("Content-Type", f"{c.mimetype}; charset=utf-8")], protocol="HTTP/1.1")
            when = datetime.strptime(c.timestamp, TS).strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.write_record(writer.create_warc_record(
                c.original, "response", payload=io.BytesIO(c.body), http_headers=http,
                warc_headers_dict={"WARC-Date": when},
            ))  # fmt: skip
        path = f"crawl-data/CC-NEWS/{year}/{mm}/CC-NEWS-{year}{mm}01000000-{n:05d}.warc.gz"
        s3.put_object(Bucket=CC_BUCKET, Key=path, Body=buf.getvalue(), ACL="public-read")
        paths.append(path)
    listing = gzip.compress("".join(p + "\n" for p in paths).encode())
    s3.put_object(Bucket=CC_BUCKET, Key=f"crawl-data/CC-NEWS/{year}/{mm}/warc.paths.gz", Body=listing,
                  ACL="public-read")  # fmt: skip
    return paths


class StallingProxy:
    """An HTTP front of a data URL (the S3 server's bucket) that holds back requests for paths in `stall` until
    `release` is set: a run reading through it can be killed while it waits, at a known point."""

    def __init__(self, upstream: str, stall: set[str]) -> None:
        import urllib.request

        self.upstream, self.stall, self.release = upstream.rstrip("/"), stall, threading.Event()
        self.stalled = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if any(self.path.endswith(p) for p in proxy.stall) and not proxy.release.is_set():
                    proxy.stalled.set()
                    proxy.release.wait(60)
                try:
                    with urllib.request.urlopen(proxy.upstream + self.path) as answer:
                        status, body = answer.status, answer.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
