"""The news spider against a real fixture site on loopback, run as the DAG runs it (`run_crawl`, subprocess).

One crawl of the fixture site (module fixture) covers every discovery path and bad input; the tests read
its summary, index, WARC files and the server's request log.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from spiders.crawl import CrawlError, run_crawl
from tests.spider_site import SpiderSite

DAY = date(2025, 3, 10)
FAST = {
    "NEWS_POLITE": False,
    # A budget, not an idle figure: no healthy answer on loopback takes 5 s, even on a busy machine (at 1 s a
    # loaded CI machine could time out a good page); the slow route never answers at all.
    "DOWNLOAD_TIMEOUT": 5,
    "RETRY_TIMES": 1,
    "DOWNLOAD_MAXSIZE": 1 << 20,
    "NEWS_WARC_MAX_BYTES": 4000,  # small parts, so the crawl rolls over several files
}
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    with SpiderSite(DAY) as site:
        sources = site.write_sources(tmp / "sources.yaml")
        out = tmp / "out"
        summary = run_crawl("fixture", DAY, DAY + timedelta(days=1), out, str(sources), FAST, timeout=90)
        with gzip.open(out / "index.jsonl.gz", "rt") as fh:
            index = [json.loads(line) for line in fh]
        by_path = {e["url"].removeprefix(site.base): e for e in index}
        yield {"site": site, "summary": summary, "index": index, "by_path": by_path, "out": out}


def stored_paths(crawl) -> set[str]:
    return {p for p, e in crawl["by_path"].items() if e["warc_file"]}


def test_summary_keys_and_no_spider_errors(crawl):
    s = crawl["summary"]
    for key in ("discovered", "in_window", "fetched", "stored", "rejected", "duplicates", "bytes"):
        assert key in s
    assert s["spider_errors"] == 0
    assert s["finish_reason"] == "finished"
    assert s["stored"] == len(stored_paths(crawl)) > 0
    assert (crawl["out"] / "summary.json").exists()


def test_each_discovery_path_finds_its_articles(crawl):
    by = crawl["by_path"]
    expected = {
        "/a/rss-in": "rss",
        "/a/atom-in": "atom",
        "/a/atom-in2": "atom",  # only <updated>, in the window, page date decides
        "/a/month-in": "sitemap",  # a child of the sitemap index
        "/a/gz-in": "sitemap",  # a gzipped child sitemap
        "/a/news-in": "news-sitemap",
        "/a/robots-meta": "robots-sitemap",  # undated entry, kept on article:published_time
        "/a/robots-jsonld": "robots-sitemap",  # … on JSON-LD datePublished
        "/a/robots-time": "robots-sitemap",  # … on <time datetime>
        "/a/truncated-in": "rss",  # recovered from a truncated feed
    }
    for path, via in expected.items():
        assert by[path]["discovered_by"] == via, path
        assert by[path]["warc_file"] and by[path]["reason"] is None, by[path]
    assert by["/a/robots-meta"]["date_hint"] is None
    assert by["/a/robots-meta"]["published"].startswith(DAY.isoformat())


def test_window_filter(crawl):
    by, site = crawl["by_path"], crawl["site"]
    for path in ("/a/rss-old", "/a/rss-future", "/a/news-old", "/a/atom-stale"):
        assert by[path]["reason"] == "out_of_window", path
        assert not site.requested(path), f"{path} was fetched"
    assert by["/a/robots-oldpage"]["reason"] == "out_of_window_page"
    assert by["/a/robots-nodate"]["reason"] == "no_date"
    assert crawl["summary"]["rejected"]["out_of_window"] == 4


def test_sitemap_index_skips_old_children_and_loops(crawl):
    site, s = crawl["site"], crawl["summary"]
    assert len(site.archive_paths) == SpiderSite.ARCHIVE_MONTHS
    assert not [p for p in site.archive_paths if site.requested(p)], "old archive sitemaps were read"
    assert s["sitemaps_skipped_old"] == SpiderSite.ARCHIVE_MONTHS
    assert site.requested("/sitemaps/current.xml") and site.requested("/sitemaps/recent.xml.gz")
    assert len(site.requested("/sitemap_index.xml")) == 1  # the loop back to itself is not followed
    assert s["discovery_errors"]["sitemap_loop"] >= 1


def test_bad_documents_are_counted_not_fatal(crawl):
    errors = crawl["summary"]["discovery_errors"]
    assert errors["malformed_xml"] == 1  # the truncated feed, still used for what it had
    assert errors["xml_entities_forbidden"] == 1  # billion laughs: refused, never expanded
    assert errors["not_a_feed_or_sitemap"] == 1
    assert not any("laughs" in p or "lol" in p for p in crawl["by_path"])


@pytest.mark.parametrize(
    ("path", "reason", "status"),
    [
        ("/missing", "http_404", 404),
        ("/bad/500", "http_500", 500),
        ("/bad/slow", "timeout", None),
        ("/bad/pdf", "not_html", 200),
        ("/bad/empty", "empty_body", 200),
        ("/bad/bomb", "too_large", None),
        ("/bad/redirect-off", "offsite_redirect", None),
        ("/bad/redirect-metadata", "blocked_address", None),
        ("/bad/redirect-loopback", "blocked_address", None),
        ("/private/secret", "robots_disallowed", None),
    ],
)
def test_bad_inputs_end_as_index_lines(crawl, path, reason, status):
    entry = crawl["by_path"][path]
    assert entry["reason"] == reason, entry
    assert entry["status"] == status
    assert entry["warc_file"] is None and entry["warc_offset"] is None


def test_retries_and_robots(crawl):
    site = crawl["site"]
    assert len(site.requested("/bad/500")) == 2  # RETRY_TIMES=1: one retry, then given up
    assert not site.requested("/private/secret")  # robots.txt disallows it
    assert site.requested("/robots-sitemap.xml")  # found through robots.txt only
    assert crawl["by_path"]["http://offsite.example.org/story"]["reason"] == "offsite"


def test_429_retry_after_is_honoured(crawl):
    times = crawl["site"].requested("/a/rate-limited")
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95
    assert "/a/rate-limited" in stored_paths(crawl)


def test_undeclared_encoding_is_stored(crawl):
    assert crawl["by_path"]["/a/latin1"]["warc_file"]


def test_duplicates_stored_once(crawl):
    by = crawl["by_path"]
    twins = [by["/a/twin-1"], by["/a/twin-2"]]
    assert sorted(bool(t["warc_file"]) for t in twins) == [False, True]
    assert {t["reason"] for t in twins} == {None, "duplicate"}
    assert by["/a/canonical-dup"]["canonical_url"].endswith("/a/canonical-dup-target")
    assert {by["/a/canonical-dup"]["reason"], by["/a/canonical-dup-target"]["reason"]} == {None, "duplicate"}
    # The same URL with tracking parameters or a fragment is fetched once and indexed once.
    assert len(crawl["site"].requested("/a/utm-page")) == 1
    assert len(crawl["site"].requested("/a/rss-in")) == 1
    utm = [e for e in crawl["index"] if "/a/utm-page" in e["url"]]
    assert len(utm) == 1 and utm[0]["canonical_url"].endswith("/a/utm-page?id=1")
    assert crawl["summary"]["duplicates"] >= 4


def test_warc_offsets_seek_to_the_right_record(crawl):
    out, stored = crawl["out"], [e for e in crawl["index"] if e["warc_file"]]
    assert len({e["warc_file"] for e in stored}) > 1  # rolled at NEWS_WARC_MAX_BYTES
    for entry in stored:
        with open(out / entry["warc_file"], "rb") as fh:
            fh.seek(entry["warc_offset"])
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            import hashlib

            body = record.content_stream().read()
            assert hashlib.sha256(body).hexdigest() == entry["content_hash"]
    # Every response has its request record, and nothing but stored pages is in the WARC.
    types = []
    for part in sorted(out.glob("part-*.warc.gz")):
        with open(part, "rb") as fh:
            types += [r.rec_type for r in ArchiveIterator(fh)]
    assert types.count("response") == types.count("request") == len(stored)


def test_index_lines_have_every_field(crawl):
    fields = {"url", "canonical_url", "status", "content_hash", "discovered_by", "date_hint", "published",
              "warc_file", "warc_offset", "fetched_at", "reason"}  # fmt: skip
    for entry in crawl["index"]:
        assert set(entry) == fields
    assert len({e["url"] for e in crawl["index"]}) == len(crawl["index"])


def test_run_crawl_failure_shows_the_log(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: x\n    feeds: [http://127.0.0.1:9/rss]\n")
    with pytest.raises(CrawlError, match="no source named 'nope'"):
        run_crawl("nope", DAY, DAY + timedelta(days=1), tmp_path / "out", str(sources), timeout=60)


def test_unreachable_source_is_not_fatal(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: x\n    feeds: [http://127.0.0.1:9/rss]\n    quiet: true\n")
    summary = run_crawl("x", DAY, DAY + timedelta(days=1), tmp_path / "out", str(sources), FAST, timeout=60)
    assert summary["stored"] == 0 and summary["discovery_errors"]
    assert (Path(tmp_path / "out") / "index.jsonl.gz").exists()


def test_s3_output_is_uploaded(tmp_path, bucket):
    """`out=s3://bucket/prefix`: written locally, uploaded at the end with boto3 (a moto server here).

    The Atom feed has 2 articles of the day, the robots.txt sitemap 3.
    """
    import boto3

    with SpiderSite(DAY) as site:
        sources = tmp_path / "sources.yaml"
        entry = site.source_entry()
        entry.update(feeds=[f"{site.base}/atom.xml"], sitemaps=[])
        sources.write_text(json.dumps({"sources": [entry]}))  # JSON is YAML
        out = f"s3://{bucket}/raw/fixture"
        summary = run_crawl("fixture", DAY, DAY + timedelta(days=1), out, str(sources),
                            FAST, timeout=90)  # fmt: skip
    assert summary["stored"] == 5 and summary["out"] == f"s3://{bucket}/raw/fixture"
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="raw/fixture/")
    keys = {o["Key"] for o in listed.get("Contents", [])}
    assert {
        "raw/fixture/part-00000.warc.gz",
        "raw/fixture/index.jsonl.gz",
        "raw/fixture/summary.json",
    } <= keys
