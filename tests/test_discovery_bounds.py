"""Discovery bounds, in-process: the gunzip bound of a sitemap (a gzip bomb generated here), the entry limit of
a document, a truncated sitemap, the sitemap depth, the number of documents, the URL length, and the date window
applied at discovery, through spiders.discovery and the spider's own discovery methods (spiders/spiders/news.py)
called directly, with the shipped settings frozen as literal values. No crawl, no network: fast enough for
mutation testing (the crawl-level tests are tests/test_spider.py and tests/test_spider_guard.py)."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from spiders import discovery
from spiders import settings as project
from spiders.cdx import Candidate
from spiders.discovery import MAX_ENTRIES, Entry, gunzip_bounded, parse_document
from spiders.middlewares import PREFIX
from spiders.scheduler import ARTICLE
from spiders.spiders.news import ARCHIVE, RANGE, NewsSpider

BASE = "http://news.example.org"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
IN = datetime(2025, 6, 2, 9, tzinfo=UTC)  # inside the window [2025-06-02, 2025-06-03)
FROM = datetime(2025, 6, 2, tzinfo=UTC)
TO = datetime(2025, 6, 3, tzinfo=UTC)


def urlset(*rows: str) -> bytes:
    return f'<?xml version="1.0"?><urlset {NS}>{"".join(rows)}</urlset>'.encode()


def url(path: str, lastmod: str | None = "2025-06-02T09:00:00Z", news: str | None = None) -> str:
    extra = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    if news:
        extra += f"<news:news><news:publication_date>{news}</news:publication_date></news:news>"
    return f"<url><loc>{BASE}{path}</loc>{extra}</url>"


def index(*rows: tuple[str, str | None]) -> bytes:
    items = "".join(f"<sitemap><loc>{BASE}{p}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</sitemap>"
                    for p, m in rows)  # fmt: skip
    return f'<?xml version="1.0"?><sitemapindex {NS}>{items}</sitemapindex>'.encode()


# -- the shipped limits, frozen -----------------------------------------------------------------------------------

SHIPPED = {
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,  # also the bound of a gunzipped sitemap
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "DOWNLOAD_TIMEOUT": 30,
    "NEWS_SITEMAP_MAX_DEPTH": 4,
    "NEWS_MAX_DOCUMENTS": 2000,
    "NEWS_MAX_ENTRIES": 50_000,
    "URLLENGTH_LIMIT": 2083,
    "NEWS_PAGE_THREAD_FROM": 128 * 1024,
    "NEWS_PAGE_BUDGET_SECONDS": 10.0,
    "NEWS_INDEX_OUT_OF_WINDOW": True,
    "DEPTH_LIMIT": 0,
}


def test_the_shipped_discovery_limits_are_these_values():
    assert {name: getattr(project, name) for name in SHIPPED} == SHIPPED
    assert MAX_ENTRIES == 50_000


def test_the_spider_takes_its_bounds_from_the_settings(spider_for):
    spider = spider_for()  # the shipped settings
    assert spider._max_depth == 4
    assert spider._max_documents == 2000
    assert spider._maxsize == 10 * 1024 * 1024  # the gunzip bound is DOWNLOAD_MAXSIZE
    assert spider._max_entries == 50_000
    assert spider._max_url_length == 2083
    assert spider._thread_from == 128 * 1024
    assert spider._page_budget == 10.0
    assert spider._index_skipped is True
    other = spider_for(NEWS_SITEMAP_MAX_DEPTH=1, NEWS_MAX_DOCUMENTS=3, DOWNLOAD_MAXSIZE=999, NEWS_MAX_ENTRIES=7,
                       URLLENGTH_LIMIT=50, NEWS_PAGE_THREAD_FROM=5, NEWS_PAGE_BUDGET_SECONDS=0.5,
                       NEWS_INDEX_OUT_OF_WINDOW=False)  # fmt: skip
    got = (other._max_depth, other._max_documents, other._maxsize, other._max_entries, other._max_url_length,
           other._thread_from, other._page_budget, other._index_skipped)  # fmt: skip
    assert got == (1, 3, 999, 7, 50, 5, 0.5, False)


# -- gunzip bound -------------------------------------------------------------------------------------------------


def test_a_gzip_bomb_sitemap_is_cut_at_the_bound():
    xml = urlset(url("/a/early")).replace(b"</urlset>", b" " * (64 << 20) + url("/a/late").encode() + b"</urlset>")
    bomb = gzip.compress(xml, 9)
    assert len(bomb) < 128 << 10 and len(xml) > 64 << 20
    data, cut = gunzip_bounded(bomb, 10 * 1024 * 1024)
    assert cut is True and len(data) == 10 * 1024 * 1024 and xml.startswith(data)
    doc = parse_document(data, f"{BASE}/sitemap.xml.gz")
    assert [e.url for e in doc.entries] == [f"{BASE}/a/early"]


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 5000])
def test_the_bound_is_exact(size):
    data = bytes(i % 251 for i in range(size))
    packed = gzip.compress(data)
    assert gunzip_bounded(packed, 100) == ((data, False) if size <= 100 else (data[:100], True))
    assert gunzip_bounded(packed, size) == (data, False)
    if size > 1:  # (a bound of 0 is none)
        assert gunzip_bounded(packed, size - 1) == (data[: size - 1], True)
    assert gunzip_bounded(packed, 0) == (data, False)  # 0: no bound


def test_members_count_together_against_the_bound():
    one, two = b"a" * 60, b"b" * 60
    packed = gzip.compress(one) + gzip.compress(two)
    assert gunzip_bounded(packed, 0) == (one + two, False)
    assert gunzip_bounded(packed, 120) == (one + two, False)
    assert gunzip_bounded(packed, 119) == ((one + two)[:119], True)
    assert gunzip_bounded(packed, 60) == (one, True)
    assert gunzip_bounded(packed, 70) == (one + b"b" * 10, True)
    three = packed + gzip.compress(b"c" * 5)
    assert gunzip_bounded(three, 0) == (one + two + b"c" * 5, False)


def test_what_a_damaged_gzip_gives():
    packed = gzip.compress(b"x" * 1000 + b"y" * 1000, 1)
    assert gunzip_bounded(packed[: len(packed) // 2], 0)[1] is True  # cut short: what was readable, incomplete
    cut, _ = gunzip_bounded(packed[: len(packed) // 2], 0)
    assert (b"x" * 1000 + b"y" * 1000).startswith(cut) and 0 < len(cut) < 2000
    assert gunzip_bounded(packed + b"\0" * 16, 0) == (b"x" * 1000 + b"y" * 1000, False)  # zero padding
    assert gunzip_bounded(packed + b"junk after it", 0) == (b"x" * 1000 + b"y" * 1000, False)
    assert gunzip_bounded(packed + b"\0\0\0junk", 50) == (b"x" * 50, True)
    with pytest.raises(zlib.error):
        gunzip_bounded(b"\x1f\x8b not gzip at all", 100)


# -- the entry limit, empty and refused documents -------------------------------------------------------------------


def test_entries_past_the_limit_are_overflow_in_order():
    rows = [url(f"/a/{i}") for i in range(7)]
    doc = parse_document(urlset(*rows), BASE, max_entries=5)
    assert [e.url for e in doc.entries] == [f"{BASE}/a/{i}" for i in range(5)]
    assert [e.url for e in doc.overflow] == [f"{BASE}/a/5", f"{BASE}/a/6"]
    exact = parse_document(urlset(*rows[:5]), BASE, max_entries=5)
    assert len(exact.entries) == 5 and exact.overflow == []
    assert len(parse_document(urlset(*rows), BASE).entries) == 7  # default: the protocol's 50,000
    broken = parse_document(urlset(*rows).replace(b"</urlset>", b"<url>"), BASE, max_entries=5)
    assert broken.error == "malformed_xml" and len(broken.entries) == 5 and len(broken.overflow) == 2


def test_the_default_entry_limit_is_50000():
    rows = "".join(f"<url><loc>/{i}</loc></url>" for i in range(50_001))
    doc = parse_document(f"<urlset>{rows}</urlset>".encode(), BASE)
    assert len(doc.entries) == 50_000 and [e.url for e in doc.overflow] == [f"{BASE}/50000"]


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
def test_an_empty_document_is_unusable(body):
    assert parse_document(body, BASE) == discovery.Document(None, error="empty_document")


@pytest.mark.parametrize("decl", [b"<!ENTITY", b"<!entity", b"<!Entity"])
def test_a_document_declaring_entities_is_refused(decl):
    body = b'<?xml version="1.0"?><!DOCTYPE u [' + decl + b' x "y">]><urlset><url><loc>/a</loc></url></urlset>'
    assert parse_document(body, BASE) == discovery.Document(None, error="xml_entities_forbidden")


# -- the spider, built in-process ---------------------------------------------------------------------------------

SOURCES = f"""
sources:
  - name: daily
    sitemaps: ["{BASE}/sitemap.xml"]
    feeds: ["{BASE}/feed.xml"]
    allowed_domains: ["news.example.org"]
    article_url_patterns: ["/a/"]
    deny_url_patterns: ["/a/private/"]
  - name: local
    sitemaps: ["http://127.0.0.1:8080/sitemap.xml"]
    allowed_domains: ["127.0.0.1", "localhost"]
