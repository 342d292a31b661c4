"""Polite revisits (issue #15 item 6): conditional requests for feeds and sitemaps with the previous crawl's
ETag / Last-Modified, against a loopback server that answers 304 to a matching If-None-Match or
If-Modified-Since. A 304 is counted, costs no parsing, and the entries the previous crawl read in it are
considered again for the new window."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest import partition, pipeline
from ingest import s3 as s3io
from spiders.crawl import run_crawl
from tests.spider_site import page

DAY = date(2026, 11, 20)
pytestmark = pytest.mark.timeout(300)
LAST_MODIFIED = "Thu, 19 Nov 2026 08:00:00 GMT"


class FeedSite:
    """robots.txt, an RSS feed with an ETag, a sitemap with a Last-Modified, and articles."""

    def __init__(self) -> None:
        self.etag = '"v1"'
        # (path, If-None-Match, If-Modified-Since, status) of every request
        self.asked: list[tuple[str, str | None, str | None, int]] = []
        self.articles: dict[str, datetime] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = site.answer(self.path, self.headers)
                site.asked.append((self.path, self.headers.get("If-None-Match"),
                                   self.headers.get("If-Modified-Since"), status))  # fmt: skip
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, headers) -> tuple[int, dict, bytes]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\n"
        if path == "/feed.xml":
            if headers.get("If-None-Match") == self.etag:
                return 304, {"ETag": self.etag}, b""
            items = "".join(f"<item><link>{self.base}{p}</link><pubDate>{d:%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>"
                            for p, d in self.articles.items() if p.startswith("/feed/"))  # fmt: skip
            return 200, {"Content-Type": "application/rss+xml", "ETag": self.etag}, (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode())
        if path == "/sitemap.xml":
            if headers.get("If-Modified-Since") == LAST_MODIFIED:
                return 304, {"Last-Modified": LAST_MODIFIED}, b""
            rows = "".join(f"<url><loc>{self.base}{p}</loc><lastmod>{d.isoformat()}</lastmod></url>"
                           for p, d in self.articles.items() if p.startswith("/map/"))  # fmt: skip
            body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()
            return 200, {"Content-Type": "application/xml", "Last-Modified": LAST_MODIFIED}, body
        if path in self.articles:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page(path, self.articles[path])
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def fetched(self, path: str) -> list[tuple]:
        return [a for a in self.asked if a[0] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = FeedSite()
    yield s
    s.close()


def crawl(site: FeedSite, tmp: Path, day: date, name: str, earlier: Path | None = None) -> dict:
    sources = tmp / "sources.yaml"
    sources.write_text(f"sources:\n  - name: revisit\n    feeds: [{site.base}/feed.xml]\n"
                       f"    sitemaps: [{site.base}/sitemap.xml]\n")  # fmt: skip
    settings = {"NEWS_POLITE": False}
    if earlier is not None:
        settings |= {"NEWS_VALIDATORS_FILE": str(earlier / "validators.json.gz"),
                     "NEWS_DEDUP_INDEXES": [str(earlier / "index.jsonl.gz")]}  # fmt: skip
    return run_crawl("revisit", day, day + timedelta(days=1), tmp / name, str(sources), settings, timeout=240)


def test_an_unchanged_feed_and_sitemap_are_not_fetched_again(site: FeedSite, tmp_path: Path) -> None:
    before, on = datetime(2026, 11, 19, 9, tzinfo=UTC), datetime(2026, 11, 20, 0, 5, tzinfo=UTC)
    # the previous day's crawl sees two articles of its day, and one published just after its window
    site.articles = {"/feed/a": before, "/feed/late": on, "/map/b": before}
    first = crawl(site, tmp_path, DAY - timedelta(days=1), "one")
    assert (first["stored"], first["not_modified"], first["documents"]) == (2, 0, 2)
    with gzip.open(tmp_path / "one/validators.json.gz", "rt") as fh:
        stored = json.load(fh)
    assert stored[f"{site.base}/feed.xml"]["etag"] == '"v1"'
    assert stored[f"{site.base}/sitemap.xml"]["last_modified"] == LAST_MODIFIED
    # the next day: both documents answer 304; the late article is still found (the stored entries)
    second = crawl(site, tmp_path, DAY, "two", earlier=tmp_path / "one")
    assert site.fetched("/feed.xml")[-1] == ("/feed.xml", '"v1"', None, 304)
    assert site.fetched("/sitemap.xml")[-1] == ("/sitemap.xml", None, LAST_MODIFIED, 304)
    assert (second["not_modified"], second["documents"], second["stored"]) == (2, 0, 1)
    assert len(site.fetched("/feed/late")) == 1 and len(site.fetched("/feed/a")) == 1
    # the validators are kept for the next day: it asks again; a changed feed is fetched whole
    site.etag = '"v2"'
    site.articles["/feed/new"] = datetime(2026, 11, 21, 9, tzinfo=UTC)
    third = crawl(site, tmp_path, DAY + timedelta(days=1), "three", earlier=tmp_path / "two")
    assert site.fetched("/feed.xml")[-1] == ("/feed.xml", '"v1"', None, 200)
    assert (third["not_modified"], third["documents"], third["stored"]) == (1, 1, 1)


def test_the_crawl_stage_hands_the_previous_days_validators_to_the_spider(bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "validators.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump({"https://x.example/feed": {"etag": '"e"', "entries": []}}, fh)
    partition.publish(s3io.client(), bucket, "raw", "revisit", DAY - timedelta(days=1), [path], {"crawl": {}}, "t")
    found = pipeline._previous_validators(s3io.client(), bucket, "revisit", DAY, tmp_path / "got")
    assert found is not None and gzip.open(found, "rt").read() == gzip.open(path, "rt").read()
    assert pipeline._previous_validators(s3io.client(), bucket, "revisit", DAY - timedelta(days=1), tmp_path) is None
