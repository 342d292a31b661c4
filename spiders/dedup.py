"""Dedup within a crawl and across days.

Within a crawl a page is stored once per canonical URL and per content hash. Across days, the indexes of
earlier crawls (`NEWS_DEDUP_INDEXES`, the DAG hands it the previous N days') say what was already captured:
the spider skips such a URL before fetching it unless its discovery entry carries a modification date later
than the earlier capture, and a page whose content was stored before is never stored again.
"""

from __future__ import annotations

import gzip
import json
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from scrapy.crawler import Crawler

from spiders.dates import parse_date
from spiders.items import PageItem

_LONG_AGO = datetime.min.replace(tzinfo=UTC)
_BY_CRAWLER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class EarlierCaptures:
    """What earlier crawls stored: canonical URL → when it was fetched, and the content hashes."""

    def __init__(self) -> None:
        self.fetched: dict[str, datetime] = {}
        self.hashes: set[str] = set()

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
            self.hashes.add(entry["content_hash"])
        when = parse_date(entry.get("fetched_at")) or _LONG_AGO
        for url in {entry.get("canonical_url"), entry.get("url")} - {None}:
            self.fetched[url] = max(self.fetched.get(url, _LONG_AGO), when)

    def skip_reason(self, urls: Iterable[str], modified: datetime | None) -> str | None:
        """Why an entry need not be fetched again, or None: never captured, or modified since."""
        captured = [self.fetched[u] for u in urls if u in self.fetched]
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
        self._keys: set[str] = {f"sha256:{h}" for h in earlier.hashes}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, EarlierCaptures.for_crawler(crawler))

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            return item
        keys = {f"url:{item.canonical_url}", f"sha256:{item.content_hash}"}
        if keys & self._keys:
            self.stats.inc_value("news/duplicates")
            return item.reject("duplicate")
        self._keys |= keys
        return item
