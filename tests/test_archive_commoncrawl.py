"""Common Crawl: discovery through its index (collinfo.json, a CDX API per crawl read by page count) and the fetch
of each record by byte range from its WARC file on the moto S3 server, through the news spider."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, date, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from spiders.ccindex import CcIndexClient
from spiders.cdx import UrlRules, capture_window, write_candidates
from spiders.crawl import run_crawl
from spiders.warc import ARCHIVE_HEADER, ARCHIVE_URL_HEADER
from tests.archive_site import ARTICLE_PATTERNS, CommonCrawlSite, demo_captures, write_archive_sources

ANCHOR, START, END = date(2023, 3, 15), date(2023, 3, 13), date(2023, 3, 15)
RULES = UrlRules(("millbrook.example",), (re.compile(ARTICLE_PATTERNS["millbrook"]),))
pytestmark = pytest.mark.timeout(300)


def _window():
    return capture_window(START, END, 7, now=datetime(2026, 1, 1, tzinfo=UTC))


def _in_window(articles) -> set[str]:
    return {u for u, a in articles["millbrook"].items() if START <= a.published.date() < END}


def test_index_pages_by_page_count_and_keeps_article_records(s3_server):
    captures, articles = demo_captures(ANCHOR)
    with CommonCrawlSite(captures, s3_server.endpoint) as cc:
        begin, end = _window()
        found = CcIndexClient(cc.index_url, cc.data_url, delay=0).discover(RULES, begin, end)
    in_capture_window = {u for u, a in articles["millbrook"].items()
                         if begin <= a.published.replace(tzinfo=UTC) < end}  # fmt: skip
    assert {c.url for c in found.candidates} >= _in_window(articles)
    assert {c.url for c in found.candidates} <= set(articles["millbrook"]) and found.complete, found.errors
    assert in_capture_window
    for c in found.candidates:
        assert c.archive == "commoncrawl" and c.archive_url.startswith(cc.data_url + "/crawl-data/")
        assert c.offset is not None and c.length > 0
    paged = [q for q in cc.index_log if "page" in q]
    assert [q for q in cc.index_log if q.get("showNumPages") == "true"] and len(paged) == found.pages >= 2
    assert found.rejected["not_article_pattern"] >= 1


def test_a_window_no_crawl_covers_is_counted(s3_server):
    captures, _ = demo_captures(ANCHOR)
    with CommonCrawlSite(captures, s3_server.endpoint, crawl_from="2024-01-01T00:00:00",
                         crawl_to="2024-01-31T00:00:00") as cc:  # fmt: skip
        found = CcIndexClient(cc.index_url, cc.data_url, delay=0).discover(RULES, *_window())
    assert found.candidates == [] and found.errors == {"no_crawl": 1}


def test_records_are_fetched_by_byte_range_and_bad_ones_counted(s3_server, tmp_path):
    captures, articles = demo_captures(ANCHOR)
    wanted = sorted(_in_window(articles))
    corrupt, failing = wanted[0], wanted[1]
    with CommonCrawlSite(captures, s3_server.endpoint, corrupt={corrupt}, error_status={failing}) as cc:
        found = CcIndexClient(cc.index_url, cc.data_url, delay=0).discover(RULES, *_window())
        path = write_candidates(found.candidates, tmp_path / "c.jsonl")
        sources = write_archive_sources(tmp_path / "sources.yaml", ("commoncrawl",), names=["millbrook"])
        settings = {"NEWS_POLITE": False, "NEWS_ARCHIVE_DELAY": 0, "NEWS_DISCOVER": "archives",
                    "NEWS_ARCHIVE_CANDIDATES": str(path)}  # fmt: skip
        summary = run_crawl("millbrook", START, END, tmp_path / "out", str(sources), settings, timeout=120)
    with gzip.open(tmp_path / "out" / "index.jsonl.gz", "rt") as fh:
        index = {e["url"]: e for e in map(json.loads, fh)}
    stored = {u for u, e in index.items() if e["warc_file"]}
    assert stored == set(wanted) - {corrupt, failing}, {u: e["reason"] for u, e in index.items()}
    assert index[corrupt]["reason"] == "archive_corrupt_record"
    assert index[failing]["reason"] == "archive_error_capture"
    assert summary["archive"]["stored"] == len(stored) and summary["archive"]["rejected/archive_corrupt_record"] == 1
    bodies = {c.original: c.body for c in captures}
    for part in (tmp_path / "out").glob("part-*.warc.gz"):
        with open(part, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    assert record.rec_headers.get_header(ARCHIVE_HEADER) == "commoncrawl"
                    assert record.rec_headers.get_header(ARCHIVE_URL_HEADER).startswith(cc.data_url)
                    assert record.content_stream().read() == bodies[url]


def test_a_source_with_both_archives_reads_each_url_from_the_first_it_lists(s3_server, tmp_path, monkeypatch):
    from archive_site import ArchiveSite

    from ingest import archives
    from newsconfig.sources import load_sources
    from spiders.cdx import read_candidates

    captures, articles = demo_captures(ANCHOR)
    only_cc = sorted(_in_window(articles))[0]  # the Wayback fixture lacks one article: Common Crawl has it
    with ArchiveSite([c for c in captures if c.original != only_cc]) as wayback, \
            CommonCrawlSite(captures, s3_server.endpoint) as cc:  # fmt: skip
        for key, value in {**wayback.env(), **cc.env()}.items():
            monkeypatch.setenv(key, value)
        path = write_archive_sources(tmp_path / "s.yaml", ("wayback", "commoncrawl", "cc-news"), ["millbrook"])
        source = load_sources(path)[0]
        listed, summary = archives.discover(source, START, END, tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    candidates = {c.url: c for c in read_candidates(listed)}
    assert _in_window(articles) <= set(candidates)
    assert candidates[only_cc].archive == "commoncrawl" and candidates[only_cc].offset is not None
    assert {c.archive for u, c in candidates.items() if u != only_cc} == {"wayback"}
    assert summary["commoncrawl"]["rejected"]["in_an_earlier_archive"] == summary["wayback"]["candidates"]
    assert summary["cc-news"] == {"errors": {"not_per_day": 1}, "complete": True, "candidates": 0}