"""


@pytest.fixture
def spider_for(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)

    def make(source: str = "daily", start: str = "2025-06-02", end: str = "2025-06-03", out: str | None = "",
             **settings) -> NewsSpider:  # fmt: skip
        values = Settings()
        values.setmodule(project)
        values.update(settings)
        crawler = Crawler(NewsSpider, values)
        folder = str(tmp_path / "out") if out == "" else out
        spider = NewsSpider.from_crawler(crawler, source=source, start=start, end=end, out=folder, sources=str(sources))
        crawler.spider = spider
        crawler.stats = MemoryStatsCollector(crawler)
        return spider

    return make


def stats(spider: NewsSpider) -> dict:
    return {k: v for k, v in spider.crawler.stats.get_stats().items() if k.startswith("news/")}


def document(spider: NewsSpider, body: bytes, origin: str = "sitemap", depth: int = 0, flags=(), at: str = "",
             status: int = 200, headers=None) -> list:  # fmt: skip
    request = Request(at or f"{BASE}/sitemap.xml", meta={"origin": origin, "depth_level": depth})
    response = XmlResponse(request.url, status=status, body=body, request=request, flags=list(flags),
                           headers=headers)  # fmt: skip
    return list(spider.parse_document(response))


def outcome(results: list) -> list[tuple[str, str | None]]:
    """(URL, reject reason or None for a request) of what the spider gave, in order."""
    return [(r.url, r.reason if hasattr(r, "reason") else None) for r in results]


def test_the_window_and_its_usage_errors(spider_for, tmp_path):
    spider = spider_for()
    assert (spider._from, spider._to) == (FROM, TO)
    assert spider.allowed_domains == ["news.example.org"]
    with pytest.raises(ValueError, match="^usage: scrapy crawl news -a source=NAME -a start=YYYY-MM-DD -a end="):
        spider_for(end="")
    with pytest.raises(ValueError, match="usage"):
        spider_for(start="")
    with pytest.raises(ValueError, match="usage"):
        spider_for(source="")
    with pytest.raises(ValueError, match="^empty window: end 2025-06-02 must be after start 2025-06-02$"):
        spider_for(end="2025-06-02")
    with pytest.raises(ValueError, match="empty window"):
        spider_for(end="2025-06-01")
    two = spider_for(end="2025-06-04")
    assert (two.window_start.isoformat(), two.window_end.isoformat()) == ("2025-06-02", "2025-06-04")
    assert two._to == datetime(2025, 6, 4, tzinfo=UTC)


def test_the_spider_hands_the_window_and_output_to_the_other_components(spider_for, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    for stale in ("index.jsonl.gz", "summary.json", "validators.json.gz", "sites.jsonl.gz", "part-00000.warc.gz",
                  "part-00007.warc.gz", "keep.txt"):  # fmt: skip
        (out / stale).write_text("old")
    spider = spider_for(out=str(out))
    s = spider.crawler.settings
    assert s.get("NEWS_OUT") == str(out) and s.get("NEWS_OUT_DIR") == str(out.resolve())
    assert (s.get("NEWS_SOURCE_NAME"), s.get("NEWS_WINDOW_START"), s.get("NEWS_WINDOW_END")) == (
        "daily",
        "2025-06-02",
        "2025-06-03",
    )
    assert s.getlist("NEWS_ALLOWED_DOMAINS") == ["news.example.org"]
    assert s.getlist("NEWS_CONFIGURED_HOSTS") == ["news.example.org"]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # a re-run replaces the previous output
    assert s.getpriority("NEWS_WINDOW_START") == s.getpriority("NEWS_OUT") == 30  # "spider" priority
    assert s.getbool("AUTOTHROTTLE_ENABLED") is True and s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
    fast = spider_for(out=str(tmp_path / "new" / "dir"), NEWS_POLITE=False).crawler.settings
    assert (tmp_path / "new" / "dir").is_dir()
    assert (fast.getbool("AUTOTHROTTLE_ENABLED"), fast.getfloat("DOWNLOAD_DELAY"),
            fast.getbool("RANDOMIZE_DOWNLOAD_DELAY"), fast.getfloat("RETRY_BACKOFF_BASE"),
            fast.getint("CONCURRENT_REQUESTS_PER_DOMAIN")) == (False, 0, False, 0, 16)  # fmt: skip
    local = tmp_path / "staging"
    s3 = spider_for(out="s3://bucket/raw/daily", NEWS_LOCAL_DIR=str(local)).crawler.settings
    assert s3.get("NEWS_UPLOAD_URL") == "s3://bucket/raw/daily" and s3.get("NEWS_OUT_DIR") == str(local.resolve())
    assert spider_for(out=str(out)).crawler.settings.get("NEWS_UPLOAD_URL") is None


def test_the_default_output_folder_is_out_source_start(spider_for, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spider = spider_for(out=None)
    assert spider.out == "out/daily/2025-06-02" and (tmp_path / "out" / "daily" / "2025-06-02").is_dir()


# -- documents: which are asked for ----------------------------------------------------------------------------------


def test_a_document_request_is_a_bounded_priority_request(spider_for):
    spider = spider_for(DOWNLOAD_MAXSIZE=12345)
    request = spider._document_request(f"{BASE}/sitemap.xml", "robots", 2)
    assert request.url == f"{BASE}/sitemap.xml" and request.priority == 5
    assert request.callback == spider.parse_document and request.errback == spider.document_error
    assert request.meta == {"origin": "robots", "depth_level": 2, PREFIX: 12345, "handle_httpstatus_list": [304]}
    assert spider._document_request(f"{BASE}/sitemap.xml?utm_source=x", "sitemap", 0) is None  # seen
    assert stats(spider) == {}
    assert spider._document_request(f"{BASE}/sitemap.xml", "sitemap-child", 1) is None
    assert stats(spider) == {"news/discovery_errors/sitemap_loop": 1}


def test_a_previous_crawls_validators_make_a_conditional_request(spider_for, tmp_path):
    path = tmp_path / "validators.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump({f"{BASE}/sitemap.xml": {"etag": '"v1"'}}, fh)
    spider = spider_for(NEWS_VALIDATORS_FILE=str(path))
    assert spider._document_request(f"{BASE}/sitemap.xml", "sitemap", 0).headers.get("If-None-Match") == b'"v1"'


def test_the_url_length_limit_of_documents(spider_for):
    spider = spider_for(URLLENGTH_LIMIT=40)
    exact = f"{BASE}/s.xml?" + "x" * (40 - len(BASE) - 7)
    assert len(exact) == 40 and spider._document_request(exact, "sitemap", 0) is not None
    assert spider._document_request(exact + "y", "sitemap", 0) is None
    assert stats(spider) == {"news/discovery_errors/url_too_long": 1}


def test_at_most_max_documents_are_asked_for(spider_for):
    spider = spider_for(NEWS_MAX_DOCUMENTS=3)
    asked = [spider._document_request(f"{BASE}/s{i}.xml", "sitemap", 0) for i in range(5)]
    assert [r is not None for r in asked] == [True, True, True, False, False]
    assert stats(spider) == {"news/discovery_errors/too_many_documents": 2}


def test_the_sitemap_depth_is_bounded(spider_for):
    spider = spider_for(NEWS_SITEMAP_MAX_DEPTH=2)
    body = index(("/child-a.xml", None), ("/child-b.xml", "2025-06-02"))
    got = document(spider, body, depth=1)
    assert [(r.url, r.meta["depth_level"], r.meta["origin"]) for r in got] == [
        (f"{BASE}/child-a.xml", 2, "sitemap-child"),
        (f"{BASE}/child-b.xml", 2, "sitemap-child"),
    ]
    assert document(spider, body, depth=2, at=f"{BASE}/deeper.xml") == []
    assert stats(spider)["news/discovery_errors/sitemap_too_deep"] == 1
    default = spider_for()
    assert len(document(default, body, depth=3)) == 2
    assert document(default, body, depth=4, at=f"{BASE}/x.xml") == []


def test_index_children_older_than_the_window_offsite_or_seen_are_not_asked_for(spider_for):
    spider = spider_for()
    body = index(("/old.xml", "2025-06-01T23:59:59Z"), ("/edge.xml", "2025-06-02T00:00:00Z"), ("/undated.xml", None),
                 ("/future.xml", "2025-07-01"))  # fmt: skip
    body = body.replace(b"</sitemapindex>", b"<sitemap><loc>http://elsewhere.org/s.xml</loc></sitemap>"
                        b"<sitemap><loc>http://127.0.0.1/s.xml</loc></sitemap></sitemapindex>")  # fmt: skip
    got = document(spider, body, origin="robots")
    assert [(r.url, r.meta["origin"]) for r in got] == [
        (f"{BASE}/edge.xml", "robots-child"), (f"{BASE}/undated.xml", "robots-child"),
        (f"{BASE}/future.xml", "robots-child")]  # fmt: skip
    assert stats(spider) == {"news/documents": 1, "news/sitemaps_skipped_old": 1,
                             "news/discovery_errors/offsite_sitemap": 2}  # fmt: skip
    # a child already asked for: a loop (robots children count it here, sitemap children in _document_request)
    assert document(spider, index(("/edge.xml", None)), origin="robots-child", at=f"{BASE}/i2.xml") == []
    assert stats(spider)["news/discovery_errors/sitemap_loop"] == 1
    assert document(spider, index(("/edge.xml", None)), origin="sitemap", at=f"{BASE}/i3.xml") == []
    assert stats(spider)["news/discovery_errors/sitemap_loop"] == 2
    nested = document(spider, index(("/n.xml", None)), origin="sitemap-child", depth=1, at=f"{BASE}/i4.xml")
    assert [(r.meta["origin"], r.meta["depth_level"]) for r in nested] == [("sitemap-child", 2)]
    unnamed = document(spider, index(("/u.xml", None)), origin="", at=f"{BASE}/i5.xml")
    assert [r.meta["origin"] for r in unnamed] == ["sitemap-child"]


def test_an_index_past_the_entry_limit_counts_the_children_it_drops(spider_for):
    spider = spider_for(NEWS_MAX_ENTRIES=2)
    got = document(spider, index(("/1.xml", None), ("/2.xml", None), ("/3.xml", None), ("/4.xml", None)))
    assert [r.url for r in got] == [f"{BASE}/1.xml", f"{BASE}/2.xml"]
    assert stats(spider)["news/discovery_errors/sitemaps_over_entry_limit"] == 2
    assert stats(spider)["news/discovery_errors/truncated"] == 1


# -- documents: what is read of them -------------------------------------------------------------------------------


def test_a_gzipped_sitemap_is_bounded_by_download_maxsize(spider_for):
    xml = urlset(url("/a/early"), url("/a/late"))
    spider = spider_for(DOWNLOAD_MAXSIZE=xml.index(b"</url>") + 9)  # cut after the first entry, in "<url>"
    got = document(spider, gzip.compress(xml), at=f"{BASE}/sitemap.xml.gz")
    assert outcome(got) == [(f"{BASE}/a/early", None)]
    assert stats(spider)["news/discovery_errors/truncated"] == 1
    assert spider._revisits.current == {}  # a cut document's entries are not replayed by the next crawl
    whole = spider_for(DOWNLOAD_MAXSIZE=len(xml))
    got = document(whole, gzip.compress(xml), at=f"{BASE}/sitemap.xml.gz")
    assert outcome(got) == [(f"{BASE}/a/early", None), (f"{BASE}/a/late", None)]
    assert "news/discovery_errors/truncated" not in stats(whole)


def test_a_gzip_stream_cut_short_gives_its_whole_entries_only(spider_for, caplog):
    xml = urlset(url("/a/early"), url("/a/late-story-with-a-long-name"))
    packed = gzip.compress(xml, 1)
    for keep in range(len(packed) - 30, len(packed) - 8):  # the deflate data ends inside the second entry or after
        spider = spider_for()
        with caplog.at_level("WARNING"):
            got = document(spider, packed[:keep], at=f"{BASE}/sitemap.xml.gz")
        assert outcome(got) in ([(f"{BASE}/a/early", None)], [(f"{BASE}/a/early", None),
                                (f"{BASE}/a/late-story-with-a-long-name", None)])  # fmt: skip
        assert stats(spider)["news/discovery_errors/truncated"] == 1
    assert caplog.records[-1].getMessage() == (
        f"discovery document {BASE}/sitemap.xml.gz truncated at its end (a gzip stream cut short)")


def test_a_bad_gzip_is_counted_and_read_no_further(spider_for):
    spider = spider_for()
    assert document(spider, b"\x1f\x8b\x08 broken") == []
    assert stats(spider) == {"news/documents": 1, "news/discovery_errors/bad_gzip": 1}


def test_a_document_cut_at_download_maxsize_is_counted_truncated(spider_for):
    spider = spider_for()
    xml = urlset(url("/a/one"), url("/a/two"))
    got = document(spider, xml, flags=["download_stopped"], headers={"ETag": '"e"'})
    assert [u for u, _ in outcome(got)] == [f"{BASE}/a/one", f"{BASE}/a/two"]
    assert stats(spider)["news/discovery_errors/truncated"] == 1
    assert spider._revisits.current == {}
    other = spider_for()
    document(other, xml, flags=["cached"], headers={"ETag": '"e"'})
    assert "news/discovery_errors/truncated" not in stats(other)
    assert other._revisits.current[f"{BASE}/sitemap.xml"]["entries"] == [
        [f"{BASE}/a/one", "2025-06-02T09:00:00+00:00", False, False, "sitemap"],
        [f"{BASE}/a/two", "2025-06-02T09:00:00+00:00", False, False, "sitemap"]]  # fmt: skip


def test_entries_past_the_entry_limit_are_indexed_not_fetched(spider_for):
    spider = spider_for(NEWS_MAX_ENTRIES=2)
    got = document(spider, urlset(url("/a/1"), url("/a/2"), url("/a/3"), url("/a/old", "2025-05-01")),
                   headers={"ETag": '"e"'})  # fmt: skip
    assert outcome(got) == [(f"{BASE}/a/1", None), (f"{BASE}/a/2", None), (f"{BASE}/a/3", "entry_limit"),
                            (f"{BASE}/a/old", "out_of_window")]  # fmt: skip
    assert got[2].discovered_by == "sitemap"
    assert stats(spider)["news/discovery_errors/truncated"] == 1
    assert stats(spider)["news/in_window"] == 3
    assert spider._revisits.current == {}


def test_an_unusable_document_is_counted_and_yields_nothing(spider_for):
    spider = spider_for()
    assert document(spider, b"<html><p>moved</p></html>") == []
    assert stats(spider) == {"news/documents": 1, "news/discovery_errors/not_a_feed_or_sitemap": 1}
    broken = urlset(url("/a/one")).replace(b"</urlset>", b"<url><loc>")
    got = document(spider, broken, at=f"{BASE}/other.xml", headers={"ETag": '"e"'})
    assert [u for u, _ in outcome(got)] == [f"{BASE}/a/one"]
    assert stats(spider)["news/discovery_errors/malformed_xml"] == 1
    assert spider._revisits.current == {}  # a malformed document is always fetched again


def test_a_not_modified_document_replays_its_entries_for_this_window(spider_for, tmp_path):
    path = tmp_path / "validators.json.gz"
    entries = [[f"{BASE}/a/new", "2025-06-02T09:00:00+00:00", True, True, "news-sitemap"],
               [f"{BASE}/a/old", "2025-05-30T09:00:00+00:00", True, False, "sitemap"],
               [f"{BASE}/a/bad", "not a date", False, False, "rss"],
               [f"{BASE}/a/none", None, False, False, "atom"]]  # fmt: skip
    with gzip.open(path, "wt") as fh:
        json.dump({f"{BASE}/sitemap.xml": {"etag": '"e"', "entries": entries}}, fh)
    spider = spider_for(NEWS_VALIDATORS_FILE=str(path))
    got = document(spider, b"", status=304)
    assert outcome(got) == [(f"{BASE}/a/new", None), (f"{BASE}/a/old", "out_of_window"), (f"{BASE}/a/bad", None),
                            (f"{BASE}/a/none", None)]  # fmt: skip
    assert [r.meta[ARTICLE][1:] for r in (got[0], got[2], got[3])] == [
        ("news-sitemap", IN, True),
        ("rss", None, False),
        ("atom", None, False),
    ]
    assert stats(spider)["news/not_modified"] == 1 and "news/documents" not in stats(spider)
    assert spider._revisits.current[f"{BASE}/sitemap.xml"]["entries"] == entries


def test_discovered_by_names_the_path(spider_for):
    spider = spider_for()
    news_ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    body = urlset(url("/a/n", news="2025-06-02T08:00:00Z"), url("/a/s"))
    body = body.replace(b'0.9"', b'0.9"' + news_ns.encode(), 1)
    got = document(spider, body, origin="robots-child")
    assert [r.meta[ARTICLE][1] for r in got] == ["news-sitemap", "robots-sitemap"]
    rss = b"<rss><channel><item><link>%s/a/r</link></item></channel></rss>" % BASE.encode()
    assert [r.meta[ARTICLE][1] for r in document(spider, rss, origin="feed", at=f"{BASE}/feed.xml")] == ["rss"]
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="%s/a/t"/></entry></feed>' % BASE.encode()
    assert [r.meta[ARTICLE][1] for r in document(spider, atom, origin="feed", at=f"{BASE}/atom.xml")] == ["atom"]
    plain = document(spider, urlset(url("/a/p")), origin="sitemap", at=f"{BASE}/p.xml")
    assert [r.meta[ARTICLE][1] for r in plain] == ["sitemap"]


# -- articles: the date window and the other bounds at discovery -----------------------------------------------------


def consider(spider: NewsSpider, path: str, hint: datetime | None = None, published: bool = False, **kw) -> list:
    return list(spider._consider(Entry(f"{BASE}{path}" if path.startswith("/") else path, hint, published), "sitemap",
                                 **kw))  # fmt: skip


@pytest.mark.parametrize(
    ("hint", "published", "reason"),
    [
        (None, False, None),
        (FROM, True, None),
        (FROM, False, None),
        (datetime(2025, 6, 1, 23, 59, 59, tzinfo=UTC), True, "out_of_window"),
        (datetime(2025, 6, 1, 23, 59, 59, tzinfo=UTC), False, "out_of_window"),  # modified before: not new
        (datetime(2025, 6, 2, 23, 59, 59, tzinfo=UTC), True, None),
        (TO, True, "out_of_window"),  # published the day after: half-open window
        (TO, False, None),  # modified after the window: may have been published in it
        (datetime(2025, 7, 1, tzinfo=UTC), False, None),
    ],
)
def test_the_date_window_at_discovery(spider_for, hint, published, reason):
    spider = spider_for()
    got = consider(spider, "/a/x", hint, published)
    assert outcome(got) == [(f"{BASE}/a/x", reason)]
    if reason:
        assert got[0].date_hint == hint.strftime("%Y-%m-%dT%H:%M:%SZ") and got[0].date_hint_is_published is published
        assert got[0].canonical_url == f"{BASE}/a/x" and got[0].discovered_by == "sitemap"
        assert "news/in_window" not in stats(spider)
    else:
        assert got[0].meta == {ARTICLE: (f"{BASE}/a/x", "sitemap", hint, published)}
        assert got[0].callback == spider.parse_article and got[0].errback == spider.article_error
        assert stats(spider)["news/in_window"] == 1
    assert stats(spider)["news/discovered"] == 1


def test_out_of_window_entries_are_only_counted_when_not_indexed(spider_for):
    spider = spider_for(NEWS_INDEX_OUT_OF_WINDOW=False)
    assert consider(spider, "/a/x", datetime(2025, 5, 1, tzinfo=UTC), True) == []
    assert stats(spider) == {"news/discovered": 1, "news/rejected/out_of_window": 1}


def test_an_entry_is_considered_once_by_its_url_without_tracking(spider_for):
    spider = spider_for()
    assert len(consider(spider, "/a/x?utm_source=feed")) == 1
    assert consider(spider, "/a/x") == []
    assert consider(spider, "/a/x?utm_medium=y", IN, True) == []
    assert stats(spider) == {"news/discovered": 1, "news/in_window": 1, "news/duplicates": 2}


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("http://elsewhere.org/a/x", "offsite"),
        ("http://news.example.org.evil.org/a/x", "offsite"),
        (f"{BASE}/a/private/x", "denied_pattern"),
        (f"{BASE}/about", "not_article_pattern"),
        (f"{BASE}/a/ok", None),
        ("http://sub.news.example.org/a/ok", None),
    ],
)
def test_what_is_not_fetched_and_why(spider_for, where, reason):
    spider = spider_for()
    assert outcome(consider(spider, where, IN, True)) == [(where, reason)]


def test_the_url_length_limit_of_articles(spider_for):
    spider = spider_for(URLLENGTH_LIMIT=60)
    exact = f"{BASE}/a/" + "x" * (60 - len(BASE) - 3)
    assert len(exact) == 60
    assert outcome(consider(spider, exact)) == [(exact, None)]
    assert outcome(consider(spider, exact + "y")) == [(exact + "y", "url_too_long")]


def test_a_private_address_is_refused_unless_it_is_a_configured_host(spider_for):
    spider = spider_for("local")
    assert spider._allowed_host("http://127.0.0.1:8080/s.xml") is True  # configured: the sitemap's host
    assert spider._allowed_host("http://localhost/s.xml") is True
    assert spider._allowed_host("http://news.localhost/s.xml") is False  # allowed domain, private, not configured
    assert spider._allowed_host("http://elsewhere.org/s.xml") is False
    assert outcome(consider(spider, "http://127.0.0.1:8080/a", IN, True)) == [("http://127.0.0.1:8080/a", None)]
    assert outcome(consider(spider, "http://news.localhost/a", IN, True)) == [("http://news.localhost/a",
                                                                               "blocked_address")]  # fmt: skip
    assert spider_for()._allowed_host(f"{BASE}/s.xml") is True


def test_an_entry_captured_on_an_earlier_day_is_skipped_unless_modified_since(spider_for, tmp_path):
    path = tmp_path / "index.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for name in ("kept", "edited", "published"):
            line = {"url": f"{BASE}/a/{name}", "canonical_url": f"{BASE}/a/{name}", "warc_file": "p",
                    "content_hash": f"h{name}", "fetched_at": "2025-06-02T10:00:00Z"}  # fmt: skip
            fh.write(json.dumps(line) + "\n")
    spider = spider_for(NEWS_DEDUP_INDEXES=[str(path)])
    assert outcome(consider(spider, "/a/kept", None)) == [(f"{BASE}/a/kept", "captured_earlier")]
    later = datetime(2025, 6, 2, 11, tzinfo=UTC)
    assert outcome(consider(spider, "/a/edited?utm_source=x", later, False)) == [(f"{BASE}/a/edited?utm_source=x",
                                                                                  None)]  # fmt: skip
    # a publication date is not a modification: captured, and not fetched again
    assert outcome(consider(spider, "/a/published", later, True)) == [(f"{BASE}/a/published", "captured_earlier")]
    assert stats(spider)["news/in_window"] == 1


def test_an_entry_archived_is_not_asked_of_the_live_site(spider_for):
    spider = spider_for()
    capture = Candidate(f"{BASE}/a/x", "wayback", "2025-06-02T09:00:00Z",
                        f"http://web.archive.org/web/20250602090000id_/{BASE}/a/x")  # fmt: skip
    spider._candidates = [capture]
    spider._archived.add(discovery_digest(f"{BASE}/a/x"))
    assert consider(spider, "/a/x?utm_source=y", IN, True) == []
    assert stats(spider) == {"news/archive/live_skipped": 1}
    got = consider(spider, f"{BASE}/a/x", None, archive=capture)
    assert [
        (
            r.url,
            r.meta[ARCHIVE],
            r.meta["autothrottle_dont_adjust_delay"],
            RANGE in r.meta,
            r.dont_filter,
            r.headers.get("Range"),
        )
        for r in got
    ] == [(capture.archive_url, ("wayback", capture.captured_at, capture.archive_url), True, False, False, None)]
    assert got[0].meta[ARTICLE] == (f"{BASE}/a/x", "sitemap", None, False)
    assert outcome(consider(spider, "/a/other", IN, True)) == [(f"{BASE}/a/other", None)]  # not archived: live
    ranged = Candidate(f"{BASE}/a/cc", "commoncrawl", "2025-06-02T09:00:00Z", "https://data.example/f.warc.gz", 100, 50)
    got = consider(spider, f"{BASE}/a/cc", None, archive=ranged)
    assert got[0].headers.get("Range") == b"bytes=100-149" and got[0].meta[RANGE] is True and got[0].dont_filter
    zero = Candidate(f"{BASE}/a/z", "commoncrawl", "2025-06-02T09:00:00Z", "https://data.example/f.warc.gz", 100, 0)
    got = consider(spider, f"{BASE}/a/z", None, archive=zero)
    assert got[0].headers.get("Range") is None and RANGE not in got[0].meta and not got[0].dont_filter


def discovery_digest(url: str) -> int:
    from spiders.dedup import digest

    return digest(url)


def test_entries_are_fetched_as_articles_not_as_documents(spider_for):
    spider = spider_for()
    got = document(spider, urlset(url("/a/1")), headers={"ETag": '"e"'})
    assert isinstance(got[0], Request) and not isinstance(got[0], HtmlResponse)
    assert got[0].priority == 0 and got[0].meta[ARTICLE][0] == f"{BASE}/a/1"
    assert stats(spider) == {"news/documents": 1, "news/discovered": 1, "news/in_window": 1}


# -- a truncated document: the entry open at the cut is dropped -------------------------------------------------------


def _cuts(xml: bytes, marker: bytes) -> list[int]:
    """Every cut from inside the entry holding `marker` to just before its end tag."""
    start = xml.index(marker)
    return list(range(xml.rindex(b"<url>", 0, start) + 1, xml.index(b"</url>", start) + 5))


def test_a_sitemap_cut_inside_an_entry_never_yields_a_partial_url(spider_for):
    xml = urlset(url("/a/early"), url("/a/late"))
    for cut in _cuts(xml, b"/a/late"):
        spider = spider_for()
        got = document(spider, xml[:cut], flags=["download_stopped"])
        assert outcome(got) == [(f"{BASE}/a/early", None)], (cut, xml[:cut][-30:])
        assert stats(spider)["news/discovery_errors/truncated"] == 1


def test_a_gzipped_sitemap_cut_at_the_bound_inside_an_entry_never_yields_a_partial_url(spider_for):
    xml = urlset(url("/a/early"), url("/a/late"))
    for cut in _cuts(xml, b"/a/late")[::3]:
        spider = spider_for(DOWNLOAD_MAXSIZE=cut)
        got = document(spider, gzip.compress(xml), at=f"{BASE}/sitemap.xml.gz")
        assert outcome(got) == [(f"{BASE}/a/early", None)], (cut, xml[:cut][-30:])


def test_a_truncated_index_asks_for_no_partial_child(spider_for):
    xml = index(("/s1.xml", None), ("/s2-long-name.xml", None))
    cut = xml.index(b"s2-long") + 3
    got = document(spider_for(), xml[:cut], flags=["download_stopped"])
    assert [r.url for r in got] == [f"{BASE}/s1.xml"]


def test_a_truncated_feed_keeps_its_complete_items_only():
    rss = b"<rss><channel><item><link>%s/a/1</link></item><item><link>%s/a/2-partial" % (BASE.encode(), BASE.encode())
    assert [e.url for e in parse_document(rss, BASE, truncated=True).entries] == [f"{BASE}/a/1"]
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="/a/1"/></entry><entry><link href="/a/2'
    assert [e.url for e in parse_document(atom, BASE, truncated=True).entries] == [f"{BASE}/a/1"]
    # not a single complete entry: none, but the kind of document is still known
    doc = parse_document(b"<urlset><url><loc>http://x.org/a/partial", BASE, truncated=True)
    assert (doc.kind, doc.entries) == ("sitemap", [])
    # a document not known to be truncated is read as before, open entries included
    assert len(parse_document(rss, BASE).entries) == 2


# -- what the spider hands on, exactly ---------------------------------------------------------------------------------

POLITE_SOURCES = f"""
sources:
  - name: polite
    sitemaps: ["{BASE}/sitemap.xml"]
    allowed_domains: ["news.example.org"]
    politeness: {{download_delay: 3, concurrency: 4}}
