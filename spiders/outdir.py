"""The base of the extensions that write a file into NEWS_OUT_DIR when the crawl ends (before the upload)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class OutDirExtension:
    """Built with `from_crawler` when NEWS_OUT_DIR is set; `spider_closed` writes the subclass's file."""

    def __init__(self, crawler: Crawler, folder: Path) -> None:
        self.crawler, self.folder = crawler, folder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder = crawler.settings.get("NEWS_OUT_DIR")
        if not folder:
            raise NotConfigured("NEWS_OUT_DIR is not set")
        ext = cls(crawler, Path(folder))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        raise NotImplementedError
