"""Item pipelines, one job each, in this order: window filter, dedup (spiders.dedup), WARC capture, index.

A reject keeps flowing (with `reason` set) so the index records it; only stored pages reach the WARC.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import IO, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

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