"""


def test_the_sources_politeness_and_the_run_settings_are_set_at_spider_priority(spider_for, tmp_path):
    (tmp_path / "sources.yaml").write_text(POLITE_SOURCES)
    s = spider_for("polite").crawler.settings
    assert (s.getfloat("DOWNLOAD_DELAY"), s.getint("CONCURRENT_REQUESTS_PER_DOMAIN")) == (3.0, 4)
    assert s.getpriority("DOWNLOAD_DELAY") == s.getpriority("CONCURRENT_REQUESTS_PER_DOMAIN") == 30
    fast = spider_for("polite", NEWS_POLITE=False).crawler.settings
    assert fast.getfloat("DOWNLOAD_DELAY") == 0 and fast.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 16
    assert fast.getpriority("DOWNLOAD_DELAY") == fast.getpriority("AUTOTHROTTLE_ENABLED") == 30
    s3 = spider_for("polite", out="s3://bucket/raw/polite", NEWS_LOCAL_DIR=str(tmp_path / "l")).crawler.settings
    assert s3.getpriority("NEWS_UPLOAD_URL") == 30


def test_an_s3_run_stages_in_a_temporary_folder_named_after_its_source(spider_for):
    import shutil
    from pathlib import Path

    from spiders.robots import RobotsTxt

    spider = spider_for(out="s3://bucket/raw/daily")
    staging = Path(spider.crawler.settings.get("NEWS_OUT_DIR"))
    try:
        assert staging.name.startswith("news-daily-") and staging.is_dir()
        assert spider._robots is RobotsTxt.for_crawler(spider.crawler)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def test_relative_locations_are_read_against_the_documents_url(spider_for):
    got = document(spider_for(), urlset("<url><loc>/a/rel</loc></url>"), at=f"{BASE}/maps/sitemap.xml")
    assert outcome(got) == [(f"{BASE}/a/rel", None)]


def test_what_is_logged_of_a_cut_or_unusable_document(spider_for, caplog):
    spider = spider_for(NEWS_MAX_ENTRIES=1)
    with caplog.at_level("WARNING"):
        document(spider, urlset(url("/a/1"), url("/a/2")), at=f"{BASE}/one.xml")
        document(spider, urlset(url("/a/3")), flags=["download_stopped"], at=f"{BASE}/two.xml")
        document(spider, b"<html/>", at=f"{BASE}/three.xml")
    assert [r.getMessage() for r in caplog.records] == [
        f"discovery document {BASE}/one.xml truncated at its entry limit",
        f"discovery document {BASE}/two.xml truncated at its size limit",
        f"unusable discovery document {BASE}/three.xml: not_a_feed_or_sitemap",
    ]


def test_a_document_without_depth_or_origin_is_a_top_level_sitemap(spider_for):
    spider = spider_for()
    request = Request(f"{BASE}/bare-index.xml")
    body = index(("/c.xml", None))
    got = list(spider.parse_document(XmlResponse(request.url, body=body, request=request)))
    assert [(r.meta["depth_level"], r.meta["origin"]) for r in got] == [(1, "sitemap-child")]
    request = Request(f"{BASE}/bare.xml")
    got = list(spider.parse_document(XmlResponse(request.url, body=urlset(url("/a/b")), request=request)))
    assert [r.meta[ARTICLE][1] for r in got] == ["sitemap"]


def test_a_sitemap_index_keeps_no_validators(spider_for):
    spider = spider_for()
    document(spider, index(("/c.xml", None)), headers={"ETag": '"e"'})
    assert spider._revisits.current == {}  # its children's answers tell what changed, not its own


def test_the_children_of_a_robots_child_index_are_robots_children(spider_for):
    got = document(spider_for(), index(("/deep.xml", None)), origin="robots-child", depth=1)
    assert [(r.meta["origin"], r.meta["depth_level"]) for r in got] == [("robots-child", 2)]


def test_a_reject_names_its_canonical_url_and_how_it_was_found(spider_for, tmp_path):
    path = tmp_path / "index.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps({"url": f"{BASE}/a/old", "warc_file": "p", "fetched_at": "2025-06-02T10:00:00Z"}) + "\n")
    spider = spider_for(NEWS_DEDUP_INDEXES=[str(path)], NEWS_MAX_ENTRIES=1)
    got = document(spider, urlset(url("/a/private/x?utm_source=a"), url("/a/old?utm_source=b", None),
                                  url("/a/late?utm_source=c")))  # fmt: skip
    assert [(r.canonical_url, r.discovered_by, r.reason) for r in got] == [
        (f"{BASE}/a/private/x", "sitemap", "denied_pattern"),
        (f"{BASE}/a/old", "sitemap", "captured_earlier"),
        (f"{BASE}/a/late", "sitemap", "entry_limit"),
    ]


def test_an_archived_capture_is_read_by_the_article_callbacks(spider_for):
    spider = spider_for()
    capture = Candidate(f"{BASE}/a/x", "commoncrawl", "2025-06-02T09:00:00Z", "https://data.example/f.warc.gz", 0, 9)
    (got,) = consider(spider, f"{BASE}/a/x", None, archive=capture)
    assert got.callback == spider.parse_article and got.errback == spider.article_error
    assert got.headers.get("Range") == b"bytes=0-8"


def test_the_inflater_is_never_asked_for_more_than_the_bound_leaves(monkeypatch):
    """The bound holds in memory too: each member is inflated at most to the room left (+1 byte, to tell a cut)."""
    asked = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, **kw):
            self.inner = real(**kw)

        def decompress(self, data, max_length=0):
            asked.append(max_length)
            return self.inner.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(discovery.zlib, "decompressobj", Spy)
    packed = gzip.compress(b"a" * 300) + gzip.compress(b"b" * 5000)
    assert gunzip_bounded(packed, 1000) == (b"a" * 300 + b"b" * 700, True)
    assert asked == [1001, 701]
    asked.clear()
    assert gunzip_bounded(packed, 0) == (b"a" * 300 + b"b" * 5000, False)
    assert asked == [0, 0]
