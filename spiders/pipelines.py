"""Item pipelines, one job each, in this order: window filter, dedup (spiders.dedup), capture (WARC + index).

A reject keeps flowing (with `reason` set) so the index records it; only stored pages reach the WARC.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from spiders.dates import day_start, parse_date
from spiders.items import PageItem
from spiders.warc import GZIP_LEVEL, CaptureWriter, page_records, warc_date

logger = logging.getLogger(__name__)


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


class CapturePipeline:
    """Stored pages to size-bounded gzip WARC files, and one line per URL seen to `index.jsonl.gz`.

    The records are built here and handed to a `CaptureWriter`, which writes them, then the page's index
    line with its exact file and offset, in order (large pages on its writer thread). Rejects are counted
    by reason and indexed. A page or line that could not be written, and a failure to close the files,
    count as rejected with `capture_error`, so the crawl summary shows them; the log has the errors.
    """

    def __init__(self, crawler: Crawler, writer: CaptureWriter) -> None:
        self.stats, self.writer = crawler.stats, writer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.getbool("NEWS_CAPTURE_ENABLED", True):
            raise NotConfigured("capture off")
        folder = _out_dir(crawler)
        writer = CaptureWriter(
            folder,
            s.getint("NEWS_WARC_MAX_BYTES"),
            folder / "index.jsonl.gz",
            level=s.getint("NEWS_WARC_GZIP_LEVEL", GZIP_LEVEL),
            thread=s.getbool("NEWS_CAPTURE_THREAD", True),
            thread_from=s.getint("NEWS_CAPTURE_THREAD_FROM", 32 << 10),
            queue_bytes=s.getint("NEWS_CAPTURE_QUEUE_BYTES", 16 << 20),
        )
        return cls(crawler, writer)

    def process_item(self, item: PageItem) -> PageItem:
        line = item.index_line()
        if item.archive:  # what became of the archive's captures, for the report
            self.stats.inc_value(f"news/archive/rejected/{item.reason}" if item.reason else "news/archive/stored")
        if item.reason:
            self.stats.inc_value(f"news/rejected/{item.reason}")
            self.writer.line(line)
        else:
            self.writer.page(line, page_records(item, item.fetched_at or warc_date()), len(item.body))
            self.stats.inc_value("news/stored")
            self.stats.inc_value("news/bytes", len(item.body))
        item.body = b""  # captured (or not to be): do not keep it alive in the scraper
        return item

    def close_spider(self) -> None:
        writer = self.writer
        writer.close()
        self.stats.set_value("news/warc_files", list(writer.warc.files))
        if failed := writer.failed + writer.close_errors:
            self.stats.inc_value("news/stored", -writer.failed_pages)
            self.stats.inc_value("news/bytes", -writer.failed_bytes)
            self.stats.inc_value("news/rejected/capture_error", failed)
            logger.error("capture: %d write error(s), see above; counted as rejected/capture_error", failed)
