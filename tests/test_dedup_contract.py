"""spiders.dedup in-process: what is a duplicate within a crawl and across days, what an earlier day's index
counts as captured, and the request filter that turns a dropped duplicate into an index line. Fast (no crawl), so
mutation testing sees it; the crawl-level behaviour is tests/test_spider_dedup.py."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from spiders import dedup
from spiders.dedup import DedupPipeline, DigestDupeFilter, DigestSet, EarlierCaptures, digest
from spiders.items import PageItem
from spiders.middlewares import REFUSE
from spiders.scheduler import ARTICLE

T1 = datetime(2025, 6, 2, 9, tzinfo=UTC)
T2 = datetime(2025, 6, 2, 10, tzinfo=UTC)


def _line(url: str, **fields) -> dict:
    line = {"url": url, "canonical_url": url, "content_hash": f"h-{url}", "warc_file": "part-00000.warc.gz",
            "warc_offset": 0, "fetched_at": "2025-06-02T09:00:00Z", "reason": None}  # fmt: skip
    return {**line, **fields}


def _write_index(path, lines) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")


# -- digests -----------------------------------------------------------------------------------------------------


def test_digest_is_the_first_8_bytes_of_blake2b_big_endian():
    text = "http://news.example.org/a/1"
    expected = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    assert digest(text) == expected == 0x6DC36F11B28218EA
    assert 0 <= digest(text) < 2**64
    assert digest("a") != digest("b")
    assert digest("é") == int.from_bytes(hashlib.blake2b("é".encode(), digest_size=8).digest(), "big")


def test_fingerprint_digest_is_the_first_8_bytes_big_endian():
    fp = bytes(range(1, 21))
    assert dedup._fingerprint_digest(fp) == 0x0102030405060708


def test_digest_set_holds_what_it_was_given_and_what_is_added():
    s = DigestSet([5, 3, 3, 2**64 - 1])
    assert list(s._sorted) == [3, 5, 2**64 - 1]  # sorted, once each
    assert 3 in s and 5 in s and 2**64 - 1 in s
    assert 4 not in s and 0 not in s and 6 not in s
    assert 0 not in DigestSet()
    s.add(4)
    assert 4 in s and 7 not in s


def test_digest_set_merges_every_4096_additions_keeping_everything(monkeypatch):
    assert DigestSet.MERGE_EVERY == 4096
    s = DigestSet([10, 20, 30])
    for key in range(100, 100 + 4095):
        s.add(key)
    assert len(s._recent) == 4095 and len(s._sorted) == 3  # not merged yet
    s.add(20)  # already in the array: merged once, not twice
    assert len(s._recent) == 0
    assert list(s._sorted) == sorted([10, 20, 30, *range(100, 100 + 4095)])
    assert all(k in s for k in (10, 20, 30, 100, 4194)) and 4195 not in s and 15 not in s


@pytest.mark.parametrize(
    ("start", "added"),
    [([], [1, 2]), ([5], [1, 9]), ([1, 9], [5]), ([1, 5, 9], [0, 5, 10]), ([2, 4, 6, 8], [1, 3, 3, 7, 9, 8])],
)
def test_a_merge_is_the_sorted_union(monkeypatch, start, added):
    monkeypatch.setattr(DigestSet, "MERGE_EVERY", 1)
    s = DigestSet(start)
    for key in added:
        s.add(key)
    assert list(s._sorted) == sorted({*start, *added}) and not s._recent


# -- what an earlier day's index counts ----------------------------------------------------------------------------


def test_only_stored_pages_of_an_earlier_index_count():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/stored"))
    earlier.add(_line("http://x.org/rejected", reason="duplicate"))
    earlier.add(_line("http://x.org/unwritten", warc_file=None))
    earlier.add(_line("http://x.org/nofile", warc_file=""))
    assert len(earlier) == 1
    assert digest("h-http://x.org/stored") in earlier.hashes
    for name in ("rejected", "unwritten", "nofile"):
        assert digest(f"h-http://x.org/{name}") not in earlier.hashes
        assert earlier.skip_reason([f"http://x.org/{name}"], None) is None
    assert earlier.skip_reason(["http://x.org/stored"], None) == "captured_earlier"


def test_both_the_url_and_the_canonical_url_of_a_capture_count():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/a?utm_source=z", canonical_url="http://x.org/a"))
    assert len(earlier) == 2
    assert earlier.skip_reason(["http://x.org/a"], None) == "captured_earlier"
    assert earlier.skip_reason(["http://x.org/a?utm_source=z"], None) == "captured_earlier"
    assert earlier.skip_reason(["http://x.org/b"], None) is None
    assert earlier.skip_reason([], None) is None


def test_a_line_without_content_hash_or_canonical_url_still_counts_its_url():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/a", content_hash=None, canonical_url=None))
    earlier.add(_line("http://x.org/b", content_hash=""))
    assert len(earlier) == 2
    assert earlier.skip_reason(["http://x.org/a"], None) == "captured_earlier"
    assert len(earlier.hashes._recent) == 0 and len(earlier.hashes._sorted) == 0


def test_modified_after_the_latest_capture_is_fetched_again():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/a", fetched_at="2025-06-02T09:00:00Z"))
    earlier.add(_line("http://x.org/a", fetched_at="2025-06-02T10:00:00Z"))  # a later capture of it
    earlier.add(_line("http://x.org/a", fetched_at="2025-06-02T08:00:00Z"))  # an earlier one read after it
    urls = ["http://x.org/a"]
    assert earlier.skip_reason(urls, None) == "captured_earlier"
    assert earlier.skip_reason(urls, T1) == "captured_earlier"  # modified before the latest capture
    assert earlier.skip_reason(urls, T2) == "captured_earlier"  # modified at it: nothing new
    assert earlier.skip_reason(urls, datetime(2025, 6, 2, 10, 0, 1, tzinfo=UTC)) is None


def test_the_latest_capture_of_either_url_decides():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/old", fetched_at="2025-06-02T09:00:00Z"))
    earlier.add(_line("http://x.org/new", fetched_at="2025-06-02T11:00:00Z"))
    both = ["http://x.org/old", "http://x.org/new"]
    assert earlier.skip_reason(both, datetime(2025, 6, 2, 10, tzinfo=UTC)) == "captured_earlier"
    assert earlier.skip_reason(["http://x.org/old"], datetime(2025, 6, 2, 10, tzinfo=UTC)) is None


def test_a_capture_without_a_fetch_time_is_from_long_ago():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/a", fetched_at=None))
    earlier.add(_line("http://x.org/b", fetched_at="junk"))
    for url in ("http://x.org/a", "http://x.org/b"):
        assert earlier.skip_reason([url], None) == "captured_earlier"
        assert earlier.skip_reason([url], datetime(1990, 1, 1, 0, 0, 1, tzinfo=UTC)) is None
    assert earlier.fetched[digest("http://x.org/a")] == datetime.min.replace(tzinfo=UTC)


def test_indexes_are_read_once_per_crawler_from_the_setting(tmp_path):
    one, two = tmp_path / "one.jsonl.gz", tmp_path / "two.jsonl.gz"
    _write_index(one, [_line("http://x.org/1"), _line("http://x.org/r", reason="offsite", warc_file=None)])
    _write_index(two, [_line("http://x.org/2"), _line("http://x.org/3")])
    crawler = get_crawler(settings_dict={"NEWS_DEDUP_INDEXES": [str(one), str(two)]})
    captures = EarlierCaptures.for_crawler(crawler)
    assert len(captures) == 3
    assert EarlierCaptures.for_crawler(crawler) is captures  # shared by the spider and the pipeline
    assert EarlierCaptures.for_crawler(get_crawler()) is not captures
    assert len(EarlierCaptures.for_crawler(get_crawler())) == 0
    assert all(digest(f"h-http://x.org/{n}") in captures.hashes for n in (1, 2, 3))


def test_an_index_with_non_ascii_text_is_read_as_utf8(tmp_path):
    path = tmp_path / "index.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(json.dumps(_line("http://x.org/caf\u00e9"), ensure_ascii=False).encode("utf-8") + b"\n")
    captures = EarlierCaptures()
    captures.load(path)
    assert captures.skip_reason(["http://x.org/caf\u00e9"], None) == "captured_earlier"


# -- the dedup pipeline --------------------------------------------------------------------------------------------


def _item(url: str, content: str, reason: str | None = None) -> PageItem:
    return PageItem(url=url, discovered_by="sitemap", canonical_url=url, content_hash=content, reason=reason)


def _pipeline(earlier: EarlierCaptures | None = None):
    crawler = get_crawler(settings_dict={"NEWS_DEDUP_INDEXES": []})
    if earlier is None:
        return DedupPipeline.from_crawler(crawler), crawler.stats
    return DedupPipeline(crawler, earlier), crawler.stats


def test_one_page_per_canonical_url_and_per_content_hash():
    pipe, stats = _pipeline()
    assert pipe.process_item(_item("http://x.org/a", "h1")).reason is None
    assert pipe.process_item(_item("http://x.org/b", "h2")).reason is None
    assert pipe.process_item(_item("http://x.org/a", "h3")).reason == "duplicate"  # same URL, other text
    assert pipe.process_item(_item("http://x.org/c", "h1")).reason == "duplicate"  # same text, other URL
    assert stats.get_value("news/duplicates") == 2
    # a duplicate is not remembered as stored: its own new hash h3 stays free
    assert pipe.process_item(_item("http://x.org/d", "h3")).reason is None
    assert stats.get_value("news/duplicates") == 2


def test_a_reject_passes_untouched_and_reserves_nothing():
    pipe, stats = _pipeline()
    item = _item("http://x.org/a", "h1", reason="offsite")
    assert pipe.process_item(item) is item and item.reason == "offsite"
    assert pipe.process_item(_item("http://x.org/a", "h1")).reason is None
    assert stats.get_value("news/duplicates") is None


def test_content_stored_on_an_earlier_day_is_a_duplicate():
    earlier = EarlierCaptures()
    earlier.add(_line("http://x.org/old", content_hash="h-old"))
    pipe, stats = _pipeline(earlier)
    assert pipe.process_item(_item("http://x.org/moved", "h-old")).reason == "duplicate"
    assert stats.get_value("news/duplicates") == 1
    # the earlier URL itself, with new content, is stored: the spider decides on URLs before fetching
    assert pipe.process_item(_item("http://x.org/old", "h-new")).reason is None


def test_the_pipeline_of_a_crawl_uses_its_earlier_captures(tmp_path):
    path = tmp_path / "index.jsonl.gz"
    _write_index(path, [_line("http://x.org/old", content_hash="h-old")])
    crawler = get_crawler(settings_dict={"NEWS_DEDUP_INDEXES": [str(path)]})
    pipe = DedupPipeline.from_crawler(crawler)
    assert pipe.stats is crawler.stats
    assert pipe.process_item(_item("http://x.org/new", "h-old")).reason == "duplicate"


# -- the request filter --------------------------------------------------------------------------------------------


def _filter(tmp_path=None) -> DigestDupeFilter:
    settings = {"JOBDIR": str(tmp_path)} if tmp_path else {}
    return DigestDupeFilter.from_crawler(get_crawler(settings_dict=settings))


def _article(url: str, **meta) -> Request:
    return Request(url, meta={ARTICLE: (url, "sitemap", None, False), **meta})


def test_a_plain_duplicate_request_is_dropped():
    f = _filter()
    assert f.request_seen(Request("http://x.org/asset.css")) is False
    assert f.request_seen(Request("http://x.org/asset.css")) is True
    assert f.request_seen(Request("http://x.org/other.css")) is False


def test_a_duplicate_article_or_document_goes_on_to_be_refused_with_its_reason():
    f = _filter()
    assert f.request_seen(_article("http://x.org/a")) is False
    again = _article("http://x.org/a")
    assert f.request_seen(again) is False and again.meta[REFUSE] == "duplicate"
    assert f.request_seen(again) is True  # already marked: a second pass drops it
    doc = Request("http://x.org/sitemap.xml", meta={"origin": "sitemap"})
    assert f.request_seen(doc) is False and REFUSE not in doc.meta
    doc2 = Request("http://x.org/sitemap.xml", meta={"origin": "robots"})
    assert f.request_seen(doc2) is False and doc2.meta[REFUSE] == "duplicate"


def test_a_redirect_back_into_its_chain_is_a_loop_and_to_a_seen_url_is_redirect_to_seen():
    f = _filter()
    assert f.request_seen(_article("http://x.org/a")) is False
    assert f.request_seen(_article("http://x.org/b")) is False
    loop = _article("http://x.org/a", redirect_urls=["http://x.org/b", "http://x.org/a?utm_source=x"])
    assert f.request_seen(loop) is False and loop.meta[REFUSE] == "redirect_loop"
    seen = _article("http://x.org/b", redirect_urls=["http://x.org/c"])
    assert f.request_seen(seen) is False and seen.meta[REFUSE] == "redirect_to_seen"
    # the chain compared without tracking parameters
    tracked = _article("http://x.org/a", redirect_urls=["http://x.org/a?utm_medium=y"])
    assert f.request_seen(tracked) is False and tracked.meta[REFUSE] == "redirect_loop"
    empty = _article("http://x.org/a", redirect_urls=[])
    assert f.request_seen(empty) is False and empty.meta[REFUSE] == "duplicate"


def test_drop_reason_is_none_for_requests_that_leave_no_line():
    assert dedup._drop_reason(Request("http://x.org/a", meta={"redirect_urls": ["http://x.org/a"]})) is None
    assert dedup._drop_reason(Request("http://x.org/a", meta={"origin": "feed"})) == "duplicate"


def test_a_jobdir_keeps_whole_fingerprints_and_a_new_filter_reads_them(tmp_path):
    f = _filter(tmp_path)
    req = Request("http://x.org/a")
    assert f.request_seen(req) is False
    assert f.request_seen(Request("http://x.org/a")) is True
    f.close("finished")
    fp = f.fingerprinter.fingerprint(req)
    assert (tmp_path / "requests.seen").read_bytes() == len(fp).to_bytes(2, "big") + fp  # Scrapy's format, once
    again = _filter(tmp_path)
    assert not again._fingerprints  # held as digests only
    assert again.request_seen(Request("http://x.org/a")) is True
    assert again.request_seen(Request("http://x.org/b")) is False
    again.close("finished")


class _PathOnly:
    """A request fingerprinter that ignores the query string."""

    def fingerprint(self, request: Request) -> bytes:
        return hashlib.sha1(request.url.split("?")[0].encode()).digest()  # noqa: S324 - a test fingerprint


def test_the_crawls_request_fingerprinter_is_used():
    f = DigestDupeFilter.from_crawler(get_crawler(settings_dict={"REQUEST_FINGERPRINTER_CLASS": _PathOnly}))
    assert f.request_seen(Request("http://x.org/a?page=1")) is False
    assert f.request_seen(Request("http://x.org/a?page=2")) is True
