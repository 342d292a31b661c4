"""Item pipelines, one job each, in this order: window filter, dedup, WARC capture, index.

A reject keeps flowing (with `reason` set) so the index records it; only stored pages reach the WARC.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object

from spiders.dates import day_start, parse_date
from spiders.items import PageItem
from spiders.warc import RollingWarcWriter


def _out_dir(crawler: Crawler) -> Path:
    path = crawler.settings.get("NEWS_OUT_DIR")
    if not path:
        raise NotConfigured("NEWS_OUT_DIR is not set (the news spider sets it from its `out` argument)")
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


class WindowFilterPipeline:
    """Keeps a page only if its publication falls in [NEWS_WINDOW_START, NEWS_WINDOW_END).

    A discovery publication date (pubDate, news:publication_date) is trusted; otherwise the page's own
    date decides, and a page without any date falls back to its modification hint.
    """

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        start, end = crawler.settings.get("NEWS_WINDOW_START"), crawler.settings.get("NEWS_WINDOW_END")
        if not start or not end:
            raise NotConfigured("no window")
        return cls(day_start(date.fromisoformat(start)), day_start(date.fromisoformat(end)))

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            return item
        decisive = item.date_hint if item.date_hint_is_published else item.published or item.date_hint
        when = parse_date(decisive)
        if when is None:
            return item.reject("no_date")
        if not self.start <= when < self.end:
            return item.reject("out_of_window_page")
        return item


class SeenStore:
    """What was already stored: canonical URLs and content hashes.

    The hook for cross-day dedup: `NEWS_DEDUP_INDEXES` lists earlier `index.jsonl.gz` files whose stored
    entries count as seen; `NEWS_SEEN_STORE` may name another class with the same three methods.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        store = cls()
        for path in crawler.settings.getlist("NEWS_DEDUP_INDEXES"):
            store.preload(Path(path))
        return store

    def preload(self, index_path: Path) -> None:
        with gzip.open(index_path, "rt", encoding="utf-8") as fh:
            for line in fh:
                entry = json.loads(line)
                if entry.get("warc_file") and not entry.get("reason"):
                    self.add(entry.get("canonical_url"), entry.get("content_hash"))

    def seen(self, *keys: str | None) -> bool:
        return any(k and k in self._keys for k in keys)

    def add(self, *keys: str | None) -> None:
        self._keys.update(k for k in keys if k)


class DedupPipeline:
    """Stores one page per canonical URL and per content hash."""

    def __init__(self, crawler: Crawler, store: Any) -> None:
        self.stats, self.store = crawler.stats, store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        store_cls = load_object(crawler.settings.get("NEWS_SEEN_STORE") or SeenStore)
        return cls(crawler, store_cls.from_crawler(crawler))

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            return item
        keys = (f"url:{item.canonical_url}", f"sha256:{item.content_hash}")
        if self.store.seen(*keys):
            self.stats.inc_value("news/duplicates")
            return item.reject("duplicate")
        self.store.add(*keys)
        return item


class WarcCapturePipeline:
    """Writes kept pages to size-bounded gzip WARC files and records where each one went."""

    def __init__(self, crawler: Crawler, folder: Path, max_bytes: int) -> None:
        self.stats = crawler.stats
        self.writer = RollingWarcWriter(folder, max_bytes)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWS_CAPTURE_ENABLED", True):
            raise NotConfigured("capture off")
        return cls(crawler, _out_dir(crawler), crawler.settings.getint("NEWS_WARC_MAX_BYTES"))

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            return item
        item.warc_file, item.warc_offset = self.writer.write(item)
        self.stats.inc_value("news/stored")
        self.stats.inc_value("news/bytes", len(item.body))
        return item

    def close_spider(self) -> None:
        self.writer.close()
        self.stats.set_value("news/warc_files", list(self.writer.files))


class IndexPipeline:
    """One JSON line per URL seen in `index.jsonl.gz`; counts rejects by reason."""

    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.stats, self.path = crawler.stats, path
        self._fh: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWS_CAPTURE_ENABLED", True):
            raise NotConfigured("capture off")
        return cls(crawler, _out_dir(crawler) / "index.jsonl.gz")

    def open_spider(self) -> None:
        self._fh = gzip.open(self.path, "wt", encoding="utf-8")

    def process_item(self, item: PageItem) -> PageItem:
        if item.reason:
            self.stats.inc_value(f"news/rejected/{item.reason}")
        assert self._fh is not None
        self._fh.write(json.dumps(item.index_line(), ensure_ascii=False) + "\n")
        item.body = b""  # the page is captured; do not keep it alive in the scraper
        return item

    def close_spider(self) -> None:
        if self._fh is not None:
            self._fh.close()
