"""Capture: WARC records built by spiders.warc, the writer thread, write errors, and `pages.scan` giving the
same answers as the parser-based `published_date` / `canonical_url`."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from spiders import pages
from spiders.items import PageItem
from spiders.warc import CaptureWriter, RollingWarcWriter, page_records

DAY = date(2025, 3, 10)
pytestmark = pytest.mark.timeout(120)


def make_item(i: int, body: bytes | None = None) -> PageItem:
    body = body if body is not None else f"<html><body><p>page {i} {'words ' * (i % 7)}</p></body></html>".encode()
    return PageItem(
        url=f"http://news.example.org/a/{i}?x=1",
        discovered_by="sitemap",
        canonical_url=f"http://news.example.org/a/{i}?x=1",
        status=200,
        content_hash=hashlib.sha256(body).hexdigest(),
        fetched_at="2025-03-10T09:00:00Z",
        body=body,
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),  # dropped: the stored body is decoded
            ("Content-Length", "1"),  # replaced by the stored body's length
            ("X-Raw", "caf\xe9"),  # latin-1 from the wire: stored as the same byte
        ],
        request_headers=[("User-Agent", "news-ingest/0.1"), ("Host", "ignored.example.org")],
    )


def read_records(path: Path) -> list[tuple[int, object, bytes]]:
    """(offset, record, content) of every record, digests verified."""
    out = []
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh, check_digests="raise")
        for record in records:
            out.append((records.get_record_offset(), record, record.content_stream().read()))
    return out


def test_records_are_valid_warc_with_digests_and_exact_offsets(tmp_path):
    writer = RollingWarcWriter(tmp_path, max_bytes=1500)
    items = [make_item(i) for i in range(12)]
    written = [writer.write(item) for item in items]
    writer.close()
    assert len(writer.files) > 2  # rolled past max_bytes
    for item, (name, offset) in zip(items, written, strict=True):
        with open(tmp_path / name, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, check_digests="raise")))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == item.url
            assert record.rec_headers.get_header("WARC-Date") == "2025-03-10T09:00:00Z"
            assert record.http_headers.get_statuscode() == "200"
            assert record.http_headers.get_header("Content-Length") == str(len(item.body))
            assert record.http_headers.get_header("Content-Encoding") is None
            assert record.http_headers.get_header("X-Raw") == "caf\xe9"
            assert record.content_stream().read() == item.body
    pairs = [r for f in writer.files for r in read_records(tmp_path / f)]
    assert [r.rec_type for _, r, _ in pairs] == ["response", "request"] * len(items)
    for (_, response, _), (_, request, _) in zip(pairs[::2], pairs[1::2], strict=True):
        assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header("WARC-Record-ID")
        assert request.http_headers.protocol == "GET"
        assert request.http_headers.get_header("Host") == "news.example.org"


def test_a_non_ascii_url_does_not_break_the_request_record(tmp_path):
    item = make_item(1)
    item.url = "http://news.example.org/a/caf\xe9"
    response, request = page_records(item, "2025-03-10T09:00:00Z")
    assert b"GET /a/caf%C3%A9 HTTP/1.1" in b"".join(request)  # where warcio's writer raised


@pytest.mark.parametrize("thread_from", [None, 0, 3000])
def test_capture_writer_writes_pages_and_lines_in_order(tmp_path, thread_from):
    """Inline, every page on the thread, and mixed (large pages on the thread): the same index."""
    writer = CaptureWriter(
        tmp_path,
        max_bytes=20_000,
        index_path=tmp_path / "index.jsonl.gz",
        thread=thread_from is not None,
        thread_from=thread_from or 0,
        queue_bytes=10_000,  # smaller than a few pages: the submitter waits for room
    )
    expected = []
    for i in range(60):
        if i % 5 == 4:
            line = make_item(i).reject("no_date").index_line()
            writer.line(line)
        else:
            item = make_item(i, b"<p>" + bytes(range(256)) * (i % 3 * 8 + 1) + b"</p>")
            line = item.index_line()
            writer.page(line, page_records(item, item.fetched_at), len(item.body))
        expected.append(line["url"])
    writer.close()
    with gzip.open(tmp_path / "index.jsonl.gz", "rt") as fh:
        index = [json.loads(line) for line in fh]
    assert [e["url"] for e in index] == expected
    assert writer.failed == 0 and len(writer.warc.files) > 1
    for entry in index:
        if entry["reason"]:
            assert entry["warc_file"] is None and entry["warc_offset"] is None
            continue
        with open(tmp_path / entry["warc_file"], "rb") as fh:
            fh.seek(entry["warc_offset"])
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            assert hashlib.sha256(record.content_stream().read()).hexdigest() == entry["content_hash"]


@pytest.mark.parametrize("thread", [False, True])
def test_a_write_error_is_counted_and_indexed_and_the_crawl_goes_on(tmp_path, thread, caplog):
    writer = CaptureWriter(tmp_path, 1 << 20, tmp_path / "index.jsonl.gz", thread=thread, thread_from=0)
    real = writer.warc.write_records
    calls = []

    def flaky(*members: bytes) -> tuple[str, int]:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*members)

    writer.warc.write_records = flaky  # type: ignore[method-assign]
    items = [make_item(i) for i in range(4)]
    for item in items:
        writer.page(item.index_line(), page_records(item, item.fetched_at), len(item.body))
    writer.close()
    assert (writer.failed, writer.failed_pages, writer.failed_bytes) == (1, 1, len(items[1].body))
    assert "No space left on device" in caplog.text
    with gzip.open(tmp_path / "index.jsonl.gz", "rt") as fh:
        index = [json.loads(line) for line in fh]
    assert [e["reason"] for e in index] == [None, "capture_error", None, None]
    assert index[1]["warc_file"] is None and index[1]["warc_offset"] is None
    stored = [e for e in index if e["warc_file"]]
    assert len(stored) == 3
    for entry in stored:
        with open(tmp_path / entry["warc_file"], "rb") as fh:
            fh.seek(entry["warc_offset"])
            assert next(iter(ArchiveIterator(fh))).rec_headers.get_header("WARC-Target-URI") == entry["url"]


def test_capture_pipeline_reports_write_errors_in_the_stats(tmp_path):
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from spiders.pipelines import CapturePipeline

    crawler = get_crawler(settings_dict={"NEWS_OUT_DIR": str(tmp_path), "NEWS_WARC_MAX_BYTES": 1 << 20})
    crawler.stats = MemoryStatsCollector(crawler)
    pipeline = CapturePipeline.from_crawler(crawler)

    def broken(*members: bytes) -> tuple[str, int]:
        raise OSError(5, "Input/output error")

    pipeline.writer.warc.write_records = broken  # type: ignore[method-assign]
    pipeline.process_item(make_item(1))
    pipeline.process_item(make_item(2).reject("duplicate"))
    pipeline.close_spider()
    stats = crawler.stats.get_stats()
    assert stats["news/stored"] == 0 and stats["news/bytes"] == 0
    assert stats["news/rejected/capture_error"] == 1
    assert stats["news/rejected/duplicate"] == 1


def test_crawl_with_every_page_on_the_writer_thread(tmp_path):
    """The fixture site crawled with all pages handed to the writer thread: exact offsets, same index."""
    from spiders.crawl import run_crawl
    from tests.spider_site import SpiderSite

    # DOWNLOAD_TIMEOUT: a budget no healthy loopback answer reaches on a busy machine (the slow route never answers)
    settings = {"NEWS_POLITE": False, "DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 1, "DOWNLOAD_MAXSIZE": 1 << 20,
                "NEWS_WARC_MAX_BYTES": 4000, "NEWS_CAPTURE_THREAD_FROM": 0,
                "NEWS_CAPTURE_QUEUE_BYTES": 2000}  # fmt: skip
    with SpiderSite(DAY) as site:
        sources = tmp_path / "sources.yaml"
        entry = site.source_entry()
        entry.update(feeds=[f"{site.base}/rss.xml", f"{site.base}/atom.xml"], sitemaps=[])
        sources.write_text(json.dumps({"sources": [entry]}))
        out = tmp_path / "out"
        summary = run_crawl("fixture", DAY, DAY + timedelta(days=1), out, str(sources), settings, timeout=90)
    with gzip.open(out / "index.jsonl.gz", "rt") as fh:
        index = [json.loads(line) for line in fh]
    stored = [e for e in index if e["warc_file"]]
    assert summary["stored"] == len(stored) > 5 and summary["spider_errors"] == 0
    assert "capture_error" not in summary["rejected"]
    assert len({e["warc_file"] for e in stored}) > 1
    for entry in stored:
        with open(out / entry["warc_file"], "rb") as fh:
            fh.seek(entry["warc_offset"])
            record = next(iter(ArchiveIterator(fh, check_digests="raise")))
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            assert hashlib.sha256(record.content_stream().read()).hexdigest() == entry["content_hash"]


# -- pages.scan against the parser -------------------------------------------------------------------------

URL = "https://news.example.org/2025/03/story?id=7&utm_source=x"
META = '<meta property="article:published_time" content="2025-03-10T08:00:00Z">'
SCAN_CASES = {
    "plain meta": f"<html><head>{META}</head><body></body></html>",
    "canonical link": f'<head><link rel="canonical" href="/2025/03/story-c">{META}</head>',
    "offsite canonical, og:url": '<head><link rel="canonical" href="https://other.example.com/x">'
    '<meta property="og:url" content="https://news.example.org/og"></head>',
    "uppercase, unquoted, self-closed": "<HEAD><META PROPERTY=article:published_time "
    "CONTENT=2025-03-09T23:30:00-02:00/><LINK REL=canonical HREF=/c1 /></HEAD>",
    "single quotes, > in a value": "<head><meta content='2025-03-10T01:02:03Z' title='a>b' "
    "property='article:published_time'></head>",
    "first of a repeated attribute": '<head><meta property="x" property="article:published_time" '
    'content="2025-03-10"><meta property="article:published_time" content="2025-03-11"></head>',
    "entities": '<head><meta property="article&#58;published_time" content="2025-03-10T07:00:00&#43;01:00">'
    '<link rel="canonical" href="/c?a=1&amp;b=2"></head>',
    "in a comment": '<head><!-- <meta property="article:published_time" content="2020-01-01"> -->'
    '<meta property="article:published_time" content="2025-03-10"></head>',
    "abrupt and unterminated comments": '<head><!--><meta name="date" content="2025-03-10">'
    '<!-- <meta property="article:published_time" content="2020-01-01">',
    "in raw text": "<head><title><meta property='article:published_time' content='2020-01-01'></title>"
    '<script>var s = \'<meta property="article:published_time" content="2020-01-01">\';</script>'
    "<style>/* <link rel=canonical href=/bad> */</style><textarea><time datetime=2020-01-01></textarea>"
    '</head><body><time datetime="2025-03-10T06:00:00Z">today</time></body>',
    "noscript is parsed": '<head><noscript><meta name="pubdate" content="2025-03-10"></noscript></head>',
    "plaintext": '<head><meta name="date" content="garbage"></head><body><plaintext>'
    '<meta property="article:published_time" content="2020-01-01">',
    "unparsable then parsable": '<meta property="article:published_time" content="soon">'
    '<meta property="article:published_time" content="2025-03-10T05:00:00Z">',
    "rule order": '<meta name="DC.date.issued" content="2025-01-01"><meta property="og:published_time" '
    'content="2025-02-02"><meta name="dcterms.created" content="2025-03-03">',
    "json-ld": '<script type="application/ld+json">{"@graph": [{"datePublished": "2025-03-10T04:00:00Z"}]}'
    '</script><script type="application/ld&#x2B;json">{"datePublished": "2020-01-01"}</script>',
    "broken json-ld then time": '<script type="application/ld+json">{oops</script>'
    '<article><time datetime="2025-03-10">x</time></article>',
    "meta beats json-ld": f'<script type="application/ld+json">{{"datePublished": "2020-01-01"}}</script>{META}',
    "no date at all": "<html><head><title>t</title></head><body><p>x</p></body></html>",
    "empty canonical": '<link rel="canonical" href="  "><meta property="og:url" content="/og2">',
    "canonical without href": '<link rel="canonical"><link rel="canonical" href="/second">',
    "rel list is not canonical": '<link rel="canonical alternate" href="/no">',
}


@pytest.mark.parametrize("name", sorted(SCAN_CASES))
def test_scan_gives_the_parsers_answers(name):
    body = SCAN_CASES[name].encode()
    sel = Selector(text=body.decode())
    assert pages.scan(body, URL) == (pages.published_date(sel), pages.canonical_url(sel, URL))


@pytest.mark.parametrize(
    "body",
    [
        b'<div itemprop="datePublished" datetime="2025-03-10">x</div>',  # microdata: parser decides
        '<meta property="article:published_time" content="2025-03-10\xa0">'.encode("latin-1"),  # encoding
        META.encode("utf-16"),
        '<script type="application/ld+json">{"datePublished": "2025-03-10", "x": "\xe9"}</script>'.encode("latin-1"),
    ],
)
def test_scan_leaves_to_the_parser_what_it_cannot_be_sure_of(body):
    with pytest.raises(pages.NeedsParse):
        pages.scan(body, URL)
