"""Dedup within a crawl and across days.

Within a crawl a page is stored once per canonical URL and per content hash. Across days, the indexes of
earlier crawls (`NEWS_DEDUP_INDEXES`, the DAG hands it the previous N days') say what was already captured:
the spider skips such a URL before fetching it unless its discovery entry carries a modification date later
than the earlier capture, and a page whose content was stored before is never stored again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter

from spiders.dates import parse_date
from spiders.items import PageItem
from spiders.middlewares import REFUSE
from spiders.scheduler import ARTICLE
from spiders.urls import strip_tracking

_LONG_AGO = datetime.min.replace(tzinfo=UTC)
_BY_CRAWLER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def digest(text: str) -> int:
    """A 64-bit digest of a URL or content hash, for the dedup sets: two different texts share one with odds
    of 1 in 2**64."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())


class DigestSet:
    """A set of digests (ints below 2**64) at ~8 bytes each, where a Python set of ints takes ~100: a sorted
    array, and a set of the latest additions merged into it every MERGE_EVERY (O(n) each time)."""

    MERGE_EVERY = 4096

    def __init__(self, digests: Iterable[int] = ()) -> None:
        self._sorted = array("Q", sorted(set(digests)))
        self._recent: set[int] = set()

    def __contains__(self, key: int) -> bool:
        if key in self._recent:
            return True
        at = bisect_left(self._sorted, key)
        return at < len(self._sorted) and self._sorted[at] == key

    def add(self, key: int) -> None:
        self._recent.add(key)
        if len(self._recent) >= self.MERGE_EVERY:
            self._merge()

    def _merge(self) -> None:
        old, new, start = self._sorted, array("Q"), 0
        for key in sorted(self._recent):
            at = bisect_left(old, key, start)
            new.extend(old[start:at])
            if at == len(old) or old[at] != key:  # not there already
                new.append(key)
            start = at
        new.extend(old[start:])
        self._sorted, self._recent = new, set()


class EarlierCaptures:
    """What earlier crawls stored: canonical URL → when it was fetched, and the content hashes (as digests)."""

    def __init__(self) -> None:
        self.fetched: dict[int, datetime] = {}
        self.hashes = DigestSet()

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Self:
        """The crawl's one instance: the spider and the dedup pipeline share it, so the indexes are read once."""
        if crawler not in _BY_CRAWLER:
            captures = cls()
            for path in crawler.settings.getlist("NEWS_DEDUP_INDEXES"):
                captures.load(Path(path))
            _BY_CRAWLER[crawler] = captures
        return _BY_CRAWLER[crawler]

    def load(self, index_path: Path) -> None:
        """Read one earlier `index.jsonl.gz`; only stored pages count, never rejects."""
        with gzip.open(index_path, "rt", encoding="utf-8") as fh:
            for line in fh:
                self.add(json.loads(line))

    def add(self, entry: dict) -> None:
        if not entry.get("warc_file") or entry.get("reason"):
            return
        if entry.get("content_hash"):
            self.hashes.add(digest(entry["content_hash"]))
        when = parse_date(entry.get("fetched_at")) or _LONG_AGO
        for url in {entry.get("canonical_url"), entry.get("url")} - {None}:
            key = digest(url)
            self.fetched[key] = max(self.fetched.get(key, _LONG_AGO), when)

    def skip_reason(self, urls: Iterable[str], modified: datetime | None) -> str | None:
        """Why an entry need not be fetched again, or None: never captured, or modified since."""
        keys = {digest(u) for u in urls}
        captured = [self.fetched[k] for k in keys if k in self.fetched]
        if not captured:
            return None
        if modified is not None and modified > max(captured):
            return None
        return "captured_earlier"

    def __len__(self) -> int:
        return len(self.fetched)


class DedupPipeline:
    """Stores one page per canonical URL and per content hash, counting earlier days' content as stored."""

    def __init__(self, crawler: Crawler, earlier: EarlierCaptures) -> None:
        self.stats = crawler.stats
        self._earlier = earlier.hashes  # content stored on earlier days
        self._urls = DigestSet()  # the canonical URLs and content hashes stored in this crawl
        self._hashes = DigestSet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, EarlierCaptures.for_crawler(crawler))

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            return item
        url, content = digest(str(item.canonical_url)), digest(str(item.content_hash))
        if url in self._urls or content in self._hashes or content in self._earlier:
            self.stats.inc_value("news/duplicates")
            return item.reject("duplicate")
        self._urls.add(url)
        self._hashes.add(content)
        return item


class DigestDupeFilter(RFPDupeFilter):
    """Scrapy's request fingerprint filter, holding 8 bytes of each fingerprint in a DigestSet instead of a
    set of 20-byte strings (~8 bytes a request against ~120). A JOBDIR still gets whole fingerprints.

    A duplicate article or discovery request is not dropped in silence (every URL seen gets an index line):
    it is let through marked with its reason (REFUSE), and the address guard, the first downloader
    middleware, refuses it before any connection, so its errback indexes it. A redirect back into its own
    chain is a `redirect_loop`, a redirect to a URL the crawl already requested `redirect_to_seen`, an entry
    whose URL an earlier redirect already fetched a `duplicate`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._digests = DigestSet(map(_fingerprint_digest, self._fingerprints))  # those read from a JOBDIR
        self._fingerprints.clear()

    def request_seen(self, request: Request) -> bool:
        fp = self.fingerprinter.fingerprint(request)
        if (key := _fingerprint_digest(fp)) in self._digests:
            if REFUSE in request.meta or (reason := _drop_reason(request)) is None:
                return True
            request.meta[REFUSE] = reason
            return False
        self._digests.add(key)
        if self.file:
            self.file.write(len(fp).to_bytes(2, "big") + fp)  # RFPDupeFilter's format
        return False


def _drop_reason(request: Request) -> str | None:
    """Why a duplicate request would vanish, for the requests that must leave an index line (articles,
    feeds and sitemaps); None for the others."""
    meta = request.meta
    if ARTICLE not in meta and "origin" not in meta:
        return None
    if chain := meta.get("redirect_urls"):
        key = strip_tracking(request.url)
        return "redirect_loop" if any(strip_tracking(u) == key for u in chain) else "redirect_to_seen"
    return "duplicate"


def _fingerprint_digest(fingerprint: bytes) -> int:
    return int.from_bytes(fingerprint[:8])
