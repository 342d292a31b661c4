"""Memory flat in the number of pages: the scheduler keeps all but a few article requests as tuples;
sitemaps are parsed as a stream; the dedup sets hold 8-byte digests.

`bench/crawl_speed.py` measures the peak memory itself; these tests check the mechanisms it rests on, each
against a plain implementation of the same thing.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import yaml

from spiders import discovery
from spiders import settings as project
from spiders.crawl import run_crawl
from spiders.dedup import DigestSet
from tests.spider_site import ALLOW_ALL, SpiderSite, html, page, sitemap

DAY = date(2025, 6, 2)
AT = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
ARTICLES = 120
BASE = "http://news.example.com/feeds/"
pytestmark = pytest.mark.timeout(120)


def test_digest_set_answers_as_a_set(monkeypatch):
    monkeypatch.setattr(DigestSet, "MERGE_EVERY", 5)  # merge often
    rng = random.Random(6)
    start = [rng.getrandbits(64) for _ in range(40)]
    digests, plain = DigestSet(start), set(start)
    pool = [*start, *(rng.getrandbits(64) for _ in range(200)), 0, 2**64 - 1]
    for _ in range(3000):
        key = rng.choice(pool)
        assert (key in digests) == (key in plain)
        if rng.random() < 0.5:
            digests.add(key)
            plain.add(key)
    assert all(key in digests for key in plain)


def _urlset(rows: str, ns: str = "") -> bytes:
    head = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
    return f"{head}{rows}</urlset>".encode()


NEWS_NS = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
WELL_FORMED = {
    "rss, nested items and channel elements between them": (
        b"<rss><channel><title>T</title><item><link>http://x.org/1</link><pubDate>Mon, 02 Jun 2025 09:00:00 +0000"
        b"</pubDate><item><guid>/inner</guid></item></item><image><url>http://x.org/logo</url></image>"
        b"<item><guid isPermaLink='false'>no</guid></item><item><link> /rel </link></item></channel></rss>"
    ),
    "rdf": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b'<channel/><item rdf:about="http://x.org/rdf"><date>2025-06-02</date></item></rdf:RDF>'
    ),
    "atom, nested entries": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><link rel="self" href="/s"/>'
        b'<link href="http://x.org/a"/><updated>2025-06-02T08:00:00Z</updated><entry><link href="/b"/>'
        b"<published>2025-06-01T08:00:00Z</published></entry></entry></feed>"
    ),
    "sitemap, nested and foreign elements": _urlset(
        "<url><loc>http://x.org/1</loc><lastmod>2025-06-02</lastmod><url><loc>http://x.org/nested</loc></url></url>"
        "<other><url><loc>http://x.org/deep</loc></url></other><URL><LOC> /upper </LOC></URL><url><loc/></url>"
    ),
    "news sitemap": _urlset(
        "<url><loc>/n</loc><news:news><news:publication_date>2025-06-02T07:00:00Z</news:publication_date>"
        "</news:news><lastmod>2025-06-03</lastmod></url>",
        NEWS_NS,
    ),
    "sitemap index": b"<sitemapindex><sitemap><loc>/s1.xml</loc><lastmod>2025-05</lastmod></sitemap></sitemapindex>",
    "not a feed": b"<html><body><p>moved</p></body></html>",
}


@pytest.mark.parametrize("chunk", [7, 64 << 10])
@pytest.mark.parametrize("name", WELL_FORMED)
def test_streaming_parse_reads_what_the_whole_tree_parse_reads(name, chunk, monkeypatch):
    monkeypatch.setattr(discovery, "_CHUNK", chunk)  # small chunks: elements split across feeds
    body = WELL_FORMED[name]
    streamed = discovery._parse_streaming(body, BASE)
    assert streamed is not None, "a well-formed document is streamed"
    assert streamed == discovery._parse_recovering(body, BASE)


def test_streaming_parse_drops_each_entry_once_read(monkeypatch):
    held = []
    event = discovery._EntryReader.event

    def spy(reader: discovery._EntryReader, kind: str, elem) -> None:
        event(reader, kind, elem)
        held.append(len(elem.getroottree().getroot()))

    monkeypatch.setattr(discovery._EntryReader, "event", spy)
    monkeypatch.setattr(discovery, "_CHUNK", 4096)
    rows = [f"<url><loc>/a/{i}</loc><lastmod>2025-06-02</lastmod></url>" for i in range(5000)]
    doc = discovery.parse_document(_urlset("".join(rows)), BASE)
    assert len(doc.entries) == 5000 and doc.error is None
    assert max(held) <= 4096 // len(rows[0]) + 2, "more than a chunk's entries were held as a tree"


def test_news_sitemap_with_an_undeclared_prefix_is_salvaged_not_raised():
    """The recovering parser keeps "news:news" as a tag name; reading it must not raise (a lost sitemap)."""
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
        b"<loc>https://a.example/x</loc><news:news><news:publication_date>2025-01-01</news:publication_date>"
        b"</news:news></url></urlset>"
    )
    doc = discovery.parse_document(body, "https://a.example/sitemap.xml")
    assert (doc.kind, doc.error) == ("sitemap", "malformed_xml")
    entries = [(e.url, e.date_hint.date(), e.news) for e in doc.entries]
    assert entries == [("https://a.example/x", date(2025, 1, 1), True)]


def test_malformed_doctype_and_utf16_documents_are_parsed_whole():
    truncated = _urlset("<url><loc>/a/1</loc></url><url><loc>/a/2")[:-10]
    doctype = b'<!DOCTYPE urlset SYSTEM "urlset.dtd">' + _urlset("<url><loc>/a/1</loc></url>")[21:]
    utf16 = _urlset("<url><loc>/a/1</loc></url>").decode().replace('"1.0"', '"1.0" encoding="utf-16"').encode("utf-16")
    for body in (truncated, doctype, utf16):
        assert discovery._parse_streaming(body, BASE) is None
        assert discovery.parse_document(body, BASE).entries[0].url == "http://news.example.com/a/1"
    assert discovery.parse_document(truncated, BASE).error == "malformed_xml"


@pytest.fixture
def site():
    with SpiderSite(DAY) as site:
        site.routes.clear()
        site.routes["/robots.txt"] = ALLOW_ALL
        paths = [f"/a/{i}" for i in range(ARTICLES)]
        for path in paths:
            site.routes[path] = html(page(path, AT))
        site.routes["/a/q"] = html(page("q", AT))
        # First, the same article twice, its query in another order: two entries (different canonical URLs),
        # one request fingerprint: Scrapy's duplicate filter would drop the second request unanswered; it ends
        # as an index line (`duplicate`).
        twins = [f"{site.base}/a/q?x=1&amp;y=2", f"{site.base}/a/q?y=2&amp;x=1"]  # escaped: XML text
        site.routes["/sitemap.xml"] = sitemap([(u, AT) for u in twins] + [(site.base + p, AT) for p in paths])
        yield site


def _crawl(tmp_path, site: SpiderSite, **settings) -> tuple[dict, list[dict], int]:
    sources = tmp_path / "sources.yaml"
    entry = {"name": "many", "sitemaps": [f"{site.base}/sitemap.xml"], "allowed_domains": ["127.0.0.1"]}
    sources.write_text(yaml.safe_dump({"sources": [entry]}))
    probe = tmp_path / "most-requests"
    settings = {
        "NEWS_POLITE": False, "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0, "CONCURRENT_REQUESTS": 2,
        "EXTENSIONS": {**project.EXTENSIONS, "tests.spider_site.RequestProbe": 0}, "REQUEST_PROBE_FILE": str(probe),
        **settings,
    }  # fmt: skip
    out = tmp_path / "out"
    summary = run_crawl("many", DAY, DAY + timedelta(days=1), out, str(sources), settings, timeout=90)
    with gzip.open(out / "index.jsonl.gz", "rt") as fh:
        index = [json.loads(line) for line in fh]
    return summary, index, int(probe.read_text())


def test_articles_reach_scrapy_a_few_at_a_time_and_all_are_fetched(tmp_path, site):
    summary, index, most_requests = _crawl(tmp_path, site, NEWS_SCHEDULED_ARTICLES=4)
    # 4 queued, 2 downloading, and a few in hand (robots.txt, the sitemap, answers being parsed): 11 here,
    # against ~ARTICLES when every article waits in Scrapy's queue as a Request
    assert most_requests <= 16
    assert summary["finish_reason"] == "finished" and summary["unfinished"] == 0
    assert summary["in_window"] == ARTICLES + 2
    paths = sorted(urlsplit(e["url"]).path for e in index if e["warc_file"])
    assert paths == sorted([*(f"/a/{i}" for i in range(ARTICLES)), "/a/q"])  # every article once, a twin once
    assert summary["stored"] == ARTICLES + 1
    assert [e["reason"] for e in index if not e["warc_file"]] == ["duplicate"] and len(index) == ARTICLES + 2


def test_articles_still_pending_when_the_crawl_stops_count_as_unfinished(tmp_path, site):
    summary, index, _ = _crawl(tmp_path, site, NEWS_SCHEDULED_ARTICLES=4, CLOSESPIDER_PAGECOUNT=20)
    assert summary["finish_reason"] == "closespider_pagecount"
    left = ARTICLES + 2 - len(index)  # in the window, not indexed
    assert left > 80
    assert left - 2 <= summary["unfinished"] <= left  # all but those in flight when it stopped
